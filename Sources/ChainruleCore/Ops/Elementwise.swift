import Foundation

// Elementwise ops. Binary ones broadcast as NumPy does, and their backward
// sums the gradient back down to each input's shape.

/// The shape rule of every broadcasting binary op.
func broadcastRule(_ op: String, _ shapes: [[Int]]) throws(ShapeError) -> [Int] {
    try requireInputs(op, shapes, ["a", "b"])
    guard let shape = broadcastShapes(shapes[0], shapes[1]) else {
        throw ShapeError(
            op: op, shapes: shapes,
            "shapes \(describeShape(shapes[0])) and \(describeShape(shapes[1])) do not broadcast: aligned from the last axis, each pair of sizes must be equal or one of them 1")
    }
    return shape
}

/// A two-input op whose output element k is its scalar rule at the elements of a and b that
/// broadcasting maps onto k, and at nothing else (`+`, `-`, `*`, `/`, `pow`, `maximum`,
/// `minimum`). A moved element of an input moves the output elements it is broadcast onto;
/// those go through `forward` as two short vectors of the elements they read, which is the same
/// scalar rule on the same numbers as the whole forward, so the same bits.
protocol BroadcastingElementwise: PartialForward {}

extension BroadcastingElementwise {
    public func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
        guard case .elements(let aMoved) = moved[0], case .elements(let bMoved) = moved[1] else { return nil }
        let shape = base.shape, count = base.count
        // For each input, the offset into it of every output element (nil: the same element).
        let offsets = inputs.map { $0.shape == shape ? nil : Tensor.broadcastOffsets(from: $0.shape, to: shape) }
        let positions: [Int]
        if offsets.allSatisfy({ $0 == nil }) {
            // Nothing broadcast: output element k reads element k of each input alone.
            positions = ascendingUnique(aMoved + bMoved)
        } else {
            var reached = [Bool](repeating: false, count: count)
            for (input, elements) in [aMoved, bMoved].enumerated() where !elements.isEmpty {
                guard let offset = offsets[input] else {
                    for e in elements { reached[e] = true }
                    continue
                }
                var isMoved = [Bool](repeating: false, count: inputs[input].count)
                for e in elements { isMoved[e] = true }
                for k in 0..<count where isMoved[offset[k]] { reached[k] = true }
            }
            positions = reached.indices.filter { reached[$0] }
        }
        guard positions.count < count else { return nil }
        let slice = inputs.indices.map { input in
            let data = inputs[input].data
            return Tensor(shape: [positions.count], data: positions.map { data[offsets[input]?[$0] ?? $0] })
        }
        return PartialOutput(output: replacing(base, at: positions, with: forward(slice).data),
                             moved: .elements(positions), branches: branches(slice))
    }
}

/// The shape rule of every one-input op that keeps its input's shape.
func sameShapeRule(_ op: String, _ shapes: [[Int]]) throws(ShapeError) -> [Int] {
    try requireInputs(op, shapes, ["x"])
    return shapes[0]
}

/// A one-input elementwise op given by its value and its derivative, side by side.
public struct UnaryElementwise: Operation {
    public let name: String
    public let symbol: String
    public let attributes: [String: AttributeValue]
    public let notation: Notation
    /// y = f(x)
    let f: @Sendable (Double) -> Double
    /// dy/dx from x and y = f(x)
    let derivative: @Sendable (_ x: Double, _ y: Double) -> Double
    /// The branch each element is on, for ops with kinks (relu: x > 0).
    let branch: (@Sendable (Double) -> Int)?
    /// f(x + d) − f(x) from x, y = f(x) and d without cancelling (exp: y·expm1(d)); nil: none.
    let change: (@Sendable (_ x: Double, _ y: Double, _ d: Double) -> Double)?
    /// Whole-tensor loops with `f` and `derivative` inlined (relu, which training runs over
    /// every unit); nil: the loops call the closures, one call per element.
    let loops: ElementwiseLoops?

