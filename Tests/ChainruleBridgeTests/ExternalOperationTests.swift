import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

@Suite struct PythonRequirementTests {
    @Test func python3WithNumPyIsInstalled() {
        #expect(pythonProblem == nil, "\(pythonProblem ?? ""): the bridge's tests need Python 3 with NumPy — Debian/Ubuntu: apt-get install -y python3-numpy; elsewhere: pip install numpy")
    }
}

@Suite struct NumPyLayerTests {
    @Test func cs231nAffineLayerPasses() throws {
        let op = try start(sample("affine"))
        defer { op.close() }
        #expect(op.name == "affine_forward")
        #expect(op.inputNames == ["x", "w", "b"])
        #expect(op.inputs.map(\.shape) == [[2, 4, 5], [20, 3], [3]])
        #expect(op.output.shape == [2, 3])
        #expect(op.location?.line == 7)
        let report = try op.check()
        let node = try #require(report.nodes.first)
        #expect(report.passed)
        #expect(node.status == .pass)
        #expect(node.op == "affine_forward")
        #expect(node.elementsChecked == 6 * (40 + 60 + 3))
    }

    @Test func aTransposedWeightGradientIsNamedToItsElement() throws {
        let op = try start(sample("affine-wrong"))
        defer { op.close() }
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .fail)
        let worst = try #require(node.worst)
        #expect(worst.input == 1)
        #expect(worst.inputName == "w")
        // The transposed rule sends out[n, k]'s gradient to w[k, j] instead of w[j, k]:
        // the worst entry is one where w's row is the output's column, and the true entry is 0.
        let (wRow, wColumn, outColumn) = (worst.index[0], worst.index[1], worst.outputIndex?[1])
        #expect(wRow == outColumn)
        #expect(wColumn != outColumn)
        #expect(abs(worst.numeric) < 1e-8)
        #expect(abs(worst.analytic) > 0.1)
    }

    @Test func aMissingFactorOfTwoIsCaught() throws {
        let op = try start(script("square-missing-factor"))
        defer { op.close() }
        let worst = try #require(try op.check().nodes.first?.worst)
        #expect(worst.inputName == "x")
        #expect(abs(worst.analytic * 2 - worst.numeric) < 1e-6 * abs(worst.numeric))
    }

    @Test func cs231nNaiveConvolutionPasses() throws {
        let op = try start(sample("conv"))
        defer { op.close() }
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .pass)
        #expect(node.method == .fullJacobian)
        #expect(node.elementsChecked == 200 * (150 + 108 + 4))
    }

    @Test func cs231nMaxPoolReportsItsBranchesAndPasses() throws {
        let op = try start(sample("maxpool"))
        defer { op.close() }
        #expect(op.reportsBranches)
        #expect(op.branches(op.inputs).count == 2 * 3 * 2 * 2)
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .pass)
    }

    @Test func aDeclaredKinkIsReportedWithBothOneSidedDerivatives() throws {
        let op = try start(script("relu-at-zero"))
        defer { op.close() }
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .kink)
        let kink = try #require(node.kinks.first)
        #expect(kink.inputName == "x")
        #expect(kink.index == [1])
        #expect(kink.leftDerivative == 0)
        #expect(abs((kink.rightDerivative ?? 0) - 1) < 1e-9)
    }

    @Test func aMaxPoolThatRoutesToEveryCellFails() throws {
        let op = try start(script("maxpool-routes-to-all"))
        defer { op.close() }
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .fail)
        #expect(node.worst?.inputName == "x")
        #expect(node.worst?.analytic == 1)
        #expect(node.worst?.numeric == 0)
    }

    @Test func classLabelsGetNoGradient() throws {
        let op = try start(sample("softmax-loss"))
        defer { op.close() }
        #expect(op.isDifferentiable(input: 0))
        #expect(!op.isDifferentiable(input: 1))
        #expect(op.inputs[1].data == [0, 2, 1, 2, 0])
        #expect(op.output.shape == [])
        #expect(try op.check().passed)
    }

    @Test func aBatchOfPointsIsOneRoundTrip() throws {
        let batched = try start(sample("affine")), single = try start(sample("affine"))
        defer {
            batched.close()
            single.close()
        }
        let points = (0..<10).map { k in
            var x = batched.inputs[0]
            x.data[k] += 0.25
            return [x, batched.inputs[1], batched.inputs[2]]
        }
        let before = batched.statistics.roundTrips
        let outputs = batched.forward(batch: points)
        #expect(batched.statistics.roundTrips == before + 1)
        #expect(outputs == points.map(single.forward))
        #expect(single.statistics.roundTrips == 10)
    }

    @Test func aFileWithBranchesIsAskedEachBatchOnce() throws {
        let counts = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("chainrule-counts-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: counts) }
        let op = try start(script("counts-calls"))
        #expect(op.reportsBranches)
        let before = op.statistics.roundTrips
        // More points than a cache of recent points could hold: each is still asked once.
        let points = (0..<300).map { k in [op.inputs[0].map { $0 + Double(k) * 1e-3 }] }
        let evaluated = op.evaluate(batch: points)
        #expect(op.statistics.roundTrips == before + 1)
        #expect(evaluated.map(\.output) == points.map { $0[0].map { Swift.max($0, 0) } })
        _ = try op.check()
        let (evaluations, roundTrips) = op.statistics
        op.close()
        let asked = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: counts))
        // The HELO's forward, branches and backward at the inputs are the calls chainrule did not ask for.
        #expect(asked["forward"] == 1 + evaluations)
        #expect(asked["branches"] == 1 + evaluations)
        let backwardRoundTrips = (asked["backward"] ?? 0) - 1
        #expect(asked["requests"] == roundTrips - backwardRoundTrips)
    }
}

