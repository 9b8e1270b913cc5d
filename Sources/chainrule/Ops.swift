import ArgumentParser
import ChainruleCore
import ChainruleONNX
import Foundation

struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", _superCommandName: Chainrule.toolName,
        abstract: "List every op in the registry with its signature and doc (--onnx: the ONNX ops a model may use).")

    @Flag(help: "Print [{\"name\", \"signature\", \"doc\", \"family\", \"kinks\", \"samples\"}] as JSON.")
    var json = false

    @Flag(help: "Print the list as a Markdown page (docs/ops.md is made this way).")
    var markdown = false

    @Flag(help: "List the ONNX ops Chainrule imports (opsets \(ONNXImporter.opsets.lowerBound) to \(ONNXImporter.opsets.upperBound)) and what each becomes.")
    var onnx = false

    func validate() throws {
        if json && markdown { throw ValidationError("choose one of --json and --markdown") }
        if onnx && markdown { throw ValidationError("--markdown prints the registry; --onnx takes --json or nothing") }
    }

    func run() throws {
        if onnx {
            try printONNX()
            return
        }
        if json {
            struct Entry: Encodable {
                var name, signature, doc, family: String
                var kinks: String?
                var samples: [String]
            }
            let entries = Registry.specs.map {
                Entry(name: $0.name, signature: $0.signature, doc: $0.doc, family: $0.family,
                      kinks: $0.kinks, samples: $0.samples.map(\.label))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        if markdown {
            print(markdownPage())
            return
        }
        var family = ""
        let width = Registry.specs.map(\.signature.count).max() ?? 0
        for spec in Registry.specs {
            if spec.family != family {
                if !family.isEmpty { print() }
                family = spec.family
                print(family)
            }
            let pad = String(repeating: " ", count: width - spec.signature.count)
            let kinks = spec.kinks.map { "  [kink: \($0)]" } ?? ""
            print("  \(spec.signature)\(pad)  \(spec.doc)\(kinks)")
        }
    }

    /// The ONNX op table: `Conv  conv2d: 2-D, group 1, …`, or JSON `[{"op_type", "becomes"}]`.
    private func printONNX() throws {
        if json {
            let entries = ONNXOp.allCases.map { ["op_type": $0.rawValue, "becomes": $0.doc] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        print("ONNX ops imported from opsets \(ONNXImporter.opsets.lowerBound) to \(ONNXImporter.opsets.upperBound) (standard domain):")
        let width = ONNXOp.allCases.map(\.rawValue.count).max() ?? 0
        for op in ONNXOp.allCases {
            print("  \(op.rawValue)\(String(repeating: " ", count: width - op.rawValue.count))  \(op.doc)")
        }
    }

    private func markdownPage() -> String {
        var lines = [
            "# Ops",
            "",
            "Every op in Chainrule's registry: callable by this name in `.grad` programs, and proven by",
            "`chainrule check --ops` on each of its samples. Made by `chainrule ops --markdown > docs/ops.md`.",
        ]
        var family = ""
        for spec in Registry.specs {
            if spec.family != family {
                family = spec.family
                lines += ["", "## \(family.prefix(1).uppercased() + family.dropFirst())", "",
                          "| op | what it computes | not differentiable at | checker samples |",
                          "| --- | --- | --- | --- |"]
            }
            let cell = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|") }
            lines.append("| `\(cell(spec.signature))` | \(cell(spec.doc)) | \(cell(spec.kinks ?? "—")) | \(spec.samples.count) |")
        }
        return lines.joined(separator: "\n")
    }
}
