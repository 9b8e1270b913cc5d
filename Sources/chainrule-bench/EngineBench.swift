enum EngineBench {
    static func run() throws {
        print("(no benchmarks yet)")
    }
}