    public init(
        name: String, symbol: String? = nil, attributes: [String: AttributeValue] = [:], notation: Notation? = nil,
        f: @escaping @Sendable (Double) -> Double,
        derivative: @escaping @Sendable (_ x: Double, _ y: Double) -> Double,
        branch: (@Sendable (Double) -> Int)? = nil,
        change: (@Sendable (_ x: Double, _ y: Double, _ d: Double) -> Double)? = nil,
        loops: ElementwiseLoops? = nil
    ) {
        self.name = name
        self.symbol = symbol ?? name
        self.attributes = attributes
        self.notation = notation ?? .call(name)
        self.f = f
        self.derivative = derivative
        self.branch = branch
        self.change = change
        self.loops = loops
    }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try sameShapeRule(name, shapes) }

    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        guard let loops else { return inputs[0].map(f) }
        let x = inputs[0]
        let out = x.data.withUnsafeBufferPointer { xp in
            [Double].written(count: x.count) { loops.forward(xp.baseAddress!, $0, x.count) }
        }
        return Tensor(shape: x.shape, data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let count = inputs[0].count
        let dx = inputs[0].data.withUnsafeBufferPointer { x in
            output.data.withUnsafeBufferPointer { y in
                gradient.data.withUnsafeBufferPointer { g in
                    [Double].written(count: count) { dx in
                        if let loops {
                            loops.backward(x.baseAddress!, y.baseAddress!, g.baseAddress!, dx, count)
                        } else {
                            ElementwiseKernel.pullback(x: x.baseAddress!, y: y.baseAddress!, gradient: g.baseAddress!,
                                                       into: dx, count: count, derivative)
                        }
                    }
                }
            }
        }
        return [Tensor(shape: inputs[0].shape, data: dx)]
    }

    public func branches(_ inputs: [Tensor]) -> [Int] {
        guard let branch else { return [] }
        return inputs[0].data.map(branch)
    }

    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let change else { return nil }
        guard let d = deltas[0] else { return Tensor.zeros(output.shape) }
        let x = inputs[0].data, y = output.data
        var dy = [Double](repeating: 0, count: x.count)
        // An element that does not move does not change, whatever its rule gives at d = 0 (sqrt at 0: 0/0).
        for i in 0..<x.count where d.data[i] != 0 { dy[i] = change(x[i], y[i], d.data[i]) }
        return Tensor(shape: output.shape, data: dy)
    }
}

extension UnaryElementwise: PartialForward {
    /// Output element k reads input element k alone: the moved elements through `forward` as one short vector.
    public func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
        guard case .elements(let elements) = moved[0], elements.count < base.count else { return nil }
        let x = inputs[0].data
        let slice = [Tensor(shape: [elements.count], data: elements.map { x[$0] })]
        return PartialOutput(output: replacing(base, at: elements, with: forward(slice).data), moved: moved[0],
                             branches: branches(slice))
    }
}

/// The loops of an elementwise op over whole buffers, written with its scalar rule
/// inlined (`ElementwiseKernel.map` and `pullback` with the rule's own function), so
/// that they give the bits of `f` and `derivative` element by element.
public struct ElementwiseLoops: Sendable {
    /// out[i] = f(x[i]) for i < count.
    let forward: @Sendable (_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ count: Int) -> Void
    /// dx[i] = g[i] · f′(x[i], y[i]) for i < count.
    let backward: @Sendable (_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ g: UnsafePointer<Double>,
                             _ dx: UnsafeMutablePointer<Double>, _ count: Int) -> Void
}

/// A one-input elementwise op's registry entry, with the standard samples:
/// a scalar, a vector and a matrix drawn from `domain`.
func unarySpec(
    _ op: UnaryElementwise, family: String, doc: String, kinks: String? = nil,
    domain: ClosedRange<Double> = -2...2, extraSamples: [OpSample] = []
) -> OpSpec {
    let samples = [
        OpSample("scalar", op: op, inputs: [Tensor(domain.lowerBound + 0.37 * (domain.upperBound - domain.lowerBound))]),
        OpSample("vector", op: op, inputs: [Tensor.uniform([5], low: domain.lowerBound, high: domain.upperBound, seed: 11)]),
        OpSample("matrix 3×4", op: op, inputs: [Tensor.uniform([3, 4], low: domain.lowerBound, high: domain.upperBound, seed: 12)]),
    ] + extraSamples
    return OpSpec(
        name: op.name, family: family, doc: doc, parameters: [OpParameter("x", .tensor)], kinks: kinks,
        build: { _ in op }, samples: samples)
}

