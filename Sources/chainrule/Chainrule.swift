import ArgumentParser

@main
struct Chainrule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainrule",
        abstract: "Computation graphs: run them forward and backward, draw them, and prove every backward rule with finite differences.",
        subcommands: [Eval.self, Check.self, Render.self, Figure.self, Ops.self, Demo.self]
    )
}
