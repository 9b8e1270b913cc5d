import Foundation

/// How Chainrule writes a NaN or an infinity in JSON, where numbers cannot
/// hold them: as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the
/// names Python's and JavaScript's JSON readers accept). `eval --json`,
/// `check --json` and `render -o x.json` all follow it.
public enum NonFiniteJSON {
    public static let nan = "NaN"
    public static let infinity = "Infinity"
    public static let negativeInfinity = "-Infinity"

    public static let encoding = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
    public static let decoding = JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
        positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
}
