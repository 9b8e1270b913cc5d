import Foundation
import Testing

/// Issue 8's promise, through the built binary: every hostile input exits 0,
/// 1 or 2 (never a signal) within a bound, with a message that names what is
/// wrong, and leaves nothing behind — also when interrupted mid-run.
@Suite("Hostile input: exit 0/1/2, a message, a bounded time, nothing left behind", .serialized)
struct HostileInputTests {
    static let program = "prog.grad"

    /// Crashes 1–8 of the issue and their near variants.
    static let crashes: [HostileCase] = [
        HostileCase(description: "1. a 300-line star graph (one input feeds every op) is too wide for a PNG: refused before layout, with advice",
                    arguments: ["render", program, "-o", "s.png", "--layout-timeout", "10"],
                    inputs: [program: .text(Hostile.star(300))],
                    expect: .succeedsOrRefuses(writes: ["s.png"], refusal: "-o FILE.svg"), seconds: 40),
        HostileCase(description: "1. the 300-line star graph lays out and draws as SVG",
                    arguments: ["render", program, "-o", "s.svg", "--layout-timeout", "10"],
                    inputs: [program: .text(Hostile.star(300))],
                    expect: .succeeds(writes: ["s.svg"]), seconds: 40),
        HostileCase(description: "1. an 800-line star graph renders or refuses",
                    arguments: ["render", program, "-o", "s.png", "--layout-timeout", "10"],
                    inputs: [program: .text(Hostile.star(800))],
                    expect: .succeedsOrRefuses(writes: ["s.png"], refusal: "layout"), seconds: 40),
        HostileCase(description: "1'. the 300-line star in the record style",
                    arguments: ["render", program, "--style", "record", "-o", "s.svg", "--layout-timeout", "10"],
                    inputs: [program: .text(Hostile.star(300))],
                    expect: .succeedsOrRefuses(writes: ["s.svg"], refusal: "layout"), seconds: 40),
        HostileCase(description: "2. SVG of a tensor holding NaN, record style",
                    arguments: ["render", "-e", "x = [1, 2, 3]; y = sum(log(x - 2))", "--style", "record", "-o", "t.svg"],
                    expect: .succeeds(writes: ["t.svg"])),
        HostileCase(description: "2. SVG of a tensor holding inf",
                    arguments: ["render", "-e", "x = [1, 2]; y = sum(x / 0)", "-o", "t.svg"],
                    expect: .succeeds(writes: ["t.svg"])),
        HostileCase(description: "2. check --figure of a tensor holding inf: no rule can be checked there, so a refusal naming the node, and no figure",
                    arguments: ["check", "-e", "x = [1, 2]; y = sum(x / 0)", "--figure", "t.svg"],
                    expect: .refuses("error: cannot check: node")),
        HostileCase(description: "2'. SVG of an overflow to inf through exp, record style",
                    arguments: ["render", "-e", "x = [1, 2]; y = sum(exp(x * 1000))", "--style", "record", "-o", "t.svg"],
                    expect: .succeeds(writes: ["t.svg"])),
        HostileCase(description: "2'. SVG of a scalar NaN in the circuit style",
                    arguments: ["render", "-e", "x = -1\ny = log(x)", "-o", "t.svg"],
                    expect: .succeeds(writes: ["t.svg"])),
        HostileCase(description: "3. a 90,000-term chain x + x + … evaluates or is refused naming its line",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.chain(90_000))],
                    expect: .succeedsOrRefuses(prints: "y = 90000", refusal: "\(program):2")),
        HostileCase(description: "3. a 90,000-term chain of constants 1 + 1 + …",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.chain(90_000, term: "1"))],
                    expect: .succeedsOrRefuses(prints: "y = 90000", refusal: "\(program):2")),
        HostileCase(description: "3'. a 90,000-term chain x * x * …",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.chain(90_000, "*"))],
                    expect: .succeedsOrRefuses(prints: "y = 1", refusal: "\(program):2")),
        HostileCase(description: "3'. a 90,000-term right-associative chain x ^ x ^ …",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.chain(90_000, "^"))],
                    expect: .succeedsOrRefuses(prints: "y = 1", refusal: "\(program):2")),
        HostileCase(description: "3'. 90,000 unary minuses",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = 1\ny = " + String(repeating: "- ", count: 90_000) + "x\n")],
                    expect: .succeedsOrRefuses(prints: "y = 1", refusal: "\(program):2")),
        HostileCase(description: "3'. 90,000 nested parentheses are refused by the nesting limit",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = 1\ny = " + String(repeating: "(", count: 90_000) + "x"
                                            + String(repeating: ")", count: 90_000) + "\n")],
                    expect: .refuses("\(program):2")),
        HostileCase(description: "4. a .npy of shape (0, 2^32, 2^32) is used or refused, never an overflow trap",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"huge.npy\")\ny = sum(x)\n"), "huge.npy": .file(Hostile.npy(shape: [0, 1 << 32, 1 << 32]))],
                    expect: .succeedsOrRefuses(refusal: "huge.npy").with(rule: firstLineSays("huge.npy"))),
        HostileCase(description: "4'. the (0, 2^32, 2^32) tensor drawn in the record style",
                    arguments: ["render", program, "--style", "record", "-o", "h.png"],
                    inputs: [program: .text("x = load(\"huge.npy\")\ny = sum(x)\n"), "huge.npy": .file(Hostile.npy(shape: [0, 1 << 32, 1 << 32]))],
                    expect: .succeedsOrRefuses(writes: ["h.png"], refusal: "huge.npy").with(rule: firstLineSays("huge.npy"))),
        HostileCase(description: "4'. a .npy whose element count overflows (2^62 × 4) is refused",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"huge.npy\")\ny = sum(x)\n"), "huge.npy": .file(Hostile.npy(shape: [1 << 62, 4]))],
                    expect: .refuses("huge.npy").with(rule: firstLineSays("huge.npy"))),
        // Empty tensors are refused where they enter (load); the figures draw one built in Swift
        // as "data empty" (ChainruleFiguresTests' EmptyTensorFigureTests).
        HostileCase(description: "5. an empty 4-D tensor (0,3,3,3) in the record style is refused at its load",
                    arguments: ["render", program, "--style", "record", "-o", "e.png"],
                    inputs: [program: .text("x = load(\"empty.npy\")\ny = sum(x * x)\n"), "empty.npy": .file(Hostile.npy(shape: [0, 3, 3, 3]))],
                    expect: .refuses("holds no elements")),
        HostileCase(description: "5. an empty 4-D tensor through a layer with --view ops is refused at its load",
                    arguments: ["render", program, "--style", "model", "--view", "ops", "-o", "e.svg"],
                    inputs: [program: .text("x = load(\"empty.npy\")\nh = Conv2D(x, filters: 2, kernel: 3)\ny = sum(h)\n"),
                             "empty.npy": .file(Hostile.npy(shape: [0, 3, 3, 3]))],
                    expect: .refuses("holds no elements")),
        HostileCase(description: "5'. check of an empty tensor is refused at its load",
                    arguments: ["check", program],
                    inputs: [program: .text("x = load(\"empty.npy\")\ny = sum(relu(x))\n"), "empty.npy": .file(Hostile.npy(shape: [0, 3]))],
                    expect: .refuses("holds no elements")),
        // Before session 25: exit 0, PASSED — an infinite tolerance passes every rule.
        HostileCase(description: "6. check --atol inf is refused",
                    arguments: ["check", "-e", "x = 2\ny = x * x", "--atol", "inf"],
                    expect: .refuses("'inf' is not a number as a program writes one")),
        HostileCase(description: "6. check --rtol 1e400 is refused",
                    arguments: ["check", "-e", "x = 2\ny = x * x", "--rtol", "1e400"],
                    expect: .refuses("number 1e400 is too large for a Double")),
        HostileCase(description: "a step sweep of a node whose output is infinite is refused, not drawn",
                    arguments: ["check", "-e", "x = [1, 2]\nz = x / 0\ny = sum(z)", "--sweep", "z", "-o", "sweep.png"],
                    expect: .refuses("a step sweep needs finite values", never: "sweep.png")),
        HostileCase(description: "6'. check --atol nan is refused",
                    arguments: ["check", "-e", "x = 2\ny = x * x", "--atol", "nan"],
                    expect: .refuses("'nan' is not a number as a program writes one")),
        HostileCase(description: "6'. check --eps inf is refused",
                    arguments: ["check", "-e", "x = 2\ny = x * x", "--eps", "inf"],
                    expect: .refuses("'inf' is not a number as a program writes one")),
        HostileCase(description: "6'. check --eps 1e-400 (zero once read) is refused",
                    arguments: ["check", "-e", "x = 2\ny = x * x", "--eps", "1e-400"],
                    expect: .refuses("--eps must be a positive step")),
        HostileCase(description: "7. 12,000 op blocks, each calling the previous one",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.opChain(12_000))],
                    expect: .succeedsOrRefuses(prints: "y = 2", refusal: program)),
        HostileCase(description: "8. randn(100000, 100000) past --max-elements is refused by the memory budget",
                    arguments: ["eval", "-e", "x = randn(100000, 100000); y = sum(x)", "--max-elements", "99999999999"],
                    expect: .refuses("--max-memory"), seconds: 20),
        HostileCase(description: "8'. zeros(100000, 100000) past --max-elements is refused by the memory budget",
                    arguments: ["eval", "-e", "x = zeros(100000, 100000); y = sum(x)", "--max-elements", "99999999999"],
                    expect: .refuses("--max-memory"), seconds: 20),
        HostileCase(description: "8'. randn(100000, 100000) is refused by --max-elements",
                    arguments: ["eval", "-e", "x = randn(100000, 100000); y = sum(x)"],
                    expect: .refuses("--max-elements"), seconds: 20),
    ]

    /// The hangs and runaway resources of the issue.
    static let runaways: [HostileCase] = [
        HostileCase(description: "a 120-line star graph renders or refuses within its --layout-timeout",
                    arguments: ["render", program, "-o", "s.png", "--layout-timeout", "5"],
                    inputs: [program: .text(Hostile.star(120))],
                    expect: .succeedsOrRefuses(writes: ["s.png"], refusal: "--layout-timeout"), seconds: 30),
        HostileCase(description: "a 40-step unrolled RNN with shared scalar weights renders or refuses",
                    arguments: ["render", program, "-o", "rnn.svg", "--layout-timeout", "5"],
                    inputs: [program: .text(Hostile.rnn(40))],
                    expect: .succeedsOrRefuses(writes: ["rnn.svg"], refusal: "--layout-timeout"), seconds: 30),
        HostileCase(description: "op blocks calling the previous one twice, 40 levels, hit the expansion budget",
                    arguments: ["eval", program], inputs: [program: .text(Hostile.opChain(40, calls: 2))],
                    expect: .refuses(program), seconds: 30),
        HostileCase(description: "14 lines of 7000×7000 tensors exceed --max-memory before the work",
                    arguments: ["eval", program, "--max-memory", "2000000000"],
                    inputs: [program: .text((0..<14).map { "t\($0) = ones(7000, 7000)" }.joined(separator: "\n") + "\ny = sum(t13)\n")],
                    expect: .refuses("--max-memory"), seconds: 30),
    ]

    static let longName = String(repeating: "a", count: 250) + ".png"
    static let tooLongName = String(repeating: "a", count: 252) + ".png"
    static let circuit = "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\n"

    /// Wrong exits and misleading messages.
    static let messages: [HostileCase] = [
        HostileCase(description: "-e takes a program that starts with -",
                    arguments: ["eval", "-e", "-x^2", "--at", "x=3"], expect: .succeeds(prints: "-x^2 = -9")),
        HostileCase(description: "--eps -1 reaches validation",
                    arguments: ["check", "--ops", "--eps", "-1"], expect: .refuses("--eps must be a positive step, got -1.0")),
        HostileCase(description: "--atol -1 reaches validation",
                    arguments: ["check", "--ops", "--atol", "-1"], expect: .refuses("--atol must be a finite number, 0 or more, got -1.0")),
        HostileCase(description: "--sample -5 reaches validation",
                    arguments: ["check", "-e", "x = 1\ny = x", "--sample", "-5"], expect: .refuses("--sample must be at least 1 element, got -5")),
        HostileCase(description: "--seed -1 is refused for its real reason",
                    arguments: ["check", "--ops", "--seed", "-1"], expect: .refuses("'-1' is invalid for '--seed", never: "Missing value")),
        HostileCase(description: "--max-elements -1 reaches validation",
                    arguments: ["eval", "-e", "x = 1", "--max-elements", "-1"], expect: .refuses("--max-elements must be at least 1, got -1")),
        HostileCase(description: "render --scale -1 reaches validation",
                    arguments: ["render", "-e", circuit, "--scale", "-1", "-o", "c.png"], expect: .refuses("--scale must be above 0", never: "Missing value")),
        HostileCase(description: "figure --scale -1 reaches validation",
                    arguments: ["figure", "circuit", "--scale", "-1", "-o", "c.png"], expect: .refuses("--scale must be above 0", never: "Missing value")),
        HostileCase(description: "render --precision -1 reaches validation",
                    arguments: ["render", "-e", circuit, "--precision", "-1", "-o", "c.png"], expect: .refuses("--precision must be between 0 and 12", never: "Missing value")),
        HostileCase(description: "render --layout-timeout -1 reaches validation",
                    arguments: ["render", "-e", circuit, "--layout-timeout", "-1", "-o", "c.png"], expect: .refuses("--layout-timeout", never: "Missing value")),
        HostileCase(description: "--eps -0 reaches validation",
                    arguments: ["check", "--ops", "--eps", "-0"], expect: .refuses("--eps must be a positive step, got -0.0")),
        HostileCase(description: "-e at the end still asks for its value",
                    arguments: ["eval", "-e"], expect: .refuses("Missing value for '-e <e>'")),
        HostileCase(description: "a --max-elements past Int is refused as invalid",
                    arguments: ["eval", "-e", "x = 1", "--max-elements", "99999999999999999999"],
                    expect: .refuses("is invalid for '--max-elements")),
        HostileCase(description: "an empty standard input is an empty program",
                    arguments: ["eval", "-"], expect: .refuses("the program has no bindings")),
        HostileCase(description: "--at may be repeated",
                    arguments: ["eval", "-e", "f = x * y", "--at", "x=2", "--at", "y=-3"], expect: .succeeds(prints: "f = -6")),
        HostileCase(description: "a name set in two --at flags is refused",
                    arguments: ["eval", "-e", "y = x * x", "--at", "x=1", "--at", "x=2"], expect: .refuses("--at sets x twice")),
        HostileCase(description: "a name set twice in one --at is refused",
                    arguments: ["eval", "-e", "y = x * x", "--at", "x=1,x=2"], expect: .refuses("--at sets x twice")),
        HostileCase(description: "--at refuses 1e999, which the language refuses",
                    arguments: ["eval", "-e", "y = x * x", "--at", "x=1e999"], expect: .refuses("1e999")),
        HostileCase(description: "--at refuses 0x10, which the language refuses",
                    arguments: ["eval", "-e", "y = x * x", "--at", "x=0x10"], expect: .refuses("0x10")),
        HostileCase(description: "zeros(9223372036854775807) gets the real reason",
                    arguments: ["eval", "-e", "x = zeros(9223372036854775807); y = sum(x)"],
                    expect: .refuses(nil, never: "whole numbers from 1")),
        HostileCase(description: "pad: 9223372036854775807 gets the real reason",
                    arguments: ["eval", "-e", "x = randn(1, 1, 4, 4)\nh = Conv2D(x, filters: 1, kernel: 3, pad: 9223372036854775807)\ny = sum(h)"],
                    expect: .refuses(nil, never: "must be a whole number")),
        HostileCase(description: "Linear(x, 0) names its argument",
                    arguments: ["eval", "-e", "x = randn(2, 3)\nh = Linear(x, 0)\ny = sum(h)"],
                    expect: .refuses(nil, never: "''").with(rule: firstLineSays("Linear"))),
        HostileCase(description: "a box-limit refusal names a count above the limit",
                    arguments: ["render", program, "-o", "b.svg", "--layout-timeout", "10"],
                    inputs: [program: .text(Hostile.chain(1300))],
                    expect: .succeedsOrRefuses(writes: ["b.svg"], refusal: nil).with(rule: boxCountAboveLimit), seconds: 40),
        HostileCase(description: "a write error names the user's path, not the temporary file",
                    arguments: ["render", "-e", circuit, "-o", "x.png"], inputs: ["x.png": .folder],
                    expect: .refuses("cannot write 'x.png'", never: ".chainrule-")),
        HostileCase(description: "a missing output folder is named",
                    arguments: ["render", "-e", circuit, "-o", "nowhere/x.png"],
                    expect: .refuses("cannot write 'nowhere/x.png'")),
        HostileCase(description: "an output folder that is a file is named as one",
                    arguments: ["render", "-e", circuit, "-o", "\(program)/x.png"], inputs: [program: .text(circuit)],
                    expect: .refuses("cannot write '\(program)/x.png': '\(program)' is a file, not a folder")),
        HostileCase(description: "an output folder behind a symbolic-link loop gets the system's reason",
                    arguments: ["render", "-e", circuit, "-o", "loop/x.png"], inputs: ["loop": .symlink(to: "loop")],
                    expect: .refuses("cannot write 'loop/x.png': the folder 'loop': too many levels of symbolic links")),
        HostileCase(description: "a legal 254-byte output name is written",
                    arguments: ["render", "-e", circuit, "-o", longName], expect: .succeeds(writes: [longName])),
        HostileCase(description: "a 256-byte output name is refused naming it",
                    arguments: ["render", "-e", circuit, "-o", tooLongName],
                    expect: .refuses("cannot write '\(tooLongName)': file name too long", never: ".chainrule-")),
        HostileCase(description: "a 254-byte frames folder for --steps",
                    arguments: ["render", "-e", circuit, "--steps", "-o", String(repeating: "f", count: 254) + "/"],
                    expect: .succeeds(writes: [String(repeating: "f", count: 254)] + (0...2).map { String(repeating: "f", count: 254) + "/step-0\($0).png" })),
        HostileCase(description: "eval /dev/null names a device",
                    arguments: ["eval", "/dev/null"], expect: .refuses("cannot read '/dev/null': it is a device, not a program file")),
        HostileCase(description: "a symbolic-link loop is named as one",
                    arguments: ["eval", "loop1.grad"], inputs: ["loop1.grad": .symlink(to: "loop2.grad"), "loop2.grad": .symlink(to: "loop1.grad")],
                    expect: .refuses("cannot read 'loop1.grad': too many levels of symbolic links")),
        HostileCase(description: "a dangling symbolic link has no such file",
                    arguments: ["eval", "gone.grad"], inputs: ["gone.grad": .symlink(to: "nowhere.grad")],
                    expect: .refuses("cannot read 'gone.grad': no such file")),
        HostileCase(description: "a path through a file is not a folder",
                    arguments: ["eval", "\(program)/x.grad"], inputs: [program: .text(circuit)],
                    expect: .refuses("cannot read '\(program)/x.grad': not a directory")),
        HostileCase(description: "--max-memory past what a byte count holds is not a size",
                    arguments: ["eval", "-e", "y = 1", "--max-memory", "99999999999999999999"],
                    expect: .refuses("byte count below 2^63")),
        HostileCase(description: "--max-memory 0 must be at least 1 byte",
                    arguments: ["eval", "-e", "y = 1", "--max-memory", "0"], expect: .refuses("at least 1 byte")),
        HostileCase(description: "--max-memory 12 parsecs is not a size",
                    arguments: ["eval", "-e", "y = 1", "--max-memory", "12pc"], expect: .refuses("takes a size as 8G")),
        HostileCase(description: "help for an unknown command exits 2",
                    arguments: ["help", "frob"], expect: .refuses("no command named 'frob'", never: "layout-worker")),
        HostileCase(description: "help for a misspelt command suggests one",
                    arguments: ["help", "evl"], expect: .refuses("did you mean 'eval'?")),
        HostileCase(description: "--version prints the version",
                    arguments: ["--version"], expect: .succeeds().with { run in
                        run.stdout.split(separator: ".").count == 3 ? nil : "--version printed \"\(run.stdout)\""
                    }),
        HostileCase(description: "1,000 errors print at most 20, then how many more",
                    arguments: ["eval", program],
                    inputs: [program: .text((1...1000).map { "y\($0) = sigmod(1)" }.joined(separator: "\n") + "\n")],
                    expect: .refuses("and 980 more").with { run in
                        run.stderr.components(separatedBy: "error:").count - 1 <= 20 ? nil : "printed more than 20 errors"
                    }),
        HostileCase(description: "an empty tensor from .npy is refused at its load (mse of no elements is NaN in Core: SizeArithmeticTests)",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"empty.npy\")\ny = mse(x, x)\n"), "empty.npy": .file(Hostile.npy(shape: [0]))],
                    expect: .refuses("no elements")),
        HostileCase(description: "two output lines do not pass silently",
                    arguments: ["eval", "-e", "x = 2\ny = x * x\nz = x + x\noutput y\noutput z"],
                    expect: HostileExpectation(exits: [0, 2], refusal: "output").with { run in
                        run.stderr.contains("output") ? nil : "the second output line went unmentioned"
                    }),
        HostileCase(description: "a non-finite gradient gets a note",
                    arguments: ["eval", "-e", "x = 0\ny = sqrt(x)"],
                    expect: .succeeds(prints: "inf").with { run in run.stderr.contains("note:") ? nil : "no note about the infinite gradient" }),
        HostileCase(description: "CS231n's max(z, w) hints at maximum",
                    arguments: ["eval", "-e", "z = 1\nw = 2\nf = max(z, w)"], expect: .refuses("maximum")),
        HostileCase(description: "a .npy header with an unknown key is refused",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"bad.npy\")\ny = sum(x)\n"),
                             "bad.npy": .file(Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'colour': 1, }", data: Data(count: 8)))],
                    expect: .refuses("bad.npy").with(rule: firstLineSays("bad.npy"))),
        HostileCase(description: "a .npy header without its } is refused",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"bad.npy\")\ny = sum(x)\n"),
                             "bad.npy": .file(Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ", data: Data(count: 8)))],
                    expect: .refuses("bad.npy").with(rule: firstLineSays("bad.npy"))),
        HostileCase(description: "a .npy shape (2, 3,,) is refused",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"bad.npy\")\ny = sum(x)\n"),
                             "bad.npy": .file(Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3,,), }", data: Data(count: 48)))],
                    expect: .refuses("bad.npy").with(rule: firstLineSays("bad.npy"))),
        HostileCase(description: "a .npy header with 'shape' twice is refused",
                    arguments: ["eval", program],
                    inputs: [program: .text("x = load(\"bad.npy\")\ny = sum(x)\n"),
                             "bad.npy": .file(Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", data: Data(count: 8)))],
                    expect: .refuses("bad.npy").with(rule: firstLineSays("bad.npy"))),
        HostileCase(description: "Greek letters are names",
                    arguments: ["eval", "-e", "α = 2\nβ = α * α"], expect: .succeeds(prints: "β = 4")),
        HostileCase(description: "a UTF-8 byte-order mark is skipped",
                    arguments: ["eval", program], inputs: [program: .file(Data([0xEF, 0xBB, 0xBF]) + Data("x = 3\ny = x * x\n".utf8))],
                    expect: .succeeds(prints: "y = 9")),
    ]

    /// Streams that fail and programs that never end (found after the merge of issue 8).
    static let streams: [HostileCase] = [
        HostileCase(description: "ops into a closed pipe (ops | head -1) exits 0, not SIGPIPE",
                    arguments: ["ops"], expect: .succeeds(), streams: .stdoutReaderGone),
        HostileCase(description: "eval --json into a closed pipe exits 0",
                    arguments: ["eval", "-e", "x = randn(300, 300)\ny = sum(x * x)", "--json", "--full"],
                    expect: .succeeds(), streams: .stdoutReaderGone),
        HostileCase(description: "check into a closed pipe exits 0 or 1 as the check went",
                    arguments: ["check", "-e", "x = [1, 2]\ny = sum(x * x)"], expect: .checks(), streams: .stdoutReaderGone),
        HostileCase(description: "help into a closed pipe exits 0",
                    arguments: ["help", "check"], expect: .succeeds(), streams: .stdoutReaderGone),
        HostileCase(description: "ops onto a full disk is refused naming standard output",
                    arguments: ["ops"], expect: .refuses("cannot write standard output: no space left on device"), streams: .stdoutFull),
        HostileCase(description: "eval --json onto a full disk is refused",
                    arguments: ["eval", "-e", "x = [1, 2]\ny = sum(x * x)", "--json"],
                    expect: .refuses("cannot write standard output"), streams: .stdoutFull),
        HostileCase(description: "--version onto a full disk is refused",
                    arguments: ["--version"], expect: .refuses("cannot write standard output"), streams: .stdoutFull),
        HostileCase(description: "a refusal whose standard error is full still exits 2, not a trap",
                    arguments: ["eval", "-e", "y = "], expect: .refusesSilently, streams: .stderrFull),
        HostileCase(description: "a note whose standard error is full does not stop the run",
                    arguments: ["eval", "-e", "x = -1\ny = log(x)"], expect: .succeeds(), streams: .stderrFull),
        HostileCase(description: "render's notes with standard error full",
                    arguments: ["render", "-e", "x = [1, 2]\ny = sum(x / 0)", "-o", "t.svg"],
                    expect: .succeeds(writes: ["t.svg"]), streams: .stderrFull),
        HostileCase(description: "a named pipe with no writer as the program is refused, not waited on",
                    arguments: ["eval", "pipe.grad"], inputs: ["pipe.grad": .fifo],
                    expect: .refuses("cannot read 'pipe.grad': it is a named pipe with no writer"), seconds: 10),
        HostileCase(description: "load() of a named pipe is refused, not waited on",
                    arguments: ["eval", program], inputs: [program: .text("x = load(\"pipe.npy\")\ny = sum(x)\n"), "pipe.npy": .fifo],
                    expect: .refuses("pipe.npy: it is a pipe, not a .npy file").with(rule: firstLineSays("pipe.npy")), seconds: 10),
        HostileCase(description: "load() of a folder says it is a folder",
                    arguments: ["eval", program], inputs: [program: .text("x = load(\"data.npy\")\ny = sum(x)\n"), "data.npy": .folder],
                    expect: .refuses("data.npy: it is a folder, not a .npy file")),
        HostileCase(description: "load() of a device is refused before reading",
                    arguments: ["eval", "-e", "x = load(\"/dev/zero\")\ny = sum(x)"], expect: .refuses("it is a device")),
        HostileCase(description: "a CRLF program's error echoes its line under the message",
                    arguments: ["eval", program], inputs: [program: .text("x = 1\r\ny = x $\r\n")],
                    expect: .refuses("\(program):2:7: error: unexpected character '$'\ny = x $\n      ^")),
        HostileCase(description: "a 20 GB (sparse) program file is refused at 64 MiB, not read into memory",
                    arguments: ["eval", program], inputs: [program: .sparse(bytes: 20 << 30)],
                    expect: .refuses("a program is at most 64 MiB").with(rule: firstLineSays(program))),
        HostileCase(description: "a file whose size says 0 but which has text (/proc) is read to its end, not taken as empty",
                    arguments: ["eval", "/proc/self/status"],
                    expect: .refuses("/proc/self/status:1:5: error: expected end of line after the expression", never: "no bindings")),
    ]

    /// A refusal's message itself, not the echoed source line under it, says `text`.
    static func firstLineSays(_ text: String) -> @Sendable (HostileRun) -> String? {
        { run in
            guard run.status == 2 else { return nil }
            let first = run.stderr.split(separator: "\n").first ?? ""
            return first.contains(text) ? nil : "the message \"\(first)\" lacks \"\(text)\""
        }
    }

    /// A refusal that counts boxes names more of them than its limit.
    static let boxCountAboveLimit: @Sendable (HostileRun) -> String? = { run in
        let numbers = run.stderr.split { !$0.isNumber }.compactMap { Int($0) }
        guard run.status == 2, run.stderr.contains("boxes"), numbers.count >= 2 else { return nil }
        return numbers[0] > numbers[1] ? nil : "refused \(numbers[0]) boxes as over a limit of \(numbers[1])"
    }

    /// Scalar programs as a generator writes them, which the byte reader
    /// (`ScalarReader`) takes before the general front end: each refusal is
    /// the general front end's, each success the same numbers.
    static let scalarReaderInputs: [HostileCase] = [
        HostileCase(description: "a number too large for a Double, in a scalar program",
                    arguments: ["eval", program], inputs: [program: .text("x = 1e999999\ny = x * 2\n")],
                    expect: .refuses("number 1e999999 is too large for a Double")),
        HostileCase(description: "a power whose exponent is a number too large for a Double",
                    arguments: ["eval", program], inputs: [program: .text("x = 2\ny = x ^ 1e400\n")],
                    expect: .refuses("number 1e400 is too large for a Double")),
        HostileCase(description: "300 nested parentheses in a scalar program",
                    arguments: ["eval", program], inputs: [program: .text("x = 0.5\ny = " + String(repeating: "(", count: 300) + "x" + String(repeating: ")", count: 300) + "\n")],
                    expect: .refuses("nests more than 200 levels deep")),
        HostileCase(description: "300 nested minus signs in a scalar program",
                    arguments: ["eval", program], inputs: [program: .text("x = 0.5\ny = " + String(repeating: "-", count: 300) + "x\n")],
                    expect: .refuses("nests more than 200 levels deep")),
        HostileCase(description: "a NUL byte inside a scalar binding",
                    arguments: ["eval", program], inputs: [program: .text("x = 1\ny = x\u{0} * 2\n")],
                    expect: .refuses("\(program):2:")),
        HostileCase(description: "CRLF line ends and bindings named as ops",
                    arguments: ["eval", program], inputs: [program: .text("exp = 2\r\ntanh = exp * 3\r\ny = tanh(tanh - 6) + exp\r\n")],
                    expect: .succeeds(prints: "y = 2")),
        HostileCase(description: "a name bound twice in a scalar program",
                    arguments: ["eval", program], inputs: [program: .text("x = 1\ny = x * 2\ny = x * 3\n")],
                    expect: .refuses("y is already defined on line 2")),
        HostileCase(description: "a scalar program of 200,000 bindings",
                    arguments: ["eval", program], inputs: [program: .text("x0 = 1\n" + (1..<200_000).map { "x\($0) = x\($0 - 1) * 1\n" }.joined())],
                    expect: .succeeds(prints: "x199999 = 1"), seconds: 60),
    ]

    /// `--fit` (`PageOption`) of the figures and `train`, read by `ChartPage(parsing:)`,
    /// and the other options the change added that contradict each other.
    static let pageInputs: [HostileCase] = [
        HostileCase(description: "check --local-only with --end-to-end-only",
                    arguments: ["check", program, "--local-only", "--end-to-end-only"], inputs: [program: .text(circuit)],
                    expect: .refuses("give either --local-only or --end-to-end-only, not both")),
        HostileCase(description: "check --ops --local-only",
                    arguments: ["check", "--ops", "--local-only"],
                    expect: .refuses("--local-only chooses a program's check: give a FILE")),
        HostileCase(description: "ops --onnx --markdown",
                    arguments: ["ops", "--onnx", "--markdown"],
                    expect: .refuses("--onnx takes --json or nothing")),
        HostileCase(description: "--fit a page of inf points",
                    arguments: ["figure", "softmax", "--logits", "1,2", "--label", "0", "--fit", "infxinf", "-o", "s.png"],
                    expect: .refuses("--fit takes slide (16:9), 4:3 or WxH")),
        HostileCase(description: "--fit a page past 5000 points",
                    arguments: ["figure", "softmax", "--logits", "1,2", "--label", "0", "--fit", "6000x500", "-o", "s.png"],
                    expect: .refuses("each side must be between 100 and 5000 points")),
    ]

    /// The inputs issues 11–13 added: models, data sets, checkpoints, pages.
    static let newInputs: [HostileCase] = [
        HostileCase(description: "a file named .onnx that holds a program's text",
                    arguments: ["eval", "m.onnx"], inputs: ["m.onnx": .text(circuit)],
                    expect: .refuses("m.onnx")),
        HostileCase(description: "an ONNX model cut after its first bytes",
                    arguments: ["render", "m.onnx", "-o", "m.svg"],
                    inputs: ["m.onnx": .file(try! Data(contentsOf: CLIRun.repository.appendingPathComponent("Tests/ChainruleONNXTests/Fixtures/mlp.onnx")).prefix(40))],
                    expect: .refuses("m.onnx")),
        HostileCase(description: "an empty .onnx file",
                    arguments: ["check", "m.onnx"], inputs: ["m.onnx": .text("")],
                    expect: .refuses("m.onnx")),
        HostileCase(description: "--input on a .grad program",
                    arguments: ["eval", program, "--input", "x.npy"], inputs: [program: .text(circuit)],
                    expect: .refuses("--input gives an .onnx model's inputs")),
        HostileCase(description: "--loss on a .grad program",
                    arguments: ["check", program, "--loss", "cross_entropy", "--labels", "0"], inputs: [program: .text(circuit)],
                    expect: .refuses("--loss applies to an .onnx model")),
        HostileCase(description: "--data on a program without data()",
                    arguments: ["eval", program, "--data", "moons"], inputs: [program: .text(circuit)],
                    expect: .refuses("declares no data(…) input")),
        HostileCase(description: "a data set that does not exist",
                    arguments: ["train", program, "--data", "no-such-set"], inputs: [program: .text("x = data(2)\ny = labels()\ns = Linear(x, 2)\nloss = cross_entropy(s, y)\n")],
                    expect: .refuses("no-such-set")),
        HostileCase(description: "--init-from a file that is not safetensors",
                    arguments: ["eval", program, "--init-from", "ckpt.safetensors"],
                    inputs: [program: .text(circuit), "ckpt.safetensors": .file(Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) + Data("{".utf8))],
                    expect: .refuses("ckpt.safetensors")),
        HostileCase(description: "the interactive page of a tensor holding NaN and an empty reduction",
                    arguments: ["render", "-e", "x = [1, 2, 3]; y = sum(log(x - 2))", "-o", "p.html"],
                    expect: .succeeds(writes: ["p.html"])),
    ]

    /// A safetensors file of one F64 tensor of `count` zeros named `name`.
    static func safetensors(_ name: String, count: Int) -> HostileEntry {
        var header = Data("{\"\(name)\":{\"dtype\":\"F64\",\"shape\":[\(count)],\"data_offsets\":[0,\(8 * count)]}}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var length = UInt64(header.count).littleEndian
        return .file(Data(bytes: &length, count: 8) + header + Data(count: 8 * count))
    }

    static let digitsModel = HostileEntry.file(try! Data(contentsOf: CLIRun.repository.appendingPathComponent("samples/digits/digits-mlp.onnx")))
    static let classifier = "x = data(2)\ny = labels()\ns = Linear(x, 2)\nloss = cross_entropy(s, y)\n"

    /// `train --html`, `train` of an ONNX model, `--init-from` checkpoints that do not fit, `figure optimizers --optimizers`:
    /// each refusal leaves neither the checkpoint nor the page behind.
    static let trainingInputs: [HostileCase] = [
        HostileCase(description: "an ONNX model trained without --loss",
                    arguments: ["train", "m.onnx", "--data", "digits"], inputs: ["m.onnx": digitsModel],
                    expect: .refuses("an .onnx model has no loss: give --loss cross_entropy")),
        HostileCase(description: "an ONNX model trained without --data",
                    arguments: ["train", "m.onnx", "--loss", "cross_entropy"], inputs: ["m.onnx": digitsModel],
                    expect: .refuses("an .onnx model trains on examples: give --data")),
        HostileCase(description: "an ONNX model of 64 features trained on the 2-D moons",
                    arguments: ["train", "m.onnx", "--loss", "cross_entropy", "--data", "moons", "--checkpoint", "c.safetensors", "--html", "p.html"],
                    inputs: ["m.onnx": digitsModel],
                    expect: .refuses("input 'input' declares shape batch×64, but a batch of moons has shape 100×2")),
        HostileCase(description: "an ONNX model of 10 classes trained on labels up to 11",
                    arguments: ["train", "m.onnx", "--loss", "cross_entropy", "--data", "d.csv", "--batch", "2", "--html", "p.html"],
                    inputs: ["m.onnx": digitsModel, "d.csv": .text((0..<2).map { row in (0..<64).map { _ in "0.5" }.joined(separator: ",") + ",\(row == 0 ? 11 : 3)" }.joined(separator: "\n") + "\n")],
                    expect: .refuses("has class 11, but the model's output scores 10 classes")),
        HostileCase(description: "train --loss on a .grad program",
                    arguments: ["train", program, "--data", "moons", "--loss", "cross_entropy"], inputs: [program: .text(classifier)],
                    expect: .refuses("--loss applies to an .onnx model")),
        HostileCase(description: "train --html to a file that is not .html",
                    arguments: ["train", program, "--data", "moons", "--html", "run.png"], inputs: [program: .text(classifier)],
                    expect: .refuses("--html writes an interactive page: give a FILE.html")),
        HostileCase(description: "train --html in a folder that does not exist",
                    arguments: ["train", program, "--data", "moons", "--html", "missing/run.html"], inputs: [program: .text(classifier)],
                    expect: .refuses("--html missing/run.html: the folder 'missing' does not exist")),
        HostileCase(description: "train --compare with --html",
                    arguments: ["train", program, "--data", "moons", "--compare", "sgd,adam", "--html", "run.html"], inputs: [program: .text(classifier)],
                    expect: .refuses("--compare trains several runs")),
        HostileCase(description: "--init-from a checkpoint none of whose names is the model's",
                    arguments: ["eval", "m.onnx", "--init-from", "c.safetensors"], inputs: ["m.onnx": digitsModel, "c.safetensors": safetensors("h1.W", count: 4)],
                    expect: .refuses("none of its tensors is named as a parameter of the program")),
        HostileCase(description: "--init-from a checkpoint whose s.W has another shape, training with a page and a checkpoint",
                    arguments: ["train", program, "--data", "moons", "--init-from", "c.safetensors", "--checkpoint", "out.safetensors", "--html", "p.html"],
                    inputs: [program: .text(classifier), "c.safetensors": safetensors("s.W", count: 3)],
                    expect: .refuses("s.W: shape 3 in the checkpoint, 2×2 in the program")),
        HostileCase(description: "figure optimizers --optimizers with an unknown name",
                    arguments: ["figure", "optimizers", "--optimizers", "sgd,adamw", "-o", "o.png"],
                    expect: .refuses("--optimizers: unknown optimizer 'adamw'")),
        HostileCase(description: "train --html writes the page",
                    arguments: ["train", program, "--data", "moons:40", "--epochs", "2", "--html", "p.html"], inputs: [program: .text(classifier)],
                    expect: .succeeds(writes: ["p.html"], prints: "page: p.html (3 snapshots, epochs 0–2)")),
    ]

    @Test("train's pages, ONNX models and checkpoints exit 0 or 2 with what is wrong, leaving nothing behind", arguments: trainingInputs)
    func trainingInput(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("scalar programs the byte reader takes first refuse or succeed as the general front end does", arguments: scalarReaderInputs)
    func scalarReaderInput(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("--fit pages out of bounds and contradicting options exit 2 with what is wrong", arguments: pageInputs)
    func pageInput(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("models, data sets, checkpoints and pages exit 0 or 2 with what is wrong", arguments: newInputs)
    func newInput(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("the crashes of issue 8 exit 0, 1 or 2", arguments: crashes)
    func crash(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("the hangs and runaway resources of issue 8 are bounded", arguments: runaways)
    func runaway(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("wrong exits and misleading messages of issue 8", arguments: messages)
    func message(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("failing standard streams and endless programs", arguments: streams)
    func stream(_ hostile: HostileCase) throws { try check(hostile) }

    @Test("check's notes with standard error full do not trap")
    func checkNotesWithStandardErrorFull() throws {
        try check(HostileCase(description: "check's NaN note and refusal with standard error full",
                              arguments: ["check", "-e", "x = [1, 2]\ny = sum(x / 0)"], expect: .refusesSilently, streams: .stderrFull))
    }

    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }

    // MARK: Interrupted runs

    /// A run interrupted once its temporary exists: the signal's exit status, nothing left.
    struct Interruption: Sendable, CustomStringConvertible {
        var description: String
        var arguments: [String]
        var inputs: [String: HostileEntry]
        var signal: Int32
        /// Seconds between the temporary's appearance and the signal.
        var delay: Double = 0
    }

    static let chain12 = (["x0 = 0.5"] + (1..<12).map { "x\($0) = tanh(x\($0 - 1) * 1.1 + 0.1)" }).joined(separator: "\n") + "\n"
    static let mlp = try! String(contentsOf: CLIRun.repository.appendingPathComponent("samples/mlp.grad"), encoding: .utf8)

    /// Every op uses two earlier results, one far back: long edges, seconds inside
    /// Graphviz (signalled a second into the layout, so inside its C code, or in
    /// the layout's child process, which must not outlive the run).
    static let longEdges = (["x0 = 0.5", "x1 = 0.7"] + (2..<90).map { "x\($0) = x\($0 - 1) * x\($0 / 2) + x\($0 - 2)" })
        .joined(separator: "\n") + "\n"

    static let interruptions: [Interruption] = [
        Interruption(description: "SIGTERM during a long Graphviz layout", arguments: ["render", program, "-o", "long.svg"],
                     inputs: [program: .text(longEdges)], signal: SIGTERM, delay: 1),
        Interruption(description: "SIGINT during a long Graphviz layout", arguments: ["render", program, "-o", "long.pdf"],
                     inputs: [program: .text(longEdges)], signal: SIGINT, delay: 1),
        Interruption(description: "SIGINT during --steps -o steps.pdf", arguments: ["render", program, "--steps", "-o", "steps.pdf"],
                     inputs: [program: .text(chain12)], signal: SIGINT),
        Interruption(description: "SIGTERM during --steps -o steps.pdf", arguments: ["render", program, "--steps", "-o", "steps.pdf"],
                     inputs: [program: .text(chain12)], signal: SIGTERM),
        Interruption(description: "SIGINT during --steps -o frames/", arguments: ["render", program, "--steps", "-o", "frames/"],
                     inputs: [program: .text(chain12)], signal: SIGINT),
        Interruption(description: "SIGTERM during --steps into an existing frames folder", arguments: ["render", program, "--steps", "-o", "frames"],
                     inputs: [program: .text(chain12), "frames": .folder, "frames/step-00.png": .text("an older frame")], signal: SIGTERM),
        Interruption(description: "SIGINT while a large PNG is written", arguments: ["render", program, "--style", "record", "--scale", "4", "-o", "big.png"],
                     inputs: [program: .text(mlp)], signal: SIGINT),
        Interruption(description: "SIGTERM while a large PNG is written", arguments: ["render", program, "--style", "record", "--scale", "4", "-o", "big.png"],
                     inputs: [program: .text(mlp)], signal: SIGTERM),
        Interruption(description: "SIGINT during check --figure", arguments: ["check", program, "--figure", "check.png"],
                     inputs: [program: .text(mlp)], signal: SIGINT),
        Interruption(description: "SIGHUP while a large PNG is written", arguments: ["render", program, "--style", "record", "--scale", "4", "-o", "big.png"],
                     inputs: [program: .text(mlp)], signal: SIGHUP),
    ]

    @Test("an interrupted run removes its temporaries and exits 128 + the signal", arguments: interruptions)
    func interrupted(_ interruption: Interruption) throws {
        let run = try HostileRun(interruption.arguments, inputs: interruption.inputs, seconds: 60, signal: interruption.signal,
                                delay: interruption.delay)
        #expect(run.sawTemporary, "the run ended before its temporary appeared: choose a slower input (\(run.stderr.prefix(300)))")
        #expect(!run.signalled && !run.timedOut, "ended by signal \(run.status), or timed out: \(run.timedOut)")
        #expect(run.status == 128 + interruption.signal)
        #expect(run.added.isEmpty, "left \(run.added)")
        #expect(run.survivors.isEmpty, "processes \(run.survivors) still ran in the folder")
    }
}

// MARK: Names at the end of a program

/// The scalar reader compares names 8 bytes at a time through a copy of
/// the text padded with NULs: a name of 7, 8, 9, 16 or 17 bytes ending the
/// file, or two names alike in their first 8 bytes, is still read as itself.
extension HostileInputTests {
    static let namesAtTheEnd: [(program: String, stdout: String)] = [
        ("abcdefg = 2\ny = abcdefg * 3", "y = 6\n"),
        ("abcdefgh = 2\ny = abcdefgh * 3", "y = 6\n"),
        ("abcdefghi = 2\ny = abcdefghi * 3", "y = 6\n"),
        ("abcdefghijklmnop = 2\nabcdefghijklmnop", "abcdefghijklmnop = 2\n"),
        ("abcdefghijklmnopq = 2\nabcdefghijklmnopq", "abcdefghijklmnopq = 2\n"),
        ("abcdefghX = 1\nabcdefghY = 2\ny = abcdefghX + abcdefghY * 10", "y = 21\n"),
        ("abcdefgh = 1\nabcdefg = 2\ny = abcdefg * 10 + abcdefgh", "y = 21\n"),
    ]

    @Test("a name ending the program, of 7 to 17 bytes, is read as itself", arguments: namesAtTheEnd)
    func nameAtTheEnd(_ program: String, _ stdout: String) throws {
        let run = try HostileRun(["eval", Self.program], inputs: [Self.program: .text(program)], seconds: 20)
        #expect(run.status == 0 && !run.signalled, "status \(run.status): \(run.stderr.prefix(300))")
        #expect(run.stdout.hasPrefix(stdout), "\(run.stdout.prefix(300))")
    }
}

// MARK: ONNX losses against data they cannot read

/// `train model.onnx --loss L` on a data set whose classes the output cannot
/// score: exit 2 with the class and the output's classes, before any step.
extension HostileInputTests {
    static let binaryMLP = HostileEntry.file(try! Data(contentsOf: CLIRun.repository.appendingPathComponent("Tests/ChainruleONNXTests/Fixtures/binary-mlp.onnx")))

    static let onnxLosses: [HostileCase] = [
        HostileCase(description: "hinge on a model with one output column, trained on moons (classes 0 and 1)",
                    arguments: ["train", "m.onnx", "--loss", "hinge", "--data", "moons", "--epochs", "1"],
                    inputs: ["m.onnx": binaryMLP],
                    expect: .refuses("moons has class 1, but the model's output scores 1 class (0…0)")),
        HostileCase(description: "binary cross-entropy on blobs, whose labels go past 1",
                    arguments: ["train", "m.onnx", "--loss", "binary_cross_entropy_with_logits", "--data", "blobs", "--epochs", "1"],
                    inputs: ["m.onnx": binaryMLP],
                    expect: .refuses("blobs has class 2, but binary_cross_entropy_with_logits takes labels 0 or 1")),
        HostileCase(description: "a --loss the registry does not put on an ONNX model",
                    arguments: ["train", "m.onnx", "--loss", "mse", "--data", "moons"],
                    inputs: ["m.onnx": binaryMLP],
                    expect: .refuses("Please provide one of 'cross_entropy', 'hinge' or 'binary_cross_entropy_with_logits'")),
    ]

    @Test("an ONNX loss the data's labels do not fit is refused", arguments: onnxLosses)
    func onnxLoss(_ hostile: HostileCase) throws { try check(hostile) }
}

extension HostileInputTests {
    /// `render --fit` edge values, read by `FitTarget(validating:)`: the range
    /// `FitTarget.sideRange` is inclusive, anything past it or not a number
    /// refused; and titles far wider than any fit, broken in bounded time.
    static let renderFitInputs: [HostileCase] = [
        HostileCase(description: "render --fit a side just under 100 points",
                    arguments: ["render", program, "--fit", "99.9x450", "-o", "f.png"], inputs: [program: .text(circuit)],
                    expect: .refuses("each side must be between 100 and 5000 points")),
        HostileCase(description: "render --fit a side that overflows to inf",
                    arguments: ["render", program, "--fit", "1e400x450", "-o", "f.png"], inputs: [program: .text(circuit)],
                    expect: .refuses("--fit takes slide (16:9), 4:3 or WxH")),
        HostileCase(description: "render --fit 0x0",
                    arguments: ["render", program, "--fit", "0x0", "-o", "f.png"], inputs: [program: .text(circuit)],
                    expect: .refuses("each side must be between 100 and 5000 points")),
        HostileCase(description: "render --fit with three sides",
                    arguments: ["render", program, "--fit", "800x450x2", "-o", "f.png"], inputs: [program: .text(circuit)],
                    expect: .refuses("--fit takes slide (16:9), 4:3 or WxH")),
        HostileCase(description: "render --fit at both ends of the range",
                    arguments: ["render", program, "--fit", "100x5000", "-o", "f.svg"], inputs: [program: .text(circuit)],
                    expect: .succeeds(writes: ["f.svg"])),
        HostileCase(description: "a --title of one 100,000-character word, broken between its characters",
                    arguments: ["render", program, "--title", String(repeating: "a", count: 100_000), "-o", "t.svg"],
                    inputs: [program: .text(circuit)], expect: .succeeds(writes: ["t.svg"]), seconds: 20),
        HostileCase(description: "a --title of 20,000 words",
                    arguments: ["render", program, "--title", Array(repeating: "word", count: 20_000).joined(separator: " "), "-o", "t.svg"],
                    inputs: [program: .text(circuit)], expect: .succeeds(writes: ["t.svg"]), seconds: 20),
    ]

    @Test("render --fit at and past its edges, and huge titles, exit 0 or 2 with what is wrong in bounded time", arguments: renderFitInputs)
    func renderFitInput(_ hostile: HostileCase) throws { try check(hostile) }
}
