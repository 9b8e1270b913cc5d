import Foundation
import Testing

/// Session 20's red team, through the built binary: data that overflow,
/// inputs that are devices, ranks in the thousands, a Python module written
/// onto a full disk. Each exits 2 with the reason, fast, leaving nothing behind.
@Suite("Red team 20: overflowing data, inputs that are devices, huge ranks, a full disk", .serialized)
struct RedTeam20Tests {
    static let mlp = "x = data(2)\ny = labels()\nh = Linear(x, 8)\na = relu(h)\ns = Linear(a, 2)\nloss = cross_entropy(s, y)\n"

    /// A float64 `.npy` of `values` shaped `shape`.
    static func npy(_ shape: [Int], _ values: [Double]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let data = values.reduce(into: Data()) { bytes, value in withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }", data: data)
    }

    static let hugeFeatures = npy([8, 2], (0..<16).map { $0 % 3 == 0 ? 1e308 : -0.5 })
    static let labels = npy([8], (0..<8).map { Double($0 % 2) })

    static let cases: [HostileCase] = [
        HostileCase(description: "train on data of 1e308: the data overflow, named, not 'try a smaller --lr'",
                    arguments: ["train", "m.grad", "--data", "X.npy,Y.npy", "--epochs", "1"],
                    inputs: ["m.grad": .text(mlp), "X.npy": .file(hugeFeatures), "Y.npy": .file(labels)],
                    expect: .refuses("before any update: the data overflow — the data (X.npy,Y.npy, bound to x) reach 1e+308", never: "try a smaller --lr")),
        HostileCase(description: "train --data a CSV that links to /dev/zero: refused before reading",
                    arguments: ["train", "m.grad", "--data", "z.csv", "--epochs", "1"],
                    inputs: ["m.grad": .text(mlp), "z.csv": .symlink(to: "/dev/zero")],
                    expect: .refuses("error: cannot read z.csv: it is a device, not a CSV file"), seconds: 20),
        HostileCase(description: "train --resume a named pipe: refused at once, not waited on",
                    arguments: ["train", "-e", "a = 3\nloss = (a - 1)^2\n", "--steps", "2", "--resume", "p.safetensors"],
                    inputs: ["p.safetensors": .fifo],
                    expect: .refuses("cannot read the checkpoint p.safetensors: it is a pipe, not a checkpoint"), seconds: 20),
        HostileCase(description: "render a reshape to 20,000 axes as a page: refused at its line (before: 5 s, and minutes at 100,000)",
                    arguments: ["render", "r.grad", "-o", "r.html"],
                    inputs: ["r.grad": .text("x = [1]\ny = reshape(x, shape: [\(Array(repeating: "1", count: 20_000).joined(separator: ", "))])\nz = sum(y)\n")],
                    expect: .refuses("r.grad:2:5: error: reshape: its result would have 20000 axes, more than the 64 a tensor may have"), seconds: 20),
        HostileCase(description: "python-module into a folder whose chainrule.py links to /dev/full: no space left, in words",
                    arguments: ["python-module", "m"],
                    inputs: ["m": .folder, "m/chainrule.py": .symlink(to: "/dev/full")],
                    expect: .refuses("error: cannot write chainrule.py into 'm': no space left on device", never: "NSCocoaErrorDomain")),
    ]

    @Test("hostile data, inputs and outputs are refused with the reason", arguments: cases)
    func hostile(_ hostile: HostileCase) throws {
        let run = try HostileRun(hostile.arguments, inputs: hostile.inputs, seconds: hostile.seconds, streams: hostile.streams)
        let problems = run.problems(against: hostile.expect, bound: hostile.seconds)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; ")) — after \(String(format: "%.1f", run.seconds)) s; stderr: \(run.stderr.prefix(600))")
    }
}
