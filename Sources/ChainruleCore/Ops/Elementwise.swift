import Foundation

// Elementwise ops. Binary ones broadcast as NumPy does, and their backward
// sums the gradient back down to each input's shape.

/// The shape rule of every broadcasting binary op.
func broadcastRule(_ op: String, _ shapes: [[Int]]) throws(ShapeError) -> [Int] {
    guard shapes.count == 2 else {
        throw ShapeError(op: op, shapes: shapes, "takes 2 inputs, got \(shapes.count)")
    }
    guard let shape = broadcastShapes(shapes[0], shapes[1]) else {
        throw ShapeError(
            op: op, shapes: shapes,
            "shapes \(describeShape(shapes[0])) and \(describeShape(shapes[1])) do not broadcast: aligned from the last axis, each pair of sizes must be equal or one of them 1")
    }
    return shape
}

/// The shape rule of every one-input op that keeps its input's shape.
func sameShapeRule(_ op: String, _ shapes: [[Int]]) throws(ShapeError) -> [Int] {
    guard shapes.count == 1 else {
        throw ShapeError(op: op, shapes: shapes, "takes 1 input, got \(shapes.count)")
    }
    return shapes[0]
}

/// A one-input elementwise op given by its value and its derivative, side by side.
public struct UnaryElementwise: Operation {
    public let name: String
    public let symbol: String
    public let attributes: [String: AttributeValue]
    /// y = f(x)
    let f: @Sendable (Double) -> Double
    /// dy/dx from x and y = f(x)
    let derivative: @Sendable (_ x: Double, _ y: Double) -> Double
    /// The branch each element is on, for ops with kinks (relu: x > 0).
    let branch: (@Sendable (Double) -> Int)?

    public init(
        name: String, symbol: String? = nil, attributes: [String: AttributeValue] = [:],
        f: @escaping @Sendable (Double) -> Double,
        derivative: @escaping @Sendable (_ x: Double, _ y: Double) -> Double,
        branch: (@Sendable (Double) -> Int)? = nil
    ) {
        self.name = name
        self.symbol = symbol ?? name
        self.attributes = attributes
        self.f = f
        self.derivative = derivative
        self.branch = branch
    }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try sameShapeRule(name, shapes) }

    public func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map(f) }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0].data, y = output.data, g = gradient.data
        var dx = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count { dx[i] = g[i] * derivative(x[i], y[i]) }
        return [Tensor(shape: inputs[0].shape, data: dx)]
    }

    public func branches(_ inputs: [Tensor]) -> [Int] {
        guard let branch else { return [] }
        return inputs[0].data.map(branch)
    }
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

public struct Add: Operation {
    public init() {}
    public var name: String { "add" }
    public var symbol: String { "+" }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], +) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        [g.sumToShape(x[0].shape), g.sumToShape(x[1].shape)]
    }
}

public struct Sub: Operation {
    public init() {}
    public var name: String { "sub" }
    public var symbol: String { "−" }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], -) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        [g.sumToShape(x[0].shape), g.map { -$0 }.sumToShape(x[1].shape)]
    }
}

public struct Mul: Operation {
    public init() {}
    public var name: String { "mul" }
    public var symbol: String { "*" }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try broadcastRule(name, shapes) }
    public func forward(_ x: [Tensor]) -> Tensor { .broadcasting(x[0], x[1], *) }
    public func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
        // d(a·b)/da = b, d(a·b)/db = a
        [Tensor.broadcasting(g, x[1], *).sumToShape(x[0].shape),
         Tensor.broadcasting(g, x[0], *).sumToShape(x[1].shape)]
    }
}

public struct Div: Operation {
    public init() {}
    public var name: String { "div" }
    public var symbol: String { "/" }
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
}

// MARK: - unary

public enum Unary {
    public static let neg = UnaryElementwise(name: "neg", symbol: "−x", f: { -$0 }, derivative: { _, _ in -1 })
    public static let exp = UnaryElementwise(name: "exp", f: { Foundation.exp($0) }, derivative: { _, y in y })
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
        unarySpec(Unary.neg, family: family, doc: "−x"),
        unarySpec(Unary.exp, family: family, doc: "eˣ"),
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