/// The standard samples of a broadcasting binary op: same shapes, a
/// broadcast row, a scalar against a matrix.
func binarySamples(_ op: any Operation, low: Double = -2, high: Double = 2) -> [OpSample] {
    [
        OpSample("same shape 2×3", op: op, inputs: [
            Tensor.uniform([2, 3], low: low, high: high, seed: 21), Tensor.uniform([2, 3], low: low, high: high, seed: 22)]),
        OpSample("broadcast 2×3 with 3", op: op, inputs: [
            Tensor.uniform([2, 3], low: low, high: high, seed: 23), Tensor.uniform([3], low: low, high: high, seed: 24)]),
        OpSample("broadcast scalar with 2×2", op: op, inputs: [
            Tensor(low + 0.61 * (high - low)), Tensor.uniform([2, 2], low: low, high: high, seed: 25)]),
    ]
}

// MARK: - add, sub, mul, div

public struct Add: BroadcastingElementwise {
    public init() {}
    public var name: String { "add" }
    public var symbol: String { "+" }
    public var notation: Notation { .infix("+", precedence: 1) }
    public var isCommutative: Bool { true }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], +) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        [g.sumToShape(x[0].shape), g.sumToShape(x[1].shape)]
    }
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        broadcastDifference(x, output: output, deltas: deltas) { _, _, da, db, _ in da + db }
    }
}

public struct Sub: BroadcastingElementwise {
    public init() {}
    public var name: String { "sub" }
    public var symbol: String { "−" }
    public var notation: Notation { .infix("−", precedence: 1) }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], -) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        [g.sumToShape(x[0].shape), g.map { -$0 }.sumToShape(x[1].shape)]
    }
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        broadcastDifference(x, output: output, deltas: deltas) { _, _, da, db, _ in da - db }
    }
}

public struct Mul: BroadcastingElementwise {
    public init() {}
    public var name: String { "mul" }
    public var symbol: String { "*" }
    public var notation: Notation { .infix("*", precedence: 2) }
    public var isCommutative: Bool { true }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], *) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        // d(a·b)/da = b, d(a·b)/db = a
        [Tensor.broadcasting(g, x[1], *).sumToShape(x[0].shape),
         Tensor.broadcasting(g, x[0], *).sumToShape(x[1].shape)]
    }
    /// (a + Δa)(b + Δb) − ab = Δa·b + (a + Δa)·Δb.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        broadcastDifference(x, output: output, deltas: deltas) { a, b, da, db, _ in da * b + (a + da) * db }
    }
}

public struct Div: BroadcastingElementwise {
    public init() {}
    public var name: String { "div" }
    public var symbol: String { "/" }
    public var notation: Notation { .infix("/", precedence: 2) }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], /) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        // d(a/b)/da = 1/b, d(a/b)/db = −a/b² = −out/b
        let b = x[1].broadcast(to: output.shape)
        var da = [Double](repeating: 0, count: output.count)
        var db = [Double](repeating: 0, count: output.count)
        for i in 0..<output.count {
            da[i] = g.data[i] / b.data[i]
            db[i] = -g.data[i] * output.data[i] / b.data[i]
        }
        return [Tensor(shape: output.shape, data: da).sumToShape(x[0].shape),
                Tensor(shape: output.shape, data: db).sumToShape(x[1].shape)]
    }
    /// (a + Δa)/(b + Δb) − a/b = (Δa − y·Δb)/(b + Δb).
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        broadcastDifference(x, output: output, deltas: deltas) { _, b, da, db, y in (da - y * db) / (b + db) }
    }
}

// MARK: - pow with a tensor exponent

