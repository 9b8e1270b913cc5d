import ArgumentParser

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(being built)")

    func run() throws {
        throw ValidationError("'render' is not built yet")
    }
}
