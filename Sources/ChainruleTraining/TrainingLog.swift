import Foundation

/// `--log run.csv`: the header `epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy`
/// and one row per iteration; the `val_` columns are filled on the last
/// iteration of each epoch when there is a validation split, and an
/// accuracy is empty without a classification loss. Numbers are written in
/// Swift's shortest form that reads back as the same Double.
public final class TrainingLog {
    public static let header = "epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy"
    private let handle: FileHandle
    private let path: String
    /// The epoch's last row waits for the validation numbers.
    private var pending: IterationRecord?

    /// Creates (or empties) the file and writes the header. With `appending`
    /// (a resumed run), keeps the rows already there.
    public init(path: String, appending: Bool = false) throws(TrainingError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if !(appending && exists) {
            guard FileManager.default.createFile(atPath: path, contents: Data((Self.header + "\n").utf8)) else {
                throw TrainingError("cannot write the log \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainingError("cannot write the log \(path): \(String(cString: strerror(errno)))")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    public func record(_ iteration: IterationRecord) {
        if let pending { write(pending, validation: nil) }
        pending = iteration
    }

    /// Writes the epoch's last row, with its validation numbers.
    public func finish(_ epoch: EpochRecord) {
        guard let pending else { return }
        write(pending, validation: epoch.validationLoss.map { ($0, epoch.validationAccuracy) })
        self.pending = nil
    }

    private func write(_ row: IterationRecord, validation: (loss: Double, accuracy: Double?)?) {
        func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let fields: [String] = ["\(row.epoch)", "\(row.iteration)", text(row.learningRate), text(row.loss), text(row.accuracy),
                                text(validation?.loss), text(validation?.accuracy ?? nil)]
        handle.write(Data((fields.joined(separator: ",") + "\n").utf8))
    }
}
