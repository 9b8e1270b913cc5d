import ChainruleLanguage
import Foundation
import FuzzSupport

/// Programs that use a loaded tensor in the ways a course does: reductions,
/// elementwise ops, shape ops, layers, pooling, losses. Each input runs one,
/// chosen by its bytes' hash; most refuse most shapes with a diagnostic,
/// which is part of what is fuzzed.
let programs = [
    "y = sum(x)",
    "y = sum(x * x)",
    "y = mean(tanh(x), axis: 0)",
    "y = max(x, axis: -1, keepdims: true)",
    "y = sum(softmax(x))",
    "y = sum(flatten(x))",
    "y = sum(transpose(x))",
    "y = sum(reshape(x, shape: [-1]))",
    "y = sum(x @ transpose(x))",
    "y = mse(x, x * 0.5)",
    "y = cross_entropy(x, [0])",
    "y = sum(Linear(x, 2))",
    "y = sum(Conv2D(x, filters: 2, kernel: 1))",
    "y = sum(maxpool2d(x, 2))",
    "y = sum(avgpool2d(relu(x), kernel: 1))",
    "w = const(load(\"f.npy\"))\ny = sum(x * w)",
].map { "x = load(\"f.npy\")\n\($0)\n" }

/// libFuzzer's entry point for `.npy` files: any bytes must decode to a
/// tensor or to a `LoadError` (in memory), and, written to a file that a
/// program loads, must compile, evaluate, check and draw (`Pipeline.run`) or
/// be refused with a diagnostic, never crash, hang or allocate without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let limits = Pipeline.Limits()
    do {
        let tensor = try Npy.decode(Array(bytes), path: "fuzz.npy", maxElements: limits.maxElements)
        _ = tensor.shape
    } catch {
        _ = error.description
    }
    let file = (Fixtures.directory as NSString).appendingPathComponent("f.npy")
    guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
        fatalError("cannot write \(file)")
    }
    let variant = Variant(bytes)
    let source = programs[Int(variant.hash % UInt64(programs.count))]
    Pipeline.run(source: source, file: "npy.grad", variant: variant, limits: limits, baseDirectory: Fixtures.directory)
    return 0
}

@_cdecl("NpyFuzzer_main")
public func npyFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, npyFuzzerTestOneInput)
}
