/// A dense tensor of `Double`s: a shape and row-major contiguous storage.
///
/// A scalar has shape `[]` and one element. Float64 everywhere, because the
/// gradient checker's finite differences need the precision.
public struct Tensor: Sendable, Equatable, Hashable {
    public var shape: [Int]
    public var data: [Double]

    public init(shape: [Int], data: [Double]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(Tensor.checkedElementCount(shape) != nil, "Tensor: the strides of shape \(shape) overflow Int")
        precondition(
            Tensor.elementCount(shape) == data.count,
            "Tensor: shape \(shape) holds \(Tensor.elementCount(shape)) elements, data has \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A scalar (shape `[]`).
    public init(_ scalar: Double) {
        self.shape = []
        self.data = [scalar]
    }

    /// A vector.
    public init(_ values: [Double]) {
        self.shape = [values.count]
        self.data = values
    }

    /// A matrix from its rows.
    public init(_ rows: [[Double]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor: ragged rows")
        self.shape = [rows.count, columns]
        self.data = rows.flatMap { $0 }
    }

    public init(shape: [Int], repeating value: Double) {
        self.init(shape: shape, data: [Double](repeating: value, count: Tensor.elementCount(shape)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// The element count of a shape a `Tensor` holds (so it cannot overflow:
    /// `init` refuses shapes that `checkedElementCount` refuses).
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The most axes a tensor may have: 64, NumPy's limit (`NPY_MAXDIMS` since NumPy 2.0).
    /// A shape is printed in messages, tooltips and figures, and some work grows with the
    /// rank per element: a rank of 100,000 (an ONNX Unsqueeze, a reshape) made a page take
    /// minutes. Front ends refuse leaves past it; `Graph.apply` refuses op results past it.
    public static let maximumRank = 64

    /// The element count of a shape that may come from a person or a file,
    /// so a limit can be checked before anything is allocated. Nil if a size
    /// is negative or if the product of the sizes, a zero counted as one,
    /// overflows `Int`: then the strides could not be computed, even for a
    /// shape with no elements, such as 0×4294967296×4294967296.
    public static func checkedElementCount(_ shape: [Int]) -> Int? {
        var count = 1
        var stridesProduct = 1
        for size in shape {
            guard size >= 0 else { return nil }
            let (product, overflow) = stridesProduct.multipliedReportingOverflow(by: Swift.max(size, 1))
            guard !overflow else { return nil }
            stridesProduct = product
            count *= size
        }
        return count
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    public var isScalar: Bool { shape.isEmpty }

    /// The single value of a one-element tensor.
    public var scalar: Double {
        precondition(data.count == 1, "Tensor.scalar: tensor of shape \(shape) has \(data.count) elements")
        return data[0]
    }

    /// Row-major strides of `shape`, computed with overflow checks: a shape
    /// from outside passes `checkedElementCount` first, which makes them fit.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            guard axis > 0 else { break }
            let (product, overflow) = running.multipliedReportingOverflow(by: shape[axis])
            precondition(!overflow, "Tensor.strides: shape \(shape) has more elements than an Int counts")
            running = product
        }
        return strides
    }

    public var strides: [Int] { Tensor.strides(shape) }

    /// The flat offset of a multi-index.
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) for shape \(shape)")
        var offset = 0
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            precondition(index[axis] >= 0 && index[axis] < shape[axis], "Tensor: index \(index) out of range for shape \(shape)")
            offset += index[axis] * running
            running *= shape[axis]
        }
        return offset
    }

    /// The multi-index of a flat offset.
    public static func index(of offset: Int, in shape: [Int]) -> [Int] {
        var index = [Int](repeating: 0, count: shape.count)
        var rest = offset
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    public subscript(_ index: Int...) -> Double {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    /// The same data with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    public func map(_ transform: (Double) -> Double) -> Tensor {
        let out = data.withUnsafeBufferPointer { x in
            [Double].written(count: x.count) { ElementwiseKernel.map(x.baseAddress!, into: $0, count: x.count, transform) }
        }
        return Tensor(shape: shape, data: out)
    }

    /// Elementwise combination of two tensors of the same shape.
    public func zipMap(_ other: Tensor, _ combine: (Double, Double) -> Double) -> Tensor {
        precondition(shape == other.shape, "Tensor.zipMap: shapes \(shape) and \(other.shape) differ")
        let out = data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                [Double].written(count: a.count) { out in
                    for i in 0..<a.count { out[i] = combine(a[i], b[i]) }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }

    public var sum: Double { data.reduce(0, +) }
    public var min: Double? { data.min() }
    public var max: Double? { data.max() }
    public var mean: Double { data.isEmpty ? .nan : sum / Double(data.count) }
    public var allFinite: Bool { data.allSatisfy { $0.isFinite } }
}

extension Tensor: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public init(floatLiteral value: Double) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Tensor: CustomStringConvertible {
    /// Nested brackets as NumPy prints them, for tensors of up to 100
    /// elements (`Tensor 2×3 [[1, 2, 3], [4, 5, 6]]`); a summary for larger ones.
    public var description: String {
        if isScalar { return formatNumber(data[0]) }
        if count <= 100 { return "Tensor \(describeShape(shape)) " + nestedText() }
        return "Tensor \(describeShape(shape)) " + summaryText(first: 6)
    }

    /// Every element, bracketed as NumPy prints them (`[[1, 2], [3, 4]]`).
    /// With `rowIndent`, each row of a matrix or higher goes on its own line,
    /// aligned under the first after `rowIndent` spaces; without, all on one line.
    ///
    /// Written with a loop over the elements, not a call per axis: a tensor of
    /// 100,000 axes of size 1 prints without exhausting the stack.
    public func nestedText(rowIndent: Int? = nil) -> String {
        if isScalar { return formatNumber(data[0]) }
        // The axes that bracket items: all of them, or those before the first
        // axis of size 0, whose every item is then an empty list "[]".
        let depth = shape.firstIndex(of: 0) ?? rank
        let items = Tensor.elementCount(Array(shape[..<depth]))
        func separator(_ axis: Int) -> String {
            axis == rank - 1 || rowIndent == nil ? ", " : ",\n" + String(repeating: " ", count: rowIndent! + axis + 1)
        }
        var text = String(repeating: "[", count: depth)
        var index = [Int](repeating: 0, count: depth)
        for item in 0..<items {
            if item > 0 {
                // The deepest axis that steps on; every axis after it starts again at 0.
                var axis = depth - 1
                while index[axis] == shape[axis] - 1 {
                    index[axis] = 0
                    axis -= 1
                }
                index[axis] += 1
                text += String(repeating: "]", count: depth - 1 - axis) + separator(axis) + String(repeating: "[", count: depth - 1 - axis)
            }
            text += depth == rank ? formatNumber(data[item]) : "[]"
        }
        return text + String(repeating: "]", count: depth)
    }

    /// A large tensor in one line: `min -0.0214 max 0.0187 mean 1.2e-06
    /// first [0.0012, …]`. The extremes are those of the finite elements
    /// (`NaN` if there is none), so one infinity does not hide the range.
    public func summaryText(first: Int) -> String {
        let head = data.prefix(first).map { formatNumber($0) }.joined(separator: ", ")
        let finite = data.filter(\.isFinite)
        let extremes = [finite.min(), finite.max()].map { formatNumber($0 ?? .nan) }
        return "min \(extremes[0]) max \(extremes[1]) mean \(formatNumber(mean)) first [\(head), …]"
    }
}

// MARK: - Shapes written for people

/// `[1, 3, 32, 32]` as `1×3×32×32`, a scalar as `scalar`.
public func describeShape(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×")
}
