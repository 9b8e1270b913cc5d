/// NumPy broadcasting: shapes are aligned at their last axis; two sizes agree
/// when they are equal or one of them is 1.
public func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 {
            result[i] = da
        } else if da == 1 {
            result[i] = db
        } else {
            return nil
        }
    }
    return result
}

extension Tensor {
    /// For every element of `target`, the flat offset of the element of a
    /// tensor of shape `source` that broadcasting maps onto it.
    static func broadcastOffsets(from source: [Int], to target: [Int]) -> [Int] {
        let rank = target.count
        let padded = [Int](repeating: 1, count: rank - source.count) + source
        let sourceStrides = Tensor.strides(padded)
        let count = Tensor.elementCount(target)
        var offsets = [Int](repeating: 0, count: count)
        if count == 0 { return offsets }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for flat in 0..<count {
            offsets[flat] = offset
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if padded[axis] != 1 { offset += sourceStrides[axis] }
                if index[axis] < target[axis] { break }
                if padded[axis] != 1 { offset -= sourceStrides[axis] * target[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
        return offsets
    }

    /// This tensor broadcast to `target` (which must be compatible).
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(broadcastShapes(shape, target) == target, "Tensor.broadcast: \(shape) does not broadcast to \(target)")
        if count == 1 { return Tensor(shape: target, repeating: data[0]) }
        let offsets = Tensor.broadcastOffsets(from: shape, to: target)
        return Tensor(shape: target, data: offsets.map { data[$0] })
    }

    /// Sums a broadcast gradient back down to `target`, the shape of the
    /// input that was broadcast: the adjoint of `broadcast(to:)`.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        var out = [Double](repeating: 0, count: Tensor.elementCount(target))
        if out.count == 1 {
            out[0] = data.reduce(0, +)
        } else {
            let offsets = Tensor.broadcastOffsets(from: target, to: shape)
            for i in 0..<data.count { out[offsets[i]] += data[i] }
        }
        return Tensor(shape: target, data: out)
    }

    /// Elementwise combination with NumPy broadcasting. Shapes must be
    /// compatible (checked by the op's shape rule before).
    public static func broadcasting(
        _ a: Tensor, _ b: Tensor, _ combine: (Double, Double) -> Double
    ) -> Tensor {
        if a.shape == b.shape { return a.zipMap(b, combine) }
        guard let shape = broadcastShapes(a.shape, b.shape) else {
            preconditionFailure("Tensor.broadcasting: shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let count = Tensor.elementCount(shape)
        var out = [Double](repeating: 0, count: count)
        if b.count == 1 {
            let s = b.data[0]
            let aa = a.broadcast(to: shape)
            aa.data.withUnsafeBufferPointer { pa in
                out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<count { po[i] = combine(pa[i], s) }
                }
            }
        } else if a.count == 1 {
            let s = a.data[0]
            let bb = b.broadcast(to: shape)
            bb.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<count { po[i] = combine(s, pb[i]) }
                }
            }
        } else {
            let oa = a.shape == shape ? Array(0..<count) : broadcastOffsets(from: a.shape, to: shape)
            let ob = b.shape == shape ? Array(0..<count) : broadcastOffsets(from: b.shape, to: shape)
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    oa.withUnsafeBufferPointer { ia in
                        ob.withUnsafeBufferPointer { ib in
                            out.withUnsafeMutableBufferPointer { po in
                                for i in 0..<count { po[i] = combine(pa[ia[i]], pb[ib[i]]) }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
