import ArgumentParser

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(being built)")

    func run() throws {
        throw ValidationError("'check' is not built yet")
    }
}
