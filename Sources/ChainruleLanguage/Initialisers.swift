import ChainruleCore
import Foundation

/// Functions that make a leaf's value: `randn`, `uniform`, `zeros`, `ones`,
/// `load` and `const`.
enum Initialiser: String, CaseIterable {
    /// `randn(2, 3, seed: 1, scale: 0.1)`: normal(0, scale²) entries.
    case randn
    /// `uniform(2, 3, low: -1, high: 1, seed: 1)`: entries uniform in [low, high).
    case uniform
    case zeros
    case ones
    /// `load("x.npy")`: a NumPy file, relative to the program's folder.
    case load
    /// `const(…)`: the same leaf, but it gets no gradient (a frozen parameter).
    case const

    var namedParameters: [String] {
        switch self {
        case .randn: return ["seed", "scale"]
        case .uniform: return ["low", "high", "seed"]
        case .zeros, .ones, .load, .const: return []
        }
    }

    var signature: String {
        switch self {
        case .randn: return "randn(shape…, seed: N, scale: 1)"
        case .uniform: return "uniform(shape…, low: 0, high: 1, seed: N)"
        case .zeros: return "zeros(shape…)"
        case .ones: return "ones(shape…)"
        case .load: return "load(\"file.npy\")"
        case .const: return "const(literal or initialiser)"
        }
    }
}