/// aᵇ elementwise with broadcasting.
///
/// ∂/∂a = b·aᵇ⁻¹ and ∂/∂b = aᵇ·ln a. The second needs a > 0: at a = 0 with
/// b ≥ 0 it is taken as 0 (as PyTorch does), for a < 0 it is NaN, because aᵇ
/// is not real for non-integer b there. Use `pow_const` for a fixed exponent.
public struct Pow: BroadcastingElementwise {
    public init() {}
    public var name: String { "pow" }
    public var symbol: String { "^" }
    public var notation: Notation { .infix("^", precedence: 3) }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], Foundation.pow) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        let base = x[0].broadcast(to: output.shape).data
        let exponent = x[1].broadcast(to: output.shape).data
        let y = output.data, upstream = g.data
        var dBase = [Double](repeating: 0, count: output.count)
        var dExponent = [Double](repeating: 0, count: output.count)
        for i in 0..<output.count {
            let a = base[i], b = exponent[i]
            // b·aᵇ⁻¹ is b·out/a, one division instead of a second pow, except at a = 0.
            let slope = a != 0 ? b * y[i] / a : b * Foundation.pow(a, b - 1)
            dBase[i] = b == 0 ? 0 : upstream[i] * slope
            dExponent[i] = a == 0 && b >= 0 ? 0 : upstream[i] * y[i] * Foundation.log(a)
        }
        return [Tensor(shape: output.shape, data: dBase).sumToShape(x[0].shape),
                Tensor(shape: output.shape, data: dExponent).sumToShape(x[1].shape)]
    }
    /// For a > 0 and a + Δa > 0: aᵇ·expm1((b + Δb)·log1p(Δa/a) + Δb·ln a); elsewhere the two powers subtracted.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        broadcastDifference(x, output: output, deltas: deltas) { a, b, da, db, y in
            guard a > 0, a + da > 0 else { return Foundation.pow(a + da, b + db) - y }
            return y * Foundation.expm1((b + db) * Foundation.log1p(da / a) + db * Foundation.log(a))
        }
    }
}

// MARK: - maximum, minimum

/// The order every max-selecting op (`maximum`, `max`, `maxpool2d`) picks by:
/// the larger number wins, and a NaN wins over any number, the first NaN
/// over later ones — so a NaN propagates as in NumPy's `maximum` and
/// `max` and torch's `max`, whatever the elements' order.
/// (`candidate > best` alone let a NaN win only from the first place.)
@inline(__always)
func winsMaximum(_ candidate: Double, over best: Double) -> Bool {
    candidate > best || (candidate.isNaN && !best.isNaN)
}

/// `winsMaximum`'s mirror for `minimum`: the smaller wins, a NaN over any number.
@inline(__always)
func winsMinimum(_ candidate: Double, over best: Double) -> Bool {
    candidate < best || (candidate.isNaN && !best.isNaN)
}

/// The larger of a and b elementwise, with broadcasting; a NaN in either
/// wins (`winsMaximum`). On a tie the gradient goes to `a`; ties are a kink
/// (the branch says which input won).
public struct Maximum: BroadcastingElementwise {
    public init() {}
    public var name: String { "maximum" }
    public var symbol: String { "max" }
    public var isCommutative: Bool { true }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1]) { !winsMaximum($1, over: $0) ? $0 : $1 } }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        routeToWinner(x, gradient: g, outputShape: output.shape) { !winsMaximum($1, over: $0) }
    }
    public func branches(_ x: [Tensor]) -> [Int] { winners(x) { !winsMaximum($1, over: $0) } }
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        selectionDifference(x, output: output, deltas: deltas) { !winsMaximum($1, over: $0) }
    }
}

/// The smaller of a and b elementwise, with broadcasting; a NaN in either
/// wins (`winsMinimum`). On a tie the gradient goes to `a`; ties are a kink.
public struct Minimum: BroadcastingElementwise {
    public init() {}
    public var name: String { "minimum" }
    public var symbol: String { "min" }
    public var isCommutative: Bool { true }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .elementwise }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1]) { !winsMinimum($1, over: $0) ? $0 : $1 } }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        routeToWinner(x, gradient: g, outputShape: output.shape) { !winsMinimum($1, over: $0) }
    }
    public func branches(_ x: [Tensor]) -> [Int] { winners(x) { !winsMinimum($1, over: $0) } }
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        selectionDifference(x, output: output, deltas: deltas) { !winsMinimum($1, over: $0) }
    }
}

