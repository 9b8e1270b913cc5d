import Foundation
import Testing

/// Session 22's red team, through the built binary: options that a built-in
/// example dropped in silence, and a trained checkpoint of a program whose
/// layers shared a name. Each exits 2 with the reason, or works.
@Suite("Red team 22: options dropped in silence, layer names shared", .serialized)
struct RedTeam22Tests {
    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }

    /// Before: each was accepted, ignored, and the example drawn as if it were not given (exit 0).
    static let programOptionsWithAnExample: [HostileCase] = [
        ("--at", ["--at", "x=1"]), ("--data", ["--data", "moons"]), ("--init-from", ["--init-from", "c.safetensors"]),
        ("--max-elements", ["--max-elements", "1"]), ("--max-memory", ["--max-memory", "1G"]), ("--max-op-nodes", ["--max-op-nodes", "5"]),
        ("--input", ["--input", "x.npy"]),
    ].map { flag, option in
        HostileCase(description: "render --example sigmoid \(option.joined(separator: " ")) is refused, not ignored",
                    arguments: ["render", "--example", "sigmoid", "-o", "s.png"] + option,
                    expect: .refuses("\(flag) applies to a program (a FILE, - or -e EXPR); --example sigmoid draws a built-in graph that takes no options of a program"))
    }

    @Test("an option of a program given with --example is refused", arguments: programOptionsWithAnExample)
    func programOptionWithAnExample(_ hostile: HostileCase) throws { try check(hostile) }

    static let twoLayersNamedAlike = "x = data(2)\ny = labels()\nh = Linear(relu(Linear(x, 3)), 4)\nh_2 = Linear(x, 4)\nloss = cross_entropy(h + h_2, y)\n"

    /// Before: h's second layer and the binding h_2's layer were both h_2; the checkpoint kept
    /// one h_2.W and the resume was refused ("h_2.W: shape 4×2 in the checkpoint, 4×3 in the program").
    @Test func aCheckpointOfTwoLayersOfOneBindingResumes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam22-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let program = folder.appendingPathComponent("two.grad").path, checkpoint = folder.appendingPathComponent("two.safetensors").path
        try Self.twoLayersNamedAlike.write(toFile: program, atomically: false, encoding: .utf8)
        let first = try CLIRun(["train", program, "--data", "moons", "--epochs", "1", "--checkpoint", checkpoint])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try CLIRun(["train", program, "--data", "moons", "--epochs", "2", "--resume", checkpoint])
        #expect(resumed.status == 0 && resumed.stdout.contains("after 2 epochs"), "\(resumed.stderr)")
    }
}
