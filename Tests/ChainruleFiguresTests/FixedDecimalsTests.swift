import Foundation
import Testing
@testable import ChainruleFigures

@Suite("SVG numbers: fixed decimals without a va_list")
struct FixedDecimalsTests {
    @Test("fixedDecimals writes what String(format:) writes, halves, signs, huge and non-finite numbers included")
    func sameAsStringFormat() {
        var values: [Double] = [0, -0.0, 0.125, 0.375, -0.125, 2.675, 1.005, 0.5, 1.5, -2.5, 1e-9, -1e-9,
                                123456.789, 1e15, -1e15, 1e21, 1e300, -1e300, .greatestFiniteMagnitude,
                                .leastNonzeroMagnitude, .infinity, -.infinity, .nan]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { values.append(Double.random(in: -5_000...5_000, using: &generator)) }
        for value in values {
            for places in [0, 1, 2, 4] {
                #expect(fixedDecimals(value, places: places) == String(format: "%.\(places)f", value), "\(value) to \(places)")
            }
        }
    }
}
