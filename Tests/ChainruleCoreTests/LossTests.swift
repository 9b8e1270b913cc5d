import ChainruleCore
import Foundation
import Testing

@Suite struct LossTests {
    @Test func crossEntropyOfUniformLogitsIsLogC() throws {
        let g = Graph()
        let logits = g.input("logits", Tensor.zeros([2, 10]))
        let loss = crossEntropy(logits, labels: [3, 7])
        try g.backward(loss)
        #expect(abs(loss.value.scalar - Foundation.log(10)) < 1e-12)
        // (softmax − onehot)/N: 0.1/2 everywhere, (0.1 − 1)/2 at the label.
        #expect(abs(logits.gradient![0, 3] - (-0.45)) < 1e-12)
        #expect(abs(logits.gradient![1, 0] - 0.05) < 1e-12)
    }

    @Test func crossEntropyDoesNotOverflowOnLargeLogits() {
        let loss = CrossEntropy().forward([Tensor([[1000, 0]]), Tensor([1])])
        #expect(abs(loss.scalar - 1000) < 1e-9)
    }

    @Test func hingeOnCS231nsFirstExample() throws {
        // scores [3.2, 5.1, −1.7], correct class 0: max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9
        let g = Graph()
        let scores = g.input("scores", Tensor([[3.2, 5.1, -1.7]]))
        let loss = hinge(scores, labels: [0])
        try g.backward(loss)
        #expect(abs(loss.value.scalar - 2.9) < 1e-12)
        // Only the margin of class 1 is positive.
        #expect(scores.gradient == Tensor([[-1, 1, 0]]))
    }

    @Test func hingeAveragesOverTheBatch() {
        // CS231n's three examples: 2.9, 0 and 12.9 → mean 5.27.
        let scores = Tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
        let loss = Hinge().forward([scores, Tensor([0, 1, 2])])
        #expect(abs(loss.scalar - 5.266666666666667) < 1e-12)
    }

    @Test func labelsThatAreNotClassIndicesAreRefused() {
        let g = Graph()
        let logits = g.input("logits", Tensor.zeros([2, 3]))
        _ = crossEntropy(logits, g.constant(Tensor([1, 3]), name: "labels"))
        do {
            try g.forward()
            Issue.record("accepted label 3 for 3 classes")
        } catch {
            #expect(error.description.contains(
                "cross_entropy: label 1 is 3; labels are class indices, whole numbers from 0 to 2 for 3 classes"))
        }
        #expect(throws: ValueError.self) { try Hinge().validate([Tensor.zeros([1, 3]), Tensor([0.5])]) }
        #expect(!CrossEntropy().isDifferentiable(input: 1) && !Hinge().isDifferentiable(input: 1))
    }

    @Test func mseIsTheMeanOverAllElements() throws {
        let g = Graph()
        let pred = g.input("pred", Tensor([[1, 2], [3, 4]]))
        let target = g.input("target", Tensor([[1, 0], [3, 0]]))
        let loss = mse(pred, target)
        try g.backward(loss)
        #expect(loss.value.scalar == (4 + 16) / 4)
        #expect(pred.gradient == Tensor([[0, 1], [0, 2]]))
        #expect(target.gradient == Tensor([[0, -1], [0, -2]]))
    }

    @Test func l2IsHalfLambdaTimesTheSumOfSquares() throws {
        let g = Graph()
        let W = g.param("W", Tensor([[1, -2], [3, 0]]))
        let penalty = l2(W, lambda: 0.1)
        try g.backward(penalty)
        #expect(abs(penalty.value.scalar - 0.7) < 1e-12)
        #expect(W.gradient == Tensor([[0.1, -0.2], [0.30000000000000004, 0]]))
    }

    @Test func binaryCrossEntropyWithLogitsIsStable() {
        let op = BinaryCrossEntropyWithLogits()
        // −log σ(0) = log 2; a huge wrong-side logit costs its size, not infinity.
        #expect(abs(op.forward([Tensor([0]), Tensor([1])]).scalar - Foundation.log(2)) < 1e-12)
        #expect(abs(op.forward([Tensor([-800]), Tensor([1])]).scalar - 800) < 1e-9)
        #expect(throws: ValueError.self) { try op.validate([Tensor([0, 0]), Tensor([0, 2])]) }
    }
}
