import ArgumentParser
import ChainruleCheck
import Foundation

/// `chainrule python-module DIR`: writes the `chainrule` Python module out, for running
/// a layer file by hand (`PYTHONPATH=DIR python3 layer.py`); `check --python` needs no copy.
struct PythonModuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python-module", _superCommandName: Chainrule.toolName,
        abstract: "Write the chainrule Python module (chainrule.py, needs only NumPy) into DIR, to run a layer file by hand.",
        discussion: """
            `chainrule check --python layer.py` puts the module on PYTHONPATH itself; this command is for \
            running the file yourself: `PYTHONPATH=DIR python3 layer.py`. Run so, serve() hands the file to \
            `chainrule check --python` when chainrule is on PATH, else runs forward and backward once.
            """)

    @Argument(help: "The folder to write chainrule.py into (created if missing).")
    var dir: String

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ProgramError(description: "error: '\(dir)' is a file: give a folder to write \(PythonModule.fileName) into")
        }
        let file: URL
        do {
            file = try PythonModule.write(to: URL(fileURLWithPath: dir, isDirectory: true))
        } catch {
            throw ProgramError(description: "error: cannot write \(PythonModule.fileName) into '\(dir)': \(error.localizedDescription)")
        }
        print("wrote \(file.relativePath); run a layer by hand with PYTHONPATH=\(dir) python3 layer.py")
    }
}
