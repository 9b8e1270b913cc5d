import ChainruleCore
import Foundation

extension JSONEncoder {
    /// The encoder for check reports: pretty, sorted keys, and infinities and NaNs
    /// (a relative error of a NaN comparison) written as `NonFiniteJSON` says.
    public static var checkReports: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = NonFiniteJSON.encoding
        return encoder
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.checkReports` writes.
    public static var checkReports: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = NonFiniteJSON.decoding
        return decoder
    }
}

extension CheckReport {
    /// The report as JSON (`chainrule check --json`).
    public func jsonData() throws -> Data { try JSONEncoder.checkReports.encode(self) }
}

extension RuleReport {
    /// The report as JSON (`chainrule check --ops --json`).
    public func jsonData() throws -> Data { try JSONEncoder.checkReports.encode(self) }
}
