import ChainruleCore
import ChainruleFigures
import Foundation

/// A fresh empty folder for one test's files.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-figures-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The width and height from a PNG's IHDR chunk, after checking its signature.
func pngSize(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
          String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else { return nil }
    let be = { (i: Int) in Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
    return (be(16), be(20))
}

/// A styled example as a test case: name, example, style, view.
struct FigureCase: CustomStringConvertible, Sendable {
    var example: String
    var style: FigureStyle
    var view: ModelView = .layers
    var description: String { "\(example) as \(style)\(style == .model ? " (\(view))" : "")" }

    var options: FigureOptions {
        var options = FigureOptions()
        options.style = style
        options.view = view
        return options
    }

    static let all: [FigureCase] = FigureExamples.names.flatMap { example in
        [FigureCase(example: example, style: .circuit), FigureCase(example: example, style: .record),
         FigureCase(example: example, style: .model, view: .layers), FigureCase(example: example, style: .model, view: .ops)]
    }
}

/// A square whose backward rule is wrong on purpose: 3x instead of 2x.
struct WrongSquare: ChainruleCore.Operation {
    var name: String { "wrong_square" }
    var symbol: String { "x²" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [inputs[0].zipMap(gradient) { x, g in 3 * x * g }]
    }
}