@Suite struct BadPythonInputTests {
    @Test func aMissingFileIsRefusedBeforeStarting() {
        #expect(failure(sample("no-such-layer")) == .badFile(path: sample("no-such-layer"), reason: "no such file"))
    }

    @Test func aMissingInterpreterSaysWhatToInstall() {
        let error = #expect(throws: ExternalError.self) {
            _ = try start(sample("affine"), interpreter: "no-such-python3")
        }
        guard case .cannotStart(_, let reason) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("no such program"))
        #expect(error?.description.contains("apt-get install python3-numpy") == true)
    }

    @Test func anErrorBeforeServeIsTheFilesOwn() {
        // Its exit status is known only once the child has been reaped.
        #expect(failure(script("raises-at-import")) == .exitedBeforeServe(status: .exited(1)))
    }

    @Test func anExceptionInForwardComesWithItsTraceback() {
        guard case .python(.exception, let message, let traceback) = failure(script("forward-raises")) else {
            Issue.record("expected a Python exception")
            return
        }
        #expect(message == "forward raised NameError: name 'undefined_scale' is not defined")
        #expect(traceback.contains("forward-raises.py\", line 7, in forward"))
        #expect(!traceback.contains("chainrule.py"))
    }

    @Test func bytesThatAreNotFramesAreAProtocolError() {
        guard case .protocolViolation(let detail) = failure(script("writes-into-pipe")) else {
            Issue.record("expected a protocol error")
            return
        }
        #expect(detail.contains("\"hell\""))
    }

    @Test func aStaleModuleOfAnotherProtocolIsNamed() {
        guard case .protocolViolation(let detail) = failure(script("stale/layer")) else {
            Issue.record("expected a protocol error")
            return
        }
        #expect(detail.contains("protocol 0, this chainrule 1"))
    }

    @Test func aWrongShapedGradientNamesItsInput() {
        #expect(failure(script("wrong-gradient-shape")) == .python(
            kind: .shape, message: "backward's gradient for 'w' has shape (2, 3); it must have the shape of w, (3, 2)",
            traceback: ""))
    }

    @Test func aFileThatNeverServesSaysSo() {
        #expect(failure(script("never-serves")) == .exitedBeforeServe(status: .exited(0)))
    }

    @Test func aHangingCallIsStoppedAtTheDeadlineAndReaped() throws {
        let start = Date()
        // The checker's first call is a batch; how many points it holds is the checker's choice.
        let (failure, child) = run(script("hangs"), deadline: 0.5)
        guard case .timedOut(seconds: 0.5, let waitingFor)? = failure else {
            Issue.record("a hanging call must time out")
            return
        }
        #expect(waitingFor.hasPrefix("forward at "))
        #expect(Date().timeIntervalSince(start) < 10)
        let pid = try #require(child?.pid)
        #expect(child?.tracked == true)
        #expect(isReaped(pid))
    }

    @Test func pythonExitingMidCheckThrowsInsteadOfAVerdict() throws {
        let op = try start(script("exits-mid-check"))
        defer { op.close() }
        let pid = try #require(op.processID)
        #expect {
            _ = try op.check()
        } throws: { error in
            guard case .exitedMidCheck(status: .exited(7), let waitingFor) = error as? ExternalError else { return false }
            return waitingFor.hasPrefix("forward at ")
        }
        #expect(op.failure != nil)
        #expect(op.processID == nil)
        #expect(op.forward(op.inputs).data.allSatisfy { $0.isNaN })
        #expect(isReaped(pid))
    }

    @Test func aFrameHeaderLongerThanItsReplyIsRefusedAtOnce() throws {
        let op = try start(script("huge-frame-header"), deadline: 30)
        defer { op.close() }
        let started = Date()
        _ = op.forward(op.inputs)
        guard case .protocolViolation(let detail)? = op.failure else {
            Issue.record("expected a protocol error, got \(String(describing: op.failure))")
            return
        }
        #expect(detail.hasPrefix("a OUTS frame of 2147483647 bytes is longer than its reply can be (at most 32)"))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func aReplyTrickledByteByByteTimesOutAtTheCallsDeadline() throws {
        let op = try start(script("trickles-bytes"), deadline: 1)
        defer { op.close() }
        let started = Date()
        // 24 bytes, one every 0.1 s: each within the deadline, the whole reply not.
        _ = op.forward(op.inputs)
        #expect(op.failure == .timedOut(seconds: 1, waitingFor: "forward at 1 point"))
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func everyChildIsReapedAfterClose() throws {
        let op = try start(sample("affine"))
        let pid = try #require(op.processID)
        #expect(Temporaries.children.contains(pid))
        op.close()
        #expect(op.processID == nil)
        #expect(isReaped(pid))
    }
}

@Suite(.enabled(if: torchPython != nil, torchSkipReason)) struct TorchFunctionTests {
    @Test func aTorchLinearFunctionPassesInFloat64() throws {
        let op = try start(sample("torch-linear"), interpreter: torchPython!)
        defer { op.close() }
        #expect(op.name == "Linear")
        #expect(op.inputNames == ["x", "w", "b"])
        let node = try #require(try op.check().nodes.first)
        #expect(node.status == .pass)
        #expect(node.maxRelativeError < 1e-6)
    }

    @Test func aTorchFunctionMissingAFactorIsNamedToItsElement() throws {
        let op = try start(script("torch-wrong"), interpreter: torchPython!)
        defer { op.close() }
        let worst = try #require(try op.check().nodes.first?.worst)
        #expect(worst.inputName == "x")
        #expect(abs(worst.analytic - 2 * worst.numeric) < 1e-5 * abs(worst.numeric))
    }
}
