import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import Testing

@Suite("Text meets WCAG's 4.5:1 contrast against its background, in both palettes")
struct ContrastTests {
    @Test("WCAG's formula: black on white is 21:1, a colour on itself 1:1, #767676 on white 4.54:1")
    func formula() {
        #expect(abs(RGB.black.contrast(with: .white) - 21) < 1e-9)
        #expect(abs(RGB(hex: 0x1F5FBF).contrast(with: RGB(hex: 0x1F5FBF)) - 1) < 1e-9)
        #expect(abs(RGB(hex: 0x767676).contrast(with: .white) - 4.54) < 0.01)
        // Okabe–Ito's orange is a fine line colour but no text colour: readable() darkens it.
        let orange = RGB(hex: 0xE69F00)
        #expect(orange.contrast(with: .white) < 4.5)
        #expect(orange.readable(on: .white).contrast(with: .white) >= 4.5)
    }

    @Test("Every text colour of the theme on every background it is drawn on", arguments: Palette.allCases)
    func themeColours(_ palette: Palette) {
        let theme = Theme(palette: palette)
        let plain = [theme.text, theme.muted]
        let coloured = [theme.value, theme.gradient, theme.local, theme.checkGood, theme.checkWarning, theme.checkKink, theme.checkFailed]
        let boxes = [theme.background, theme.valueFill, theme.opFill, theme.leafFill, theme.clusterFill, theme.highlight.mixed(with: .white, 0.7)]
        for color in plain + coloured {
            #expect(color.contrast(with: theme.background) >= 4.5, "\(color.hexString) on the background")
        }
        for color in plain { for box in boxes { #expect(color.contrast(with: box) >= 4.5, "\(color.hexString) on \(box.hexString)") } }
        // A checked box is tinted with its result's colour, and its mark is written in that colour.
        for mark in [theme.checkGood, theme.checkWarning, theme.checkKink, theme.checkFailed] {
            let tint = mark.mixed(with: .white, theme.tint)
            #expect(mark.contrast(with: tint) >= 4.5, "\(mark.hexString) on its tint \(tint.hexString)")
            #expect(theme.text.contrast(with: tint) >= 4.5)
        }
    }

    @Test("Every text drawn in the sample figures, against the fill of the box it sits in", arguments: Palette.allCases)
    func drawnTexts(_ palette: Palette) throws {
        let (wrong, wrongOutput) = try wrongGraph()
        var figures: [(Graph, NodeID, FigureOptions)] = []
        for name in ["cs231n", "sigmoid", "mlp"] {
            let (graph, output) = try #require(FigureExamples.named(name))
            for style in [FigureStyle.circuit, .record] {
                var options = FigureOptions()
                options.palette = palette
                options.style = style
                options.labels = [.value, .local, .grad]
                figures.append((graph, output, options))
            }
        }
        for style in [FigureStyle.circuit, .record] {
            var options = FigureOptions()
            options.palette = palette
            options.style = style
            options.check = try GradientCheck.graph(wrong, output: wrongOutput)
            figures.append((wrong, wrongOutput, options))
        }
        let theme = Theme(palette: palette)
        var checked = 0
        for (graph, output, options) in figures {
            let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
            for node in scene.nodes {
                let background = node.fill ?? theme.background
                for (text, style) in node.content.styledTexts {
                    checked += 1
                    #expect(style.color.contrast(with: background) >= 4.5, "'\(text)' \(style.color.hexString) on \(background.hexString)")
                }
            }
        }
        #expect(checked > 200)
    }

    func wrongGraph() throws -> (Graph, NodeID) {
        let g = Graph()
        let x = g.input("x", 1.5)
        let y = (g.build(WrongSquare(), [x]) * 2 + x).named("y")
        try g.backward(y)
        return (g, y.id)
    }
}
