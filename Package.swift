// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Chainrule",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chainrule", targets: ["chainrule"]),
        .library(name: "ChainruleCore", targets: ["ChainruleCore"]),
        .library(name: "ChainruleCheck", targets: ["ChainruleCheck"]),
        .library(name: "ChainruleLanguage", targets: ["ChainruleLanguage"]),
        .library(name: "ChainruleFigures", targets: ["ChainruleFigures"]),
        .library(name: "ChainruleONNX", targets: ["ChainruleONNX"]),
        .library(name: "ChainruleTraining", targets: ["ChainruleTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", exact: "1.1.1"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CGraphviz",
            pkgConfig: "libgvc",
            providers: [.apt(["libgraphviz-dev"])]
        ),
        // No pkgConfig: its flags would link the shared libcairo (see CCairo/module.modulemap).
        .systemLibrary(
            name: "CCairo",
            providers: [.apt(["libcairo2-dev"])]
        ),
        .target(name: "ChainruleCore"),
        .target(
            name: "ChainruleCheck",
            dependencies: [
                "ChainruleCore",
                .product(name: "Numerics", package: "swift-numerics"),
            ],
            resources: [.embedInCode("External/chainrule.py")]
        ),
        .target(name: "ChainruleLanguage", dependencies: ["ChainruleCore"]),
        .target(name: "ChainruleTraining", dependencies: ["ChainruleCore"]),
        .target(
            name: "ChainruleONNX",
            dependencies: ["ChainruleCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "ChainruleFigures",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleTraining", "CGraphviz", "CCairo"],
            resources: [
                .embedInCode("Interactive/viewer.html"), .embedInCode("Interactive/viewer.css"), .embedInCode("Interactive/viewer.js"),
            ]
        ),
        .executableTarget(
            name: "chainrule",
            dependencies: [
                "ChainruleCore", "ChainruleCheck", "ChainruleLanguage", "ChainruleFigures", "ChainruleONNX", "ChainruleTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // A release build links a position-dependent executable: a PIE of
            // this static binary has 90,000 relative relocations that ld.so
            // applies at every start (1.2 million instructions, 205 of
            // `--version`'s 701 page faults). Debug builds and tests stay PIE.
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "chainrule-bench",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleLanguage", "ChainruleFigures", "ChainruleTraining"]
        ),
        .testTarget(name: "ChainruleCoreTests", dependencies: ["ChainruleCore", "ChainruleCheck"]),
        .testTarget(
            name: "ChainruleCheckTests",
            dependencies: [
                "ChainruleCore", "ChainruleCheck",
                .product(name: "Numerics", package: "swift-numerics"),
            ]
        ),
        .testTarget(
            name: "ChainruleLanguageTests",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleLanguage"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ChainruleBridgeTests",
            dependencies: ["ChainruleCore", "ChainruleCheck"],
            exclude: ["Scripts"]
        ),
        .testTarget(
            name: "ChainruleONNXTests",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleLanguage", "ChainruleONNX"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ChainruleTrainingTests",
            dependencies: ["ChainruleCore", "ChainruleLanguage", "ChainruleTraining", "chainrule"]
        ),
        .testTarget(
            name: "ChainruleCLITests",
            dependencies: ["chainrule"]
        ),
        .testTarget(
            name: "ChainruleBrowserTests",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleLanguage", "ChainruleFigures", "CCairo"]
        ),
        .testTarget(
            name: "ChainruleFiguresTests",
            dependencies: ["ChainruleCore", "ChainruleCheck", "ChainruleLanguage", "ChainruleFigures"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
