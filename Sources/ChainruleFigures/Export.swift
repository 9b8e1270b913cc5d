import ChainruleCheck
import ChainruleCore
import Foundation

extension Block {
    /// Every text with its style, in reading order.
    public var styledTexts: [(String, TextStyle)] {
        if case .text(let s, let style, _) = kind { return [(s, style)] }
        return children.flatMap(\.styledTexts)
    }
}

/// Text safe inside XML (SVG, and DOT's HTML-like labels): `& < > "` become
/// entities, and control characters other than tab, line feed and carriage
/// return are dropped, since XML 1.0 cannot hold them even as entities.
func xmlEscaped(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// DOT and JSON exports of a figure.
enum Export {
    /// A DOT string literal: backslashes, quotes and line breaks escaped.
    static func dotString(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    /// The scene as plain DOT: what `dot -Tpng` needs to draw a close
    /// relative of the figure. A wire label becomes the label of the edge it
    /// sits on, coloured as in the figure. No positions, so the file does not
    /// depend on font metrics.
    static func dot(_ scene: Scene) -> String {
        let theme = scene.theme
        var out = "digraph chainrule {\n"
        out += "  rankdir=\(scene.direction.rawValue);\n"
        if let title = scene.title { out += "  label=\(dotString(title)); labelloc=t;\n" }
        out += "  node [fontname=\(dotString(theme.fontFamily)), fontsize=\(formatNumber(theme.fontSize))];\n"
        out += "  edge [fontname=\(dotString(theme.fontFamily)), fontsize=\(formatNumber(theme.fontSize))];\n"
        let wires = Dictionary(uniqueKeysWithValues: scene.nodes.filter { $0.shape == .wireLabel }.map { ($0.key, $0) })
        for (index, cluster) in scene.clusters.enumerated() {
            out += "  subgraph cluster_\(cluster.key) {\n    label=\(dotString(cluster.title));\n"
            for node in scene.nodes where node.cluster == index { out += "    \(node.key);\n" }
            out += "  }\n"
        }
        for node in scene.nodes where node.shape != .wireLabel {
            let shape = switch node.shape {
            case .box: "box, style=rounded"
            case .circle: "circle"
            case .plain, .wireLabel: "plaintext"
            }
            var attributes = "label=\(dotString(node.content.texts.joined(separator: "\n"))), shape=\(shape)"
            if node.stroke != theme.stroke && node.shape != .plain { attributes += ", color=\(dotString(node.stroke.hexString)), penwidth=\(formatNumber(node.strokeWidth))" }
            out += "  \(node.key) [\(attributes)];\n"
        }
        for edge in scene.edges where wires[edge.from] == nil {
            if let wire = wires[edge.to] {
                for onward in scene.edges where onward.from == wire.key {
                    let label = wire.content.styledTexts
                        .map { "<font color=\"\($0.1.color.hexString)\">\(xmlEscaped($0.0))</font>" }
                        .joined(separator: "<br/>")
                    out += "  \(edge.from) -> \(onward.to) [label=<\(label)>\(onward.arrow ? "" : ", arrowhead=none")];\n"
                }
            } else {
                out += "  \(edge.from) -> \(edge.to)\(edge.arrow ? "" : " [arrowhead=none]");\n"
            }
        }
        return out + "}\n"
    }

    struct TensorJSON: Codable, Equatable {
        var shape: [Int]
        var data: [Double]
    }

    struct CheckJSON: Codable, Equatable {
        var status: String
        var band: String
        var maxRelativeError: Double
    }

    struct BoxJSON: Codable, Equatable {
        var x: Double, y: Double, width: Double, height: Double
    }

    struct NodeJSON: Codable, Equatable {
        var id: Int
        var name: String
        var op: String?
        var role: String
        var layer: String?
        var inputs: [Int]
        var shape: [Int]
        var value: TensorJSON?
        var gradient: TensorJSON?
        var check: CheckJSON?
        /// Where the node is drawn (points, origin top-left), if it is drawn on its own.
        var box: BoxJSON?
    }

    struct FigureJSON: Codable, Equatable {
        var style: String
        var width: Double
        var height: Double
        var output: Int
        var nodes: [NodeJSON]
    }

    static func rounded(_ v: Double) -> Double { (v * 100).rounded() / 100 }

    /// Nodes with values, gradients, check status and positions, as JSON.
    /// Non-finite numbers are written as `NonFiniteJSON` says, as `chainrule
    /// eval --json` does: plain JSON has no such numbers.
    static func json(graph: Graph, output: NodeID, options: FigureOptions, laidOut: LaidOutScene) throws -> Data {
        var frames: [Int: Rect] = [:]
        for placed in laidOut.nodes where placed.node.key == placed.node.node.map({ "n\($0.index)" }) {
            if let id = placed.node.node { frames[id.index] = placed.frame }
        }
        let tensor = { (t: Tensor?) in t.map { TensorJSON(shape: $0.shape, data: $0.data) } }
        let nodes = graph.nodes.map { node -> NodeJSON in
            let check = options.check?.node(node.id).map {
                CheckJSON(status: $0.status.rawValue, band: $0.band.rawValue, maxRelativeError: $0.maxRelativeError)
            }
            let gradient: Tensor? = options.showGradients && (options.knownGradients?.contains(node.id) ?? true) ? node.gradient : nil
            return NodeJSON(
                id: node.id.index, name: node.displayName, op: node.op?.name, role: node.role.rawValue,
                layer: node.layer.map { graph.layers[$0].name }, inputs: node.inputs.map(\.index), shape: node.shape,
                value: tensor(node.value), gradient: tensor(gradient), check: check,
                box: frames[node.id.index].map { BoxJSON(x: rounded($0.x), y: rounded($0.y), width: rounded($0.width), height: rounded($0.height)) })
        }
        let figure = FigureJSON(style: options.style.rawValue, width: rounded(laidOut.size.width), height: rounded(laidOut.size.height),
                                output: output.index, nodes: nodes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = NonFiniteJSON.encoding
        return try encoder.encode(figure) + Data("\n".utf8)
    }
}
