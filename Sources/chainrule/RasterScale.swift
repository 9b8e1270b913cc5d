import ArgumentParser
import ChainruleFigures
import Foundation

/// `--scale` of render and the figure commands: the pixels per point of a
/// PNG, the only output that has pixels; given for SVG or PDF alone it would
/// change nothing.
enum RasterScale {
    /// 2 pixels per point, 144 DPI.
    static let standard = 2.0

    static func isPNG(_ path: String) -> Bool { (path as NSString).pathExtension.lowercased() == "png" }

    /// Refuses a scale out of range, or one given when nothing drawn is a PNG (`outputs` names them).
    static func check(_ scale: Double?, drawsPNG: Bool, outputs: String) throws {
        guard let scale else { return }
        if let problem = FigureOptions.scaleProblem(scale) { throw ValidationError(problem) }
        if !drawsPNG { throw ValidationError("--scale sets a PNG's pixels per point; \(outputs) is drawn in vectors, which have none: give no --scale") }
    }
}
