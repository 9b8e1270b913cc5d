import ChainruleCore
import Foundation

extension PageTensor {
    /// Tensors with at most this many elements carry every number (the panel
    /// prints up to 64 of them and tooltips none): enough for the lecture
    /// circuits' vectors and small matrices, a few kilobytes each.
    static let fullLimit = 256
    /// A heatmap plane is pooled down to at most this many cells a side.
    static let maxSide = 64
    /// At most this many planes (channels) of a tensor are drawn.
    static let maxPlanes = 16

    /// `statistics`: the tensor's, when the figures have read them already.
    init(_ tensor: Tensor, statistics known: TensorStatistics? = nil) {
        let statistics = known ?? TensorStatistics(tensor)
        shape = tensor.shape
        count = tensor.count
        nans = statistics.nans
        infinities = statistics.infinities
        let finite = statistics.finite > 0
        min = finite ? statistics.finiteLow : nil
        max = finite ? statistics.finiteHigh : nil
        mean = finite ? statistics.finiteSum / Double(statistics.finite) : nil
        data = tensor.count <= Self.fullLimit ? tensor.data.map(Self.rounded) : nil
        heatmap = tensor.count > 0 ? PageHeatmap(tensor, low: finite ? statistics.finiteLow : 0, high: finite ? statistics.finiteHigh : 0) : nil
    }

    /// Seven significant digits: what a person reads, and short JSON.
    static func rounded(_ v: Double) -> Double {
        guard v.isFinite, v != 0 else { return v }
        return Double(String(format: "%.7g", v)) ?? v
    }
}

extension PageHeatmap {
    /// The tensor as planes of its last two axes (a vector is one row; a
    /// scalar one cell); the axes before them are flattened into planes.
    init(_ tensor: Tensor, low: Double, high: Double) {
        let shape = tensor.shape
        let rows = shape.count >= 2 ? shape[shape.count - 2] : 1
        let columns = shape.last ?? 1
        let allPlanes = Swift.max(tensor.count / Swift.max(rows * columns, 1), 1)
        let shown = Swift.min(allPlanes, PageTensor.maxPlanes)
        let rowPool = (rows + PageTensor.maxSide - 1) / PageTensor.maxSide
        let columnPool = (columns + PageTensor.maxSide - 1) / PageTensor.maxSide
        let cellRows = (rows + rowPool - 1) / rowPool, cellColumns = (columns + columnPool - 1) / columnPool
        var bytes = [UInt8]()
        bytes.reserveCapacity(shown * cellRows * cellColumns)
        let span = high - low
        for plane in 0..<shown {
            let offset = plane * rows * columns
            for r in 0..<cellRows {
                for c in 0..<cellColumns {
                    var sum = 0.0, n = 0
                    for rr in (r * rowPool)..<Swift.min((r + 1) * rowPool, rows) {
                        for cc in (c * columnPool)..<Swift.min((c + 1) * columnPool, columns) {
                            sum += tensor.data[offset + rr * columns + cc]
                            n += 1
                        }
                    }
                    let mean = sum / Double(n)
                    if mean.isNaN { bytes.append(251) } else if mean.isInfinite { bytes.append(mean > 0 ? 252 : 253) } else {
                        bytes.append(span > 0 ? UInt8(((mean - low) / span * 250).rounded()) : 125)
                    }
                }
            }
        }
        planes = shown
        hiddenPlanes = allPlanes - shown
        self.rows = cellRows
        self.columns = cellColumns
        pooling = [rowPool, columnPool]
        cells = Data(bytes).base64EncodedString()
    }
}
