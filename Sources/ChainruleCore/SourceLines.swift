extension StringProtocol {
    /// The lines of a program's text as its diagnostics count them: a line ends at "\n" or at
    /// "\r\n" (one Character in Swift, so splitting on "\n" alone leaves a CRLF file one line).
    /// Every place that shows line N of a source (diagnostics, check's hints, the interactive
    /// page) reads it through this.
    public func sourceLines() -> [SubSequence] {
        split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }
}
