enum LinearAlgebraOps {
    static let family = "linear algebra"
    static let specs: [OpSpec] = []
}
