enum PoolingOps {
    static let family = "pooling"
    static let specs: [OpSpec] = []
}
