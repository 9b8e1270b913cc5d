import FuzzSupport

/// libFuzzer's entry point for `.grad` programs: any bytes must compile to a
/// program or to diagnostics, and what compiles must evaluate, check and draw
/// (`Pipeline.run`), never crash, hang or allocate without bound.
///
/// An input starting with byte 0 is turned into a mostly well-formed program by
/// `ProgramGenerator` (to reach the ops, the passes, the checker and the
/// figures); any other input is read as program text, UTF-8 with invalid
/// sequences repaired as reading a file does. `load("x.npy")` finds a small
/// 2×3 float64 file in `Fixtures.directory`.
@_cdecl("LLVMFuzzerTestOneInput")
public func languageFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let source: String
    if bytes.first == 0 {
        var generator = ProgramGenerator(Array(bytes.dropFirst()))
        source = generator.program()
    } else {
        source = String(decoding: bytes, as: UTF8.self)
    }
    Pipeline.run(source: source, file: "fuzz.grad", variant: Variant(bytes), limits: Pipeline.Limits(), baseDirectory: Fixtures.directory)
    return 0
}

@_cdecl("LanguageFuzzer_main")
public func languageFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, languageFuzzerTestOneInput)
}
