import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// The statistics of a large tensor, read once and shared by every view of a
/// figure (`TensorStatistics`, `TensorStatisticsCache`), equal what each view
/// read for itself before, NaN, ±inf and signed zeros included.
@Suite("Session 23: a tensor's statistics read once for every view")
struct Session23PerfStatisticsTests {
    // MARK: The readings the statistics replace, as SceneBuilder and PageTensor wrote them

    /// `summary`'s bounds: `min()` and `max()` of the elements that are not NaN.
    static func oldSummaryBounds(_ tensor: Tensor) -> (low: Double, high: Double, nans: Int)? {
        let numbers = tensor.data.filter { !$0.isNaN }
        guard let low = numbers.min(), let high = numbers.max() else { return nil }
        return (low, high, tensor.count - numbers.count)
    }

    /// `finiteRange` as it read every element of every tensor.
    static func oldFiniteRange(_ tensors: [Tensor], magnitude: Bool) -> ClosedRange<Double> {
        var low = Double.infinity, high = -Double.infinity
        for tensor in tensors {
            for v in tensor.data where v.isFinite {
                let x = magnitude ? abs(v) : v
                low = min(low, x)
                high = max(high, x)
            }
        }
        guard low <= high else { return 0...0 }
        return magnitude ? 0...high : low...high
    }

    /// `PageTensor`'s statistics loop.
    static func oldPageStatistics(_ tensor: Tensor) -> (min: Double?, max: Double?, mean: Double?, nans: Int, infinities: Int) {
        var low = Double.infinity, high = -Double.infinity, sum = 0.0, finite = 0, nans = 0, infinities = 0
        for v in tensor.data {
            if v.isNaN { nans += 1 } else if v.isInfinite { infinities += 1 } else {
                low = Swift.min(low, v)
                high = Swift.max(high, v)
                sum += v
                finite += 1
            }
        }
        return (finite > 0 ? low : nil, finite > 0 ? high : nil, finite > 0 ? sum / Double(finite) : nil, nans, infinities)
    }

    /// Tensors whose bounds are easy to get wrong: signed zeros in both
    /// orders, NaN and ±inf among numbers, nothing finite, all NaN, one
    /// element, and a large random one with specials strewn in.
    static let awkward: [Tensor] = {
        var random = SystemRandomNumberGenerator()
        var large = (0..<5000).map { _ in Double.random(in: -3...3, using: &random) }
        for (k, special) in [Double.nan, .infinity, -.infinity, 0.0, -0.0, .nan].enumerated() { large[k * 997] = special }
        return [
            [0.0, -0.0, 1, -0.0], [-0.0, 0.0], [-0.0, -1, 0.0, 1, 1], [.nan, .infinity, -.infinity], [.nan, .nan],
            [.infinity, .infinity], [.nan, 2, 1, .infinity, 1, 2], [-.infinity, -5, .nan, -5], [3], large, [],
        ].map { Tensor(shape: [$0.count], data: $0) }
    }()

    static func same(_ a: ClosedRange<Double>, _ b: ClosedRange<Double>) -> Bool {
        a.lowerBound.bitPattern == b.lowerBound.bitPattern && a.upperBound.bitPattern == b.upperBound.bitPattern
    }