/// maximum/minimum's backward: each output element's gradient goes to the
/// input that was selected (`aWins(a, b)` true selects `a`).
private func routeToWinner(
    _ x: [Tensor], gradient g: Tensor, outputShape: [Int], aWins: (Double, Double) -> Bool
) -> [Tensor?] {
    let a = x[0].broadcast(to: outputShape).data, b = x[1].broadcast(to: outputShape).data
    var da = [Double](repeating: 0, count: g.count)
    var db = [Double](repeating: 0, count: g.count)
    g.data.withUnsafeBufferPointer { upstream in
        da.withUnsafeMutableBufferPointer { da in
            db.withUnsafeMutableBufferPointer { db in
                for i in 0..<upstream.count {
                    let toA = aWins(a[i], b[i])
                    da[i] = toA ? upstream[i] : 0
                    db[i] = toA ? 0 : upstream[i]
                }
            }
        }
    }
    return [Tensor(shape: outputShape, data: da).sumToShape(x[0].shape),
            Tensor(shape: outputShape, data: db).sumToShape(x[1].shape)]
}

/// maximum/minimum's difference: the input selected at the perturbed point (as `forward` selects
/// it there) against the one selected at the base, `(winner′ − winner) + Δwinner′`.
private func selectionDifference(
    _ x: [Tensor], output: Tensor, deltas: [Tensor?], aWins: (Double, Double) -> Bool
) -> Tensor {
    broadcastDifference(x, output: output, deltas: deltas) { a, b, da, db, _ in
        let movedA = a + da, movedB = b + db
        let base = aWins(a, b) ? a : b
        return aWins(movedA, movedB) ? (a - base) + da : (b - base) + db
    }
}

/// maximum/minimum's branches: 0 where `a` was selected, 1 where `b` was.
private func winners(_ x: [Tensor], aWins: (Double, Double) -> Bool) -> [Int] {
    guard let shape = broadcastShapes(x[0].shape, x[1].shape) else { return [] }
    let a = x[0].broadcast(to: shape).data, b = x[1].broadcast(to: shape).data
    var branch = [Int](repeating: 0, count: a.count)
    for i in 0..<a.count where !aWins(a[i], b[i]) { branch[i] = 1 }
    return branch
}

// MARK: - unary

public enum Unary {
    public static let neg = UnaryElementwise(name: "neg", symbol: "*−1", notation: .prefix("−"), f: { -$0 }, derivative: { _, _ in -1 },
        change: { _, _, d in -d })
    public static let exp = UnaryElementwise(
        name: "exp", f: { Foundation.exp($0) }, derivative: { _, y in y }, change: { _, y, d in y * Foundation.expm1(d) })

    /// ln x; d/dx = 1/x. NaN for x < 0, −∞ at 0.
    public static let log = UnaryElementwise(name: "log", f: { Foundation.log($0) }, derivative: { x, _ in 1 / x },
        change: { x, _, d in Foundation.log1p(d / x) })

    /// √x; d/dx = 1/(2√x), infinite at 0. NaN for x < 0.
    public static let sqrt = UnaryElementwise(
        name: "sqrt", symbol: "√", f: { $0.squareRoot() }, derivative: { _, y in 0.5 / y },
        change: { x, y, d in d / ((x + d).squareRoot() + y) })

