import Foundation

/// A folder of the process's own (`chainrule-fuzz-PID` in the temporary
/// folder) that programs under fuzzing load from, removed at exit. A process
/// that crashed, or a fork-mode worker that libFuzzer ended, never runs its
/// exit handlers, so each new process first removes the folders of processes
/// that no longer exist.
public enum Fixtures {
    private static let prefix = "chainrule-fuzz-"

    /// Holds `x.npy`: float64, shape (2, 3), values 0…5.
    public static let directory: String = {
        removeFoldersOfEndedProcesses()
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)\(getpid())")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let file = (path as NSString).appendingPathComponent("x.npy")
        guard FileManager.default.createFile(atPath: file, contents: Data(npyFloat64(shape: [2, 3], values: [0, 1, 2, 3, 4, 5]))) else {
            fatalError("cannot write \(file)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.directory) }
        return path
    }()

    private static func removeFoldersOfEndedProcesses() {
        let temporary = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), kill(pid, 0) == -1, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: (temporary as NSString).appendingPathComponent(name))
        }
    }

    /// An `.npy` file (version 1.0, little-endian float64, C order) as NumPy's
    /// `np.save` writes it: the header padded with spaces to a multiple of 64 bytes.
    static func npyFloat64(shape: [Int], values: [Double]) -> [UInt8] {
        let sizes = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(sizes)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
        }
        return bytes
    }
}
