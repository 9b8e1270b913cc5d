import ChainruleCore
import Foundation

/// Where `--data` takes its examples from.
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
    /// `moons`, `spirals:300`: a generated 2-D set, optionally with its size.
    case generated(GeneratedData, count: Int?)
    /// `digits` (64 features) or `digits-images` (1×8×8): scikit-learn's
    /// bundled 8×8 digits, 1,797 images, pixels scaled to [0, 1].
    case digits(images: Bool)
    /// `points.csv`: features…, label per row, a header line optional.
    case csv(path: String)
    /// `X.npy,Y.npy`: features `[N, …]` and labels `[N]`.
    case npy(features: String, labels: String)

    /// Reads a `--data` value. A name that is neither a set nor a file of a
    /// known kind is refused with the list of what is valid.
    public init(parsing text: String) throws(DataError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        if let set = GeneratedData(rawValue: parts.first ?? "") {
            guard parts.count == 2 else { self = .generated(set, count: nil); return }
            guard let count = Int(parts[1]), count >= 6, count <= 1_000_000 else {
                throw DataError("--data \(text): the size after '\(set.rawValue):' must be a whole number of examples from 6 to 1,000,000, as \(set.rawValue):500")
            }
            self = .generated(set, count: count)
            return
        }
        switch text {
        case "digits": self = .digits(images: false); return
        case "digits-images": self = .digits(images: true); return
        default: break
        }
        let files = text.split(separator: ",").map(String.init)
        if files.count == 2, files.allSatisfy({ $0.hasSuffix(".npy") }) {
            self = .npy(features: files[0], labels: files[1])
        } else if files.count == 1, text.lowercased().hasSuffix(".csv") {
            self = .csv(path: text)
        } else {
            let sets = GeneratedData.allCases.map(\.rawValue).joined(separator: ", ")
            throw DataError("--data \(text): not a data set; give one of \(sets) (with an optional size, as moons:500), digits, digits-images, a FILE.csv (features…, label per row) or X.npy,Y.npy")
        }
    }

    public var description: String {
        switch self {
        case .generated(let set, let count): return count.map { "\(set.rawValue):\($0)" } ?? set.rawValue
        case .digits(let images): return images ? "digits-images" : "digits"
        case .csv(let path): return path
        case .npy(let features, let labels): return "\(features),\(labels)"
        }
    }

    /// Loads the examples. `readNpy` reads a NumPy file into a tensor (the
    /// language's reader: this module depends on Core only); `digitsFolder`
    /// is the folder holding `digits-X.npy` and `digits-y.npy`.
    public func load(seed: UInt64, digitsFolder: String?, readNpy: (String) throws -> Tensor) throws(DataError) -> Dataset {
        switch self {
        case .generated(let set, let count):
            return set.make(count: count, seed: seed)
        case .digits(let images):
            guard let digitsFolder else {
                throw DataError("--data \(description): the digits files (samples/digits/digits-X.npy, digits-y.npy) are not found beside the chainrule binary or in the current folder; set CHAINRULE_SAMPLES to the samples folder")
            }
            let folder = URL(fileURLWithPath: digitsFolder)
            var set = try Self.arrays(folder.appendingPathComponent("digits-X.npy").path, folder.appendingPathComponent("digits-y.npy").path,
                                      name: description, readNpy: readNpy)
            // Stored as pixel counts 0…16, as scikit-learn ships them.
            set.features = set.features.map { $0 / 16 }
            if images { set.features = set.features.reshaped([set.count, 1, 8, 8]) }
            return set
        case .csv(let path):
            return try Self.csv(path)
        case .npy(let features, let labels):
            return try Self.arrays(features, labels, name: description, readNpy: readNpy)
        }
    }

    /// Labels are below 10⁹: a class index, one score per class — a billion classes
    /// is a mistake (a feature column read as the label), not a data set.
    public static let labelLimit = 1e9

    /// What is wrong with `value` as a class label, or nil for a whole number in [0, `labelLimit`).
    static func labelProblem(_ value: Double) -> String? {
        guard value.rounded() == value, value >= 0 else { return "labels are class indices, whole numbers from 0" }
        guard value < labelLimit else {
            return "too large for a class index (labels are below 10^9, one class per index); is the last column really the label?"
        }
        return nil
    }

    static func arrays(_ featuresPath: String, _ labelsPath: String, name: String, readNpy: (String) throws -> Tensor) throws(DataError) -> Dataset {
        let features: Tensor, labels: Tensor
        do {
            features = try readNpy(featuresPath)
            labels = try readNpy(labelsPath)
        } catch {
            throw DataError("\(error)")
        }
        guard labels.rank == 1 || (labels.rank == 2 && labels.shape[1] == 1) else {
            throw DataError("\(labelsPath): labels must be one class index per example, shape [N], got \(describeShape(labels.shape))")
        }
        var classes: [Int] = []
        for (i, value) in labels.data.enumerated() {
            if let problem = Self.labelProblem(value) { throw DataError("\(labelsPath): label \(i) is \(formatNumber(value)); \(problem)") }
            classes.append(Int(value))
        }
        let table = features.rank == 1 ? features.reshaped([features.count, 1]) : features
        return try Dataset(name: name, features: table, labels: classes)
    }

    /// A field as a decimal number (`2`, `-0.5`, `1e-3`, `inf`, `nan`); nil for anything
    /// else, hexadecimal included, which `Double("0x10")` would read as 16.
    static func decimal(_ field: String) -> Double? {
        field.contains(where: { $0 == "x" || $0 == "X" }) ? nil : Double(field)
    }

    /// Whether a field is a column's name: it holds a letter and is no number of any
    /// notation (`0x10`, `nan` and `inf` are numbers, refused in a row, not names).
    static func isWord(_ field: String) -> Bool {
        Double(field) == nil && field.unicodeScalars.contains { CharacterSet.letters.contains($0) }
    }

    /// A CSV file: numbers separated by commas, the last column the class
    /// label; a first line with a word in a field (a column's name) is a header. Blank lines
    /// are skipped. Errors name the file and line.
    public static func csv(_ path: String) throws(DataError) -> Dataset {
        let bytes: Data
        do { bytes = try InputFiles.contents(of: path, kind: "a CSV file") } catch { throw DataError(error.description) }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw DataError("cannot read \(path): it is not UTF-8 text; a CSV file holds numbers separated by commas, the label last")
        }
        var rows: [[Double]] = [], labels: [Int] = []
        var width: Int?
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if fields.allSatisfy(\.isEmpty) { continue }
            let numbers = fields.map(Self.decimal)
            // A header names its columns: a first line with a word in it. A first line of numbers
            // with an empty or unreadable field is a row of data with a hole, not a header to skip.
            if offset == 0 && fields.contains(where: Self.isWord) { continue }
            let where_ = "\(path):\(offset + 1)"
            guard fields.count >= 2 else { throw DataError("\(where_): a row needs at least one feature and a label, got '\(line)'") }
            if let width, fields.count != width {
                throw DataError("\(where_): this row has \(fields.count) columns, the first has \(width)")
            }
            width = fields.count
            if let bad = numbers.firstIndex(where: { $0 == nil || !$0!.isFinite }) {
                throw DataError("\(where_): column \(bad + 1) is '\(fields[bad])', not a finite decimal number")
            }
            let label = numbers.last!!
            if let problem = Self.labelProblem(label) { throw DataError("\(where_): the label (last column) is \(fields.last!); \(problem)") }
            rows.append(numbers.dropLast().map { $0! })
            labels.append(Int(label))
        }
        guard let width else { throw DataError("\(path): no rows of numbers (features…, label per row)") }
        return try Dataset(name: URL(fileURLWithPath: path).lastPathComponent,
                           features: Tensor(shape: [rows.count, width - 1], data: rows.flatMap { $0 }), labels: labels)
    }
}
