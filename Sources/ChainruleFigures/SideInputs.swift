/// What an op reads beside the value it works on: the wires into a box after
/// its first whose box nothing leads into — parameters, constants, labels,
/// copies (`h.W` and `h.b` for `linear(x, h.W, h.b)`, a loss's target). The
/// one definition that the layout's spread ranks (`LayoutRequest.spreadEdges`),
/// the record style's rank estimate (`SceneBuilder.boxesAloneInRank`) and the
/// wrapped rows' side boxes (`RowWrap.sideInputsBeside`) all read.
struct SideInputs {
    /// Each box's wires in, by edge index, in the scene's order.
    let into: [String: [Int]]
    /// The boxes some wire leads into.
    let fed: Set<String>
    let edges: [SceneEdge]

    init(_ edges: [SceneEdge]) {
        var into = [String: [Int]](), fed = Set<String>()
        for (k, edge) in edges.enumerated() {
            into[edge.to, default: []].append(k)
            fed.insert(edge.to)
        }
        self.into = into
        self.fed = fed
        self.edges = edges
    }

    /// Whether wire `k` (the `position`-th into its reader) is a side input.
    func isSide(_ k: Int, position: Int) -> Bool { Self.isSide(position: position, sourceIsFed: fed.contains(edges[k].from)) }

    /// The rule itself, for any graph of boxes: an input after the first whose box nothing feeds.
    static func isSide(position: Int, sourceIsFed: Bool) -> Bool { position > 0 && !sourceIsFed }

    /// Whether a reader of these inputs (`sourceIsFed` for each, in order) reads one value and
    /// only side inputs beside it: two or more inputs, every one after the first a side input.
    static func readsOperandBesideSides(_ sourceIsFed: [Bool]) -> Bool {
        sourceIsFed.count >= 2 && sourceIsFed.indices.dropFirst().allSatisfy { isSide(position: $0, sourceIsFed: sourceIsFed[$0]) }
    }

    /// The side inputs of `reader`, by edge index, in the order of its wires.
    func sides(of reader: String) -> [Int] {
        (into[reader] ?? []).enumerated().filter { isSide($1, position: $0) }.map(\.element)
    }
}
