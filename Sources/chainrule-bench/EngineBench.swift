import ChainruleCore
import Foundation

/// The engine's benchmarks: forward + backward of the two example networks,
/// and the raw matrix-product kernel.
///
/// Each line is the median of its runs after warm-up runs. "elements/s"
/// counts, per step, every element of every node's value written by the
/// forward pass plus every element of every gradient written by the backward
/// pass (leaves included), divided by the time of the step: a measure of
/// tensor traffic, comparable across models.
enum EngineBench {
    static func run() throws {
        let cnn = Examples.smallCNN()
        let rows = [
            try stepRow("MLP 2→16→16→1, 100 points, hinge + L2", Examples.mlp(), warmUp: 50, runs: 2000),
            try stepRow("CNN conv 3→6 5×5, pool 2, linear → 10, CE", cnn, warmUp: 10, runs: 300),
        ]
        print(pad("forward + backward", 44), pad("median step", 13), pad("elements/step", 14), "elements/s")
        for row in rows { print(row) }
        print("(median of the timed runs after warm-up; elements = value elements written by the forward pass")
        print(" + gradient elements written by the backward pass, per step)")
        print()
        print(pad("CNN step by op", 44), pad("forward", 13), "backward")
        for row in opRows(cnn.graph, warmUp: 5, runs: 100) { print(row) }
        print()
        print(matrixProductRow(size: 256, warmUp: 3, runs: 30))
    }

    /// Each op node's own forward and backward time, at the values the graph holds.
    static func opRows(_ graph: Graph, warmUp: Int, runs: Int) -> [String] {
        graph.nodes.compactMap { node -> String? in
            guard let op = node.op, let output = node.value else { return nil }
            let inputs = node.inputs.map { graph[$0].value! }
            let seed = Tensor.ones(output.shape)
            let forward = median(warmUp: warmUp, runs: runs) { _ = op.forward(inputs) }
            let backward = median(warmUp: warmUp, runs: runs) { _ = op.backward(inputs, output: output, gradient: seed) }
            let label = "  \(node.displayName) → \(describeShape(output.shape))"
            return [pad(label, 44), pad(time(forward), 13), time(backward)].joined(separator: " ")
        }
    }

    /// The median of `runs` timings of `body`, in seconds, after `warmUp` untimed calls.
    static func median(warmUp: Int, runs: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmUp { try body() }
        var times = [Double]()
        times.reserveCapacity(runs)
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        times.sort()
        return times[times.count / 2]
    }

    static func stepRow(_ label: String, _ model: (graph: Graph, output: Var), warmUp: Int, runs: Int) throws -> String {
        let (graph, output) = model
        let seconds = try median(warmUp: warmUp, runs: runs) {
            try graph.forward()
            try graph.backward(output)
        }
        let elements = graph.nodes.reduce(0) { $0 + ($1.op == nil ? 0 : $1.value?.count ?? 0) + ($1.gradient?.count ?? 0) }
        return [pad(label, 44), pad(time(seconds), 13), pad("\(elements)", 14), rate(Double(elements) / seconds)].joined(separator: " ")
    }

    /// `MatrixKernel.multiply` on two size×size matrices: 2·size³ floating-point operations.
    static func matrixProductRow(size: Int, warmUp: Int, runs: Int) -> String {
        let a = Tensor.randn([size, size], seed: 1), b = Tensor.randn([size, size], seed: 2)
        var c = [Double](repeating: 0, count: size * size)
        let seconds = median(warmUp: warmUp, runs: runs) {
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        MatrixKernel.multiply(ap.baseAddress!, bp.baseAddress!, into: cp.baseAddress!, m: size, k: size, n: size)
                    }
                }
            }
        }
        let flops = 2 * Double(size * size * size)
        return "matmul \(size)×\(size) · \(size)×\(size): \(time(seconds)) median, "
            + String(format: "%.2f GFLOP/s", flops / seconds * 1e-9)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func time(_ seconds: Double) -> String {
        seconds < 1e-3 ? String(format: "%.1f µs", seconds * 1e6) : String(format: "%.2f ms", seconds * 1e3)
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 1e9 ? String(format: "%.2f G", perSecond * 1e-9) : String(format: "%.1f M", perSecond * 1e-6)
    }
}
