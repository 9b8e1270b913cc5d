import ArgumentParser

struct Figure: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(being built)")

    func run() throws {
        throw ValidationError("'figure' is not built yet")
    }
}
