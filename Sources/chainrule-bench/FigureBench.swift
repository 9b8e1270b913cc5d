enum FigureBench {
    static func run() throws {
        print("(no benchmarks yet)")
    }
}
