import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation

/// One epoch of training, as `chainrule train` runs it: the digits FCN
/// 64→500→10 (batch 100, Adam; 15 iterations) and a small CNN on 256 random
/// 3×32×32 images (batch 64, Adam; 4 iterations). scripts/bench-training-torch.py
/// times the same models and batches in torch (float64, CPU); `make bench-vs` gives the ratio
/// (scripts/bench-vs/training.py).
enum TrainingBench {
    static let fcn = """
        x = data(64)
        y = labels()
        h = relu(Linear(x, 500))
        s = Linear(h, 10)
        loss = cross_entropy(s, y)
        """

    static let cnn = """
        x = data(3, 32, 32)
        y = labels()
        c = relu(Conv2D(x, filters: 8, kernel: 3, pad: 1))
        p = maxpool2d(c, 2)
        s = Linear(flatten(p), 10)
        loss = cross_entropy(s, y)
        """

    static func epoch(_ source: String, data: Dataset, batch: Int) throws -> (seconds: Double, iterations: Int) {
        let first = data.batch(0..<batch)
        var options = CompileOptions()
        options.batch = DataBatch(features: first.features, labels: first.labels, origin: data.name)
        let program = try Compiler.compile(source: source, file: nil, options: options)
        let model = try Model(graph: program.graph, loss: program.output, data: program.dataInputs.data?.node, labels: program.dataInputs.labels)
        let run = try Training(model: model, plan: TrainingPlan(epochs: 1, batch: batch, optimizer: OptimizerSettings(.adam)), train: data)
        // The iterations alone, as torch's loop times them: no dead-unit pass after the epoch.
        run.measuresDeadUnits = false
        let start = Date()
        _ = try run.runEpoch()
        return (Date().timeIntervalSince(start), run.iterationsPerEpoch)
    }

    static func run() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let digits = try DataSource.digits(images: false).load(seed: 0, digitsFolder: root.appendingPathComponent("samples/digits").path) {
            try Npy.load(path: $0)
        }
        let images = try Dataset(name: "random images", features: Tensor.uniform([256, 3, 32, 32], seed: 1),
                                 labels: (0..<256).map { $0 % 10 })
        print("model                                  iterations   ms/iteration   examples/s")
        for (name, source, data, batch) in [("digits FCN 64→500→10, batch 100", fcn, digits, 100), ("CNN 3×32×32, 256 images, batch 64", cnn, images, 64)] {
            var times: [Double] = []
            var iterations = 0
            for _ in 0..<3 {
                let (seconds, count) = try epoch(source, data: data, batch: batch)
                times.append(seconds)
                iterations = count
            }
            let best = times.min()!
            let label = name.padding(toLength: 38, withPad: " ", startingAt: 0)
            print(label + String(format: "  %10d   %12.2f   %10.0f", iterations, best / Double(iterations) * 1e3, Double(data.count) / best))
        }
        print("(best of 3 epochs, Adam, every step a forward and backward pass of the graph and an update of each parameter)")
    }
}
