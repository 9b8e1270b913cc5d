import ChainruleCore
import Foundation

/// A problem with a data set: a file that cannot be read, a row that does
/// not parse, labels that are not class indices. Its text says where and
/// what would be right.
public struct DataError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Examples with integer class labels: `features` is `[N, example shape…]`.
public struct Dataset: Sendable {
    /// How the tools name it: `moons`, `digits`, `points.csv`.
    public var name: String
    public var features: Tensor
    /// One class index per example, from 0.
    public var labels: [Int]
    /// One more than the largest label (at least 2).
    public var classes: Int

    public init(name: String, features: Tensor, labels: [Int]) throws(DataError) {
        guard features.rank >= 2 else {
            throw DataError("\(name): the features must be [examples, features…], got shape \(describeShape(features.shape))")
        }
        guard features.shape[0] == labels.count else {
            throw DataError("\(name): \(features.shape[0]) examples of features but \(labels.count) labels; give one label per example")
        }
        guard !labels.isEmpty else { throw DataError("\(name): no examples") }
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw DataError("\(name): label \(bad) is \(labels[bad]); labels are class indices, whole numbers from 0")
        }
        if let bad = features.data.firstIndex(where: { !$0.isFinite }) {
            throw DataError("\(name): feature \(bad % (features.count / labels.count)) of example \(bad / (features.count / labels.count)) is \(formatNumber(features.data[bad])); features must be finite")
        }
        self.name = name
        self.features = features
        self.labels = labels
        self.classes = Swift.max(2, (labels.max() ?? 0) + 1)
    }

    public var count: Int { labels.count }
    /// The shape of one example: `[64]`, `[1, 8, 8]`, `[2]`.
    public var exampleShape: [Int] { Array(features.shape.dropFirst()) }
    var exampleSize: Int { features.count / count }

    /// The examples at `indices`, in that order: features `[k, example…]` and labels `[k]`.
    public func batch(_ indices: some Collection<Int>) -> (features: Tensor, labels: Tensor) {
        let size = exampleSize
        var data = [Double]()
        data.reserveCapacity(indices.count * size)
        features.data.withUnsafeBufferPointer { all in
            for i in indices { data.append(contentsOf: all[(i * size)..<((i + 1) * size)]) }
        }
        return (Tensor(shape: [indices.count] + exampleShape, data: data), Tensor(indices.map { Double(labels[$0]) }))
    }

    /// The examples at `indices` as a data set of their own (same class count).
    public func subset(_ indices: [Int], name: String) -> Dataset {
        let (features, _) = batch(indices)
        var subset = self
        subset.name = name
        subset.features = features
        subset.labels = indices.map { labels[$0] }
        return subset
    }

    /// Holds out round(fraction·N) examples, chosen by a seeded shuffle, as
    /// the validation set; the rest, in their original order, train.
    /// A fraction of 0 holds out nothing.
    public func split(validation fraction: Double, seed: UInt64) throws(DataError) -> (train: Dataset, validation: Dataset?) {
        guard fraction >= 0 && fraction < 1 else { throw DataError("--val takes a fraction in [0, 1), as 0.2, got \(formatNumber(fraction))") }
        let held = Int((fraction * Double(count)).rounded())
        guard held > 0 else { return (self, nil) }
        guard held < count else { throw DataError("--val \(formatNumber(fraction)) of \(count) examples leaves none to train on") }
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed ^ 0x5641_4C49_4441_5445)
        order.shuffle(using: &generator)
        let validation = order.prefix(held).sorted(), train = order.dropFirst(held).sorted()
        return (subset(Array(train), name: name), subset(Array(validation), name: "\(name) (validation)"))
    }

    /// The order of the examples in epoch `epoch` (from 0): 0, 1, 2, … or, with
    /// `shuffle`, a permutation drawn from the seed and the epoch alone, so a
    /// resumed run sees the same order as an uninterrupted one.
    public func order(epoch: Int, shuffle: Bool, seed: UInt64) -> [Int] {
        var order = Array(0..<count)
        guard shuffle else { return order }
        var generator = SeededGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
        order.shuffle(using: &generator)
        return order
    }

    /// Iterations in one epoch at `batch` examples each, the last batch
    /// holding what is left: ⌈N / batch⌉.
    /// ⌈count / batch⌉, written so that no batch size overflows it.
    public func iterationsPerEpoch(batch: Int) -> Int { count / batch + (count % batch == 0 ? 0 : 1) }
}
