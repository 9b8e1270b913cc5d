import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Session 22: one definition of a line end ("\n", "\r\n", a lone "\r", in any
/// mix), used by the lexer, the fast scalar reader and the diagnostics alike;
/// source lines printed without control characters; the caret under the right
/// character after tabs, accents, emoji, CJK and combining marks.
@Suite struct Session22LineEndTests {
    /// `lines` joined by each line-end style, and by a mix of the three.
    static func styles(_ lines: [String]) -> [(name: String, source: String)] {
        let ends = ["\n", "\r\n", "\r"]
        let mixed = lines.enumerated().map { $0.element + ends[$0.offset % 3] }.joined()
        return [("LF", lines.map { $0 + "\n" }.joined()), ("CRLF", lines.map { $0 + "\r\n" }.joined()),
                ("CR", lines.map { $0 + "\r" }.joined()), ("mixed", mixed),
                ("CR, no final end", lines.joined(separator: "\r"))]
    }

    static func rendered(_ source: String, _ frontEnds: Compiler.FrontEnds = .all) -> String {
        ScalarTapeTests.diagnostics(source, frontEnds)
    }

    static let scalarProgram = ["# a comment", "x = 2", "", "y = x * 3   # another", "z = y - x / 4"]

    @Test("a scalar program compiles the same in every line-end style, by both front ends, at the same places")
    func scalarProgramInEveryStyle() throws {
        let reference = try ScalarTapeTests.compiled(Self.scalarProgram.map { $0 + "\n" }.joined(), .general)
        for (name, source) in Self.styles(Self.scalarProgram) {
            let taken = try ScalarTapeTests.expectSameAsGeneral(source)
            #expect(taken.reader, "the byte reader gave up on the \(name) program")
            let general = try ScalarTapeTests.compiled(source, .general)
            let places = general.graph.nodes.map(\.location)
            #expect(places == reference.graph.nodes.map(\.location), "\(name): places differ from the LF program's")
            let fast = try ScalarTapeTests.compiled(source, .all)
            #expect(fast.graph.nodes.map(\.location) == places, "\(name): the byte reader's places differ")
        }
    }

    static let badProgram = ["x = 2", "# note", "y = x * 3", "w = exq(y)", "v = w + 1"]

    @Test("an error's line and column, its printed line and caret are the same for every line-end style")
    func errorInEveryStyle() {
        let expected = "test.grad:4:5: error: unknown function 'exq'; did you mean 'exp'?\nw = exq(y)\n    ^~~\n"
        for (name, source) in Self.styles(Self.badProgram) {
            for frontEnds in [Compiler.FrontEnds.all, .general] {
                let text = Self.rendered(source, frontEnds)
                #expect(text.hasPrefix(expected), "\(name): \(text.debugDescription)")
                #expect(!text.unicodeScalars.contains { $0 == "\r" }, "\(name): a raw carriage return is printed")
            }
        }
    }

    @Test("a comment ends at a lone carriage return: the next line is read")
    func commentEndsAtCR() throws {
        let program = try ScalarTapeTests.compiled("a = 1 # one\rb = a + 2\r", .general)
        #expect(program.outputName == "b")
        let unterminated = Self.rendered("s = \"abc\rt = 1\r", .general)
        #expect(unterminated.hasPrefix("test.grad:1:5: error: unterminated string"), "\(unterminated.debugDescription)")
    }

    /// The caret line of the first error of `source`, and the line printed above it.
    static func shown(_ source: String) -> (line: String, caret: String) {
        let lines = rendered(source, .general).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.count >= 3 ? (lines[1], lines[2]) : ("", "")
    }

    @Test("the caret stands under the error after wide, zero-width and tab characters", arguments: [
        // (source, the caret line a terminal needs)
        ("x = 1 # é\ny = \"é\" + ?\n", "          ^"),
        ("y = [\"日本\", 1] + ?\n", "                  ^"),
        ("y = [\"😀\", 1] + ?\n", "                ^"),
        ("y = [\"e\u{301}\", 1] + ?\n", "               ^"),
        ("\ty = ?\n", "\t    ^"),
        ("y = 数据 + 1\n", "    ^~~~"),
    ])
    func caretAfterWideCharacters(_ source: String, _ caret: String) {
        #expect(Self.shown(source).caret == caret, "\(Self.rendered(source, .general))")
    }

    @Test("control characters in the printed line are shown as visible signs, one column each")
    func controlCharactersShown() {
        let shown = Self.shown("y = 1 \u{1B}[31m + ?\n")
        #expect(!shown.line.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" }, "\(shown.line.debugDescription)")
        #expect(shown.line.contains("\u{241B}"))
        let nul = Self.rendered("x = 1\ny = \0 + x\n", .general)
        #expect(nul.hasPrefix("test.grad:2:5: error: unexpected character U+0000"), "\(nul.debugDescription)")
        #expect(!nul.unicodeScalars.contains("\0"))
    }

    @Test("a byte-order mark takes no column, and lone-CR lines after it are counted, in both front ends")
    func byteOrderMark() {
        for frontEnds in [Compiler.FrontEnds.all, .general] {
            let text = Self.rendered("\u{FEFF}x = 1\ry = exq(x)\r", frontEnds)
            #expect(text.hasPrefix("test.grad:2:5: error: unknown function 'exq'; did you mean 'exp'?\ny = exq(x)\n    ^~~\n"), "\(text.debugDescription)")
        }
    }

    @Test("source lines split at LF, CRLF and a lone CR, which the line never keeps")
    func sourceLines() {
        #expect("a\rb\r\nc\nd\r\r".sourceLines() == ["a", "b", "c", "d", "", ""])
        let bytes = Array("é\r\nx\rab\u{FF}".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            #expect(SourceText.position(ofByte: bytes.count - 2, in: buffer) == (3, 3))
        }
    }
}
