import ChainruleCore
import Foundation

/// A layer written in Python (NumPy or torch), run by `python3 FILE` behind a pipe and
/// checked like any other op: `forward` and `backward` are the file's functions, called
/// through the `chainrule` module's `serve`, at the inputs the file gives.
///
/// `Operation.forward` cannot throw, so a pipe failure mid-check (Python raised, hung
/// past the deadline, exited, or broke the protocol) is recorded as `failure` — the
/// first one — the child is stopped, and every later call returns NaNs without a round
/// trip. `check(options:)` throws that failure instead of a verdict, so garbage values
/// never become a verdict; callers that use the op elsewhere must read `failure`.
///
/// Thread-safe: calls from the checker's workers take turns on the one pipe.
public final class ExternalOperation: BatchedOperation, @unchecked Sendable {
    /// The op's name: the `name` given to `serve`, else the Python forward function's name.
    public let name: String
    /// The Python file, as given.
    public let script: String
    /// The inputs' names, as the file's `inputs` dict spells them.
    public let inputNames: [String]
    /// The inputs' values: the file's arrays, or the seeded random values of the shapes it gave.
    public let inputs: [Tensor]
    /// The output at `inputs`.
    public let output: Tensor
    /// Where the forward function (or the torch Function) is written.
    public let location: SourceLocation?
    /// Whether the file gives branch patterns (`serve(..., branches=...)`), so kinks are declared.
    public let reportsBranches: Bool
    /// `Python 3.11.7 · NumPy 2.4.6` (and `· torch 2.5.1` when the file imported torch): what ran the file.
    public let runtime: String
    private let differentiable: [Bool]

    private let lock = NSLock()
    private var process: PythonProcess?
    private var firstFailure: ExternalError?
    /// The longest branch pattern a point's answer may carry (for the bound on an `OUTS`
    /// frame): the base point's, or as many entries as the inputs and output have elements.
    private let patternAllowance: Int
    private var evaluationCount = 0
    private var roundTripCount = 0

    /// The start (up to `serve`'s first answer) may take at least this long, in seconds,
    /// whatever the per-call deadline: importing NumPy, let alone torch, can take seconds.
    public static let startDeadline: Double = 60

    /// Frames of perturbed points are split to stay under this many bytes.
    static let maximumRequest = 1 << 26

    // MARK: Starting

    /// Runs `interpreter script` with the `chainrule` module on `PYTHONPATH` (written to a
    /// temporary folder that is removed as soon as Python has imported it) and waits for
    /// its `serve` call. `deadline` (seconds) bounds every call of the file's functions,
    /// and the start when it is longer than `startDeadline`. The folder and the child are
    /// tracked by `Temporaries`, so a run interrupted meanwhile leaves neither behind.
    public static func start(
        script: String, interpreter: String = "python3", deadline: Double = 60
    ) throws(ExternalError) -> ExternalOperation {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: script, isDirectory: &isDirectory) else {
            throw .badFile(path: script, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .badFile(path: script, reason: "it is a folder, not a Python file") }
        guard FileManager.default.isReadableFile(atPath: script) else {
            throw .badFile(path: script, reason: "permission denied")
        }
        let temporary = String(NSTemporaryDirectory().reversed().drop { $0 == "/" }.reversed())
        let folder: String
        do { folder = try Temporaries.makeFolder(in: temporary.isEmpty ? "/" : temporary) } catch {
            throw .cannotStart(interpreter: interpreter, reason: "cannot make a folder for the chainrule module in \(temporary): \(error.reason)")
        }
        defer { Temporaries.remove(folder: folder) }
        do {
            try PythonModule.write(to: URL(fileURLWithPath: folder, isDirectory: true))
        } catch {
            throw .cannotStart(interpreter: interpreter, reason: "cannot write the chainrule module to \(folder): \(error.localizedDescription)")
        }
        let process = try PythonProcess(interpreter: interpreter, script: script, modulePath: folder, deadline: deadline)
        let waitingFor = "the start of \(script) (its call of chainrule.serve)"
        let hello: [UInt8]
        do throws(ExternalError) {
            hello = try process.receive(
                .hello, atMost: BridgeProtocol.maximumHello, waitingFor: waitingFor,
                by: process.deadline(Swift.max(deadline, startDeadline)))
        } catch {
            process.stop(force: true)
            if case .exitedMidCheck(let status, _) = error { throw .exitedBeforeServe(status: status) }
            throw error
        }
        do throws(ExternalError) {
            return try ExternalOperation(script: script, hello: hello, process: process)
        } catch {
            process.stop(force: true)
            throw error
        }
    }

