import Foundation
import Testing

/// Session 22, frames (the lead's call-site change in TrainingPlots.writeFrames and
/// BackwardSteps.write, through `SafeWrite.files`): a frames folder that cannot be one
/// is refused with the true reason; frames are written all or none.
@Suite("Session 22: frames folders, true reasons, all or none", .serialized)
struct Session22IOFramesTests {
    static let program = "x = 2\ny = x * 3\n"

    static let cases: [HostileCase] = [
        HostileCase(description: "figure --frames /dev/full: a device, not 'a file with the same name already exists'",
                    arguments: ["figure", "optimizers", "--frames", "/dev/full", "--frame-count", "2"],
                    expect: .refuses("cannot write '/dev/full': '/dev/full' is a device, not a folder", never: "same name")),
        HostileCase(description: "figure --frames under a file: not a folder, nothing made",
                    arguments: ["figure", "optimizers", "--frames", "f.txt/frames", "--frame-count", "2"],
                    inputs: ["f.txt": .text("x")],
                    expect: .refuses("cannot write 'f.txt/frames': the folder 'f.txt/frames': not a directory", never: "same name")),
        HostileCase(description: "figure --frames into missing folders: made, with every frame",
                    arguments: ["figure", "optimizers", "--frames", "a/b", "--frame-count", "2"],
                    expect: .succeeds(writes: ["a", "a/b", "a/b/frame-000.png", "a/b/frame-001.png"])),
        HostileCase(description: "render --steps into /dev/full/: a device, not a folder",
                    arguments: ["render", "-e", program, "--steps", "-o", "/dev/full/"],
                    expect: .refuses("'/dev/full' is a device, not a folder", never: "not writable")),
    ]

    @Test("frames folders fail with the true reason and leave nothing behind", arguments: cases)
    func hostile(_ hostile: HostileCase) throws {
        let run = try HostileRun(hostile.arguments, inputs: hostile.inputs, seconds: hostile.seconds, streams: hostile.streams)
        let problems = run.problems(against: hostile.expect, bound: hostile.seconds)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; ")) — stderr: \(run.stderr.prefix(600))")
    }
}
