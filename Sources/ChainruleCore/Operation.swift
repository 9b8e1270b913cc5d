/// One differentiable operation: its output shape, its forward rule and its
/// backward rule (the vector–Jacobian product for each input), side by side.
///
/// An instance carries the op's attributes (a stride, an axis, a slope); the
/// registry's `OpSpec` builds instances from the language's named arguments.
public protocol Operation: Sendable {
    /// The registry name, e.g. `"conv2d"`.
    var name: String { get }

    /// A short label for figures: `"+"`, `"*"`, `"σ"`, `"max"`. Defaults to `name`.
    var symbol: String { get }

    /// Attributes shown in figures and exports, e.g. `["stride": .int(2)]`.
    var attributes: [String: AttributeValue] { get }

    /// How the op is written in an expression, for figures that name a value
    /// by the expression that made it (`x*w`, `q + z`, `−z`, `exp(z)`).
    /// Defaults to a call of `name`.
    var notation: Notation { get }

    /// Whether swapping two inputs leaves the output unchanged (`+`, `*`,
    /// `max`). Figures label the inputs of the others (`a`, `b`), since which
    /// wire is which changes the result. Defaults to false.
    var isCommutative: Bool { get }

    /// What the local derivative ∂output/∂input `index` looks like, so a
    /// figure can label it: `.elementwise` when each output element depends
    /// only on the matching element of that input, `.jacobian` otherwise.
    /// Defaults to `.jacobian` (always true, if less telling).
    func localGradientForm(input index: Int) -> LocalGradientForm

    /// Whether input `index` receives a gradient. Class labels do not.
    func isDifferentiable(input index: Int) -> Bool

    /// What a figure writes on this op's box, from the op's own typed
    /// attributes at these input shapes: its window (kernel, stride, pad) and
    /// which inputs are its weights. Defaults to none of them.
    func layerAttributes(inputShapes: [[Int]]) -> LayerAttributes

    /// The output shape for these input shapes, or a `ShapeError` naming the
    /// op, the shapes and the rule that was broken.
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int]

    /// Checks that depend on values, not only shapes (labels in range).
    /// Called before `forward`. Defaults to accepting everything.
    func validate(_ inputs: [Tensor]) throws(ValueError)

    /// The output for these inputs. Shapes have passed `outputShape`.
    func forward(_ inputs: [Tensor]) -> Tensor

    /// The vector–Jacobian products: for each input `i`, `gradientᵀ · ∂output/∂input_i`,
    /// shaped like input `i`; `nil` for inputs that are not differentiable.
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?]

    /// `backward` when the pass wants only the inputs `i` with `wanted[i]` (a pruned pass:
    /// `BackwardPlan`): the wanted gradients must be the same bits as `backward`'s, the
    /// others may be nil, so a rule can skip their products (linear's dx of a data batch).
    /// Defaults to `backward`, which computes them all.
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor, wanted: [Bool]) -> [Tensor?]

    /// Which branch of a piecewise rule each output element took (relu's sign,
    /// max's argmax, a hinge margin's sign). Two input points with different
    /// branch patterns lie on different sides of a kink; the checker compares
    /// the patterns at `x + h` and `x − h` to report kinks instead of failures.
    /// Smooth ops return `[]` (the default).
    func branches(_ inputs: [Tensor]) -> [Int]

    /// The op on plain Doubles, for a node whose inputs and output are
    /// scalars (see ScalarRules.swift): the output for `a` (and `b` for
    /// two-input ops), or nil (the default) when the op has no scalar rule.
    func scalarForward(_ a: Double, _ b: Double) -> Double?

    /// The gradients the scalar rule sends to `a` and `b` for upstream
    /// gradient `g`, or nil (the default) when the op has no scalar rule.
    func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)?

    /// The difference rule: how the output changes when each input `i` moves by `deltas[i]`
    /// (nil: it stays), `forward(inputs + deltas) − output`, computed so that it does not cancel
    /// against the output (linear ops apply themselves to the deltas, exp is `y·expm1(d)`; see
    /// Differences.swift). Nil (the default) when the op has no accurate rule: `change` then
    /// subtracts two forwards, correct but rounded at the size of the output.
    func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor?
}

