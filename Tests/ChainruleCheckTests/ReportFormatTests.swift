import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

@Suite struct ReportFormatTests {
    @Test func anInfiniteToleranceIsWrittenInTheHeaderInsteadOfCrashingIt() throws {
        let (g, f) = Examples.cs231nCircuit()
        for options in [CheckOptions(absoluteTolerance: .infinity), CheckOptions(relativeTolerance: .infinity)] {
            let report = try GradientCheck.graph(g, output: f.id, options: options)
            let header = try #require(TerminalReport().render(report).split(separator: "\n").first)
            #expect(header.contains("inf"))
            #expect(report.passed)
        }
    }

    @Test func theJSONHasAVersionAndNestsEachVerdict() throws {
        let (g, out, wrong, _, _, _) = wrongSigmoidGraph()
        let report = try GradientCheck.graph(g, output: out.id)
        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        #expect(object["formatVersion"] as? Int == CheckReport.formatVersion)
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        let node = try #require(nodes.first { $0["name"] as? String == "s" })
        let verdict = try #require(node["verdict"] as? [String: Any])
        #expect(verdict["status"] as? String == "fail")
        #expect(report.node(wrong.id)?.status == .fail)
        let rules = try #require(try JSONSerialization.jsonObject(with: GradientCheck.rules(ops: [Registry.spec(named: "relu")!]).jsonData()) as? [String: Any])
        #expect(rules["formatVersion"] as? Int == CheckReport.formatVersion)
    }

    @Test func kinksAreSortedBeforeTheyAreCutSoTheJSONIsTheSameOnEveryRun() throws {
        // 40 tied zeros of a relu feeding a max-pool: more kinks than are kept.
        let g = Graph()
        let x = g.input("x", Tensor(shape: [1, 1, 10, 8], data: (0..<80).map { $0 % 2 == 0 ? 0 : -Double($0) }))
        let y = sum(maxpool2d(relu(x), kernel: 2)).named("y")
        let serial = try GradientCheck.graph(g, output: y.id, options: CheckOptions(parallel: false))
        let parallel = try GradientCheck.graph(g, output: y.id, options: CheckOptions(parallel: true))
        let leaf = try #require(serial.leaf(x.id))
        #expect(leaf.kinkCount > leaf.kinks.count)
        #expect(leaf.kinks.map(\.index) == leaf.kinks.map(\.index).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(parallel.leaves == serial.leaves)
        #expect(parallel.nodes == serial.nodes)
    }

    @Test func theSweepIsAVOfTheUsersNodeWithRichardsonsChosenStep() throws {
        let g = Graph()
        let x = g.input("x", Tensor([0.7, -0.3]))
        let s = sigmoid(x).named("s")
        _ = sum(s).named("y")
        let sweep = try GradientCheck.sweep(g, node: try GradientCheck.opNode(named: "s", in: g))
        #expect(sweep.node == "s" && sweep.op == "sigmoid" && sweep.inputName == "x")
        let central = try #require(sweep.errors[.central])
        #expect(central.count == StepSweep.steps.count)
        let best = try #require(zip(StepSweep.steps, central).min { $0.1 < $1.1 })
        #expect(best.0 >= 1e-8 && best.0 <= 1e-4)
        #expect(central.first! > 1e3 * best.1 && central.last! > 1e3 * best.1)
        #expect((sweep.errors[.richardson]?.min() ?? 1) < best.1)
        #expect(sweep.richardsonChosenStep <= 0.125 && sweep.richardsonChosenStep >= 0.125 / 32)
    }

    @Test func anUnknownNodeNameSuggestsTheClosest() {
        let g = Graph()
        let x = g.input("x", Tensor([0.7]))
        _ = sigmoid(x).named("hidden")
        #expect(throws: UnknownNode.self) { try GradientCheck.opNode(named: "hiden", in: g) }
        do {
            _ = try GradientCheck.opNode(named: "hiden", in: g)
        } catch {
            #expect(error.description.contains("did you mean hidden?"))
        }
    }
}