    private init(script: String, hello body: [UInt8], process: PythonProcess) throws(ExternalError) {
        var reader = FrameReader(body, what: "the HELO frame")
        let json = try reader.raw(try reader.uint32())
        let hello: BridgeProtocol.Hello
        do {
            hello = try JSONDecoder().decode(BridgeProtocol.Hello.self, from: Data(json))
        } catch {
            throw .protocolViolation("the HELO frame's JSON does not read: \(error)")
        }
        guard hello.protocol == BridgeProtocol.version else {
            throw .protocolViolation("the chainrule module Python imported speaks protocol \(hello.protocol), this chainrule \(BridgeProtocol.version): is an old chainrule.py beside the file shadowing the one chainrule ships? Remove it, or write it again with `chainrule python-module DIR`")
        }
        guard !hello.inputs.isEmpty, hello.inputs.allSatisfy({ Tensor.checkedElementCount($0.shape) != nil }),
              Tensor.checkedElementCount(hello.output) != nil
        else { throw .protocolViolation("the HELO frame gives no inputs, or a shape with a negative or overflowing size") }
        inputs = try hello.inputs.map { input throws(ExternalError) in
            Tensor(shape: input.shape, data: try reader.doubles(Tensor.elementCount(input.shape)))
        }
        reportsBranches = hello.branches
        let base = try Self.readPoint(&reader, outputShape: hello.output, branches: hello.branches)
        try reader.requireEnd()
        output = base.output
        name = hello.name
        self.script = script
        inputNames = hello.inputs.map(\.name)
        differentiable = hello.inputs.map(\.differentiable)
        location = hello.line.map { SourceLocation(file: hello.file.map(Self.relativePath) ?? script, line: $0, column: 1) }
        runtime = ["Python " + (hello.python ?? "?"), hello.numpy.map { "NumPy " + $0 }, hello.torch.map { "torch " + $0 }]
            .compactMap { $0 }.joined(separator: " · ")
        patternAllowance = Swift.max(base.branches.count, inputs.reduce(output.count) { $0 + $1.count })
        self.process = process
    }

