import ChainruleCore
import Foundation
import Testing

/// Window attributes a person can type through the Swift API, up to `Int.max`:
/// every one either works (forward and backward) or is refused with the op's
/// error — none traps on overflow.
@Suite struct RedTeam20CoreTests {
    static let huge = [Int.max, Int.max - 1, Int.max / 2, Int.max / 4, 1 << 40]

    /// Forward and backward of `op` on `x` (and the given weights), or its shape error.
    func run(_ op: any ChainruleCore.Operation, _ inputs: [Tensor]) -> String {
        let g = Graph()
        let ids = inputs.enumerated().map { g.input("i\($0.offset)", $0.element).id }
        do {
            let out = try g.apply(op, ids)
            try g.backward(from: out)
            return "ran \(g[out].shape)"
        } catch {
            return "refused: \(error)"
        }
    }

    /// Before: `validOutputColumns` computed ⌈a/stride⌉ as (a + stride − 1)/stride, which
    /// overflows for any stride near Int.max (a trap in every convolution with one), and a
    /// pad of 2⁶¹ with a stride of 2⁴⁰ asked for a 422 TB output (a fatal allocation).
    @Test func convolutionStridesAndPaddingsUpToIntMax() throws {
        let x = Tensor.randn([1, 2, 5, 5], seed: 1), w = Tensor.randn([3, 2, 3, 3], seed: 2), b = Tensor.randn([3], seed: 3)
        var ran = 0
        for stride in Self.huge + [1, 2, 5] {
            for pad in Self.huge + [0, 1, 2] {
                for floor in [false, true] {
                    let outcome = run(try Conv2D(stride: stride, pad: pad, floor: floor), [x, w, b])
                    #expect(outcome.hasPrefix("ran") || outcome.hasPrefix("refused: conv2d: "), "stride \(stride), pad \(pad): \(outcome)")
                    if outcome.hasPrefix("ran") { ran += 1 }
                }
            }
        }
        #expect(ran > 10)
        #expect(run(try Conv2D(stride: .max, pad: 1, floor: true), [x, w, b]) == "ran [1, 3, 1, 1]")
        let memory = run(try Conv2D(stride: 1 << 40, pad: Int.max / 4, floor: true), [x, w, b])
        #expect(memory.contains("elements") && memory.contains("more than this machine's memory"), "\(memory)")
    }

    @Test func poolingWindowsAndStridesUpToIntMax() throws {
        let x = Tensor.randn([1, 2, 5, 5], seed: 1)
        for kernel in Self.huge + [1, 2, 5] {
            for stride in Self.huge + [1, 2, 5] {
                for floor in [false, true] {
                    let max = run(try MaxPool2D(kernel: kernel, stride: stride, floor: floor), [x])
                    let mean = run(try AvgPool2D(kernel: kernel, stride: stride, floor: floor), [x])
                    #expect(max.hasPrefix("ran") || max.hasPrefix("refused: maxpool2d: "), "kernel \(kernel), stride \(stride): \(max)")
                    #expect(mean.hasPrefix("ran") || mean.hasPrefix("refused: avgpool2d: "), "kernel \(kernel), stride \(stride): \(mean)")
                }
            }
        }
        #expect(run(try MaxPool2D(kernel: 2, stride: .max, floor: true), [x]) == "ran [1, 2, 1, 1]")
    }

    /// Any rank up to 64 works; an op whose result would have more axes is refused naming it.
    @Test func aResultOfMoreThanSixtyFourAxesIsRefused() throws {
        let g = Graph()
        let x = g.input("x", Tensor([1]))
        let fits = try g.apply(Reshape(shape: Array(repeating: 1, count: 64)), [x.id])
        #expect(g[fits].shape.count == 64)
        #expect(throws: GraphError.self) { try g.apply(Reshape(shape: Array(repeating: 1, count: 65)), [x.id]) }
        let error = #expect(throws: GraphError.self) { try g.apply(Reshape(shape: Array(repeating: 1, count: 100_000)), [x.id]) }
        #expect(error?.message.contains("reshape: its result would have 100000 axes, more than the 64 a tensor may have") == true, "\(error?.message ?? "")")
    }