extension Operation {
    public var symbol: String { name }
    public var attributes: [String: AttributeValue] { [:] }
    public var notation: Notation { .call(name) }
    public var isCommutative: Bool { false }
    public func localGradientForm(input index: Int) -> LocalGradientForm { .jacobian }
    public func isDifferentiable(input index: Int) -> Bool { true }
    public func layerAttributes(inputShapes: [[Int]]) -> LayerAttributes { LayerAttributes() }
    public func validate(_ inputs: [Tensor]) throws(ValueError) {}
    public func branches(_ inputs: [Tensor]) -> [Int] { [] }
    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor, wanted: [Bool]) -> [Tensor?] {
        backward(inputs, output: output, gradient: gradient)
    }
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { nil }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? { nil }
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { nil }

    /// The registry entry of this op, if it has one.
    public var spec: OpSpec? { Registry.spec(named: name) }
}

/// An op described as a layer (conv, pool, linear): the typed facts a
/// figure prints on its box, read from the op, never copied into strings.
public struct LayerAttributes: Sendable, Equatable {
    /// Height and width of a sliding window (convolution, pooling); nil for none.
    public var kernel: [Int]?
    public var stride: Int?
    /// Zero padding on every side; nil for ops that do not pad (pooling).
    public var pad: Int?
    /// The inputs that are the op's weights (`W`, `b`): drawn inside its box
    /// and counted as its parameters (trainable, or frozen when constant).
    public var weightInputs: [Int]
    /// Each window passes one winning element of its input on (max-pool):
    /// the op's `branches` are then the winners' flat offsets in input 0.
    public var picksWinners: Bool

    public init(kernel: [Int]? = nil, stride: Int? = nil, pad: Int? = nil, weightInputs: [Int] = [], picksWinners: Bool = false) {
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.weightInputs = weightInputs
        self.picksWinners = picksWinners
    }
}

/// How an op is written in an expression (see `Operation.notation`).
public enum Notation: Sendable, Equatable {
    /// `a + b`: binds tighter as `precedence` grows (`+` 1, `*` 2, `^` 3).
    case infix(String, precedence: Int)
    /// `−x`.
    case prefix(String)
    /// `x^2`: a constant the op carries, written after its input.
    case postfix(String)
    /// `exp(x)`, `max(a, b)`.
    case call(String)
}

/// The shape of an op's local derivative ∂output/∂input (see `Operation.localGradientForm`).
public enum LocalGradientForm: Sendable, Equatable {
    /// Output element i depends only on input element i (after broadcasting):
    /// the Jacobian is diagonal, and the backward with a cotangent of ones
    /// gives that diagonal for an input shaped like the output.
    case elementwise
    /// Anything else: the full output × input Jacobian.
    case jacobian
}

/// An attribute value of an op: a number, a flag or a list of integers.
public enum AttributeValue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case ints([Int])

    public var description: String {
        switch self {
        case .int(let v): return "\(v)"
        case .double(let v): return formatNumber(v)
        case .bool(let v): return "\(v)"
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        }
    }

    public var intValue: Int? {
        switch self {
        case .int(let v): return v
        case .double(let v) where v.rounded() == v && abs(v) < 1e15: return Int(v)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var intsValue: [Int]? {
        switch self {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: return nil
        }
    }
}

/// A number written for people: integers without a fraction, others with up
/// to 6 significant digits. Not-a-number is `NaN` (as `chainrule eval
/// --json` writes it); infinities are `inf` and `-inf`, short enough for a
/// table column (the JSON's `"Infinity"` is JSON's convention, not prose).
///
/// The text is C's `%.<significant>g` with a fraction's trailing zeros and
/// a bare point dropped. Up to 15 digits of a normal Double (whose
/// half-ulp is below 2⁻⁵³ of it) it is made from Swift's shortest
/// round-trip digits, rounded to `significant`: the same digits, because a
/// rounding boundary (`significant` + 1 digits ending in 5) can lie between
/// a Double and its shortest digits only if it is those digits, and that
/// tie is left to the C library's `vsnprintf`, as is any longer precision.
public func formatNumber(_ value: Double, significant: Int = 6) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
    let precision = max(significant, 1)
    if precision <= 15, value.isNormal, let text = roundedShortestDigits(value, precision) { return text }
    // Sign, digits, point and an exponent of at most 3 digits: `precision` + 8 bytes.
    let capacity = precision + 16
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
        // CChar and UInt8 may alias: the C library writes the bytes read below.
        let written = withVaList([value]) { arguments in
            Int(vsnprintf(UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), capacity, "%.\(precision)g", arguments))
        }
        let text = UnsafeBufferPointer(rebasing: buffer[..<min(written, capacity - 1)])
        var end = text.count
        if !text.contains(UInt8(ascii: "e")) && text.contains(UInt8(ascii: ".")) {
            while text[end - 1] == UInt8(ascii: "0") { end -= 1 }
            if text[end - 1] == UInt8(ascii: ".") { end -= 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: text[..<end]), as: UTF8.self)
    }
}

