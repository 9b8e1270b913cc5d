import ArgumentParser
import ChainruleFigures

/// `--fit` (also `--size`) for every command that draws charts or diagrams:
/// the page they are drawn on, parsed once by `ChartPage(parsing:)`.
struct PageOption: ParsableArguments {
    @Option(name: [.customLong("fit"), .customLong("size")], help: "The page of a chart or diagram: slide (16:9, the default), 4:3, or WxH in points.")
    var fit: String?

    /// The page asked for, or nil when `--fit` is not given.
    var requested: ChartPage? {
        get throws(FigureError) {
            guard let fit else { return nil }
            return try ChartPage(parsing: fit)
        }
    }

    /// The page to draw on: the one asked for, else a 16:9 slide.
    var page: ChartPage {
        get throws(FigureError) { try requested ?? .slide }
    }

    func validate() throws {
        do { _ = try requested } catch { throw ValidationError(error.description) }
    }
}
