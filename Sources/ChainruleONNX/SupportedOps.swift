/// The ONNX ops Chainrule imports (standard domain, opsets 13 to 21), each
/// with what it becomes: `chainrule ops --onnx` prints this table, and an
/// unsupported op's error lists it.
public enum ONNXOp: String, CaseIterable, Sendable {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow"
    case neg = "Neg", exp = "Exp", log = "Log", sqrt = "Sqrt"
    case relu = "Relu", leakyRelu = "LeakyRelu", sigmoid = "Sigmoid", tanh = "Tanh"
    case softplus = "Softplus", elu = "Elu", softmax = "Softmax", logSoftmax = "LogSoftmax"
    case conv = "Conv", maxPool = "MaxPool", averagePool = "AveragePool", globalAveragePool = "GlobalAveragePool"
    case gemm = "Gemm", matMul = "MatMul", batchNormalization = "BatchNormalization"
    case flatten = "Flatten", reshape = "Reshape", transpose = "Transpose", concat = "Concat"
    case dropout = "Dropout", identity = "Identity", constant = "Constant"
    case shape = "Shape", gather = "Gather", unsqueeze = "Unsqueeze"

    /// What the op becomes in Chainrule's graph, for `chainrule ops --onnx`.
    public var doc: String {
        switch self {
        case .add: "add (broadcasting)"
        case .sub: "sub (broadcasting)"
        case .mul: "mul (broadcasting)"
        case .div: "div (broadcasting)"
        case .pow: "pow_const when the exponent is a constant scalar, else pow"
        case .neg: "neg"
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .relu: "relu"
        case .leakyRelu: "leaky_relu (alpha → slope, default 0.01)"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .elu: "elu (alpha, default 1)"
        case .softmax: "softmax, on the last axis only"
        case .logSoftmax: "log_softmax, on the last axis only"
        case .conv: "conv2d: 2-D, group 1, dilation 1, equal strides, the same padding on every side"
        case .maxPool: "maxpool2d: square kernel, equal strides, no padding, dilation 1 (ceil_mode 0 is floor mode)"
        case .averagePool: "avgpool2d: square kernel, equal strides, no padding (ceil_mode 0 is floor mode)"
        case .globalAveragePool: "global_avgpool"
        case .gemm: "linear when transB = 1 and C is [N]; else matmul, transpose, mul and add (transA, transB, alpha, beta)"
        case .matMul: "matmul"
        case .batchNormalization: "batch_norm (inference; the running mean and variance are constants)"
        case .flatten: "flatten for axis 1, else reshape"
        case .reshape: "reshape; the shape must be constant (0 copies the input's size)"
        case .transpose: "transpose (perm)"
        case .concat: "concat; folded when every input is constant"
        case .dropout: "passes its input through (inference)"
        case .identity: "passes its input through"
        case .constant: "a constant leaf (value, value_float(s), value_int(s))"
        case .shape: "folded: the input's shape is known when the model is read"
        case .gather: "folded, on constant data only (the Shape → Gather chains of x.view(n, -1))"
        case .unsqueeze: "folded on constants, else reshape; the axes must be constant"
        }
    }

    /// `Add, Sub, …`: every supported op type, for error messages.
    public static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
