import ChainruleCore
import Foundation

/// The `chainrule` Python module (`External/chainrule.py`, embedded in the binary by
/// SwiftPM's `embedInCode`), so the tool ships it inside itself: no resource bundle
/// to lose beside the executable, one source file in the repository.
public enum PythonModule {
    /// The module's file name.
    public static let fileName = "chainrule.py"

    /// Writes `chainrule.py` into `folder` (created if missing) whole or not at all, and
    /// returns its path. A failure gives the system's reason ("no space left on device").
    @discardableResult
    public static func write(to folder: URL) throws(UnwritablePath) -> URL {
        try OutputFiles.makeFolders(folder.path)
        let file = folder.appendingPathComponent(fileName)
        try OutputFiles.write(Data(PackageResources.chainrule_py), to: file.path)
        return file
    }
}
