import ChainruleCore
import Foundation
import Synchronization

/// Where Graphviz's layout runs. `dot` recurses deeply on some graphs (one
/// input feeding hundreds of ops overflowed the 8 MiB main stack at 300
/// ops) and can run for minutes; a layout call cannot be interrupted once it
/// runs inside the library. So it runs on a thread with a big stack, and for
/// the command-line tool in a child process that can be killed.
public enum LayoutRunner: Sendable, Equatable {
    /// In this process, on a thread with a `BigStackThread.stackSize` stack.
    /// The caller waits at most the timeout; a layout that passes it is
    /// abandoned (it keeps its thread, and the Graphviz lock, until `dot`
    /// returns), so later layouts in this process may time out too. A crash
    /// inside Graphviz still ends the process. The default for library callers
    /// and tests, whose executable cannot serve as a worker.
    case thread
    /// In a child process started as `executable arguments…`, which reads the
    /// request on standard input and writes its answer on standard output, as
    /// `LayoutWorker.serve()` does (the CLI runs itself: `chainrule
    /// layout-worker`). Killed with SIGKILL at the timeout and always reaped;
    /// a crash becomes `FigureError.layoutCrashed`.
    case process(executable: String, arguments: [String])
    /// `thread` for a small request (`LayoutRequest.isSmall`), `process` for
    /// any other: a worker costs a second process start (about 60 million
    /// instructions of dynamic linking, argument parsing and Graphviz set-up,
    /// measured with callgrind; more than the rest of a small figure), while
    /// the graphs that crashed `dot` or grew its memory without bound were all
    /// big or had long edges from a wide fan-out. The command line's default.
    case processUnlessSmall(executable: String, arguments: [String])

    /// Runs the layout of `request`, within `timeout` seconds.
    func run(_ request: LayoutRequest, timeout: Double, advice: [FigureAdvice]) throws(FigureError) -> LayoutResponse {
        switch self {
        case .thread:
            let outcome = Outcome<LayoutResponse>()
            guard BigStackThread.start({ outcome.finish(GraphvizLayout.compute(request)) }) else {
                throw .layoutFailed("no thread with a \(BigStackThread.stackSize >> 20) MiB stack could be started")
            }
            guard let response = outcome.wait(seconds: timeout) else {
                throw .layoutTimedOut(seconds: timeout, boxes: request.nodes.count, advice: advice + [.longerTimeout])
            }
            return response
        case .process(let executable, let arguments):
            return try LayoutProcess.run(request, executable: executable, arguments: arguments, timeout: timeout, advice: advice)
        case .processUnlessSmall(let executable, let arguments):
            let runner: LayoutRunner = request.isSmall ? .thread : .process(executable: executable, arguments: arguments)
            return try runner.run(request, timeout: timeout, advice: advice)
        }
    }
}

/// How and for how long Graphviz may run (`--layout-timeout`).
public struct LayoutLimits: Sendable, Equatable {
    public var runner: LayoutRunner
    /// Seconds before a layout is given up. Default 30: the biggest figures
    /// `maxBoxes` lets through (a 2,400-box chain) lay out in about 2 s on a
    /// two-core machine (release build), so 30 s leaves room for a machine
    /// many times slower, while a graph that would take `dot` minutes is
    /// refused in half of one.
    public var timeout: Double
    public var plugins: GraphvizPlugins

    public static let defaultTimeout: Double = 30

    public init(runner: LayoutRunner = .thread, timeout: Double = LayoutLimits.defaultTimeout, plugins: GraphvizPlugins = .automatic) {
        self.runner = runner
        self.timeout = timeout
        self.plugins = plugins
    }

    /// Why `seconds` is not a usable timeout (above 0, at most a day), or nil.
    public static func timeoutProblem(_ seconds: Double) -> String? {
        seconds > 0 && seconds <= 86_400 ? nil : "the layout timeout must be above 0 and at most 86400 seconds, got \(formatNumber(seconds))"
    }
}

/// A value handed from one thread to another, waited for with a deadline.
final class Outcome<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func finish(_ result: Value) {
        value.withLock { $0 = result }
        done.signal()
    }

    /// The value, or nil if it did not come within `seconds` (nil: forever).
    func wait(seconds: Double?) -> Value? {
        if let seconds {
            guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        } else {
            done.wait()
        }
        return value.withLock { $0 }
    }
}

/// Threads with a stack big enough for `dot`'s recursion.
enum BigStackThread {
    /// 1 GiB of address space, committed only as the recursion touches it
    /// (the 800-op star chain that overflowed 8 MiB fits).
    static let stackSize = 1 << 30

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread; false if none could be made.
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        if status != 0 { Unmanaged<Body>.fromOpaque(context).release() }
        return status == 0
    }
}

/// The worker side of `LayoutRunner.process`: what `chainrule layout-worker` runs.
public enum LayoutWorker {
    /// The address space a worker may use: 4 GiB. A figure within `maxBoxes`
    /// lays out in under 100 MB; a graph of long edges grew 100 MB a second
    /// (2.1 GB in 20 s), and fails here instead of taking the machine's memory.
    public static let addressSpaceLimit = 4 << 30

    /// Reads a layout request on standard input, lays it out on a big-stack
    /// thread and writes the answer on standard output. Returns the exit
    /// status: 0, or 2 for a request it cannot read. Exits on its own if its
    /// parent goes away; its memory is capped at `addressSpaceLimit`.
    public static func serve() -> Int32 {
        exitWhenOrphaned()
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur > rlim_t(addressSpaceLimit) {
            limit.rlim_cur = rlim_t(addressSpaceLimit)
            setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let request = try? JSONDecoder().decode(LayoutRequest.self, from: input) else {
            StandardStreams.error("layout-worker: standard input is not a layout request\n")
            return 2
        }
        let outcome = Outcome<LayoutResponse>()
        guard BigStackThread.start({ outcome.finish(GraphvizLayout.compute(request)) }),
              let response = outcome.wait(seconds: nil), let output = try? JSONEncoder().encode(response) else {
            StandardStreams.error("layout-worker: no layout thread could be started\n")
            return 2
        }
        StandardStreams.output(output)
        return 0
    }

    /// A watch that ends this process when its parent dies (reparented: the
    /// parent id changes), so a killed `chainrule` leaves no worker behind.
    private static func exitWhenOrphaned() {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { usleep(100_000) }
            _exit(3)
        }
    }
}
