import Foundation

/// The `chainrule` Python module (`External/chainrule.py`, embedded in the binary by
/// SwiftPM's `embedInCode`), so the tool ships it inside itself: no resource bundle
/// to lose beside the executable, one source file in the repository.
public enum PythonModule {
    /// The module's file name.
    public static let fileName = "chainrule.py"

    /// Writes `chainrule.py` into `folder` (created if missing) and returns its path.
    @discardableResult
    public static func write(to folder: URL) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(fileName)
        try Data(PackageResources.chainrule_py).write(to: file, options: .atomic)
        return file
    }
}
