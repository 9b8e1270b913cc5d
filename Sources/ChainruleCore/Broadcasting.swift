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
    /// Walks a tensor of `shape` in row-major order and calls
    /// `body(position, offset)` with each element's flat position and the
    /// offset that `strides` (one per axis, 0 for a broadcast axis) give it in
    /// a source buffer. An odometer: no index array per element.
    /// Broadcasting and transposing are both this walk with other strides.
    static func forEachStridedOffset(shape: [Int], strides: [Int], _ body: (_ position: Int, _ offset: Int) -> Void) {
        let count = Tensor.elementCount(shape)
        guard count > 0 else { return }
        guard let last = shape.indices.last else { return body(0, 0) }
        var index = [Int](repeating: 0, count: shape.count)
        var base = 0
        var position = 0
        while position < count {
            var offset = base
            for _ in 0..<shape[last] {
                body(position, offset)
                offset += strides[last]
                position += 1
            }
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// For every element of `target`, the flat offset of the element of a
    /// tensor of shape `source` that broadcasting maps onto it.
    static func broadcastOffsets(from source: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - source.count) + source
        let strides = zip(padded, Tensor.strides(padded)).map { size, stride in size == 1 ? 0 : stride }
        var offsets = [Int](repeating: 0, count: Tensor.elementCount(target))
        offsets.withUnsafeMutableBufferPointer { offsets in
            forEachStridedOffset(shape: target, strides: strides) { position, offset in offsets[position] = offset }
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
