/// How the names torch.onnx.export writes become Chainrule's layers and parameters.
enum ONNXNaming {
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
}