/// `%.<precision>g` of a finite, non-zero `value` from its shortest digits
/// (`value.description`), trailing zeros dropped; nil at a tie (the digits
/// past `precision` are exactly one 5), which only the exact value decides.
private func roundedShortestDigits(_ value: Double, _ precision: Int) -> String? {
    var digits: [UInt8] = []
    digits.reserveCapacity(20)
    // The power of ten of the first significant digit.
    var exponent = 0
    var pointSeen = false
    var integerDigits = 0
    var leadingZeros = 0
    var written = value.magnitude.description.utf8[...]
    if let e = written.firstIndex(of: UInt8(ascii: "e")) {
        exponent = Int(String(decoding: written[written.index(after: e)...], as: UTF8.self))!
        written = written[..<e]
    }
    for byte in written {
        if byte == UInt8(ascii: ".") {
            pointSeen = true
        } else if digits.isEmpty && byte == UInt8(ascii: "0") {
            if pointSeen { leadingZeros += 1 }
        } else {
            digits.append(byte - 48)
            if !pointSeen { integerDigits += 1 }
        }
    }
    exponent += integerDigits > 0 ? integerDigits - 1 : -(leadingZeros + 1)
    if digits.count > precision {
        let dropped = digits[precision...]
        let first = dropped.first!
        let roundUp: Bool
        if first != 5 {
            roundUp = first > 5
        } else {
            guard dropped.dropFirst().contains(where: { $0 != 0 }) else { return nil }
            roundUp = true
        }
        digits.removeSubrange(precision...)
        if roundUp {
            var i = precision - 1
            while i >= 0 && digits[i] == 9 {
                digits[i] = 0
                i -= 1
            }
            if i >= 0 {
                digits[i] += 1
            } else {
                digits.insert(1, at: 0)
                digits.removeLast()
                exponent += 1
            }
        }
    }
    while digits.count > 1 && digits.last == 0 { digits.removeLast() }
    var text = value < 0 ? "-" : ""
    func append(_ range: Range<Int>) {
        for i in range { text.unicodeScalars.append(Unicode.Scalar(digits[i] + 48)) }
    }
    if exponent < -4 || exponent >= precision {
        append(0..<1)
        if digits.count > 1 {
            text += "."
            append(1..<digits.count)
        }
        text += exponent < 0 ? "e-" : "e+"
        let power = abs(exponent)
        if power < 10 { text += "0" }
        text += String(power)
    } else if exponent >= 0 {
        append(0..<min(exponent + 1, digits.count))
        if digits.count <= exponent { text += String(repeating: "0", count: exponent + 1 - digits.count) }
        if digits.count > exponent + 1 {
            text += "."
            append((exponent + 1)..<digits.count)
        }
    } else {
        text += "0." + String(repeating: "0", count: -exponent - 1)
        append(0..<digits.count)
    }
    return text
}

// MARK: - Errors

/// A shape rule was broken: names the op, the input shapes and the rule.
public struct ShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var op: String
    public var shapes: [[Int]]
    public var message: String

    public init(op: String, shapes: [[Int]], _ message: String) {
        self.op = op
        self.shapes = shapes
        self.message = message
    }

    /// `conv2d: <message> (input shapes 1×3×32×32, 10×3×5×5)`
    public var description: String {
        let shapesText = shapes.map(describeShape).joined(separator: ", ")
        return "\(op): \(message) (input shapes: \(shapesText))"
    }
}

/// Refuses a call with the wrong number of inputs, naming them the way the
/// op's signature does: `conv2d: takes 3 inputs (x, W, b), got 2`.
public func requireInputs(_ op: String, _ shapes: [[Int]], _ names: [String]) throws(ShapeError) {
    guard shapes.count != names.count else { return }
    let count = names.count == 1 ? "1 input" : "\(names.count) inputs"
    throw ShapeError(op: op, shapes: shapes, "takes \(count) (\(names.joined(separator: ", "))), got \(shapes.count)")
}

/// An input value an op cannot take (a class label out of range).
public struct ValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var op: String
    public var message: String

    public init(op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

import Foundation
