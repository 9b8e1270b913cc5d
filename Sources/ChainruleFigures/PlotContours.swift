/// Values of a function on a regular grid: `values[j][i]` is f(xs[i], ys[j]).
public struct Grid: Sendable {
    public var xs: [Double]
    public var ys: [Double]
    public var values: [[Double]]

    public init(xs: [Double], ys: [Double], values: [[Double]]) {
        precondition(values.count == ys.count && values.allSatisfy { $0.count == xs.count }, "Grid: values must be ys.count rows of xs.count")
        self.xs = xs
        self.ys = ys
        self.values = values
    }

    /// f sampled at `columns` × `rows` evenly spaced points covering the two ranges, ends included.
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>, columns: Int, rows: Int, _ f: (Double, Double) -> Double) {
        precondition(columns >= 2 && rows >= 2, "Grid: at least 2 columns and 2 rows, got \(columns)×\(rows)")
        let xs = (0..<columns).map { x.lowerBound + (x.upperBound - x.lowerBound) * Double($0) / Double(columns - 1) }
        let ys = (0..<rows).map { y.lowerBound + (y.upperBound - y.lowerBound) * Double($0) / Double(rows - 1) }
        self.init(xs: xs, ys: ys, values: ys.map { yv in xs.map { xv in f(xv, yv) } })
    }
}

/// Contour lines by marching squares.
public enum Contours {
    /// The level set f = `level` of the grid as line segments (in data
    /// coordinates): each grid cell whose corners straddle the level
    /// contributes one segment (two at a saddle), its ends found by linear
    /// interpolation along the cell's edges (zero-length ones, where a grid
    /// point lies exactly on the level, left out). A saddle is resolved by the
    /// cell's mean value, so the lines never cross.
    public static func segments(_ grid: Grid, level: Double) -> [(Point, Point)] {
        var out: [(Point, Point)] = []
        let xs = grid.xs, ys = grid.ys, v = grid.values
        guard xs.count > 1, ys.count > 1 else { return [] }
        for j in 0..<(ys.count - 1) {
            for i in 0..<(xs.count - 1) {
                // Corners counter-clockwise from bottom-left: a (i,j), b (i+1,j), c (i+1,j+1), d (i,j+1).
                let a = v[j][i], b = v[j][i + 1], c = v[j + 1][i + 1], d = v[j + 1][i]
                guard a.isFinite, b.isFinite, c.isFinite, d.isFinite else { continue }
                let index = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0)
                if index == 0 || index == 15 { continue }
                func along(_ p: Point, _ fp: Double, _ q: Point, _ fq: Double) -> Point {
                    let t = fp == fq ? 0.5 : (level - fp) / (fq - fp)
                    return Point(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t)
                }
                let pa = Point(xs[i], ys[j]), pb = Point(xs[i + 1], ys[j]), pc = Point(xs[i + 1], ys[j + 1]), pd = Point(xs[i], ys[j + 1])
                let bottom = along(pa, a, pb, b), right = along(pb, b, pc, c), top = along(pd, d, pc, c), left = along(pa, a, pd, d)
                // A corner exactly on the level makes both ends that corner: a point, not a line.
                func add(_ p: Point, _ q: Point) { if p != q { out.append((p, q)) } }
                switch index {
                case 1, 14: add(left, bottom)
                case 2, 13: add(bottom, right)
                case 3, 12: add(left, right)
                case 4, 11: add(right, top)
                case 6, 9: add(bottom, top)
                case 7, 8: add(left, top)
                case 5, 10:
                    // Saddle: a and c on one side, b and d on the other.
                    let centreAbove = (a + b + c + d) / 4 > level
                    if (index == 5) == centreAbove {
                        add(left, top)
                        add(bottom, right)
                    } else {
                        add(left, bottom)
                        add(right, top)
                    }
                default: break
                }
            }
        }
        return out
    }

    /// The level set as polylines: the segments of `segments(_:level:)` joined
    /// end to end (neighbouring cells compute a shared edge's point identically,
    /// so ends match exactly). A closed curve ends where it started.
    public static func lines(_ grid: Grid, level: Double) -> [[Point]] {
        struct Key: Hashable {
            var x: UInt64, y: UInt64
            init(_ p: Point) { (x, y) = (p.x.bitPattern, p.y.bitPattern) }
        }
        let pieces = segments(grid, level: level)
        var ends: [Key: [Int]] = [:]
        for (k, piece) in pieces.enumerated() {
            ends[Key(piece.0), default: []].append(k)
            ends[Key(piece.1), default: []].append(k)
        }
        var used = [Bool](repeating: false, count: pieces.count)
        /// The far end of an unused segment that touches `p`, marking it used.
        func next(from p: Point) -> Point? {
            guard let k = ends[Key(p)]?.first(where: { !used[$0] }) else { return nil }
            used[k] = true
            return Key(pieces[k].0) == Key(p) ? pieces[k].1 : pieces[k].0
        }
        var lines: [[Point]] = []
        for k in pieces.indices where !used[k] {
            used[k] = true
            var forward = [pieces[k].0, pieces[k].1]
            while let p = next(from: forward[forward.count - 1]) { forward.append(p) }
            var backward: [Point] = []
            while let p = next(from: backward.last ?? forward[0]) { backward.append(p) }
            lines.append(backward.reversed() + forward)
        }
        return lines
    }
}
