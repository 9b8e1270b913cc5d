/// One parameter of an op as a caller sees it: a tensor input or an attribute.
public struct OpParameter: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A differentiable tensor input.
        case tensor
        /// A tensor input that may be left out (a bias).
        case optionalTensor
        /// Integer class labels: a tensor input that receives no gradient.
        case labels
        case int
        case double
        case bool
        case ints
    }

    public var name: String
    public var kind: Kind
    /// The default of an attribute; `nil` means the caller must give it,
    /// unless the attribute is optional.
    public var defaultValue: AttributeValue?
    /// An attribute whose absence means something (`axis` absent: all axes).
    public var isOptional: Bool

    public init(_ name: String, _ kind: Kind, default defaultValue: AttributeValue? = nil, optional: Bool = false) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.isOptional = optional
    }

    public var isTensorInput: Bool { kind == .tensor || kind == .optionalTensor || kind == .labels }
}

/// The arguments an `OpSpec` builds an op instance from.
public struct OpArguments: Sendable {
    /// Attribute values by parameter name, defaults filled in.
    public var attributes: [String: AttributeValue]
    /// Names of the tensor parameters that were given, in parameter order.
    public var tensorInputs: [String]

    public init(attributes: [String: AttributeValue] = [:], tensorInputs: [String] = []) {
        self.attributes = attributes
        self.tensorInputs = tensorInputs
    }

    public func has(_ input: String) -> Bool { tensorInputs.contains(input) }
}

/// An input set on which the rule checker proves an op's backward rule.
public struct OpSample: Sendable {
    /// What this sample exercises, e.g. `"broadcast [2,3] + [3]"`.
    public var label: String
    /// The tensor inputs, in the op's tensor-parameter order.
    public var inputs: [Tensor]
    /// The op instance for this sample (its attributes).
    public var op: any Operation

    public init(_ label: String, op: any Operation, inputs: [Tensor]) {
        self.label = label
        self.op = op
        self.inputs = inputs
    }
}

/// The registry entry of one op: its name, signature, doc, how to build it
/// from arguments, where it is not differentiable, and its checker samples.
public struct OpSpec: Sendable {
    public var name: String
    /// The family file it lives in: `"elementwise"`, `"pooling"`, …
    public var family: String
    /// One-line doc for `chainrule ops`.
    public var doc: String
    /// Parameters in call order; tensors first by convention.
    public var parameters: [OpParameter]
    /// Where the op is not differentiable, in words (`"x = 0"`); `nil` if smooth.
    public var kinks: String?
    /// Builds an instance from arguments; throws for attribute values that
    /// make no sense (a zero stride), naming the op.
    public var build: @Sendable (OpArguments) throws(ValueError) -> any Operation
    /// Inputs the rule checker proves the backward rule on. Never empty.
    public var samples: [OpSample]

    public init(
        name: String, family: String, doc: String, parameters: [OpParameter], kinks: String? = nil,
        build: @escaping @Sendable (OpArguments) throws(ValueError) -> any Operation,
        samples: [OpSample]
    ) {
        self.name = name
        self.family = family
        self.doc = doc
        self.parameters = parameters
        self.kinks = kinks
        self.build = build
        self.samples = samples
    }

    /// Builds an instance from the attributes a caller gave, every other
    /// attribute that has a default set to it, and the names of the tensor
    /// inputs given (in parameter order).
    public func make(attributes given: [String: AttributeValue] = [:], tensorInputs: [String]) throws(ValueError) -> any Operation {
        var attributes = given
        for parameter in parameters where !parameter.isTensorInput && attributes[parameter.name] == nil {
            if let value = parameter.defaultValue { attributes[parameter.name] = value }
        }
        return try build(OpArguments(attributes: attributes, tensorInputs: tensorInputs))
    }

    /// `conv2d(x, W, b?, stride: 1, pad: 0, floor: false)`
    public var signature: String {
        let parts = parameters.map { p -> String in
            switch p.kind {
            case .tensor, .labels: return p.name
            case .optionalTensor: return p.name + "?"
            default:
                if let d = p.defaultValue { return "\(p.name): \(d)" }
                return p.isOptional ? "\(p.name)?:" : "\(p.name):"
            }
        }
        return "\(name)(\(parts.joined(separator: ", ")))"
    }
}

/// The one table of ops. The language resolves calls through it, `chainrule
/// ops` prints it, and the rule checker walks it. Adding an op is adding its
/// spec to its family's list.
public enum Registry {
    public static let specs: [OpSpec] = {
        let all = ElementwiseOps.specs + ActivationOps.specs + ReductionOps.specs
            + LinearAlgebraOps.specs + ShapeOps.specs + JoiningOps.specs + ConvolutionOps.specs
            + PoolingOps.specs + GlobalPoolingOps.specs + NormalizationOps.specs
            + RegularizationOps.specs + LossOps.specs
        var seen = Set<String>()
        for spec in all {
            precondition(seen.insert(spec.name).inserted, "Registry: op \(spec.name) registered twice")
        }
        return all
    }()

    private static let byName: [String: OpSpec] = Dictionary(
        uniqueKeysWithValues: specs.map { ($0.name, $0) })

    public static func spec(named name: String) -> OpSpec? { byName[name] }

    public static var names: [String] { specs.map(\.name) }
}
