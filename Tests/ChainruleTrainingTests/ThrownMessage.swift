/// What `body` throws, as its message; nil when it does not throw (the training
/// suites' refusals are compared by their words).
func thrownMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}
