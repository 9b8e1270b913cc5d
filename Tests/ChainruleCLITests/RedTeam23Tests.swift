import Foundation
import Testing

/// Session 23's red team, through the built binary: options that only one
/// figure style reads, given for a figure drawn in another style, were
/// dropped in silence; an empty `--labels` drew wires that carry nothing.
@Suite("Red team 23: options of another style refused", .serialized)
struct RedTeam23Tests {
    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }

    static let circuit = "x = 2\ny = x * x + x\n"

    /// Before: each exited 0 and drew the figure as if the option were not given.
    static let optionsOfAnotherStyle: [HostileCase] = [
        HostileCase(description: "--view with --style circuit",
                    arguments: ["render", "--example", "mlp", "--view", "ops", "--style", "circuit", "-o", "m.png"],
                    expect: .refuses("--view picks the model style's layers or ops view; this figure is drawn in the circuit style: add --style model, or leave --view out")),
        HostileCase(description: "--view on a scalar graph drawn in its default circuit style",
                    arguments: ["render", "c.grad", "--view", "layers", "-o", "c.svg"], inputs: ["c.grad": .text(circuit)],
                    expect: .refuses("this figure is drawn in the circuit style, the default for this graph: add --style model")),
        HostileCase(description: "--view with --steps in the record style",
                    arguments: ["render", "--example", "mlp", "--steps", "--style", "record", "--view", "ops", "-o", "s.pdf"],
                    expect: .refuses("this figure is drawn in the record style: add --style model")),
        HostileCase(description: "--labels with --style record",
                    arguments: ["render", "--example", "mlp", "--style", "record", "--labels", "value", "-o", "m.png"],
                    expect: .refuses("--labels sets what the circuit style's wires carry; this figure is drawn in the record style, which shows every value and gradient in its boxes: add --style circuit, or leave --labels out")),
        HostileCase(description: "--labels on a graph with layers drawn in its default model style",
                    arguments: ["render", "--example", "convnet", "--labels", "grad", "-o", "m.html"],
                    expect: .refuses("this figure is drawn in the model style, the default for this graph")),
        HostileCase(description: "an empty --labels",
                    arguments: ["render", "c.grad", "--labels", "", "-o", "c.png"], inputs: ["c.grad": .text(circuit)],
                    expect: .refuses("--labels '' names nothing for the wires to carry: use any of value, local, grad, separated by commas")),
        HostileCase(description: "a --labels of commas only",
                    arguments: ["render", "c.grad", "--labels", " , ,", "-o", "c.png"], inputs: ["c.grad": .text(circuit)],
                    expect: .refuses("names nothing for the wires to carry")),
    ]

    @Test("an option of another style is refused, naming the style drawn", arguments: optionsOfAnotherStyle)
    func optionOfAnotherStyle(_ hostile: HostileCase) throws { try check(hostile) }

    /// Each option still works in its own style, the default style included.
    static let optionsInTheirStyle: [HostileCase] = [
        HostileCase(description: "--view ops in the model style", arguments: ["render", "--example", "convnet", "--view", "ops", "-o", "m.svg"],
                    expect: .succeeds(writes: ["m.svg"])),
        HostileCase(description: "--labels in the default circuit style", arguments: ["render", "c.grad", "--labels", "value,local", "-o", "c.svg"],
                    inputs: ["c.grad": .text(circuit)], expect: .succeeds(writes: ["c.svg"])),
        HostileCase(description: "--labels with circuit --steps", arguments: ["render", "c.grad", "--steps", "--labels", "grad", "-o", "c.pdf"],
                    inputs: ["c.grad": .text(circuit)], expect: .succeeds(writes: ["c.pdf"])),
    ]

    /// Before: exit 0, --scale dropped (it sets a PNG's pixels), and --batch with --example drawn as if not given.
    static let droppedInSilence: [HostileCase] = [
        HostileCase(description: "render --scale for an SVG", arguments: ["render", "c.grad", "--scale", "4", "-o", "c.svg"], inputs: ["c.grad": .text(circuit)],
                    expect: .refuses("--scale sets a PNG's pixels per point; 'c.svg' is drawn in vectors, which have none: give no --scale")),
        HostileCase(description: "render --steps --scale into a PDF", arguments: ["render", "c.grad", "--steps", "--scale", "3", "-o", "s.pdf"], inputs: ["c.grad": .text(circuit)],
                    expect: .refuses("'s.pdf' is drawn in vectors")),
        HostileCase(description: "render --batch with --example", arguments: ["render", "--example", "mlp", "--batch", "8", "-o", "m.png"],
                    expect: .refuses("--batch applies to a program (a FILE, - or -e EXPR); --example mlp draws a built-in graph")),
        HostileCase(description: "render --batch 100 (the default's value) with --example", arguments: ["render", "--example", "mlp", "--batch", "100", "-o", "m.png"],
                    expect: .refuses("--batch applies to a program (a FILE, - or -e EXPR); --example mlp draws a built-in graph")),
        HostileCase(description: "render --scale for a PNG still works", arguments: ["render", "c.grad", "--scale", "1", "-o", "c.png"], inputs: ["c.grad": .text(circuit)],
                    expect: .succeeds(writes: ["c.png"])),
        HostileCase(description: "render --steps --scale into frames still works", arguments: ["render", "c.grad", "--steps", "--scale", "1", "-o", "f/"], inputs: ["c.grad": .text(circuit)],
                    expect: .succeeds(writes: ["f", "f/step-00.png", "f/step-01.png", "f/step-02.png"])),
    ]

    @Test("an option render would drop is refused", arguments: droppedInSilence)
    func optionRenderWouldDrop(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("an option in its own style works", arguments: optionsInTheirStyle)
    func optionInItsStyle(_ hostile: HostileCase) throws { try check(hostile) }
}

/// `check --python` with a step that resolves nothing, or a NaN at its check point.
@Suite("Red team 23: a Python layer's bad input is exit 2, as a program's")
struct RedTeam23PythonTests {
    /// Before: every element "inconclusive", exit 0, after 14 round trips to Python.
    @Test func aStepThatResolvesNoInputElementIsRefused() throws {
        let run = try CLIRun(["check", "--python", "samples/python/affine.py", "--eps", "1e-300"])
        #expect(run.status == 2, "\(run.stdout)")
        #expect(run.stderr.contains("error: --eps 1e-300: the step h = 1e-300 is below"), "\(run.stderr)")
        #expect(!run.stdout.contains("inconclusive"))
    }

    /// Before: "FAILED: 1 of 1 node" (exit 1), a verdict on the backward rule for a NaN at the check point.
    @Test func aNaNOutputAtTheCheckPointIsRefusedNamingTheLayer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam23-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("nan.py")
        try """
            import numpy as np
            import chainrule
            def forward(x):
                with np.errstate(invalid="ignore"):
                    return np.sqrt(x - 10.0)
            def backward(x, out, dout):
                return (dout * 0.5 / out,)
            if __name__ == "__main__":
                chainrule.serve(forward, backward, inputs={"x": (3,)}, seed=0)

            """.write(to: script, atomically: false, encoding: .utf8)
        let run = try CLIRun(["check", "--python", script.path])
        #expect(run.status == 2, "\(run.stdout)")
        #expect(run.stderr.contains("error: cannot check:"), "\(run.stderr)")
        #expect(run.stderr.contains("NaN"), "\(run.stderr)")
    }
}
