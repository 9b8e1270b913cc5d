import Foundation

/// Why a layer behind the pipe could not be checked. None of these is a verdict on
/// its backward rule: the CLI exits 2 with the message, never 0 or 1.
public enum ExternalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The Python file is missing, a folder, or unreadable.
    case badFile(path: String, reason: String)
    /// The interpreter could not be started (not on PATH, not executable).
    case cannotStart(interpreter: String, reason: String)
    /// Python ended before `chainrule.serve` answered: the file raised (Python printed
    /// the traceback), or it finished without calling `serve`.
    case exitedBeforeServe(status: ChildStatus)
    /// The user's function raised (with its traceback), returned a wrong shape, or
    /// returned something that is not an array of numbers.
    case python(kind: PythonFailure, message: String, traceback: String)
    /// The bytes on the pipe are not the protocol (another module version, or the
    /// file wrote into the pipe itself).
    case protocolViolation(String)
    /// No answer within the deadline: one call of the user's function (or the start) took longer.
    case timedOut(seconds: Double, waitingFor: String)
    /// Python exited while chainrule waited for an answer.
    case exitedMidCheck(status: ChildStatus, waitingFor: String)

    /// What went wrong on the Python side, as the module reports it.
    public enum PythonFailure: String, Sendable, Equatable {
        /// The function raised an exception.
        case exception
        /// It returned an array of the wrong shape.
        case shape
        /// It returned something that is not an array of real numbers (or `inputs` was malformed).
        case value
    }

    public var description: String {
        switch self {
        case .badFile(let path, let reason):
            return "cannot run '\(path)': \(reason)"
        case .cannotStart(let interpreter, let reason):
            return "cannot start '\(interpreter)': \(reason); chainrule runs Python layers with Python 3 and NumPy (Debian: apt-get install python3-numpy; else pip install numpy)"
        case .exitedBeforeServe(let status):
            if status == .exited(0) {
                return "the file finished without calling chainrule.serve(forward, backward, inputs=...) or chainrule.serve_torch(Function, inputs=...)"
            }
            return "Python \(status) before chainrule.serve answered (its error is above)"
        case .python(let kind, let message, let traceback):
            let label = switch kind {
            case .exception: "a Python error"
            case .shape: "a wrong shape"
            case .value: "a wrong value"
            }
            return "\(label): \(message)" + (traceback.isEmpty ? "" : "\n" + traceback.trimmingCharacters(in: .newlines))
        case .protocolViolation(let detail):
            return "a protocol error on the pipe to Python: \(detail)"
        case .timedOut(let seconds, let waitingFor):
            return "Python did not answer within \(formatDeadline(seconds)) (the deadline for one call) while chainrule waited for \(waitingFor); it was stopped"
        case .exitedMidCheck(let status, let waitingFor):
            return "Python \(status) in the middle of the check, while chainrule waited for \(waitingFor)"
        }
    }
}

/// How a child process ended.
public enum ChildStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// From a `waitpid` status word.
    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signalled(status & 0x7f)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "was killed by signal \(signal)\(signalName(signal).map { " (\($0))" } ?? "")"
        }
    }
}

private func signalName(_ signal: Int32) -> String? {
    switch signal {
    case SIGKILL: "SIGKILL"
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    case SIGSEGV: "SIGSEGV"
    case SIGABRT: "SIGABRT"
    case SIGBUS: "SIGBUS"
    default: nil
    }
}

/// `2 s`, `0.5 s`.
func formatDeadline(_ seconds: Double) -> String {
    String(format: "%g s", seconds)
}
