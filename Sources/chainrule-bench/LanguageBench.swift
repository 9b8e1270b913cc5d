enum LanguageBench {
    static func run() throws {
        print("(no benchmarks yet)")
    }
}
