enum ReductionOps {
    static let family = "reductions"
    static let specs: [OpSpec] = []
}
