import ChainruleCore
@testable import ChainruleFigures
import Testing

/// The heatmaps of a scene's box contents, in reading order.
func heatmaps(_ block: Block) -> [Heatmap] {
    if case .heatmap(let map) = block.kind { return [map] }
    return block.children.flatMap(heatmaps)
}

@Suite("Tensors people can read: numbers in cells, no averaging, channel grids, one scale")
struct TensorCellTests {
    func builder(_ graph: Graph, _ output: Var) throws -> SceneBuilder {
        try graph.backward(output)
        var options = FigureOptions()
        options.style = .record
        return SceneBuilder(graph: graph, output: output.id, options: options)
    }

    @Test("A tensor up to 8×8 shows its numbers in the cells; a 9×9 one does not")
    func numbersInCells() throws {
        let g = Graph()
        let small = g.input("a", Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, 5, 6]))
        let large = g.input("b", Tensor.randn([9, 9], seed: 1))
        let b = try builder(g, sum(small) + sum(large))
        let map = try #require(heatmaps(b.thumbnail(g[small.id].value!, diverging: false)).first)
        #expect(map.labels.map(\.text) == ["1.00", "-2.00", "3.50", "0.00", "5.00", "6.00"])
        #expect(heatmaps(b.thumbnail(g[large.id].value!, diverging: false)).first?.labels.isEmpty == true)
    }

    @Test("A vector's value and gradient are two rows of numbered cells, one line tall, their columns aligned, labelled at their left")
    func vectorRows() throws {
        let g = Graph()
        let x = g.input("x", Tensor(shape: [3], data: [-1, 0.5, 2]))
        let w = g.input("w", Tensor(shape: [3], data: [0.3, -0.2, 0.8]))
        let b = try builder(g, sum(x * w))
        let panels = b.tensorPanels(x.id)
        let maps = heatmaps(panels)
        #expect(maps.count == 2, "data and grad, no colour bar: the numbers say what a bar would")
        #expect(maps.map { $0.labels.map(\.text) } == [["-1.00", "0.50", "2.00"], ["0.30", "-0.20", "0.80"]])
        #expect(maps[0].cellWidth == maps[1].cellWidth, "the grad row's narrower numbers keep the data row's columns")
        #expect(maps[0].cellHeight < maps[0].cellWidth)
        #expect(panels.texts.filter { ["data", "grad"].contains($0) } == ["data", "grad"])
        #expect(panels.size.height > 2 * maps[0].cellHeight && panels.size.width < 3 * (maps[0].cellWidth + 20), "stacked, not side by side")
    }

    @Test("Up to 64×64 every element is a cell; beyond, cells are sampled, so a binary mask stays binary")
    func noAveraging() throws {
        let g = Graph()
        let mask = Tensor(shape: [100, 100], data: (0..<10_000).map { Double(($0 / 1000 + $0 % 100 / 10) % 2) })
        let full = Tensor.randn([40, 64], seed: 2)
        let x = g.input("m", mask)
        let b = try builder(g, sum(x))
        let sampled = try #require(heatmaps(b.thumbnail(mask, diverging: false)).first)
        #expect(sampled.rows == 50 && sampled.columns == 50)
        #expect(Set(sampled.colors).count == 2)
        let exact = try #require(heatmaps(b.thumbnail(full, diverging: false)).first)
        #expect(exact.rows == 40 && exact.columns == 64)
    }

    @Test("A wide matrix keeps its aspect ratio")
    func wideStaysWide() throws {
        let g = Graph()
        let w = Tensor.randn([10, 300], seed: 3)
        let b = try builder(g, sum(g.input("w", w)))
        let map = try #require(heatmaps(b.thumbnail(w, diverging: false)).first)
        #expect(map.columns == 60 && map.rows == 2)
    }

    @Test("Filters are drawn as a labelled grid, all six, not the first three")
    func filterGrid() throws {
        let g = Graph()
        let w = Tensor.randn([6, 1, 5, 5], seed: 4)
        let b = try builder(g, sum(g.input("W", w)))
        let picture = b.thumbnail(w, diverging: false, filters: true)
        #expect(heatmaps(picture).count == 6)
        #expect(picture.texts.contains("filter 3 of 6"))
    }

    @Test("A conv's weight is a bank of filters, also through ops that keep its shape; its input batch is images, drawn as image 1's channels")
    func filtersAndImages() throws {
        let g = Graph()
        let x = g.input("x", Tensor.randn([8, 3, 6, 6], seed: 5))
        let w = g.input("W", Tensor.randn([4, 3, 3, 3], seed: 6))
        let scaled = w / 9
        let b = try builder(g, sum(conv2d(x, scaled, pad: 1)))
        #expect(b.isFilterBank(scaled.id) && b.isFilterBank(w.id))
        #expect(!b.isFilterBank(x.id))
        let images = b.thumbnail(try #require(g[x.id].value), diverging: false, filters: b.isFilterBank(x.id))
        #expect(heatmaps(images).count == 3, "the three channels of the first image, not one plane of each of eight")
        #expect(images.texts.contains("channel 2 of 3") && images.texts.contains("image 1 of 8"))
        #expect(!images.texts.contains { $0.hasPrefix("filter") })
    }

    @Test("A max-pool's input and output share one colour scale: the 6 is one colour in x and in p")
    func sharedScale() throws {
        let (graph, output) = try Samples.load("maxpool-routing.grad")
        var options = FigureOptions()
        options.style = .record
        let b = SceneBuilder(graph: graph, output: output, options: options)
        let x = try #require(graph.nodes.first { $0.name == "x" }), p = try #require(graph.nodes.first { $0.name == "p" })
        let inX = try #require(heatmaps(b.tensorPanels(x.id)).first), inP = try #require(heatmaps(b.tensorPanels(p.id)).first)
        let xSix = try #require(inX.labels.firstIndex { $0.text == "6.00" })
        let pSix = try #require(inP.labels.firstIndex { $0.text == "6.00" })
        #expect(inX.colors[xSix] == inP.colors[pSix])
    }
}

@Suite("Max-pool windows on the input's heatmap")
struct PoolWindowTests {
    @Test("x of maxpool-routing shows its 2×2 windows and rings each window's winner: 6, 8, 3, 4")
    func windowsAndWinners() throws {
        let (graph, output) = try Samples.load("maxpool-routing.grad")
        var options = FigureOptions()
        options.style = .record
        let b = SceneBuilder(graph: graph, output: output, options: options)
        let x = try #require(graph.nodes.first { $0.name == "x" })
        let value = try #require(heatmaps(b.tensorPanels(x.id)).first)
        #expect(value.windowSide == 2)
        #expect(value.marked.map { value.labels[$0].text } == ["6.00", "8.00", "3.00", "4.00"])
    }
}
