#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation

/// Writing to the run's standard output and error without a signal or a trap.
///
/// `FileHandle.write(_:)` traps when the write fails (a closed stream, a full
/// disk, a reader that went away), and with SIGPIPE's default action a closed
/// pipe kills the process. `ignoreBrokenPipes()` turns the signal into an
/// EPIPE error; these writes then report failures instead of trapping.
public enum StandardStreams {
    /// Makes a write to a pipe nobody reads fail with EPIPE instead of
    /// killing the run with SIGPIPE. Set once, first thing in `main`; child
    /// processes that need the default action get it back when they start.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// C's `stdout`, the buffer `print` fills; the pointer is set before `main` and never changes.
    nonisolated(unsafe) private static let cOutput: UnsafeMutablePointer<FILE> = stdout

    /// Writes `text` to standard error. A failure is dropped: standard error is
    /// where failures are reported, so there is nowhere left to say it.
    public static func error(_ text: String) {
        _ = write(Data(text.utf8), to: STDERR_FILENO)
    }

    /// Writes `data` to standard output through C's `stdout` buffer (the one
    /// `print` fills, so the order is kept). A failure shows in `outputFailure()`.
    public static func output(_ data: Data) {
        data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            _ = fwrite(base, 1, bytes.count, cOutput)
        }
    }

    /// How writing standard output went, checked once at the end of the run
    /// after flushing what `print` buffered.
    public enum OutputOutcome: Equatable, Sendable {
        /// Everything was written.
        case written
        /// The reader closed the pipe (`chainrule ops | head -1`): it had what it wanted.
        case readerGone
        /// A write failed for another reason (a full disk, a closed descriptor), with the system's words.
        case failed(String)
    }

    /// Flushes standard output and says whether every write reached it.
    public static func outputOutcome() -> OutputOutcome {
        errno = 0
        let flushFailed = fflush(cOutput) != 0
        let flushErrno = errno
        guard flushFailed || ferror(cOutput) != 0 else { return .written }
        if readerGone(STDOUT_FILENO) || flushErrno == EPIPE { return .readerGone }
        return .failed(flushFailed && flushErrno != 0 ? String(cString: strerror(flushErrno)).lowercased() : "a write failed")
    }

    /// Whether `descriptor` is a pipe or socket whose reading end is closed
    /// (poll reports an error condition on the writing end).
    private static func readerGone(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        return entry.revents & Int16(POLLERR | POLLHUP) != 0
    }

    /// Writes all of `data` to `descriptor`, retrying after a signal;
    /// false when the system refuses.
    private static func write(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
    }
}
