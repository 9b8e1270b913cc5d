import ChainruleLanguage

/// libFuzzer's entry point: any bytes, read as UTF-8 (invalid sequences
/// repaired, as reading a file does), must compile to a program or to
/// diagnostics, never crash. Valid programs are also evaluated, and
/// diagnostics rendered, so the whole path of `chainrule eval` is covered.
/// The element limit is small so a generated `randn(9999, 9999)` is refused
/// rather than allocated.
@_cdecl("LLVMFuzzerTestOneInput")
public func languageFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let options = CompileOptions(maxElements: 10_000, at: ["t": 0.5])
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
