import Foundation
import Synchronization

/// The run's temporary folders and child processes, in one process-wide,
/// thread-safe registry, so that an interrupted run leaves nothing behind:
/// on SIGINT, SIGTERM or SIGHUP (after `removeOnTerminationSignals()`) every
/// tracked child is killed, every tracked folder removed, and the process
/// exits 128 + the signal's number (130, 143, 129).
///
/// Temporaries are hidden folders (`.chainrule-PID-N`, short whatever the
/// target's name, so always under NAME_MAX) made beside the target; files are
/// written inside them and renamed into place. A folder is made, and a file
/// renamed out of it, under the registry's lock, and the signal handler holds
/// that lock while it removes: so no temporary can appear after the handler
/// looked, and removing a folder also removes the file a writer still has
/// open in it (a later `open` inside it fails, it cannot recreate it).
public enum Temporaries {
    private struct State {
        var folders: Set<String> = []
        var children: Set<pid_t> = []
        var made = 0
    }

    private static let state = Mutex(State())

    // MARK: Child processes

    /// Tracks a child process (a layout worker, a bridge): an interrupted run
    /// kills it (SIGKILL) before exiting. Call `finished(process:)` once it is reaped.
    public static func track(process pid: pid_t) {
        state.withLock { _ = $0.children.insert(pid) }
    }

    /// Forgets a child tracked by `track(process:)`.
    public static func finished(process pid: pid_t) {
        state.withLock { _ = $0.children.remove(pid) }
    }

    /// Starts `process` and tracks it in one step, under the registry's lock,
    /// so an interrupt cannot come between the start and the tracking.
    public static func run(_ process: Process) throws {
        try state.withLock { state in
            try process.run()
            state.children.insert(process.processIdentifier)
        }
    }

    /// Forgets a child started by `run(_:)` (after `waitUntilExit()`).
    public static func finished(_ process: Process) {
        finished(process: process.processIdentifier)
    }

    /// Starts a child with `spawn` (which returns its pid, or nil when it could
    /// not start) under the registry's lock, and tracks it.
    package static func start(_ spawn: () -> pid_t?) -> pid_t? {
        state.withLock { state in
            let pid = spawn()
            if let pid { state.children.insert(pid) }
            return pid
        }
    }

