import ChainruleCore
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
