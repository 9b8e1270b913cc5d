import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation
import Testing

/// Session 22's red team: checkpoints whose data overlap, leave gaps or hold
/// NaN, shapes that are not sizes, and CSV rows taken for a header.
@Suite struct RedTeam22TrainingTests {
    static let quadratic = "a = [3, -1]\nb = 2\nloss = sum((a - 1)^2) + b^2\n"
    static let plan = TrainingPlan(epochs: 4, batch: 1, optimizer: OptimizerSettings(.adam, learningRate: 0.01))

    /// A safetensors file of this header (JSON) and data.
    static func file(_ header: String, data: [Double]) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        let bytes = data.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + bytes
    }

    static func decoded(_ header: String, data: [Double]) -> String? {
        thrownMessage { _ = try SafeTensors.decode(file(header, data: data), path: "c.safetensors") }
    }

    /// Before: `b`'s offsets pointing into `a`'s data read a's numbers as b's, and bytes
    /// no tensor owns were ignored: a damaged file resumed with wrong weights.
    @Test func tensorDataThatOverlapOrLeaveBytesOverAreRefused() {
        let a = #""a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}"#
        #expect(Self.decoded("{\(a), \"b\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [8, 16]}}", data: [1, 2])
                == "c.safetensors is not a safetensors checkpoint: the data of b (from byte 8) overlaps the tensor before it (to byte 16)")
        #expect(Self.decoded("{\(a), \"b\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [24, 32]}}", data: [1, 2, 0, 4])
                == "c.safetensors is not a safetensors checkpoint: bytes 16…24 before the data of b belong to no tensor")
        #expect(Self.decoded("{\(a)}", data: [1, 2, 3])
                == "c.safetensors is not a safetensors checkpoint: its tensors' data end at byte 16 of 24: the rest belongs to no tensor")
        #expect(Self.decoded("{\(a), \"b\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [16, 24]}}", data: [1, 2, 3]) == nil)
    }

    /// Before: `[true, true]` was read as the shape [1, 1], and 100,000 axes printed a 300 kB message.
    @Test func shapesThatAreNotSizesAreRefused() {
        let entry = { (shape: String) in "{\"a\": {\"dtype\": \"F64\", \"shape\": \(shape), \"data_offsets\": [0, 8]}}" }
        let notIntegers = "c.safetensors is not a safetensors checkpoint: the shape of a is not a list of integers below 2^63 (written without a point or exponent)"
        // Session 23: `2.0` and `1e0` were read as sizes; safetensors' own reader refuses them.
        for shape in ["[true]", "[1.5]", "[1.0]", "[1e0]", "[1, 2.0]"] { #expect(Self.decoded(entry(shape), data: [1]) == notIntegers, "\(shape)") }
        let floatOffsets = "{\"a\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8.0]}}"
        #expect(Self.decoded(floatOffsets, data: [1]) == "c.safetensors is not a safetensors checkpoint: the data_offsets of a are not two integers [begin, end] below 2^63")
        let deep = "[" + Array(repeating: "1", count: 100_000).joined(separator: ",") + "]"
        #expect(Self.decoded(entry(deep), data: [1]) == "c.safetensors is not a safetensors checkpoint: a has 100000 axes, more than the 64 a tensor may have")
        #expect(Self.decoded(entry("[1, 1]"), data: [1]) == nil)
    }

    /// Before: a NaN weight resumed, and the first loss was blamed on "the program's
    /// starting values"; `--init-from` loaded it and every gradient was NaN.
    @Test func aCheckpointHoldingNaNIsRefusedNamingTheTensorAndElement() throws {
        let run = try training(Self.quadratic, train: nil, plan: Self.plan)
        _ = try run.runEpoch()
        var saved = TrainingCheckpoint.make(run)
        let index = try #require(saved.tensors.firstIndex { $0.name == "a" })
        saved.tensors[index].tensor = Tensor([2.5, .nan])
        let resumed = thrownMessage { try TrainingCheckpoint.resume(try training(Self.quadratic, train: nil, plan: Self.plan), from: saved, path: "c.safetensors") }
        #expect(resumed == "cannot resume from c.safetensors: a holds NaN at element 1 of its 2; a checkpoint holds finite numbers (this one is damaged, or was written by another tool)")
        let graph = try Compiler.compile(source: Self.quadratic, file: nil).graph
        let loaded = thrownMessage { _ = try TrainingCheckpoint.initialise(graph, from: saved, path: "c.safetensors") }
        #expect(loaded == "cannot initialise from c.safetensors: a holds NaN at element 1 of its 2; a checkpoint holds finite numbers (this one is damaged, or was written by another tool)")
        // An optimizer buffer is read on resume too.
        var buffer = TrainingCheckpoint.make(run)
        let moment = try #require(buffer.tensors.firstIndex { $0.name == "optimizer/exp_avg_sq/b" })
        buffer.tensors[moment].tensor = Tensor(-Double.infinity)
        let resumedBuffer = thrownMessage { try TrainingCheckpoint.resume(try training(Self.quadratic, train: nil, plan: Self.plan), from: buffer, path: "c.safetensors") }
        #expect(resumedBuffer == "cannot resume from c.safetensors: optimizer/exp_avg_sq/b holds -inf; a checkpoint holds finite numbers (this one is damaged, or was written by another tool)")
        // The file as written resumes.
        #expect(thrownMessage { try TrainingCheckpoint.resume(try training(Self.quadratic, train: nil, plan: Self.plan), from: TrainingCheckpoint.make(run), path: "c.safetensors") } == nil)
    }

    static func csv(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam22-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Before: a first row with a hole (`1,,0`) was taken for a header and dropped in silence,
    /// and `0x10` was read as 16.
    @Test func aFirstRowWithAHoleIsDataNotAHeader() throws {
        let hole = try Self.csv("1,,0\n3,4,1\n"), hex = try Self.csv("1,2,0\n0x10,4,1\n"), hexFirst = try Self.csv("0x10,2,0\n3,4,1\n")
        let header = try Self.csv("x1,x2,label\n1,2,0\n3,4,1\n"), pandas = try Self.csv(",x,label\n1,2,0\n")
        defer { for path in [hole, hex, hexFirst, header, pandas] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(thrownMessage { _ = try DataSource.csv(hole) } == "\(hole):1: column 2 is '', not a finite decimal number")
        #expect(thrownMessage { _ = try DataSource.csv(hex) } == "\(hex):2: column 1 is '0x10', not a finite decimal number")
        #expect(thrownMessage { _ = try DataSource.csv(hexFirst) } == "\(hexFirst):1: column 1 is '0x10', not a finite decimal number")
        #expect(try DataSource.csv(header).count == 2)
        #expect(try DataSource.csv(pandas).count == 1)
    }
}
