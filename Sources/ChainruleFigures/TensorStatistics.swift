import ChainruleCore
import Synchronization

/// What figures write of a tensor and the scales they colour it by, from one
/// pass over its elements without copying them: its range as `summary`
/// writes it, its finite range and largest magnitude (`finiteRange`), and
/// the page panel's statistics (`PageTensor`).
struct TensorStatistics: Equatable {
    var count: Int
    var nans = 0
    var infinities = 0
    /// Over the elements that are not NaN, ±inf included (`summary`): the
    /// first of equal ones, as `min()` and `max()` of the elements in order
    /// pick (−0 and 0 are equal). ±inf when every element is NaN.
    var low = Double.infinity
    var high = -Double.infinity
    /// Over the finite elements, as `Swift.min` and `Swift.max` fold them
    /// in order (the first of equal lows, the last of equal highs), and their
    /// sum in order; ±inf and 0 when none is finite.
    var finiteLow = Double.infinity
    var finiteHigh = -Double.infinity
    var finiteMagnitude = -Double.infinity
    var finiteSum = 0.0

    /// How many elements are finite.
    var finite: Int { count - nans - infinities }

    init(_ tensor: Tensor) {
        count = tensor.count
        tensor.data.withUnsafeBufferPointer { elements in
            for v in elements {
                if v.isNaN { nans += 1; continue }
                if v < low { low = v }
                if v > high { high = v }
                if v.isInfinite { infinities += 1; continue }
                finiteLow = min(finiteLow, v)
                finiteHigh = max(finiteHigh, v)
                finiteMagnitude = max(finiteMagnitude, abs(v))
                finiteSum += v
            }
        }
    }
}

/// The statistics of a graph's large tensors, computed once and shared by
/// every scene drawn with a copy of one `FigureOptions`
/// (`FigureOptions.tensorStatistics`): the fitting search's candidates, the
/// interactive page's views, their other palette's twins and its step pages
/// each read a 2048×2048 weight's range several times over (a page took 16.6 s
/// in a debug build, 3.4 s its PNG).
///
/// A tensor is known by the address of its storage. An entry holds its
/// tensor, so while it lives no other storage has that address, and storage
/// shared by copies is never changed in place (copy on write): a hit is the
/// same numbers. Only tensors the graph holds as a value or gradient, of at
/// least `smallest` elements, are kept (a temporary, such as a wire's
/// gradient, is read afresh), and each new entry drops those the graph no
/// longer holds: the cache keeps no memory alive that the graph does not.
final class TensorStatisticsCache: Sendable {
    /// Smaller tensors are read each time: one pass costs less than the look-up.
    static let smallest = 4096

    private struct Entry: Sendable {
        var tensor: Tensor
        var statistics: TensorStatistics
    }

    private struct State: Sendable {
        var graph: ObjectIdentifier?
        var entries: [UInt: Entry] = [:]
        /// Passes over tensors the graph holds, since the cache was made.
        var passes = 0
    }

    private let state = Mutex(State())

    init() {}

    /// `tensor`'s statistics: remembered when `graph` holds it.
    func statistics(of tensor: Tensor, in graph: Graph) -> TensorStatistics {
        guard tensor.count >= Self.smallest else { return TensorStatistics(tensor) }
        let key = Self.address(tensor)
        let id = ObjectIdentifier(graph)
        if let known = state.withLock({ $0.graph == id ? $0.entries[key]?.statistics : nil }) { return known }
        let statistics = TensorStatistics(tensor)
        let held = Set(graph.nodes.flatMap { [$0.value, $0.gradient] }.compactMap { $0 }.filter { $0.count >= Self.smallest }.map(Self.address))
        guard held.contains(key) else { return statistics }
        state.withLock { state in
            if state.graph != id { state = State(graph: id, passes: state.passes) }
            state.passes += 1
            state.entries = state.entries.filter { held.contains($0.key) }
            state.entries[key] = Entry(tensor: tensor, statistics: statistics)
        }
        return statistics
    }

    /// How many tensors are remembered, and how many times one the graph holds was read (for tests).
    var count: Int { state.withLock { $0.entries.count } }
    var passes: Int { state.withLock { $0.passes } }

    /// The address of `tensor`'s elements (its storage; not empty: `smallest` > 0).
    private static func address(_ tensor: Tensor) -> UInt {
        tensor.data.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }
}
