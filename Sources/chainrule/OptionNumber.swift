import ArgumentParser
import ChainruleCore
import ChainruleLanguage

/// The numeric options of every command read a number as a program writes
/// one (`WrittenNumber`, the language's lexer), as `--at` does: `0x10`,
/// `0x1p-3`, `nan`, `inf` and `1_000` are refused with one message, not
/// taken as Swift's `Double(_:)` would take them (`--rtol inf` passed every
/// rule; `--logits 0x10` drew a 16).
enum OptionNumber {
    /// For `@Option(transform:)`: the number `text` spells, or a validation error saying why not.
    static func read(_ text: String) throws -> Double {
        switch WrittenNumber.read(text) {
        case .success(let value): return value
        case .failure(let problem): throw ValidationError(problem.description)
        }
    }

    /// A default as the help shows it (`1e-5`, `30`): ArgumentParser prints
    /// none for an option read through `transform`, so the help text does.
    static func shown(_ value: Double) -> String { formatNumber(value) }
}
