enum ShapeOps {
    static let family = "shape"
    static let specs: [OpSpec] = []
}
