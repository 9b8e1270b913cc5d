import ChainruleCore
import Foundation
import Testing

/// `OutputFiles.folder(holding:)` and `name(of:)` replaced Foundation's
/// `deletingLastPathComponent`, which trapped (`train --plots new/plots` ended by signal 4).
@Suite struct OutputPathTests {
    @Test("the folder holding a path and its last part, as the person wrote them",
          arguments: [("a/b", "a", "b"), ("a", ".", "a"), ("/a", "/", "a"), ("a/b/", "a", "b"), ("a//b//", "a", "b"),
                      ("/", "/", "/"), ("new/plots", "new", "plots"), ("./x.png", ".", "x.png"), ("é/ü.svg", "é", "ü.svg")])
    func folderAndName(path: String, folder: String, name: String) {
        #expect(OutputFiles.folder(holding: path) == folder)
        #expect(OutputFiles.name(of: path) == name)
    }

    @Test("the folder that will hold an output: missing, a file, or taking entries")
    func folderHoldingAnOutput() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try OutputFiles.checkFolder(holding: base + "/a.png", asked: "a.png")
        #expect(throws: UnwritablePath(path: "asked", reason: "the folder '\(base)/missing' does not exist")) {
            try OutputFiles.checkFolder(holding: base + "/missing/a.png", asked: "asked")
        }
        #expect(FileManager.default.createFile(atPath: base + "/f", contents: Data()))
        #expect(throws: UnwritablePath(path: "asked", reason: "'\(base)/f' is a file, not a folder")) {
            try OutputFiles.checkFolder(holding: base + "/f/a.png", asked: "asked")
        }
        #expect(throws: UnwritablePath(path: "asked", reason: "'/dev/null' is a device, not a folder")) {
            try OutputFiles.checkFolder(holding: "/dev/null/a.png", asked: "asked")
        }
        // Nothing is left behind by the check.
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["f"])
    }
}
