import ChainruleCore

/// Turns fuzzer bytes into a program that is mostly well formed, so the
/// compiler's success path, the registry's ops and op blocks are exercised
/// too, not only the error paths that random text reaches. Every byte is a
/// choice: which statement, which op, which earlier binding, which number.
struct ProgramGenerator {
    private var bytes: [UInt8]
    private var position = 0
    private var names: [String] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func choose(_ count: Int) -> Int {
        guard count > 0, position < bytes.count else { return 0 }
        defer { position += 1 }
        return Int(bytes[position]) % count
    }

    private var exhausted: Bool { position >= bytes.count }

    mutating func program() -> String {
        var lines = [
            "op fz_square(a) {\n  forward: a * a\n  backward: grad * 2 * a\n}",
            "op fz_mix(a, b) {\n  forward: tanh(a) * b\n  backward a: grad * (1 - out / b * out / b) * b\n  backward b: grad * tanh(a)\n}",
        ]
        while !exhausted && lines.count < 40 {
            let name = "v\(names.count)"
            lines.append("\(name) = \(statement())")
            names.append(name)
        }
        if choose(4) == 0, let some = names.randomElement(using: &seeded) { lines.append("output \(some)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private var seeded = SeededGenerator(seed: 1)

    private mutating func statement() -> String {
        switch choose(8) {
        case 0: return number()
        case 1: return literal()
        case 2: return ["randn", "uniform", "zeros", "ones"][choose(4)] + "(" + shape() + (choose(2) == 0 ? ", seed: \(choose(9))" : "") + ")"
        case 3: return ["const(\(literal()))", "load(\"x.npy\")", "const(load(\"x.npy\"))"][choose(3)]
        case 4: return ["Linear(\(operand()), \(1 + choose(4)))", "Conv2D(\(operand()), filters: \(1 + choose(3)), kernel: \(1 + choose(3)), pad: \(choose(2)))"][choose(2)]
        case 5: return "fz_square(\(operand()))"
        case 6: return "fz_mix(\(operand()), \(operand()))"
        default: return expression(depth: 0)
        }
    }

    private mutating func expression(depth: Int) -> String {
        if depth > 3 { return operand() }
        switch choose(4) {
        case 0: return "\(expression(depth: depth + 1)) \(["+", "-", "*", "/", "@"][choose(5)]) \(expression(depth: depth + 1))"
        case 1: return "-\(operand())^\(["2", "0.5", "-1", "3", operand()][choose(5)])"
        case 2: return call(depth: depth)
        default: return operand()
        }
    }

    /// Any registry op, with earlier bindings for its tensors and small
    /// numbers for its attributes.
    private mutating func call(depth: Int) -> String {
        let spec = Registry.specs[choose(Registry.specs.count)]
        var arguments: [String] = []
        for parameter in spec.parameters {
            switch parameter.kind {
            case .tensor: arguments.append(expression(depth: depth + 1))
            case .optionalTensor: if choose(2) == 0 { arguments.append(operand()) }
            case .labels: arguments.append("[" + (0..<(1 + choose(3))).map { _ in "\(choose(4))" }.joined(separator: ", ") + "]")
            case .int: if choose(2) == 0 { arguments.append("\(parameter.name): \(choose(5) - 1)") }
            case .double: if choose(2) == 0 { arguments.append("\(parameter.name): \(number())") }
            case .bool: if choose(2) == 0 { arguments.append("\(parameter.name): \(choose(2) == 0)") }
            case .ints: if choose(2) == 0 { arguments.append("\(parameter.name): [" + (0..<choose(4)).map { _ in "\(choose(5) - 1)" }.joined(separator: ", ") + "]") }
            }
        }
        return "\(spec.name)(\(arguments.joined(separator: ", ")))"
    }

    private mutating func operand() -> String {
        if names.isEmpty || choose(5) == 0 { return number() }
        return names[choose(names.count)]
    }

    private mutating func number() -> String { ["0", "1", "-2", "0.5", "3", "1e-3", "-0.25", "7"][choose(8)] }

    private mutating func shape() -> String {
        (0..<(1 + choose(4))).map { _ in "\(1 + choose(4))" }.joined(separator: ", ")
    }

    private mutating func literal() -> String {
        let rows = 1 + choose(3), columns = 1 + choose(3)
        let row = { (g: inout ProgramGenerator) in "[" + (0..<columns).map { _ in g.number() }.joined(separator: ", ") + "]" }
        if choose(2) == 0 { return row(&self) }
        return "[" + (0..<rows).map { _ in row(&self) }.joined(separator: ", ") + "]"
    }
}
