import ChainruleCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `python3 FILE` child and the two pipes chainrule talks to it over.
///
/// The child gets its requests on fd 3 and writes its replies to fd 4; its standard
/// output and error both go to chainrule's standard error (so a `print` in the layer
/// can neither corrupt the protocol nor `--json`), its standard input is `/dev/null`.
/// It runs in a process group of its own, so a Ctrl-C reaches chainrule, which stops it; it is
/// started and reaped through `Temporaries`, so the run's signal cleanup kills it (and never a
/// reused pid).
/// A call (a request and its whole reply) takes at most `deadline` seconds, however the
/// pipe trickles, and a reply may be no longer than its request allows; the child is always reaped (`stop`), and the module exits by itself when chainrule is gone.
/// Not thread-safe: `ExternalOperation` serialises its use.
final class PythonProcess {
    let pid: pid_t
    /// The longest one call (request and reply) may take, in seconds.
    let deadline: Double
    private var requests: Int32
    private var replies: Int32
    private(set) var status: ChildStatus?

    /// Starts `interpreter script` with `modulePath` first on `PYTHONPATH`, tracked by `Temporaries`.
    init(interpreter: String, script: String, modulePath: String, deadline: Double) throws(ExternalError) {
        Self.ignoreBrokenPipes
        self.deadline = deadline
        let (requestRead, requestWrite) = try Self.makePipe()
        let (replyRead, replyWrite): (Int32, Int32)
        do {
            (replyRead, replyWrite) = try Self.makePipe()
        } catch {
            close(requestRead)
            close(requestWrite)
            throw error
        }
        defer {
            close(requestRead)
            close(replyWrite)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = [modulePath, environment["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: ":")
        environment[BridgeProtocol.fdsVariable] = "\(BridgeProtocol.childRequestFD),\(BridgeProtocol.childReplyFD)"
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        var spawnError: Int32 = 0
        let spawned = Temporaries.start {
            switch Self.spawn(
                [interpreter, script], environment: environment,
                dup: [(requestRead, BridgeProtocol.childRequestFD), (replyWrite, BridgeProtocol.childReplyFD), (STDERR_FILENO, STDOUT_FILENO)])
            {
            case .success(let pid): return pid
            case .failure(let error):
                spawnError = error.code
                return nil
            }
        }
        guard let spawned else {
            close(requestWrite)
            close(replyRead)
            let reason = spawnError == ENOENT ? "no such program (looked on PATH)" : String(cString: strerror(spawnError))
            throw .cannotStart(interpreter: interpreter, reason: reason)
        }
        self.pid = spawned
        self.requests = requestWrite
        self.replies = replyRead
    }

    deinit { stop() }

    // MARK: Frames

    /// The deadline of one call made now: `seconds` (default: the process's) for the whole
    /// of it, request and reply, however the pipe trickles.
    func deadline(_ seconds: Double? = nil) -> Deadline { Deadline(seconds: seconds ?? deadline) }

    /// Sends one frame, by `deadline`.
    func send(_ tag: BridgeProtocol.Tag, _ body: [UInt8], waitingFor: String, by deadline: Deadline) throws(ExternalError) {
        try writeAll(FrameWriter.frame(tag, body), waitingFor: waitingFor, by: deadline)
    }

    /// Receives one `expected` frame of at most `limit` body bytes (what the reply can
    /// hold), by `deadline`; an `ERR ` frame (at most `BridgeProtocol.maximumErrorFrame`)
    /// is thrown as the error it reports. A header of another tag or a longer body is a
    /// protocol error before anything is allocated; the body is read as it arrives.
    func receive(
        _ expected: BridgeProtocol.Tag, atMost limit: Int, waitingFor: String, by deadline: Deadline
    ) throws(ExternalError) -> [UInt8] {
        let header = try readExactly(8, waitingFor: waitingFor, by: deadline)
        let tagText = String(decoding: header[0..<4], as: UTF8.self)
        guard let tag = BridgeProtocol.Tag(rawValue: tagText) else {
            throw .protocolViolation("Python sent \(Self.quoted(header[0..<4])), not a chainrule frame (is its chainrule module the one this chainrule ships, protocol \(BridgeProtocol.version)?)")
        }
        guard tag == expected || tag == .error else {
            throw .protocolViolation("Python sent \(tag.rawValue) where \(expected.rawValue) was due")
        }
        var length = FrameReader(Array(header[4..<8]), what: "the frame header")
        let count = try length.uint32()
        let bound = tag == .error ? BridgeProtocol.maximumErrorFrame : limit
        guard count <= bound else {
            throw .protocolViolation("a \(tag.rawValue) frame of \(count) bytes is longer than its reply can be (at most \(bound))")
        }
        let body = try readExactly(count, waitingFor: waitingFor, by: deadline)
        if tag == .error { throw Self.failure(body) }
        return body
    }

    private static func failure(_ body: [UInt8]) -> ExternalError {
        guard let report = try? JSONDecoder().decode(BridgeProtocol.Failure.self, from: Data(body)) else {
            return .protocolViolation("Python reported an error chainrule cannot read: \(quoted(body.prefix(200)))")
        }
        switch report.kind {
        case "exception": return .python(kind: .exception, message: report.message, traceback: report.traceback)
        case "shape": return .python(kind: .shape, message: report.message, traceback: report.traceback)
        case "value": return .python(kind: .value, message: report.message, traceback: report.traceback)
        default: return .protocolViolation(report.message)
        }
    }

    private static func quoted(_ bytes: some Collection<UInt8>) -> String {
        "\"" + bytes.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined() + "\""
    }

    // MARK: Bytes

    private func writeAll(_ bytes: [UInt8], waitingFor: String, by deadline: Deadline) throws(ExternalError) {
        var sent = 0
        while sent < bytes.count {
            try wait(for: Int16(POLLOUT), on: requests, waitingFor: waitingFor, by: deadline)
            let n = bytes.withUnsafeBytes { write(requests, $0.baseAddress! + sent, bytes.count - sent) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ended(waitingFor: waitingFor)
            }
            sent += n
        }
    }

    /// `count` bytes, read as they arrive (in pieces of at most 64 KiB, so a header that
    /// promises more than is sent costs no more memory than what was sent).
    private func readExactly(_ count: Int, waitingFor: String, by deadline: Deadline) throws(ExternalError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Swift.min(count, Self.readPiece))
        var piece = [UInt8](repeating: 0, count: Swift.min(count, Self.readPiece))
        while bytes.count < count {
            try wait(for: Int16(POLLIN), on: replies, waitingFor: waitingFor, by: deadline)
            let wanted = Swift.min(piece.count, count - bytes.count)
            let n = piece.withUnsafeMutableBytes { read(replies, $0.baseAddress!, wanted) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ended(waitingFor: waitingFor)
            }
            if n == 0 { throw ended(waitingFor: waitingFor) }
            bytes.append(contentsOf: piece[0..<n])
        }
        return bytes
    }

    private static let readPiece = 1 << 16

    /// Waits until `fd` is ready for `events` (or its other end closed), until `deadline`
    /// by the clock: a `poll` that returns early (a signal) waits again for the rest.
    private func wait(for events: Int16, on fd: Int32, waitingFor: String, by deadline: Deadline) throws(ExternalError) {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline.end else { break }
            let milliseconds = Int32(clamping: (deadline.end - now + 999_999) / 1_000_000)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR && errno != EAGAIN { break }
        }
        stop(force: true)
        throw .timedOut(seconds: deadline.seconds, waitingFor: waitingFor)
    }

    /// The pipe closed: the child is gone (or going); reap it and say how it ended.
    private func ended(waitingFor: String) -> ExternalError {
        stop()
        return .exitedMidCheck(status: status ?? .signalled(SIGKILL), waitingFor: waitingFor)
    }

    // MARK: Ending

    /// Closes the pipes, gives the child a second to exit, then kills it; always reaps it.
    /// `force` kills at once (a child that missed its deadline). Safe to call twice.
    func stop(force: Bool = false) {
        if requests >= 0 { close(requests); requests = -1 }
        if replies >= 0 { close(replies); replies = -1 }
        guard status == nil else { return }
        if !force {
            for _ in 0..<100 where !exited() { usleep(10_000) }
        }
        // The child leads its own process group, and what the layer started (a forked worker,
        // a pool) is in it: killed with it, before the child is reaped, so its pid still names that group.
        kill(-pid, SIGKILL)
        _ = reap(blocking: true)
    }

    /// Whether the child has ended, without reaping it (a zombie's pid is not reused).
    private func exited() -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo == SIGCHLD
    }

