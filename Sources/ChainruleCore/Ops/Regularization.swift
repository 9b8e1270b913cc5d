enum RegularizationOps {
    static let family = "regularization"
    static let specs: [OpSpec] = []
}