    /// |x|; d/dx = sign(x), taken as 0 at the kink x = 0.
    public static let abs = UnaryElementwise(
        name: "abs", symbol: "|x|", f: { Swift.abs($0) },
        derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) },
        branch: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) },
        change: { x, y, d in
            let moved = x + d
            return (moved > 0) == (x > 0) && (moved < 0) == (x < 0) ? (x > 0 ? d : -d) : Swift.abs(moved) - y
        })

    public static let sin = UnaryElementwise(
        name: "sin", f: { Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) },
        change: { x, _, d in 2 * Foundation.cos(x + d / 2) * Foundation.sin(d / 2) })

    public static let cos = UnaryElementwise(
        name: "cos", f: { Foundation.cos($0) }, derivative: { x, _ in -Foundation.sin(x) },
        change: { x, _, d in -2 * Foundation.sin(x + d / 2) * Foundation.sin(d / 2) })

    /// x²; d/dx = 2x.
    public static let square = UnaryElementwise(
        name: "square", symbol: "x²", f: { $0 * $0 }, derivative: { x, _ in 2 * x },
        change: { x, _, d in d * (2 * x + d) })

    /// xᵖ for a constant p (the language's `x ^ 2`); d/dx = p·xᵖ⁻¹.
    ///
    /// Negative x is fine for a whole-number p (`(-2)^3 = -8`, slope 12);
    /// for other p, xᵖ of a negative x is not real and gives NaN. With p = 0
    /// the derivative is 0 everywhere, 0 included.
    public static func powConst(_ p: Double) -> UnaryElementwise {
        UnaryElementwise(
            name: "pow_const", symbol: "^" + formatNumber(p), attributes: ["p": .double(p)], notation: .postfix("^" + formatNumber(p)),
            f: { Foundation.pow($0, p) },
            derivative: { x, _ in p == 0 ? 0 : p * Foundation.pow(x, p - 1) },
            // (x + d)ᵖ − xᵖ = xᵖ·expm1(p·log1p(d/x)) while x + d keeps x's sign.
            change: { x, y, d in
                guard x != 0, (x + d) / x > 0 else { return Foundation.pow(x + d, p) - y }
                return p == 0 ? 0 : y * Foundation.expm1(p * Foundation.log1p(d / x))
            })
    }
}

// MARK: - registry

enum ElementwiseOps {
    static let family = "elementwise"
    static let specs: [OpSpec] = [
        OpSpec(name: "add", family: family, doc: "a + b, elementwise with broadcasting",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
               build: { _ in Add() }, samples: binarySamples(Add())),
        OpSpec(name: "sub", family: family, doc: "a − b, elementwise with broadcasting",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
               build: { _ in Sub() }, samples: binarySamples(Sub())),
        OpSpec(name: "mul", family: family, doc: "a · b, elementwise with broadcasting",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
               build: { _ in Mul() }, samples: binarySamples(Mul())),
        OpSpec(name: "div", family: family, doc: "a / b, elementwise with broadcasting",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
               build: { _ in Div() }, samples: binarySamples(Div(), low: 0.5, high: 2)),
        OpSpec(name: "pow", family: family,
               doc: "aᵇ, elementwise with broadcasting; ∂/∂b = aᵇ·ln a needs a > 0",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
               build: { _ in Pow() },
               samples: [
                   OpSample("same shape 2×3", op: Pow(), inputs: [
                       Tensor.uniform([2, 3], low: 0.5, high: 2, seed: 31), Tensor.uniform([2, 3], low: -2, high: 2, seed: 32)]),
                   OpSample("broadcast 2×3 with exponent 3", op: Pow(), inputs: [
                       Tensor.uniform([2, 3], low: 0.5, high: 2, seed: 33), Tensor.uniform([3], low: -2, high: 2, seed: 34)]),
                   OpSample("scalar base with 2×2 exponents", op: Pow(), inputs: [
                       Tensor(1.7), Tensor.uniform([2, 2], low: -2, high: 2, seed: 35)]),
               ]),
        OpSpec(name: "pow_const", family: family,
               doc: "xᵖ for a constant p (what `x ^ 2` compiles to); negative x needs a whole-number p",
               parameters: [OpParameter("x", .tensor), OpParameter("p", .double)],
               build: { (args) throws(ValueError) -> any Operation in Unary.powConst(try args.double("p", of: "pow_const")) },
               samples: [
                   OpSample("p = 2 on negative and positive x", op: Unary.powConst(2), inputs: [
                       Tensor.uniform([2, 3], low: -2, high: 2, seed: 41)]),
                   OpSample("p = 3 on negative and positive x", op: Unary.powConst(3), inputs: [
                       Tensor([-1.5, -0.4, 0.3, 1.2])]),
                   OpSample("p = −1 on positive x", op: Unary.powConst(-1), inputs: [
                       Tensor.uniform([4], low: 0.5, high: 2, seed: 42)]),
                   OpSample("p = 0.5 on positive x", op: Unary.powConst(0.5), inputs: [
                       Tensor.uniform([2, 2], low: 0.5, high: 2, seed: 43)]),
               ]),
        OpSpec(name: "maximum", family: family,
               doc: "the larger of a and b, elementwise with broadcasting; a tie sends the gradient to a",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)], kinks: "a = b",
               build: { _ in Maximum() }, samples: binarySamples(Maximum())),
        OpSpec(name: "minimum", family: family,
               doc: "the smaller of a and b, elementwise with broadcasting; a tie sends the gradient to a",
               parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)], kinks: "a = b",
               build: { _ in Minimum() }, samples: binarySamples(Minimum())),
        unarySpec(Unary.neg, family: family, doc: "−x"),
        unarySpec(Unary.exp, family: family, doc: "eˣ"),
        unarySpec(Unary.log, family: family, doc: "ln x, for x > 0", domain: 0.2...3),
        unarySpec(Unary.sqrt, family: family, doc: "√x, for x ≥ 0 (infinite slope at 0)", domain: 0.2...3),
        unarySpec(Unary.abs, family: family, doc: "|x|; gradient sign(x), 0 at x = 0", kinks: "x = 0",
                  extraSamples: [OpSample("negative and positive", op: Unary.abs, inputs: [Tensor([-1.5, -0.3, 0.4, 2])])]),
        unarySpec(Unary.sin, family: family, doc: "sin x", domain: -4...4),
        unarySpec(Unary.cos, family: family, doc: "cos x", domain: -4...4),
        unarySpec(Unary.square, family: family, doc: "x²"),
    ]
}

