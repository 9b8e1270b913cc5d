// swift-tools-version: 6.0
// A libFuzzer target for the .grad compiler, kept out of the main package so
// its build is untouched. Build and run (from this folder):
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address
//   .build/debug/LanguageFuzzer Corpus -max_total_time=300
// docs/language.md ("Fuzzing") records the last run.
import PackageDescription

let package = Package(
    name: "ChainruleFuzz",
    dependencies: [.package(name: "Chainrule", path: "..")],
    targets: [
        .executableTarget(
            name: "LanguageFuzzer",
            dependencies: [.product(name: "ChainruleLanguage", package: "Chainrule")],
            // libFuzzer brings its own main; the file only defines the entry point.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
