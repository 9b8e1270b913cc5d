// Reading an op's attributes in its spec's `build` closure: a missing
// attribute falls back to its default, a required one that is missing or an
// attribute of the wrong kind is a `ValueError` that names the op.

extension OpArguments {
    /// Attribute `name` as a number; `fallback` when absent, an error when
    /// absent without fallback or not a number.
    func double(_ name: String, of op: String, default fallback: Double? = nil) throws(ValueError) -> Double {
        guard let value = attributes[name] else {
            if let fallback { return fallback }
            throw ValueError(op: op, "needs the number \(name), e.g. \(op)(x, \(name): 2)")
        }
        guard let number = value.doubleValue else {
            throw ValueError(op: op, "\(name) must be a number, got \(value)")
        }
        return number
    }

    /// Attribute `name` as an integer, `nil` when absent (an attribute such
    /// as a reduction's axis, where absence means "all axes").
    func optionalInt(_ name: String, of op: String) throws(ValueError) -> Int? {
        guard let value = attributes[name] else { return nil }
        guard let integer = value.intValue else {
            throw ValueError(op: op, "\(name) must be a whole number, got \(value)")
        }
        return integer
    }

    /// Attribute `name` as a flag; `fallback` when absent.
    func bool(_ name: String, of op: String, default fallback: Bool) throws(ValueError) -> Bool {
        guard let value = attributes[name] else { return fallback }
        guard let flag = value.boolValue else {
            throw ValueError(op: op, "\(name) must be true or false, got \(value)")
        }
        return flag
    }

    /// Attribute `name` as a list of integers, `nil` when absent.
    func optionalInts(_ name: String, of op: String) throws(ValueError) -> [Int]? {
        guard let value = attributes[name] else { return nil }
        guard let integers = value.intsValue else {
            throw ValueError(op: op, "\(name) must be a list of whole numbers such as [0, 2, 1], got \(value)")
        }
        return integers
    }
}
