import Foundation

// `make bench`: every area's benchmarks, release build, one table each.
// Pass area names (engine, check, language, figures, training) to run only those.
let requested = Set(CommandLine.arguments.dropFirst())
let areas: [(String, () throws -> Void)] = [
    ("engine", EngineBench.run),
    ("check", CheckBench.run),
    ("language", LanguageBench.run),
    ("figures", FigureBench.run),
    ("training", TrainingBench.run),
]
for (name, run) in areas where requested.isEmpty || requested.contains(name) {
    print("== \(name) ==")
    try run()
    print()
}