    /// `waitpid` under the registry's lock — so a cleanup never kills a pid
    /// that was reaped (and perhaps reused) — forgetting the child once it is
    /// reaped. Its wait status, or nil while it still runs (`blocking: false`).
    package static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        state.withLock { state -> Int32? in
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
                if result < 0 && errno == EINTR { continue }
                guard result == pid || result < 0 else { return nil }
                state.children.remove(pid)
                return status
            }
        }
    }

    /// The tracked children running now.
    public static var children: Set<pid_t> { state.withLock { $0.children } }

    // MARK: Folders

    /// Makes a new, tracked, hidden folder inside `parent`. Fails with the
    /// system's reason (permission denied, no space, read-only file system).
    package static func makeFolder(in parent: String) throws(POSIXError) -> String {
        try state.withLock { (state) throws(POSIXError) -> String in
            while true {
                state.made += 1
                let folder = parent + "/.chainrule-\(getpid())-\(state.made)"
                if mkdir(folder, 0o700) == 0 {
                    state.folders.insert(folder)
                    return folder
                }
                guard errno == EEXIST else { throw POSIXError.current }
            }
        }
    }

    /// Renames `from` to `to` (atomically replacing a file there). A tracked
    /// folder that is renamed is no longer temporary: it is forgotten.
    ///
    /// A `to` that is (or links to) a character device or a named pipe is not
    /// replaced — renaming over `/dev/full` or `/dev/stdout` would put a plain
    /// file in its place — but written into, once `from` is complete:
    /// `/dev/null` discards, `/dev/full` fails with "no space left on device",
    /// a pipe with no reader fails at once ("no such device or address")
    /// instead of waiting. A block device or a socket is refused ("operation
    /// not permitted"), as is any folder `from` onto such a target ("not a directory").
    package static func rename(_ from: String, to: String) throws(POSIXError) {
        var target = stat()
        if stat(to, &target) == 0, ![S_IFREG, S_IFDIR].contains(target.st_mode & S_IFMT) {
            try copy(from, into: to, kind: target.st_mode & S_IFMT)
            return
        }
        try state.withLock { (state) throws(POSIXError) in
            guard Foundation.rename(from, to) == 0 else { throw POSIXError.current }
            state.folders.remove(from)
        }
    }

    /// Writes the bytes of the file `from` into the device or pipe `to`, then
    /// removes `from`; outside the registry's lock, so an interrupt is handled
    /// while a slow reader holds the write.
    private static func copy(_ from: String, into to: String, kind: mode_t) throws(POSIXError) {
        var source = stat()
        guard stat(from, &source) == 0 else { throw POSIXError.current }
        guard source.st_mode & S_IFMT == S_IFREG else { throw POSIXError(.ENOTDIR) }
        guard kind == S_IFCHR || kind == S_IFIFO else { throw POSIXError(.EPERM) }
        let input = open(from, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw POSIXError.current }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CLOEXEC | (kind == S_IFIFO ? O_NONBLOCK : 0))
        guard output >= 0 else { throw POSIXError.current }
        if kind == S_IFIFO { _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) & ~O_NONBLOCK) }
        var failure: POSIXError?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        copying: while failure == nil {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { failure = .current }
            if count <= 0 { break }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    failure = written < 0 ? .current : POSIXError(.EIO)
                    break copying
                }
                offset += written
            }
        }
        if close(output) != 0 && failure == nil && errno != EINTR { failure = .current }
        if let failure { throw failure }
        unlink(from)
    }

    /// Removes a tracked folder and whatever is still in it, and forgets it.
    package static func remove(folder: String) {
        state.withLock { state in
            try? FileManager.default.removeItem(atPath: folder)
            state.folders.remove(folder)
        }
    }

    // MARK: Termination

    /// Kills the tracked children, removes the tracked folders and exits with
    /// `status`, without running exit handlers (other threads may still be
    /// inside Graphviz or Cairo). Holds the lock to the end, so nothing new
    /// is made meanwhile.
    public static func exitRemovingAll(status: Int32) -> Never {
        state.withLock { state -> Never in
            // A child that leads its own process group (the Python bridge) takes what it started with it;
            // -pid names no group for the others (their pid, still unreaped, cannot be another's group).
            for pid in state.children {
                kill(pid, SIGKILL)
                kill(-pid, SIGKILL)
            }
            for folder in state.folders { try? FileManager.default.removeItem(atPath: folder) }
            _exit(status)
        }
    }

    /// Makes SIGINT, SIGTERM and SIGHUP end the run cleanly: `exitRemovingAll`
    /// with 128 + the signal's number. The signal handler only writes the
    /// signal's number to a pipe (async-signal-safe); a thread of its own reads
    /// it and does the work, so it may take locks, and it runs even while the
    /// main thread is inside a long C call. A handler, unlike an ignored
    /// signal, is reset to the default in programs this one executes.
    /// Call once, first thing in `main`.
    public static func removeOnTerminationSignals() {
        // The pipe is made here, before any handler can use it; without one, signals keep their default.
        let reader = SignalPipe.readEnd
        guard reader >= 0 else { return }
        Thread.detachNewThread {
            var signal: UInt8 = 0
            while true {
                let count = read(reader, &signal, 1)
                if count == 1 { exitRemovingAll(status: 128 + Int32(signal)) }
                if count < 0 && errno == EINTR { continue }
                for signal in terminationSignals { Foundation.signal(signal, SIG_DFL) }  // never caught and ignored
                return
            }
        }
        for signal in terminationSignals {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = forwardSignal
            #else
            action.__sigaction_u.__sa_handler = forwardSignal
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        // A blocked mask is inherited across exec (from a parent's worker
        // thread, say): unblocked here, so the handler can run.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in terminationSignals { sigaddset(&unblocked, signal) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// The signals that end a run: Ctrl-C, `kill`, a closed terminal.
    public static let terminationSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
}

/// The self-pipe from the signal handler to the thread that cleans up.
private enum SignalPipe {
    static let ends: (read: Int32, write: Int32) = {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (-1, -1) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }()
    static var readEnd: Int32 { ends.read }
    static var writeEnd: Int32 { ends.write }
}

/// The signal handler: async-signal-safe, it only writes one byte and keeps `errno`.
private func forwardSignal(_ signal: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(SignalPipe.writeEnd, &byte, 1)
    errno = saved
}

extension POSIXError {
    /// The error `errno` names now.
    public static var current: POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }

    /// The system's wording, lower-cased as our messages are: "permission denied".
    public var reason: String {
        let text = String(cString: strerror(code.rawValue))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
