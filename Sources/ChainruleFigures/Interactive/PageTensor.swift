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

    init(_ tensor: Tensor) {
        shape = tensor.shape
        count = tensor.count
        var low = Double.infinity, high = -Double.infinity, sum = 0.0, finite = 0
        nans = 0
        infinities = 0
        for v in tensor.data {
            if v.isNaN { nans += 1 } else if v.isInfinite { infinities += 1 } else {
                low = Swift.min(low, v)
                high = Swift.max(high, v)
                sum += v
                finite += 1
            }
        }
        min = finite > 0 ? low : nil
        max = finite > 0 ? high : nil
        mean = finite > 0 ? sum / Double(finite) : nil
        data = tensor.count <= Self.fullLimit ? tensor.data.map(Self.rounded) : nil
        heatmap = tensor.count > 0 ? PageHeatmap(tensor, low: finite > 0 ? low : 0, high: finite > 0 ? high : 0) : nil
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
