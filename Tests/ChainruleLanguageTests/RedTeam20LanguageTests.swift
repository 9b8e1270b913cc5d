import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Ranks past NumPy's 64 axes, from every place a program can write one, and
/// `.npy` errors that name the file as the program wrote it.
@Suite struct RedTeam20LanguageTests {
    @Test func aLiteralOfSixtyFiveNestedListsIsRefused() throws {
        let deep = "x = " + String(repeating: "[", count: 65) + "1" + String(repeating: "]", count: 65) + "\ny = sum(x)\n"
        let found = diagnostics(deep)
        #expect(found.first?.message == "this tensor literal would have 65 axes, more than the 64 a tensor may have", "\(found)")
        let fits = "x = " + String(repeating: "[", count: 64) + "2" + String(repeating: "]", count: 64) + "\ny = sum(x)\n"
        #expect(try evaluate(fits).value.scalar == 2)
    }

    @Test func aReshapeToTwentyThousandAxesIsRefusedAtItsCall() {
        let ones = Array(repeating: "1", count: 20_000).joined(separator: ", ")
        let found = diagnostics("x = [1]\ny = reshape(x, shape: [\(ones)])\nz = sum(y)\n")
        #expect(found.first?.message.contains("reshape: its result would have 20000 axes, more than the 64 a tensor may have") == true, "\(found)")
        #expect(found.first?.location.line == 2)
    }

    @Test func initialisersTakeAtMostSixtyFourSizes() {
        let sizes = Array(repeating: "1", count: 65).joined(separator: ", ")
        #expect(diagnostics("x = zeros(\(sizes))\n").first?.message == "zeros(…) would have 65 axes, more than the 64 a tensor may have")
    }

    @Test func anNpyOfSeventyAxesIsRefusedNamingTheFileAsWritten() throws {
        try withTemporaryDirectory { folder in
            let shape = "(" + Array(repeating: "1", count: 70).joined(separator: ", ") + ")"
            let bytes = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }", data: littleEndianBytes([1]))
            try Data(bytes).write(to: folder.appendingPathComponent("deep.npy"))
            var options = CompileOptions()
            options.baseDirectory = folder.path
            let found = diagnostics("x = load(\"deep.npy\")\ny = sum(x)\n", options: options)
            #expect(found.first?.message == "cannot load deep.npy: its shape has 70 axes, more than the 64 a tensor may have (NumPy's limit)", "\(found)")
            let device = diagnostics("x = load(\"/dev/zero\")\ny = sum(x)\n", options: options)
            #expect(device.first?.message == "cannot load /dev/zero: it is a device, not a .npy file", "\(device)")
        }
    }
}