    /// Whether the child has been reaped (its status recorded), by `Temporaries.reap`: under
    /// the registry's lock, so the signal cleanup never kills its pid once it may be reused.
    private func reap(blocking: Bool) -> Bool {
        guard let word = Temporaries.reap(pid, blocking: blocking) else { return false }
        status = ChildStatus(waitStatus: word)
        return true
    }

    /// Tells Python the check is over (`END `: `serve` returns), then stops and reaps it.
    func finish() throws(ExternalError) {
        try send(.end, [], waitingFor: "the end of the check", by: deadline())
        stop()
    }

    // MARK: Spawning

    /// A write to a pipe whose reader died must fail with EPIPE, not kill chainrule
    /// with SIGPIPE: set once for the whole process, as servers do.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// A pipe whose ends close on exec (the child gets only the ends it is given). Pipes are
    /// made and children spawned under one lock, so no child of ours inherits another's pipe
    /// in the moment before `FD_CLOEXEC` is set (`pipe2` is not in Swift's Glibc module).
    private static func makePipe() throws(ExternalError) -> (read: Int32, write: Int32) {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw .cannotStart(interpreter: "python", reason: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    private static let spawnLock = NSLock()

    /// `posix_spawnp` with `dup` applied as `dup2(from, to)`, standard input from `/dev/null`,
    /// in a new process group, with SIGPIPE's default action. The sources are first moved above the targets so no
    /// `dup2` overwrites one that is still to be copied.
    private static func spawn(
        _ arguments: [String], environment: [String: String], dup: [(from: Int32, to: Int32)]
    ) -> Result<pid_t, Errno> {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        var moved: [Int32] = []
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
            for fd in moved { close(fd) }
        }
        for (from, _) in dup {
            let high = fcntl(from, F_DUPFD_CLOEXEC, 10)
            guard high >= 0 else { return .failure(Errno(errno)) }
            moved.append(high)
        }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        for (high, (_, to)) in zip(moved, dup) { posix_spawn_file_actions_adddup2(&actions, high, to) }
        // chainrule ignores SIGPIPE; the child gets it back (an ignored signal stays ignored across exec).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        spawnLock.lock()
        defer { spawnLock.unlock() }
        let code = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        return code == 0 ? .success(pid) : .failure(Errno(code))
    }

    /// When a call must be over: `seconds` after it was made.
    struct Deadline {
        let seconds: Double
        /// `DispatchTime`'s uptime, in nanoseconds.
        let end: UInt64

        init(seconds: Double) {
            self.seconds = seconds
            end = DispatchTime.now().uptimeNanoseconds &+ UInt64(Swift.min(seconds, 1e9) * 1e9)
        }
    }

    struct Errno: Error {
        var code: Int32
        init(_ code: Int32) { self.code = code }
    }
}
