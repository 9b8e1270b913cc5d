import Foundation

/// Why a training log could not be read: the file, the line (1 is the header) and what was wrong there.
public struct CSVLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 0 when the problem is the file as a whole (unreadable, empty).
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// A training log as a table of numbers: the CSV a training loop writes
/// (PyTorch users: `epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy`),
/// one header line naming the columns, then one row of numbers per line.
/// An empty cell is a value not logged on that row (a validation loss written
/// once an epoch) and reads as NaN; `nan` and `inf` are numbers.
public struct CSVLog: Sendable {
    public var file: String
    public var columns: [String]
    /// `rows[k][c]` is column `c` of data row `k`.
    public var rows: [[Double]]

    /// The most bytes read: a log of a million rows of ten columns fits.
    public static let maxBytes = 64 << 20

    /// Reads and parses `path`.
    public static func read(_ path: String) throws(CSVLogError) -> CSVLog {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw CSVLogError(file: path, line: 0, message: reason)
        }
        guard data.count <= maxBytes else {
            throw CSVLogError(file: path, line: 0, message: "is \(data.count) bytes, more than the \(maxBytes >> 20) MiB a training log may be")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CSVLogError(file: path, line: 0, message: "is not UTF-8 text") }
        return try parse(text, file: path)
    }

    /// Parses CSV text: fields separated by commas, optionally in double quotes,
    /// blank lines and lines starting with `#` skipped.
    public static func parse(_ text: String, file: String) throws(CSVLogError) -> CSVLog {
        var header: [String]?
        var rows: [[Double]] = []
        // "\r\n" is one Character in Swift, and a newline: Windows and Python's csv module end lines so.
        for (index, content) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = index + 1
            if content.allSatisfy(\.isWhitespace) || content.hasPrefix("#") { continue }
            let fields = content.split(separator: ",", omittingEmptySubsequences: false).map { field -> String in
                var f = field.trimmingCharacters(in: .whitespaces)
                if f.count >= 2, f.hasPrefix("\""), f.hasSuffix("\"") { f = String(f.dropFirst().dropLast()) }
                return f
            }
            guard let names = header else {
                if let empty = fields.firstIndex(where: \.isEmpty) {
                    throw CSVLogError(file: file, line: line, message: "column \(empty + 1) of the header has no name; the first line names the columns, as epoch,loss,val_loss")
                }
                var seen: Set<String> = []
                for name in fields where !seen.insert(name).inserted {
                    throw CSVLogError(file: file, line: line, message: "the header names the column '\(name)' twice")
                }
                if fields.allSatisfy({ Double($0) != nil }) {
                    throw CSVLogError(file: file, line: line, message: "the first line is numbers, not a header; start the file with the column names, as epoch,loss,val_loss")
                }
                header = fields
                continue
            }
            guard fields.count == names.count else {
                throw CSVLogError(file: file, line: line, message: "\(fields.count) fields, but the header names \(names.count) columns (\(names.joined(separator: ",")))")
            }
            var row: [Double] = []
            for (c, field) in fields.enumerated() {
                if field.isEmpty {
                    row.append(.nan)
                } else if let value = Double(field) {
                    row.append(value)
                } else {
                    let separator = [";", "\t", "|"].first { field.contains($0) || names[c].contains($0) }
                    let hint = separator.map { " (fields are separated by commas, not '\($0 == "\t" ? "\\t" : $0)')" } ?? ""
                    throw CSVLogError(file: file, line: line, message: "'\(field)' in column \(names[c]) is not a number\(hint)")
                }
            }
            rows.append(row)
        }
        guard let columns = header else { throw CSVLogError(file: file, line: 0, message: "is empty: a training log starts with a header line, as epoch,loss,val_loss") }
        guard !rows.isEmpty else { throw CSVLogError(file: file, line: 0, message: "has a header but no rows of numbers") }
        guard columns.count >= 2 || rows.count >= 2 else { throw CSVLogError(file: file, line: 0, message: "has a single value: nothing to draw a curve of") }
        return CSVLog(file: file, columns: columns, rows: rows)
    }

    /// The column curves are drawn against: the first named step, iteration,
    /// iter, global_step or batch whose values never decrease, else epoch, else
    /// none (the row number).
    public var xColumn: (index: Int?, name: String) {
        for name in ["step", "iteration", "iter", "global_step", "batch", "epoch"] {
            guard let c = columns.firstIndex(where: { $0.lowercased() == name }) else { continue }
            let values = rows.map { $0[c] }.filter { !$0.isNaN }
            if values.count == rows.count, zip(values, values.dropFirst()).allSatisfy({ $0 <= $1 }) { return (c, columns[c]) }
        }
        return (nil, "row")
    }

    /// The x axis's label.
    public var xLabel: String { xColumn.name }

    /// Validation and test columns: named val_…, valid_…, validation_…, test_….
    public static func isValidation(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["val_", "valid_", "validation_", "test_"].contains { lower.hasPrefix($0) }
    }

    /// A column's name without its train_ or validation prefix: `val_loss` and `train_loss` are both `loss`.
    public static func baseName(_ name: String) -> String {
        let lower = name.lowercased()
        for prefix in ["validation_", "valid_", "val_", "test_", "train_"] where lower.hasPrefix(prefix) {
            return String(lower.dropFirst(prefix.count))
        }
        return lower
    }
}
