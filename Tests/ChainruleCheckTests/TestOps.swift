import ChainruleCheck
import ChainruleCore
import Foundation
import Testing
import RealModule

/// Sigmoid with a deliberately wrong backward rule: it drops the `(1 − y)` factor
/// of dσ/dx = y(1 − y). The checker must pin the node that uses it.
struct WrongSigmoid: ChainruleCore.Operation {
    var name: String { "wrong_sigmoid" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { 1 / (1 + Double.exp(-$0)) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(output) { g, y in g * y }]
    }
}

/// A user's own layer: swish(x) = x·σ(βx), with its correct backward rule
/// dy/dx = σ(βx) + βx·σ(βx)(1 − σ(βx)).
struct Swish: ChainruleCore.Operation {
    var beta: Double
    var name: String { "swish" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0 * sigma(beta * $0) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in
            let s = sigma(beta * x)
            return g * (s + beta * x * s * (1 - s))
        }]
    }
    private func sigma(_ x: Double) -> Double { 1 / (1 + Double.exp(-x)) }
}

/// A layer whose rule is right except for one Jacobian entry: row-sum
/// y_i = Σ_j W_ij x_j whose backward to x forgets W's last column.
struct ForgetfulRowSum: ChainruleCore.Operation {
    var name: String { "forgetful_matvec" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { [shapes[0][0]] }
    func forward(_ inputs: [Tensor]) -> Tensor {
        let w = inputs[0], x = inputs[1], rows = w.shape[0], columns = w.shape[1]
        return Tensor((0..<rows).map { i in (0..<columns).reduce(0) { $0 + w[i, $1] * x.data[$1] } })
    }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let w = inputs[0], x = inputs[1], rows = w.shape[0], columns = w.shape[1]
        var dw = Tensor.zeros(w.shape), dx = Tensor.zeros(x.shape)
        for i in 0..<rows {
            for j in 0..<columns {
                dw.data[i * columns + j] = gradient.data[i] * x.data[j]
                if j < columns - 1 { dx.data[j] += gradient.data[i] * w[i, j] }
            }
        }
        return [dw, dx]
    }
}

extension Var {
    func applying(_ op: any ChainruleCore.Operation, _ others: Var...) -> Var {
        graph.build(op, [self] + others)
    }
}

/// relu whose backward rule gives `slopeAtZero` at x = 0 (and the right 0 and 1 elsewhere).
/// At the kink any value in [0, 1] is a subgradient; anything else is a wrong rule.
struct ReluWithSlopeAtZero: ChainruleCore.Operation {
    var slopeAtZero: Double
    var name: String { "relu_slope_at_zero" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Swift.max($0, 0) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * (x > 0 ? 1 : (x == 0 ? slopeAtZero : 0)) }]
    }
    func branches(_ inputs: [Tensor]) -> [Int] { inputs[0].data.map { $0 > 0 ? 1 : 0 } }
}

/// A registry entry for sigmoid with no checker samples: the rule check must fail it.
let bareSigmoidSpec = OpSpec(
    name: "bare_sigmoid", family: "test", doc: "σ without samples", parameters: [OpParameter("x", .tensor)],
    build: { _ in Activation.sigmoid }, samples: [])

/// The ways a backward rule can be wrong that the node-local check must catch and name.
enum RuleFault: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `backward` uses 1 where it should use `grad`.
    case ignoresGrad
    /// `grad²` instead of `grad`.
    case squaresGrad
    /// Adds 0.5 to input 0's gradient.
    case addsConstant
    /// Returns input 0's gradient for input 1.
    case swapsInputs
    /// Uses the mean of `grad` for every element (tensor outputs) or `grad·|grad|` (scalar
    /// outputs): right for an all-ones cotangent only.
    case rightOnlyForOnes
    /// Returns a gradient one element longer than input 0.
    case wrongShape

    var testDescription: String { rawValue }
}

/// `a · sin(b)` elementwise, or its sum when `scalarOutput`, with a backward rule that is
/// right when `fault` is nil and wrong in the given way otherwise.
struct FaultyProduct: ChainruleCore.Operation {
    var fault: RuleFault?
    var scalarOutput: Bool
    var name: String { "faulty_" + (fault?.rawValue ?? "none") }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { scalarOutput ? [] : shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor {
        let y = inputs[0].zipMap(inputs[1]) { a, b in a * Double.sin(b) }
        return scalarOutput ? Tensor(y.data.reduce(0, +)) : y
    }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let a = inputs[0], b = inputs[1]
        let n = a.count
        var g = scalarOutput ? Tensor(shape: a.shape, data: [Double](repeating: gradient.scalar, count: n)) : gradient
        switch fault {
        case .ignoresGrad: g = g.map { _ in 1 }
        case .squaresGrad: g = g.map { $0 * $0 }
        case .rightOnlyForOnes:
            let mean = g.data.reduce(0, +) / Double(n)
            g = scalarOutput ? g.map { $0 * Swift.abs($0) } : g.map { _ in mean }
        default: break
        }
        var da = g.zipMap(b) { g, b in g * Double.sin(b) }
        let db = g.zipMap(a.zipMap(b) { a, b in a * Double.cos(b) }, *)
        switch fault {
        case .addsConstant: da = da.map { $0 + 0.5 }
        case .swapsInputs: return [da, da]
        case .wrongShape: return [Tensor(da.data + [0]), db]
        default: break
        }
        return [da, db]
    }
}

/// CS231n's sigmoid with the rule of the issue's `badsig`: `out·(1 − out)`, forgetting `grad`.
struct BadSigmoid: ChainruleCore.Operation {
    var name: String { "badsig" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { 1 / (1 + Double.exp(-$0)) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [output.map { $0 * (1 - $0) }]
    }
}

/// `sin(ω·x)/ω` with its right rule `cos(ω·x)`: with ω = 10⁴ it turns over many times within
/// Richardson's widest steps, so Richardson cannot judge it (a huge curvature).
struct Wiggle: ChainruleCore.Operation {
    var omega: Double
    var name: String { "wiggle" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Double.sin(omega * $0) / omega } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * Double.cos(omega * x) }]
    }
}

/// A correct `tanh` that conforms to `BatchedOperation` and counts its calls, to show the
/// checker hands it whole chunks of points.
final class CountingBatchedTanh: BatchedOperation, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var batchCalls = 0
    private(set) var pointsSeen = 0
    private(set) var singleCalls = 0
    var name: String { "counting_tanh" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor {
        lock.withLock { singleCalls += 1 }
        return inputs[0].map { Double.tanh($0) }
    }
    func forward(batch points: [[Tensor]]) -> [Tensor] {
        lock.withLock {
            batchCalls += 1
            pointsSeen += points.count
        }
        return points.map { $0[0].map { Double.tanh($0) } }
    }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(output) { g, y in g * (1 - y * y) }]
    }
}