    /// `path` without `..` steps, relative to the working folder when it lies inside it.
    private static func relativePath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path + "/"
        return absolute.hasPrefix(here) ? String(absolute.dropFirst(here.count)) : absolute
    }

    // MARK: State

    /// The first pipe failure, if any: every result since is NaN and must not be judged.
    public var failure: ExternalError? { locked { firstFailure } }

    /// Points evaluated (`forward` calls, one per point of a batch) and round trips to Python so far.
    public var statistics: (evaluations: Int, roundTrips: Int) { locked { (evaluationCount, roundTripCount) } }

    /// The Python process's id while it runs, else nil.
    public var processID: Int32? { locked { process?.pid } }

    /// Ends the Python process (it returns from `serve`) and reaps it.
    public func close() {
        locked {
            try? process?.finish()
            process = nil
        }
    }

    deinit { process?.stop() }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Records the first failure and stops the child at once (it may be hung).
    private func fail(_ error: ExternalError) {
        if firstFailure == nil { firstFailure = error }
        process?.stop(force: true)
        process = nil
    }

    // MARK: Operation

    public func isDifferentiable(input index: Int) -> Bool { differentiable[index] }

    public func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let expected = inputs.map(\.shape)
        guard inputShapes == expected else {
            let shapes = zip(inputNames, expected).map { "\($0) \(describeShape($1))" }.joined(separator: ", ")
            throw ShapeError(op: name, shapes: inputShapes, "takes the inputs its Python file gives (\(shapes))")
        }
        return output.shape
    }

    public func forward(_ inputs: [Tensor]) -> Tensor { evaluate([inputs])[0].output }

    public func branches(_ inputs: [Tensor]) -> [Int] {
        reportsBranches ? evaluate([inputs])[0].branches : []
    }

    public func forward(batch points: [[Tensor]]) -> [Tensor] { evaluate(points).map(\.output) }

    public func branches(batch points: [[Tensor]]) -> [[Int]] {
        reportsBranches ? evaluate(points).map(\.branches) : points.map { _ in [] }
    }

    /// Outputs and branch patterns from the same round trips: what the checker asks for.
    public func evaluate(batch points: [[Tensor]]) -> [(output: Tensor, branches: [Int])] {
        evaluate(points).map { ($0.output, $0.branches) }
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        locked {
            let unusable = inputs.indices.map { differentiable[$0] ? Tensor(shape: inputs[$0].shape, repeating: .nan) : nil }
            guard firstFailure == nil, let process else { return unusable }
            do throws(ExternalError) {
                return try backward(inputs, output: output, gradient: gradient, through: process)
            } catch {
                fail(error)
                return unusable
            }
        }
    }

    // MARK: Round trips

    /// Each point's output and branch pattern, in one `FWD` round trip per
    /// `maximumRequest` bytes; NaNs once the pipe has failed.
    private func evaluate(_ points: [[Tensor]]) -> [Evaluated] {
        locked {
            evaluationCount += points.count
            let unusable = Evaluated(output: Tensor(shape: output.shape, repeating: .nan), branches: [])
            guard firstFailure == nil, let process else { return points.map { _ in unusable } }
            for point in points {
                precondition(point.map(\.shape) == inputs.map(\.shape), "ExternalOperation \(name): a point of other shapes than its inputs")
            }
            let perRequest = Swift.max(1, Self.maximumRequest / Swift.max(1, 8 * inputs.reduce(0) { $0 + $1.count }))
            var results: [Evaluated] = []
            results.reserveCapacity(points.count)
            do throws(ExternalError) {
                for start in stride(from: 0, to: points.count, by: perRequest) {
                    results += try forward(Array(points[start..<Swift.min(points.count, start + perRequest)]), through: process)
                }
            } catch {
                fail(error)
                return points.map { _ in unusable }
            }
            return results
        }
    }

    private func forward(_ points: [[Tensor]], through process: PythonProcess) throws(ExternalError) -> [Evaluated] {
        let waitingFor = "forward at \(points.count) point\(points.count == 1 ? "" : "s")"
        var body = FrameWriter(capacity: 4 + 8 * points.count * inputs.reduce(0) { $0 + $1.count })
        body.append(UInt32(points.count))
        for point in points { for tensor in point { body.append(tensor.data) } }
        try process.send(.forward, body.bytes, waitingFor: waitingFor, by: process.deadline())
        roundTripCount += 1
        // An OUTS frame holds its first point, its count and at most every point still due.
        let perPoint = 8 * output.count + (reportsBranches ? 4 + 8 * patternAllowance : 0)
        var results: [Evaluated] = []
        results.reserveCapacity(points.count)
        while results.count < points.count {
            // Each frame, whole, by one deadline; each brings at least one point, so the
            // reply takes at most one deadline per point, however slowly its bytes come.
            let frame = try process.receive(
                .outputs, atMost: 8 + (points.count - results.count) * perPoint, waitingFor: waitingFor,
                by: process.deadline())
            var reader = FrameReader(frame, what: "an OUTS frame")
            let first = try reader.uint32(), count = try reader.uint32()
            guard first == results.count, count >= 1, first + count <= points.count else {
                throw .protocolViolation("an OUTS frame for points \(first)..<\(first + count) where \(results.count)..<\(points.count) were due")
            }
            for _ in 0..<count {
                results.append(try Self.readPoint(&reader, outputShape: output.shape, branches: reportsBranches))
            }
            try reader.requireEnd()
        }
        return results
    }

    private func backward(
        _ inputs: [Tensor], output: Tensor, gradient: Tensor, through process: PythonProcess
    ) throws(ExternalError) -> [Tensor?] {
        var body = FrameWriter(capacity: 8 * (inputs.reduce(0) { $0 + $1.count } + 2 * output.count))
        for tensor in inputs { body.append(tensor.data) }
        body.append(output.data)
        body.append(gradient.data)
        let deadline = process.deadline()
        try process.send(.backward, body.bytes, waitingFor: "backward", by: deadline)
        roundTripCount += 1
        // A flag per input, and its gradient.
        let limit = inputs.reduce(0) { $0 + 1 + 8 * $1.count }
        let frame = try process.receive(.gradients, atMost: limit, waitingFor: "backward", by: deadline)
        var reader = FrameReader(frame, what: "the GRAD frame")
        var gradients: [Tensor?] = []
        for (k, input) in inputs.enumerated() {
            switch try reader.byte() {
            case 0: gradients.append(nil)
            case 1:
                let g = Tensor(shape: input.shape, data: try reader.doubles(input.count))
                gradients.append(differentiable[k] ? g : nil)
            case let flag:
                throw .protocolViolation("the GRAD frame marks input \(inputNames[k]) with \(flag), not 0 or 1")
            }
        }
        try reader.requireEnd()
        return gradients
    }

    private static func readPoint(
        _ reader: inout FrameReader, outputShape: [Int], branches: Bool
    ) throws(ExternalError) -> Evaluated {
        let output = Tensor(shape: outputShape, data: try reader.doubles(Tensor.elementCount(outputShape)))
        let pattern = branches ? try reader.int64s(try reader.uint32()) : []
        return Evaluated(output: output, branches: pattern)
    }
}

/// One point's answer from Python.
struct Evaluated {
    var output: Tensor
    var branches: [Int]
}
