import ChainruleCore

/// A compiled expression of an `op` block: a small tree over the op's
/// parameters, `grad`, `out`, constants and registry ops.
public indirect enum CustomExpression: Sendable {
    /// The op's `index`-th input.
    case parameter(Int)
    /// The upstream gradient (backward clauses only).
    case gradient
    /// The op's output (backward clauses only).
    case output
    case constant(Tensor)
    case apply(any Operation, [CustomExpression])

    /// The shape this expression has for these parameter shapes; a broken
    /// shape rule inside names the inner op.
    /// An intermediate holding more than `limit` elements is refused, as the
    /// program's own tensors are.
    func shape(parameters: [[Int]], output: [Int]?, limit: Int) throws(ShapeError) -> [Int] {
        switch self {
        case .parameter(let i): return parameters[i]
        case .gradient, .output: return output ?? []
        case .constant(let t): return t.shape
        case .apply(let op, let arguments):
            var shapes: [[Int]] = []
            for argument in arguments { shapes.append(try argument.shape(parameters: parameters, output: output, limit: limit)) }
            let shape = try op.outputShape(shapes)
            if (Tensor.checkedElementCount(shape) ?? .max) > limit {
                throw ShapeError(op: op.name, shapes: shapes, "its result would have shape \(describeShape(shape)), over the limit of \(limit) elements (--max-elements)")
            }
            return shape
        }
    }

    /// The value, applying each inner op's forward rule.
    func evaluate(parameters: [Tensor], output: Tensor?, gradient: Tensor?) -> Tensor {
        switch self {
        case .parameter(let i): return parameters[i]
        case .gradient: return gradient!
        case .output: return output!
        case .constant(let t): return t
        case .apply(let op, let arguments):
            return op.forward(arguments.map { $0.evaluate(parameters: parameters, output: output, gradient: gradient) })
        }
    }

    /// The branch pattern of every piecewise op inside, in evaluation order.
    func branches(parameters: [Tensor], into pattern: inout [Int]) -> Tensor {
        switch self {
        case .apply(let op, let arguments):
            let values = arguments.map { $0.branches(parameters: parameters, into: &pattern) }
            pattern += op.branches(values)
            return op.forward(values)
        default:
            return evaluate(parameters: parameters, output: nil, gradient: nil)
        }
    }
}

/// An op written in the language:
///
/// ```
/// op mysigmoid(x) {
///   forward:  1 / (1 + exp(-x))
///   backward: grad * out * (1 - out)
/// }
/// ```
///
/// Forward and backward are expression trees evaluated with the registry's
/// ops, so the checker proves a user's rule exactly as it proves a built-in
/// one. A backward whose shape differs from its input's is broadcast and
/// summed to the input's shape, as the built-in broadcasting ops do.
public struct CustomOperation: Operation {
    public let name: String
    public let parameters: [String]
    /// Where the `op` block starts, so a failed check can point at the rule.
    public let definition: SourceLocation
    let forwardExpression: CustomExpression
    /// One per parameter, in parameter order.
    let backwardExpressions: [CustomExpression]
    /// Where each parameter's `backward` clause is written, in parameter
    /// order: where a failed check sends the user.
    public let backwardLocations: [SourceLocation]
    /// The largest intermediate tensor, in elements, the rules may make.
    let elementLimit: Int
    /// How deeply the shape rule, the passes and releasing the rules recurse:
    /// the deepest clause, counting the depth of the ops it calls. At most
    /// `maximumDepth`.
    let nestingDepth: Int
    /// How many registry ops the shape rule applies (every clause, and the
    /// ops called inside counted with their own size): the op-node budget
    /// (`CompileOptions.maxOpNodes`) bounds it.
    public let expandedNodes: Int

    /// The deepest an op's rules may nest, counting the ops they call. Fixed,
    /// not an option, because the stack is what bounds it: each level is a
    /// few frames of the shape rule, the passes and the release of the rules
    /// (measured in a debug build: 499 levels run in a 2 MB stack, not in 1 MB), and 500 levels
    /// leave a wide margin inside the 8 MB of a thread's default stack.
    public static let maximumDepth = 500

    init(name: String, parameters: [String], definition: SourceLocation,
         forward: CustomExpression, backward: [CustomExpression], backwardLocations: [SourceLocation], elementLimit: Int,
         nestingDepth: Int, expandedNodes: Int) {
        self.name = name
        self.parameters = parameters
        self.definition = definition
        self.forwardExpression = forward
        self.backwardExpressions = backward
        self.backwardLocations = backwardLocations
        self.elementLimit = elementLimit
        self.nestingDepth = nestingDepth
        self.expandedNodes = expandedNodes
    }

    /// The output shape, after checking that the forward and every backward
    /// expression fit these input shapes.
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, parameters)
        let output: [Int]
        do {
            output = try forwardExpression.shape(parameters: shapes, output: nil, limit: elementLimit)
        } catch {
            throw ShapeError(op: name, shapes: shapes, "in its forward: \(error.description)")
        }
        for (i, backward) in backwardExpressions.enumerated() {
            let gradientShape: [Int]
            do {
                gradientShape = try backward.shape(parameters: shapes, output: output, limit: elementLimit)
            } catch {
                throw ShapeError(op: name, shapes: shapes, "in its backward for \(parameters[i]): \(error.description)")
            }
            guard broadcastShapes(gradientShape, shapes[i]) != nil else {
                throw ShapeError(op: name, shapes: shapes,
                    "its backward for \(parameters[i]) has shape \(describeShape(gradientShape)), which does not broadcast to \(parameters[i])'s shape \(describeShape(shapes[i]))")
            }
        }
        return output
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        forwardExpression.evaluate(parameters: inputs, output: nil, gradient: nil)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        zip(backwardExpressions, inputs).map { backward, input in
            let value = backward.evaluate(parameters: inputs, output: output, gradient: gradient)
            if value.shape == input.shape { return value }
            let common = broadcastShapes(value.shape, input.shape)!
            return value.broadcast(to: common).sumToShape(input.shape)
        }
    }

    public func branches(_ inputs: [Tensor]) -> [Int] {
        var pattern: [Int] = []
        _ = forwardExpression.branches(parameters: inputs, into: &pattern)
        return pattern
    }
}
