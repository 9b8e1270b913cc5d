import Testing
@testable import ChainruleCore

/// A window's output size that is not whole is said exactly: before, the
/// quotient was rounded to six digits, so (1000000 − 3 + 2·1)/2 + 1 read
/// "= 500000 is not a whole number", and an input past Int's range blamed the pad.
@Suite("Session 23: conv and pool output sizes said exactly")
struct Session23ConvMessageTests {
    @Test("the quotient written exactly", arguments: [
        (5, 2, 1, "3.5"), (999_999, 2, 1, "500000.5"), (4, 3, 1, "2 + 1/3"), (7, 8, 0, "0.875"), (9, 6, 1, "2.5"),
        (10, 5, 1, "3"), (1, 7, 2, "2 + 1/7"), (Int.max - 1, Int.max, 0, "0 + 9223372036854775806/9223372036854775807"),
    ])
    func quotient(_ numerator: Int, _ denominator: Int, _ plus: Int, _ expected: String) {
        #expect(exactQuotient(numerator, denominator, plus: plus) == expected)
    }

    @Test func aHalfPastAMillionIsNotRoundedToAWholeNumber() throws {
        let conv = try Conv2D(stride: 2, pad: 1)
        do throws(ShapeError) {
            _ = try conv.outputShape([[1, 1, 1_000_000, 5], [1, 1, 3, 3], [1]])
            Issue.record("no error")
        } catch {
            #expect(error.description.contains("(1000000 − 3 + 2·1)/2 + 1 = 500000.5 is not a whole number"), "\(error.description)")
        }
    }

    @Test func anInputPastIntsRangeIsBlamedNotThePad() {
        do throws(ShapeError) {
            _ = try slidingWindowOutputSize(op: "conv2d", shapes: [], axis: "width", input: Int.max, kernel: 3, stride: 1, pad: 1, floor: false)
            Issue.record("no error")
        } catch {
            #expect(error.description.contains("input width 9223372036854775807 is too large: padded by 2·1 it would overflow"), "\(error.description)")
        }
    }
}
