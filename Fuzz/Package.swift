// swift-tools-version: 6.0
// libFuzzer targets for the .grad language, the .npy loader and the ONNX reader, kept out of
// the main package so its build is untouched. Build and run (from this folder):
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address
//   ../scripts/fuzz.sh 600     # both targets, 600 s each
// docs/fuzzing.md says what each target reaches and records the last runs.
import PackageDescription

let package = Package(
    name: "ChainruleFuzz",
    dependencies: [.package(name: "Chainrule", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "ChainruleCheck", package: "Chainrule"),
                .product(name: "ChainruleFigures", package: "Chainrule"),
                .product(name: "ChainruleLanguage", package: "Chainrule"),
                .product(name: "ChainruleONNX", package: "Chainrule"),
            ]
        ),
        .executableTarget(
            name: "LanguageFuzzer",
            dependencies: ["FuzzSupport", .product(name: "ChainruleCore", package: "Chainrule")],
            // libFuzzer brings its own main; the files only define the entry point.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "NpyFuzzer",
            dependencies: ["FuzzSupport", .product(name: "ChainruleLanguage", package: "Chainrule")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "ONNXFuzzer",
            dependencies: ["FuzzSupport", .product(name: "ChainruleONNX", package: "Chainrule")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
