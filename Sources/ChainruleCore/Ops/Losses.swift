enum LossOps {
    static let family = "losses"
    static let specs: [OpSpec] = []
}
