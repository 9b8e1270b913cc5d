import Foundation

/// The memory this process may use, and byte counts as messages write them.
public enum MachineMemory {
    /// The machine's physical memory, or a container's smaller limit (cgroup v2
    /// `memory.max`, or v1's `memory.limit_in_bytes`) when there is one.
    public static let available: Int = {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let limits = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].compactMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return ([physical] + limits.filter { $0 > 0 }).min()!
    }()

    /// `6.3 GB`, `784 MB`, `12 kB`, `512 bytes`, `1 byte`: decimal units, one decimal
    /// below 100.
    public static func describe(_ bytes: Int) -> String {
        let units: [(String, Double)] = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)]
        for (unit, size) in units where Double(bytes) >= size {
            let value = Double(bytes) / size
            return "\(formatNumber(value >= 100 ? value.rounded() : (value * 10).rounded() / 10)) \(unit)"
        }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }
}
