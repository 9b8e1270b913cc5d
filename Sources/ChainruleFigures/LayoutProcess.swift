import ChainruleCore
import Foundation

/// A layout in a child process: spawned, fed its request, read, killed at the
/// deadline and always reaped.
enum LayoutProcess {
    /// The most a worker may write before it is taken for broken.
    static let maxAnswerBytes = 256 << 20

    static func run(_ request: LayoutRequest, executable: String, arguments: [String], timeout: Double, advice: [FigureAdvice]) throws(FigureError) -> LayoutResponse {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let input: Data
        do { input = try JSONEncoder().encode(request) } catch { throw .layoutFailed("the layout request could not be encoded: \(error)") }
        let timedOut = FigureError.layoutTimedOut(seconds: timeout, boxes: request.nodes.count, advice: advice + [.longerTimeout])

        // A socket for the request and the answer (sending on it never raises
        // SIGPIPE in this process), another for the worker's error messages;
        // close-on-exec, so no other child inherits them.
        var channel: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &channel) == 0 else {
            throw .layoutFailed("no socket for the layout worker: \(String(cString: strerror(errno)))")
        }
        defer { close(channel[0]) }
        guard socketpair(AF_UNIX, kind, 0, &errors) == 0 else {
            close(channel[1])
            throw .layoutFailed("no socket for the layout worker: \(String(cString: strerror(errno)))")
        }
        defer { close(errors[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, channel[1], 0)
        posix_spawn_file_actions_adddup2(&actions, channel[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        // A crashing worker should not spend time printing a Swift backtrace.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        // Tracked by the run's registry of temporaries, so an interrupted run kills it.
        var spawned: Int32 = 0
        _ = Temporaries.start {
            spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
            return spawned == 0 ? pid : nil
        }
        close(channel[1])
        close(errors[1])
        guard spawned == 0 else {
            throw .layoutFailed("the layout worker '\(executable)' could not be started: \(String(cString: strerror(spawned)))")
        }

        let exchanged = exchange(input, socket: channel[0], errors: errors[0], deadline: deadline)
        let status = exchanged.end == .closed ? reap(pid, deadline: deadline) : nil
        guard let status else {
            kill(pid, SIGKILL)
            _ = reap(pid, deadline: nil)
            switch exchanged.end {
            case .tooLong: throw .layoutFailed("the layout worker wrote more than \(maxAnswerBytes >> 20) MiB")
            case .lost: throw .layoutFailed("waiting on the layout worker failed: \(String(cString: strerror(errno)))")
            case .closed, .deadline: throw timedOut
            }
        }
        let signal = status & 0x7F
        if signal != 0 { throw .layoutCrashed(signal: signal, boxes: request.nodes.count, advice: advice) }
        let code = (status >> 8) & 0xFF
        guard code == 0 else {
            let message = String(decoding: exchanged.errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .layoutFailed("the layout worker exited with status \(code)" + (message.isEmpty ? "" : ": \(message)"))
        }
        guard let response = try? JSONDecoder().decode(LayoutResponse.self, from: exchanged.output) else {
            throw .layoutFailed("the layout worker's answer could not be read")
        }
        return response
    }

    /// Waits for `pid` to end, until `deadline` (nil: however long SIGKILL
    /// takes); its wait status, or nil if it is still running at the deadline.
    private static func reap(_ pid: pid_t, deadline: Date?) -> Int32? {
        while true {
            if let status = Temporaries.reap(pid, blocking: deadline == nil) { return status }
            if let deadline, Date() >= deadline { return nil }
            usleep(1000)
        }
    }

    /// How an exchange with a worker ended.
    private enum End {
        /// The worker closed its output and its error stream.
        case closed
        /// The deadline passed first.
        case deadline
        /// The worker wrote more than `maxAnswerBytes`.
        case tooLong
        /// Waiting on the worker failed (`poll` refused).
        case lost
    }

    /// Sends `input` then reads the answer and the error text until the worker
    /// closes both, or until `deadline`.
    private static func exchange(_ input: Data, socket: Int32, errors: Int32, deadline: Date) -> (output: Data, errors: Data, end: End) {
        for fd in [socket, errors] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var output = Data(), errorText = Data()
        var sent = 0, socketOpen = true, errorsOpen = true
        if input.isEmpty { shutdown(socket, Int32(SHUT_WR)) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while socketOpen || errorsOpen {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return (output, errorText, .deadline) }
            guard output.count <= maxAnswerBytes else { return (output, errorText, .tooLong) }
            var fds: [pollfd] = []
            if socketOpen { fds.append(pollfd(fd: socket, events: Int16(POLLIN) | (sent < input.count ? Int16(POLLOUT) : 0), revents: 0)) }
            if errorsOpen { fds.append(pollfd(fd: errors, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000 + 1, 60_000)))
            if ready < 0 && errno != EINTR { return (output, errorText, .lost) }
            for entry in fds where entry.revents != 0 {
                if entry.fd == socket && entry.revents & Int16(POLLOUT) != 0 && sent < input.count {
                    let count = input.withUnsafeBytes { bytes in
                        send(socket, bytes.baseAddress! + sent, input.count - sent, Int32(MSG_NOSIGNAL))
                    }
                    if count > 0 { sent += count } else if count < 0 && errno != EAGAIN && errno != EINTR { sent = input.count }
                    if sent == input.count { shutdown(socket, Int32(SHUT_WR)) }
                }
                guard entry.revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 else { continue }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == socket { output.append(contentsOf: buffer[0..<count]) } else if errorText.count < 1 << 16 { errorText.append(contentsOf: buffer[0..<count]) }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    if entry.fd == socket { socketOpen = false } else { errorsOpen = false }
                }
            }
        }
        return (output, errorText, .closed)
    }
}
