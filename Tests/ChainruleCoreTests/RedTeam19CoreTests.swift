import ChainruleCore
import Foundation
import Testing

/// Printing tensors of any rank, and writing outputs over files that are not
/// files: nothing recurses per axis, nothing replaces a device.
@Suite struct RedTeam19CoreTests {
    @Test func nestedTextBracketsAsNumPyDoes() {
        #expect(Tensor(2).nestedText() == "2")
        #expect(Tensor([1, 2, 3]).nestedText() == "[1, 2, 3]")
        #expect(Tensor([[1, 2, 3], [4, 5, 6]]).nestedText() == "[[1, 2, 3], [4, 5, 6]]")
        #expect(Tensor([[1, 2, 3], [4, 5, 6]]).nestedText(rowIndent: 4) == "[[1, 2, 3],\n     [4, 5, 6]]")
        let cube = Tensor(shape: [2, 2, 2], data: (1...8).map(Double.init))
        #expect(cube.nestedText() == "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]")
        #expect(cube.nestedText(rowIndent: 0) == "[[[1, 2],\n  [3, 4]],\n [[5, 6],\n  [7, 8]]]")
    }

    @Test func nestedTextOfEmptyAxes() {
        #expect(Tensor(shape: [0], data: []).nestedText() == "[]")
        #expect(Tensor(shape: [0, 3], data: []).nestedText() == "[]")
        #expect(Tensor(shape: [2, 0], data: []).nestedText() == "[[], []]")
        #expect(Tensor(shape: [2, 0, 5], data: []).nestedText(rowIndent: 2) == "[[],\n   []]")
    }

    /// 100,000 axes of size 1 (a `reshape` a program can write, an ONNX
    /// Unsqueeze of 100,000 axes): one element inside 100,000 brackets.
    @Test func nestedTextOfAHundredThousandAxes() {
        let text = Tensor(shape: Array(repeating: 1, count: 100_000), data: [7]).nestedText(rowIndent: 4)
        #expect(text == String(repeating: "[", count: 100_000) + "7" + String(repeating: "]", count: 100_000))
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam19-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func written(_ text: String, in folder: String) throws -> String {
        let staging = try Temporaries.makeFolder(in: folder)
        let file = staging + "/partial"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// The target links to `/dev/full`: written into (no space left), never
    /// replaced — as root, a rename would put a plain file at `/dev/full`.
    @Test func aTargetThatIsADeviceIsWrittenIntoNotReplaced() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/out.svg", withDestinationPath: "/dev/full")
        let file = try Self.written("<svg/>", in: folder)
        #expect(throws: POSIXError(.ENOSPC)) { try Temporaries.rename(file, to: folder + "/out.svg") }
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/out.svg")) == "/dev/full")
        let null = try Self.written("<svg/>", in: folder)
        try FileManager.default.createSymbolicLink(atPath: folder + "/null.svg", withDestinationPath: "/dev/null")
        try Temporaries.rename(null, to: folder + "/null.svg")
        #expect(!FileManager.default.fileExists(atPath: null))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/null.svg")) == "/dev/null")
    }

    /// A named pipe nobody reads is refused at once (it would wait forever), and stays a pipe.
    @Test func aTargetThatIsAPipeWithNoReaderIsRefusedAtOnce() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(mkfifo(folder + "/out.png", 0o644) == 0)
        let file = try Self.written("png", in: folder)
        #expect(throws: POSIXError(.ENXIO)) { try Temporaries.rename(file, to: folder + "/out.png") }
        var status = stat()
        #expect(lstat(folder + "/out.png", &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
    }

    @Test func aRegularFileIsStillReplacedWhole() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: folder + "/out.dot"))
        try Temporaries.rename(try Self.written("new", in: folder), to: folder + "/out.dot")
        #expect(try String(contentsOfFile: folder + "/out.dot", encoding: .utf8) == "new")
    }

    @Test func sourceLinesEndAtLFAndCRLFAlike() {
        // "\r\n" is one Character: splitting on "\n" alone left a CRLF file one line long.
        #expect("a = 1\r\nb = 2\nc = 3".sourceLines() == ["a = 1", "b = 2", "c = 3"])
        #expect("x\r\n".sourceLines() == ["x", ""])
        #expect("".sourceLines() == [""])
    }
}
