/// The PyTorch module a node was exported from: its name as `state_dict`
/// writes it (`features.conv1`) and, when the file says, its class (`Conv2d`).
struct ModuleScope: Equatable {
    var name: String
    var kind: String?
}

/// How the names torch.onnx.export writes become Chainrule's layers and parameters.
enum ONNXNaming {
    /// The module of a node, from what either of torch's exporters writes: the
    /// torch.export-based one (torch ≥ 2.9's default) keeps a `namespace`
    /// entry in the node's metadata,
    /// `: Net/features: torch.nn.modules.container.Sequential/features.conv1: torch.nn.modules.conv.Conv2d/conv2d: aten.conv2d.default`
    /// (the root, each module as `name: class`, the op last), and the
    /// TorchScript one names the node by the module path (`/features/conv1/Conv`).
    /// Nil for a node of the top-level module.
    static func scope(of node: Onnx_NodeProto) -> ModuleScope? {
        if let namespace = node.metadataProps.first(where: { $0.key == "namespace" })?.value {
            let segments = namespace.split(separator: "/")
            guard segments.count > 2 else { return nil }
            let module = segments[segments.count - 2]
            guard let colon = module.range(of: ": ") else { return ModuleScope(name: String(module), kind: nil) }
            let kind = module[colon.upperBound...].split(separator: ".").last.map(String.init)
            return ModuleScope(name: String(module[..<colon.lowerBound]), kind: kind)
        }
        return layerName(ofNode: node.name).map { ModuleScope(name: $0, kind: nil) }
    }

    /// The module path of a node: `/features/conv1/Conv` → `features.conv1`,
    /// `/Flatten` → nil (a node of the top-level module belongs to no layer).
    /// The exporter names a node by its module path and op type; the path's
    /// parts are joined with dots as PyTorch's `state_dict` joins them.
    static func layerName(ofNode name: String) -> String? {
        guard name.hasPrefix("/") else { return nil }
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count > 1 else { return nil }
        return parts.dropLast().joined(separator: ".")
    }

    /// A node's name in the graph, dotted the same way: `/features/conv1/Conv`
    /// → `features.conv1.Conv`, `/Flatten` → `Flatten`; nil for an unnamed node.
    static func nodeName(_ name: String) -> String? {
        let parts = name.split(separator: "/")
        return parts.isEmpty ? nil : parts.joined(separator: ".")
    }
}
