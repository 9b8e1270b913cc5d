import ArgumentParser
import ChainruleCore
import Foundation

struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every op in the registry with its signature and doc.")

    @Flag(help: "Print [{\"name\", \"signature\", \"doc\", \"family\", \"kinks\", \"samples\"}] as JSON.")
    var json = false

    func run() throws {
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
}
