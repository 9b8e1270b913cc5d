import ChainruleLanguage

/// libFuzzer's entry point: any bytes must compile to a program or to
/// diagnostics, never crash. An input starting with byte 0 is turned into a
/// mostly well-formed program by `ProgramGenerator` (to reach the ops and the
/// passes); any other input is read as program text, UTF-8 with invalid
/// sequences repaired as reading a file does. Valid programs are evaluated and
/// diagnostics rendered, so the whole path of `chainrule eval` is covered.
/// The element limit is small so a generated `randn(9999, 9999)` is refused
/// rather than allocated.
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
    let options = CompileOptions(maxElements: 10_000)
    do {
        let program = try Compiler.compile(source: source, file: "fuzz.grad", options: options)
        _ = try program.evaluate().json()
    } catch {
        _ = error.rendered(source: source)
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM names an executable's entry point `<Target>_main` and links
/// `main` to it, so this is where libFuzzer's driver starts.
@_cdecl("LanguageFuzzer_main")
public func languageFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &arguments, languageFuzzerTestOneInput)
}
