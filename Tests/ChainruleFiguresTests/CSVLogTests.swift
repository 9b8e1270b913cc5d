@testable import ChainruleFigures
import Foundation
import Testing

@Suite("Training logs (loss-curve --log)")
struct CSVLogTests {
    static let pytorch = """
        epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy\r
        0,1,0.1,0.72,0.44,,\r
        0,2,0.1,0.69,0.53,0.70,0.51\r
        1,3,0.05,0.61,0.66,,\r
        1,4,0.05,0.55,0.71,0.58,0.69\r

        """

    @Test("a PyTorch-style log: columns from the header, empty cells as gaps, CRLF lines, drawn against iteration")
    func parses() throws {
        let log = try CSVLog.parse(Self.pytorch, file: "train.csv")
        #expect(log.columns == ["epoch", "iteration", "lr", "loss", "accuracy", "val_loss", "val_accuracy"])
        #expect(log.rows.count == 4)
        #expect(log.rows[0][5].isNaN && log.rows[1][5] == 0.70)
        #expect(log.xColumn.name == "iteration")
        let chart = try LectureFigures.lossCurves(log)
        #expect(chart.panels.count == 3)
        #expect(chart.panels[0].lines.map(\.name) == ["loss", "val_loss"])
        // val_loss is drawn only where it was logged, in loss's colour, dashed.
        #expect(chart.panels[0].lines[1].points.map(\.x) == [2, 4])
        #expect(chart.panels[0].lines[1].color == chart.panels[0].lines[0].color)
        #expect(chart.panels[0].lines[1].dash == .dashed)
        assertTextsApart(chart)
    }

    @Test("a bad log is refused at its line", arguments: [
        ("epoch,loss\n1,0.5\n2,abc\n", "log.csv:3: 'abc' in column loss is not a number"),
        ("epoch,loss\n1,0.5,3\n", "log.csv:2: 3 fields, but the header names 2 columns (epoch,loss)"),
        ("1,0.5\n2,0.4\n", "log.csv:1: the first line is numbers, not a header; start the file with the column names, as epoch,loss,val_loss"),
        ("epoch,,loss\n", "log.csv:1: column 2 of the header has no name; the first line names the columns, as epoch,loss,val_loss"),
        ("epoch,loss,loss\n", "log.csv:1: the header names the column 'loss' twice"),
        ("", "log.csv: is empty: a training log starts with a header line, as epoch,loss,val_loss"),
        ("epoch,loss\n", "log.csv: has a header but no rows of numbers"),
    ])
    func refused(text: String, message: String) {
        #expect(throws: CSVLogError.self) { try CSVLog.parse(text, file: "log.csv") }
        do {
            _ = try CSVLog.parse(text, file: "log.csv")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("a log without a step column is drawn against the row number")
    func rowNumbers() throws {
        let log = try CSVLog.parse("loss\n3\n2\n1.5\n", file: "l.csv")
        #expect(log.xColumn.index == nil && log.xLabel == "row")
        #expect(try LectureFigures.lossCurves(log).panels[0].lines[0].points.map(\.x) == [0, 1, 2])
    }
}
