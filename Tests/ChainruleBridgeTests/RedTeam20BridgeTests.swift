import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// The Python module written onto a full disk, and a layer file that gives a
/// negative size: each refused with the reason, in the person's words.
@Suite struct RedTeam20BridgeTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam20-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        return url
    }

    /// Foundation's atomic write printed "NSCocoaErrorDomain error 640"; the system's reason now.
    @Test func theModuleOnAFullDiskSaysNoSpace() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent(PythonModule.fileName).path, withDestinationPath: "/dev/full")
        let error = #expect(throws: UnwritablePath.self) { try PythonModule.write(to: folder) }
        #expect(error?.reason == "no space left on device")
        #expect(error?.localizedDescription == "no space left on device")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [PythonModule.fileName])
    }

    @Test func theModuleIsWrittenIntoFoldersItMakes() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try PythonModule.write(to: folder.appendingPathComponent("a/b"))
        #expect(try String(contentsOf: file, encoding: .utf8).contains("def serve("))
    }

    /// `(-3,)` was taken for the array [-3] (integers, so nothing was checked) and the check passed.
    @Test func aNegativeSizeIsRefusedNotTakenForValues() throws {
        try #require(pythonProblem == nil, "\(pythonProblem ?? "")")
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let layer = folder.appendingPathComponent("negative.py")
        try """
            import chainrule
            def forward(x): return x
            def backward(x, out, grad): return (grad,)
            chainrule.serve(forward, backward, inputs={"x": (-3,)}, seed=0)
            """.write(to: layer, atomically: false, encoding: .utf8)
        let text = failure(layer.path)?.description ?? "(no error)"
        #expect(text.contains("input 'x' has the shape (-3,); sizes are whole numbers from 0 (to give values, pass an array, e.g. np.array([-3], dtype=float))"), "\(text)")
    }
}