    /// Before: there were no shared statistics; each view, legend and scale
    /// read the tensor again (`summary` by copying its non-NaN elements). This
    /// pins the one pass to those readings, to the bit: −0 and 0 stay as each
    /// reading picked them, a shared scale of two tensors is their elements' range.
    @Test("One pass gives the bounds, ranges and page statistics each reading gave")
    func onePassEqualsTheReadings() {
        for tensor in Self.awkward {
            let statistics = TensorStatistics(tensor)
            if let old = Self.oldSummaryBounds(tensor) {
                #expect(statistics.low.bitPattern == old.low.bitPattern, "low of \(tensor.data.prefix(8))")
                #expect(statistics.high.bitPattern == old.high.bitPattern, "high of \(tensor.data.prefix(8))")
                #expect(statistics.nans == old.nans)
            } else {
                #expect(statistics.nans == statistics.count)
            }
            for magnitude in [false, true] {
                #expect(Self.same(SceneBuilder.finiteRange([statistics], magnitude: magnitude), Self.oldFiniteRange([tensor], magnitude: magnitude)),
                        "range of \(tensor.data.prefix(8)), magnitude \(magnitude)")
                for other in Self.awkward {
                    #expect(Self.same(SceneBuilder.finiteRange([statistics, TensorStatistics(other)], magnitude: magnitude),
                                      Self.oldFiniteRange([tensor, other], magnitude: magnitude)),
                            "shared range of \(tensor.data.prefix(8)) and \(other.data.prefix(8))")
                }
            }
            let page = PageTensor(tensor), old = Self.oldPageStatistics(tensor)
            #expect(page.min?.bitPattern == old.min?.bitPattern && page.max?.bitPattern == old.max?.bitPattern)
            #expect(page.mean?.bitPattern == old.mean?.bitPattern && page.nans == old.nans && page.infinities == old.infinities)
        }
    }

    /// A graph of one 64×64 leaf (4,096 elements: large enough to be
    /// remembered) holding `data`, and its sum.
    static func graph(_ data: [Double]) -> (graph: Graph, x: NodeID, output: NodeID) {
        let graph = Graph()
        let x = graph.leaf("x", Tensor(shape: [64, 64], data: data), role: .input)
        let output = try! graph.apply(ReduceSum(), [x])
        try! graph.forward()
        return (graph, x, output)
    }

    /// Before: the same texts, each from a copy of the non-NaN elements per
    /// box and view. Through the cache a large tensor still writes its NaN
    /// count and its infinite bounds.
    @Test("A large tensor's range still says ±inf and how many elements are NaN")
    func nonFiniteTexts() {
        var data = [Double](repeating: 1, count: 4096)
        data[0] = .nan
        data[1] = .infinity
        data[2] = 2.5
        let cases: [([Double], String)] = [
            (data, "[1.00, inf], 1 NaN"),
            ([Double](repeating: .nan, count: 4096), "all NaN"),
            ([-.infinity, .nan, .nan] + [Double](repeating: -0.5, count: 4093), "[-inf, -0.50], 2 NaN"),
        ]
        for (data, expected) in cases {
            let (graph, x, output) = Self.graph(data)
            let builder = SceneBuilder(graph: graph, output: output, options: FigureOptions())
            #expect(builder.summary(graph[x].value) == expected)
            #expect(builder.summary(graph[x].value) == expected, "the remembered statistics write the same")
            #expect(builder.options.tensorStatistics.count == 1)
        }
    }

    /// Before: the page of `x = randn(64, 64); y = sum(x * x)` read its four
    /// large tensors again in each of its scenes (the view, its other
    /// palette's twin, each step page and its twin) and several times in
    /// each (scale, legend, range text): the 2048×2048 page took 16.6 s in a
    /// debug build. Now each is read once for the page, and once for the PNG's whole fitting search.
    @Test("The page and the PNG's fitting search read each large tensor once", arguments: [FigureStyle.record, .circuit, .model])
    func readOnce(style: FigureStyle) throws {
        let (graph, output) = try compiled("x = randn(64, 64, seed: 1)\ny = sum(x * x)")
        let large = graph.nodes.flatMap { [$0.value, $0.gradient] }.compactMap { $0 }.filter { $0.count >= TensorStatisticsCache.smallest }.count
        #expect(large == 4)
        var options = FigureOptions()
        options.style = style
        _ = try InteractivePage.html(graph: graph, output: output, options: options)
        #expect(options.tensorStatistics.passes <= large)
        #expect(options.tensorStatistics.passes > 0)

        var png = FigureOptions()
        png.style = style
        _ = try GraphFigure.layout(graph: graph, output: output, options: png)
        #expect(png.tensorStatistics.passes <= large)
    }

    /// Before: nothing was remembered, so nothing could go stale. A leaf given
    /// a new value (training's next step) is read afresh with the same
    /// options, and the tensors the graph let go are let go by the cache too.
    @Test("A new value is read afresh, and the old one is not kept")
    func newValues() throws {
        let (graph, x, output) = Self.graph([Double](repeating: 1, count: 4096))
        try graph.backward(from: output)
        var options = FigureOptions()
        options.style = .record
        let first = SceneBuilder(graph: graph, output: output, options: options)
        #expect(first.summary(graph[x].value) == "[1.00, 1.00]")
        #expect(options.tensorStatistics.count == 1)

        graph.setValue(Tensor(shape: [64, 64], data: (0..<4096).map { Double($0) / 4095 * 3 - 1 }), of: x)
        try graph.forward()
        let second = SceneBuilder(graph: graph, output: output, options: options)
        #expect(second.summary(graph[x].value) == "[-1.00, 2.00]")
        #expect(options.tensorStatistics.count == 1, "the first value, no longer in the graph, is dropped")
        _ = try GraphFigure.scene(graph: graph, output: output, options: options)
        #expect(options.tensorStatistics.count == 2, "the value and its gradient")

        let other = Self.graph([Double](repeating: 7, count: 4096))
        #expect(SceneBuilder(graph: other.graph, output: other.output, options: options).summary(other.graph[other.x].value) == "[7.00, 7.00]")
        #expect(options.tensorStatistics.count == 1, "another graph's tensors replace the first graph's")
    }
}
