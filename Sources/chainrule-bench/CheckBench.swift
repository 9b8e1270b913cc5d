enum CheckBench {
    static func run() throws {
        print("(no benchmarks yet)")
    }
}
