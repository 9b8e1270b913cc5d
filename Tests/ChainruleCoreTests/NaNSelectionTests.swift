import ChainruleCore
import Foundation
import Testing

/// Max-selecting ops let a NaN win wherever it stands, as NumPy and torch do.
/// Before, `x > best` let a NaN win only from the first place: `max(log([1, -1, 3]))`
/// read 1.0986 and `max(log([-1, 1, 3]))` NaN, and `maximum(NaN, 0)` read 0.
@Suite("A NaN propagates through max, maximum, minimum and max-pool, whatever its place")
struct NaNSelectionTests {
    @Test("max over all elements and along an axis is NaN with a NaN in any place, and its gradient goes to the first NaN",
          arguments: 0..<4)
    func reduceMax(place: Int) throws {
        var data: [Double] = [1, -2, 3, 0.5]
        data[place] = .nan
        let all = ReduceMax()
        #expect(all.forward([Tensor(data)]).scalar.isNaN)
        let dx = try #require(all.backward([Tensor(data)], output: all.forward([Tensor(data)]), gradient: Tensor(1.0))[0])
        #expect(dx.data == (0..<4).map { $0 == place ? 1 : 0 })

        // Along axis 1 of a 2×4 matrix: only the row holding the NaN is NaN.
        let matrix = Tensor(shape: [2, 4], data: data + [4, 3, 2, 1])
        let rows = ReduceMax(ReductionAxis(axis: 1)).forward([matrix])
        #expect(rows.data[0].isNaN)
        #expect(rows.data[1] == 4)
    }

    @Test("maximum and minimum are NaN where either side is, in both orders, and route the gradient to the NaN")
    func maximumAndMinimum() throws {
        let a = Tensor([.nan, 1, 2, .nan])
        let b = Tensor([0, .nan, 1, .nan])
        for op in [Maximum(), Minimum()] as [any ChainruleCore.Operation] {
            for (x, y) in [(a, b), (b, a)] {
                let out = op.forward([x, y])
                #expect(out.data[0].isNaN && out.data[1].isNaN && out.data[3].isNaN, "\(op.name)(\(x.data), \(y.data))")
                let grads = op.backward([x, y], output: out, gradient: Tensor([1, 1, 1, 1]))
                let dx = try #require(grads[0]), dy = try #require(grads[1])
                for i in [0, 1] {
                    // The gradient goes to the side holding the NaN.
                    #expect(x.data[i].isNaN ? dx.data[i] == 1 && dy.data[i] == 0 : dx.data[i] == 0 && dy.data[i] == 1)
                }
            }
        }
        #expect(Maximum().forward([Tensor([2]), Tensor([1])]).data == [2])
        #expect(Minimum().forward([Tensor([2]), Tensor([1])]).data == [1])
    }

    @Test("max-pool's window is NaN with a NaN in any of its cells, and routes the gradient there", arguments: 0..<4)
    func maxPool(cell: Int) throws {
        var data: [Double] = [1, 4, 3, 2]
        data[cell] = .nan
        let x = Tensor(shape: [1, 1, 2, 2], data: data)
        let op = try MaxPool2D(kernel: 2)
        let out = op.forward([x])
        #expect(out.data[0].isNaN)
        let dx = try #require(op.backward([x], output: out, gradient: Tensor(shape: [1, 1, 1, 1], data: [5]))[0])
        #expect(dx.data == (0..<4).map { $0 == cell ? 5 : 0 })
    }

    @Test("through the language: the reported example gives NaN in every order")
    func throughAGraph() throws {
        for values in [[1.0, -1, 3], [-1, 1, 3], [3, 1, -1]] {
            let g = Graph()
            let l = log(g.input("x", Tensor(values)))
            #expect(max(l).value.scalar.isNaN, "max(log(\(values)))")
        }
    }
}
