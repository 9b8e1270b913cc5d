import Foundation

/// `--log run.csv`: the header `epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy`
/// and one row per iteration; the `val_` columns are filled on the last
/// iteration of each epoch when there is a validation split, and an
/// accuracy is empty without a classification loss. Numbers are written in
/// Swift's shortest form that reads back as the same Double.
public final class TrainingLog {
    public static let header = "epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy"
    private let descriptor: Int32
    private let path: String
    /// The epoch's last row waits for the validation numbers.
    private var pending: IterationRecord?
    /// The first write that failed (a full disk, a file-size limit): reported by `finish`.
    private var failure: String?

    /// Creates (or empties) the file and writes the header. With `appending`
    /// (a resumed run), keeps the rows already there. The file is written in
    /// place with checked write(2) calls, so a log that is a device or a pipe
    /// stays one, and a failed write is an error, not a trap.
    public init(path: String, appending: Bool = false) throws(TrainingError) {
        self.path = path
        let keep = appending && FileManager.default.fileExists(atPath: path)
        descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (keep ? O_APPEND : O_TRUNC), 0o666)
        guard descriptor >= 0 else { throw TrainingError("cannot write the log \(path): \(String(cString: strerror(errno)))") }
        if !keep {
            put(Self.header + "\n")
            if let failure { throw TrainingError(failure) }
        }
    }

    deinit { close(descriptor) }

    public func record(_ iteration: IterationRecord) {
        if let pending { write(pending, validation: nil) }
        pending = iteration
    }

    /// Writes the epoch's last row, with its validation numbers; throws if any
    /// row of the log could not be written.
    public func finish(_ epoch: EpochRecord) throws(TrainingError) {
        if let pending {
            write(pending, validation: epoch.validationLoss.map { ($0, epoch.validationAccuracy) })
            self.pending = nil
        }
        if let failure { throw TrainingError(failure) }
    }

    private func write(_ row: IterationRecord, validation: (loss: Double, accuracy: Double?)?) {
        func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let fields: [String] = ["\(row.epoch)", "\(row.iteration)", text(row.learningRate), text(row.loss), text(row.accuracy),
                                text(validation?.loss), text(validation?.accuracy ?? nil)]
        put(fields.joined(separator: ",") + "\n")
    }

    /// Writes `text` whole, or keeps the reason it could not.
    private func put(_ text: String) {
        guard failure == nil else { return }
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write the log \(path): \(String(cString: strerror(errno)))"
                    return
                }
                if written == 0 {
                    failure = "cannot write the log \(path): nothing was written"
                    return
                }
                offset += written
            }
        }
    }
}