/// The seed an initialiser uses when the program gives none: the 64-bit
/// FNV-1a hash of the name it is bound to (`h.W` for a layer's weight), so
/// every run and every machine gets the same numbers, and adding a line does
/// not change the values of the others.
func defaultSeed(for key: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

extension ProgramCompiler {
    /// The value an initialiser call makes, and the role its leaf gets
    /// (`.constant` for `const(…)`, `.input` otherwise). Its arguments and
    /// shape are checked now; the tensor is made later (a file's data read,
    /// random numbers drawn), once the whole program is within its budgets.
    func makeInitialiser(_ kind: Initialiser, _ arguments: [Argument], _ token: Token, seedKey: String) throws(CompileFailure) -> (PendingValue, NodeRole) {
        // The sizes are the positional arguments; the rest go by name.
        let positional = arguments.filter { $0.label == nil }
        let named = try bind(arguments.filter { $0.label != nil }, to: CallSignature(
            callee: kind.rawValue, names: kind.namedParameters, required: [], describe: { kind.signature }, namedOnly: true), at: token)
        switch kind {
        case .load:
            guard positional.count == 1, case .string(let path, _) = positional[0].value else {
                throw failure("load takes one file name in double quotes: load(\"weights.npy\")", at: positional.first?.value.token ?? token)
            }
            return (try loadFile(path, at: positional[0].value.token), .input)
        case .const:
            guard positional.count == 1 else {
                throw failure("const takes one value: const([1, 2]), const(randn(3, 3)) or const(load(\"w.npy\"))", at: token)
            }
            let inner = positional[0].value
            if let tensor = try literalTensor(inner) { return (PendingValue(tensor), .constant) }
            if case .call(let callee, let innerArguments, let innerToken) = inner,
               let innerKind = Initialiser(rawValue: callee), innerKind != .const {
                return (try makeInitialiser(innerKind, innerArguments, innerToken, seedKey: seedKey).0, .constant)
            }
            throw failure("const(…) takes a literal or an initialiser (randn, uniform, zeros, ones, load): it freezes a leaf", at: inner.token)
        case .randn, .uniform, .zeros, .ones:
            let shape = try shapeArguments(positional, of: kind.rawValue, signature: kind.signature, at: token)
            try checkSize(shape, what: "\(kind.rawValue)(…)", at: token)
            let seed = try seedArgument(named["seed"], of: kind.rawValue) ?? defaultSeed(for: seedKey)
            switch kind {
            case .randn:
                let scale = try number(named["scale"], default: 1, of: kind)
                return (PendingValue(shape: shape) { Tensor.randn(shape, seed: seed, scale: scale) }, .input)
            case .uniform:
                let low = try number(named["low"], default: 0, of: kind)
                let high = try number(named["high"], default: 1, of: kind)
                guard low < high else {
                    throw failure("uniform needs low < high, got low \(formatNumber(low)) and high \(formatNumber(high))", at: named["high"]?.token ?? token)
                }
                return (PendingValue(shape: shape) { Tensor.uniform(shape, low: low, high: high, seed: seed) }, .input)
            case .zeros:
                return (PendingValue(shape: shape) { Tensor.zeros(shape) }, .input)
            default:
                return (PendingValue(shape: shape) { Tensor.ones(shape) }, .input)
            }
        }
    }

    private func number(_ argument: Argument?, default value: Double, of kind: Initialiser) throws(CompileFailure) -> Double {
        guard let argument else { return value }
        guard let number = argument.value.literalNumber else {
            throw failure("argument '\(argument.label ?? "")' of \(kind.rawValue) must be a number", at: argument.value.token)
        }
        return number
    }

    /// `randn(2, 3)` or `randn([2, 3])`: sizes are whole numbers from 1; no
    /// sizes make a scalar.
    func shapeArguments(_ arguments: [Argument], of callee: String, signature: String, at token: Token) throws(CompileFailure) -> [Int] {
        var sizes: [Expression] = arguments.map(\.value)
        if sizes.count == 1, case .list(let elements, _) = sizes[0] { sizes = elements }
        var shape: [Int] = []
        for size in sizes {
            if let number = size.literalNumber, number.rounded() == number, number > Double(options.maxElements) {
                throw failure("size \(Self.written(size)) of \(callee) is over the limit of \(options.maxElements) elements a tensor may hold (--max-elements)", at: size.token)
            }
            guard let number = size.literalNumber, let value = Self.wholeNumber(number), value >= 1 else {
                throw failure("the sizes of \(callee) are whole numbers from 1, as \(signature)", at: size.token)
            }
            shape.append(value)
        }
        return shape
    }

    /// A `.npy` file's tensor: its header is read and checked now (shape,
    /// dtype, size against the element limit), its data later.
    private func loadFile(_ path: String, at token: Token) throws(CompileFailure) -> PendingValue {
        let resolved: String
        if path.hasPrefix("/") || options.baseDirectory == nil {
            resolved = path
        } else {
            resolved = URL(fileURLWithPath: options.baseDirectory!).appendingPathComponent(path).path
        }
        let header: Npy.Header
        do {
            header = try Npy.readHeader(path: resolved, maxElements: options.maxElements)
        } catch {
            // Named as the program writes it, not as resolved against the program's folder.
            throw failure(Npy.LoadError(path: path, problem: error.problem).description, at: token)
        }
        guard !header.shape.contains(0) else {
            throw failure("cannot load \(path): its shape \(describeShape(header.shape)) holds no elements; a tensor needs at least one", at: token)
        }
        let limit = options.maxElements
        // The closure keeps only values, not the compiler: the compiler keeps the pending
        // value, so capturing `self` would be a cycle (a leak whenever compiling fails).
        let place = location(token), length = token.length
        let failed = { (message: String) -> CompileFailure in .reported(Diagnostic(message, at: place, length: length)) }
        return PendingValue(shape: header.shape) { () throws(CompileFailure) -> Tensor in
            let tensor: Tensor
            do throws(Npy.LoadError) {
                tensor = try Npy.load(path: resolved, maxElements: limit)
            } catch {
                throw failed(Npy.LoadError(path: path, problem: error.problem).description)
            }
            guard tensor.shape == header.shape else {
                throw failed("cannot load \(path): the file changed while it was read (its shape was \(describeShape(header.shape)), now \(describeShape(tensor.shape)))")
            }
            return tensor
        }
    }
}
