import ArgumentParser

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(being built)")

    func run() throws {
        throw ValidationError("'eval' is not built yet")
    }
}
