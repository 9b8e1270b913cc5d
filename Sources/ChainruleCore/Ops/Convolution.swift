enum ConvolutionOps {
    static let family = "convolution"
    static let specs: [OpSpec] = []
}
