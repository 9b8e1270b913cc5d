import ChainruleCore
import Foundation

/// Byte counts as the memory budget reads and writes them.
public enum ByteCount {
    /// The memory this process may use (`MachineMemory.available`).
    public static var availableMemory: Int { MachineMemory.available }

    /// `6.3 GB`, `784 MB`: as `MachineMemory.describe`.
    public static func describe(_ bytes: Int) -> String { MachineMemory.describe(bytes) }

    /// Reads `8G`, `512M`, `1.5GB`, `2GiB`, `100000` (bytes): a number, then
    /// an optional unit — `k`, `M`, `G`, `T` (powers of 1000, `B` optional)
    /// or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024). Nil for anything else,
    /// or a count that does not fit an `Int`.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberEnd = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        guard let value = Double(trimmed[..<numberEnd]), value >= 0 else { return nil }
        let unit = trimmed[numberEnd...].trimmingCharacters(in: .whitespaces).lowercased()
        let scales: [String: Double] = [
            "": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
            "kib": 0x1p10, "mib": 0x1p20, "gib": 0x1p30, "tib": 0x1p40,
        ]
        guard let scale = scales[unit] else { return nil }
        let bytes = (value * scale).rounded()
        guard bytes < 0x1p63 else { return nil }
        return Int(bytes)
    }
}

extension CompileOptions {
    /// The default memory budget: a quarter of `ByteCount.availableMemory`.
    ///
    /// The budget counts the tensors the passes keep (a value and a gradient
    /// per node). Running them needs more: an op's backward builds
    /// temporaries as large as its inputs, and `check` keeps perturbed copies
    /// of the values, up to about twice the kept bytes at the peak; a quarter
    /// leaves that room and half the machine for everything else running on it.
    public static let defaultMaxMemory = ByteCount.availableMemory / 4

    /// The bytes a node of this shape keeps after the passes: its value and
    /// its gradient, 8 bytes an element. Nil when the count overflows.
    static func keptBytes(_ shape: [Int]) -> Int? {
        guard let count = Tensor.checkedElementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 2 * MemoryLayout<Double>.size)
        return overflow ? nil : bytes
    }
}
