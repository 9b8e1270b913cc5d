import ArgumentParser
import ChainruleCore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", _superCommandName: Chainrule.toolName,
        abstract: "Build the lecture examples with the Swift API and print their values and gradients.")

    func run() throws {
        for (title, example) in [
            ("CS231n circuit f = (x + y) * z", Examples.cs231nCircuit()),
            ("CS231n sigmoid neuron f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", Examples.sigmoidNeuron()),
            ("micrograd neuron o = tanh(x1*w1 + x2*w2 + b)", Examples.microgradNeuron()),
        ] {
            let (graph, output) = example
            try graph.backward(output)
            print(title)
            print("  \(output.node.displayName) = \(formatNumber(output.value.scalar))")
            for leaf in graph.differentiableLeaves {
                let node = graph[leaf]
                print("  ∂\(output.node.displayName)/∂\(node.displayName) = \(formatNumber(node.gradient?.scalar ?? 0))")
            }
            print()
        }
    }
}