    @Test func threadCountsFromTheEnvironmentAreValidatedInOnePlace() throws {
        #expect(try WorkerPool.environmentThreadCount([:]) == nil)
        #expect(try WorkerPool.environmentThreadCount(["CHAINRULE_THREADS": " 3 "]) == 3)
        for text in ["0", "-2", "many", "", "1.5", "99999999999999999999"] {
            #expect(throws: ThreadCountError(text: text)) { try WorkerPool.environmentThreadCount(["CHAINRULE_THREADS": text]) }
        }
        #expect(ThreadCountError(text: "many").description == "CHAINRULE_THREADS must be a positive integer (a thread count), got 'many'")
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam20-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// The check before a long run: it names what is wrong with the place and leaves nothing behind.
    @Test func outputPlacesAreCheckedBeforeTheWork() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/file"))
        try OutputFiles.checkFolder(folder + "/new/plots")
        try OutputFiles.checkFolder(folder)
        try OutputFiles.checkFile(folder + "/page.html")
        // A device (`--log /dev/stdout`) is written in place: only it must be writable, not /dev.
        try OutputFiles.checkFile("/dev/null")
        #expect(throws: UnwritablePath.self) { try OutputFiles.checkFile("/dev") }
        #expect(throws: UnwritablePath(path: folder + "/file/plots", reason: "the folder '\(folder)/file/plots': not a directory")) {
            try OutputFiles.checkFolder(folder + "/file/plots")
        }
        #expect(throws: UnwritablePath(path: folder + "/file", reason: "'\(folder)/file' is a file, not a folder")) {
            try OutputFiles.checkFolder(folder + "/file")
        }
        #expect(throws: UnwritablePath(path: folder + "/missing/page.html", reason: "the folder '\(folder)/missing' does not exist")) {
            try OutputFiles.checkFile(folder + "/missing/page.html")
        }
        #expect(throws: UnwritablePath(path: folder, reason: "'\(folder)' is a folder; give a file name")) { try OutputFiles.checkFile(folder) }
        // /proc takes no new entries, even from root.
        #expect(throws: UnwritablePath.self) { try OutputFiles.checkFolder("/proc/plots") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["file"])
    }

    @Test func aFileWrittenWholeOnAFullDiskIsAnErrorAndLeavesNothing() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/out.py", withDestinationPath: "/dev/full")
        #expect(throws: UnwritablePath(path: folder + "/out.py", reason: "no space left on device")) {
            try OutputFiles.write(Data(repeating: 7, count: 100_000), to: folder + "/out.py")
        }
        try OutputFiles.makeFolders(folder + "/a/b")
        try OutputFiles.write(Data("print(1)\n".utf8), to: folder + "/a/b/c.py")
        #expect(try String(contentsOfFile: folder + "/a/b/c.py", encoding: .utf8) == "print(1)\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["a", "out.py"])
        #expect(UnwritablePath(path: "p", reason: "no space left on device").localizedDescription == "no space left on device")
    }

    @Test func inputFilesMustBeRegularFiles() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(mkfifo(folder + "/pipe", 0o644) == 0)
        #expect(throws: UnreadablePath(path: "/dev/zero", reason: "it is a device, not a model")) { try InputFiles.contents(of: "/dev/zero", kind: "a model") }
        #expect(throws: UnreadablePath(path: folder + "/pipe", reason: "it is a pipe, not a model")) { try InputFiles.contents(of: folder + "/pipe", kind: "a model") }
        #expect(throws: UnreadablePath(path: folder, reason: "it is a folder, not a model")) { try InputFiles.contents(of: folder, kind: "a model") }
        #expect(throws: UnreadablePath(path: folder + "/none", reason: "no such file")) { try InputFiles.contents(of: folder + "/none", kind: "a model") }
    }
}

