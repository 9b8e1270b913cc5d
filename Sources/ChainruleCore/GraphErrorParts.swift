extension GraphError {
    /// What went wrong, without the place: the broken shape rule or the
    /// refused value, for a diagnostic that shows the place itself.
    public var message: String {
        switch self {
        case .invalidValue(_, _, _, let error): return error.description
        case .shape(let error, _): return error.description
        }
    }

    /// Where the node that failed was written, if it came from a program.
    public var location: SourceLocation? {
        switch self {
        case .invalidValue(_, _, let location, _), .shape(_, let location): return location
        }
    }
}
