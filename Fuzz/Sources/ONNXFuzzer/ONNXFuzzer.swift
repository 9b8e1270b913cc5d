import Foundation
import FuzzSupport

/// libFuzzer's entry point for `.onnx` files: any bytes must import into a
/// graph that evaluates, checks and draws (`Pipeline.runONNX`), or be
/// refused with an `ONNXError` — never crash, hang, allocate without bound,
/// or read external data outside the fixture folder.
@_cdecl("LLVMFuzzerTestOneInput")
public func onnxFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    Pipeline.runONNX(bytes: bytes, folder: URL(fileURLWithPath: Fixtures.directory), variant: Variant(UnsafeBufferPointer(start: data, count: size)), limits: Pipeline.Limits())
    return 0
}

@_cdecl("ONNXFuzzer_main")
public func onnxFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, onnxFuzzerTestOneInput)
}
