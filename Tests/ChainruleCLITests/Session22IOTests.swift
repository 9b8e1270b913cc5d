import Foundation
import Testing

/// Session 22, through the built binary: every file the tool reads or writes
/// fails with the true reason and exit 2, leaving nothing behind; a program
/// in any line-end style, or not UTF-8 at all, is read or refused at the
/// right line and column with a clean source line.
@Suite("Session 22: true reasons for files read and written, line ends, bytes that are not text", .serialized)
struct Session22IOTests {
    static let program = "x = 2\ny = x * 3\n"

    static let cases: [HostileCase] = [
        HostileCase(description: "train --plots a device: it is a device, not 'a file'",
                    arguments: ["train", "-e", "a = 3\nloss = (a - 1)^2\n", "--steps", "2", "--plots", "/dev/full"],
                    expect: .refuses("--plots /dev/full: '/dev/full' is a device, not a folder", never: "is a file")),
        HostileCase(description: "train --plots into folders that do not exist yet (a relative path of one part above): made, no trap",
                    arguments: ["train", "-e", "a = 3\nloss = (a - 1)^2\n", "--steps", "2", "--plots", "new/plots"],
                    expect: .succeeds(writes: ["new", "new/plots", "new/plots/epochs.png", "new/plots/loss.png", "new/plots/lr.png"])),
        HostileCase(description: "render -o into /proc: the system's reason, found before the work",
                    arguments: ["render", "-e", program, "-o", "/proc/chainrule-s22.svg"],
                    expect: .refuses("cannot write '/proc/chainrule-s22.svg': the folder '/proc': ", never: "A file with the same name")),
        HostileCase(description: "a program that is not UTF-8: the line and column of the first bad byte, exit 2",
                    arguments: ["eval", "bad.grad"],
                    inputs: ["bad.grad": .file(Data("x = 2\n# caf".utf8) + Data([0xE9]) + Data(" menu\ny = x\n".utf8))],
                    expect: .refuses("bad.grad:2:6: error: the program is not UTF-8 text: byte 0xE9 here is no character; save the file as UTF-8\n# caf\u{FFFD} menu\n     ^")),
        HostileCase(description: "a program with old-Mac line ends (a lone CR) is read line by line",
                    arguments: ["eval", "mac.grad"],
                    inputs: ["mac.grad": .text("x = 2\r# note\ry = x * 3\r")],
                    expect: .succeeds(prints: "y = 6")),
        HostileCase(description: "an error in a mixed CR/CRLF/LF program: its line and a clean caret, no raw CR",
                    arguments: ["eval", "mixed.grad"],
                    inputs: ["mixed.grad": .text("x = 2\r\ny = x\rz = exq(y)\nw = z\r")],
                    expect: HostileExpectation.refuses("mixed.grad:3:5: error: unknown function 'exq'; did you mean 'exp'?\nz = exq(y)\n    ^~~")
                        .with { run in run.stderr.contains("\r") ? "stderr holds a raw carriage return" : nil }),
    ]

    @Test("files read and written fail with the true reason; line ends and bytes are read right", arguments: cases)
    func hostile(_ hostile: HostileCase) throws {
        let run = try HostileRun(hostile.arguments, inputs: hostile.inputs, seconds: hostile.seconds, streams: hostile.streams)
        let problems = run.problems(against: hostile.expect, bound: hostile.seconds)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; ")) — stderr: \(run.stderr.prefix(600))")
    }
}