// MARK: - builder API

public func + (a: Var, b: Var) -> Var { a.graph.build(Add(), [a, b]) }
public func - (a: Var, b: Var) -> Var { a.graph.build(Sub(), [a, b]) }
public func * (a: Var, b: Var) -> Var { a.graph.build(Mul(), [a, b]) }
public func / (a: Var, b: Var) -> Var { a.graph.build(Div(), [a, b]) }
public prefix func - (a: Var) -> Var { a.graph.build(Unary.neg, [a]) }

public func + (a: Var, b: Double) -> Var { a + a.lift(b) }
public func + (a: Double, b: Var) -> Var { b.lift(a) + b }
public func - (a: Var, b: Double) -> Var { a - a.lift(b) }
public func - (a: Double, b: Var) -> Var { b.lift(a) - b }
public func * (a: Var, b: Double) -> Var { a * a.lift(b) }
public func * (a: Double, b: Var) -> Var { b.lift(a) * b }
public func / (a: Var, b: Double) -> Var { a / a.lift(b) }
public func / (a: Double, b: Var) -> Var { b.lift(a) / b }

public func exp(_ x: Var) -> Var { x.graph.build(Unary.exp, [x]) }
public func log(_ x: Var) -> Var { x.graph.build(Unary.log, [x]) }
public func sqrt(_ x: Var) -> Var { x.graph.build(Unary.sqrt, [x]) }
public func abs(_ x: Var) -> Var { x.graph.build(Unary.abs, [x]) }
public func sin(_ x: Var) -> Var { x.graph.build(Unary.sin, [x]) }
public func cos(_ x: Var) -> Var { x.graph.build(Unary.cos, [x]) }
public func square(_ x: Var) -> Var { x.graph.build(Unary.square, [x]) }

/// xʸ with a tensor exponent (both get gradients).
public func pow(_ x: Var, _ y: Var) -> Var { x.graph.build(Pow(), [x, y]) }
/// xᵖ with a constant exponent: the `pow_const` op.
public func pow(_ x: Var, _ p: Double) -> Var { x.graph.build(Unary.powConst(p), [x]) }

public func maximum(_ a: Var, _ b: Var) -> Var { a.graph.build(Maximum(), [a, b]) }
public func minimum(_ a: Var, _ b: Var) -> Var { a.graph.build(Minimum(), [a, b]) }
