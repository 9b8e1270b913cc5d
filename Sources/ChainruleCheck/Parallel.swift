import ChainruleCore
import Foundation

/// Runs `work(worker, chunk)` over `count` items split into chunks of `chunkSize`,
/// handed out one by one to `workers` threads of Core's `WorkerPool` so slow chunks do not
/// hold the others up.
/// Each worker's results come back in worker order; merge them after.
func forEachChunk<Result: Sendable>(
    count: Int, chunkSize: Int, workers: Int,
    makeWorker: @escaping @Sendable () -> (Range<Int>) -> Result?,
    combine: @escaping @Sendable (Result, Result) -> Result
) -> Result? {
    guard count > 0 else { return nil }
    let chunkCount = (count + chunkSize - 1) / chunkSize
    let workerCount = Swift.max(1, Swift.min(workers, chunkCount))
    let queue = ChunkQueue(chunks: chunkCount)
    let results = LockedResults<Result>()
    let body: @Sendable () -> Void = {
        let work = makeWorker()
        var mine: Result?
        while let chunk = queue.next() {
            let range = (chunk * chunkSize)..<Swift.min(count, (chunk + 1) * chunkSize)
            if let r = work(range) { mine = mine.map { combine($0, r) } ?? r }
        }
        if let mine { results.append(mine) }
    }
    WorkerPool.forEachChunk(workerCount) { _ in body() }
    return results.all.reduce(nil) { partial, r in partial.map { combine($0, r) } ?? r }
}

/// The number of threads a check spreads over: `WorkerPool.threads` (`CHAINRULE_THREADS`), or 1.
func workerCount(_ options: CheckOptions) -> Int {
    options.parallel ? WorkerPool.threads : 1
}

/// Hands out chunk numbers 0, 1, 2, … to whichever thread asks first.
final class ChunkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextChunk = 0
    private let chunks: Int

    init(chunks: Int) { self.chunks = chunks }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextChunk < chunks else { return nil }
        nextChunk += 1
        return nextChunk - 1
    }
}

/// Results appended by several threads.
final class LockedResults<Result: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result] = []

    func append(_ result: Result) {
        lock.lock()
        results.append(result)
        lock.unlock()
    }

    var all: [Result] {
        lock.lock()
        defer { lock.unlock() }
        return results
    }
}

/// Progress on standard error for checks that run longer than a second:
/// `checking 1200/4500 elements (27%)`, rewritten in place, cleared at the end.
final class ProgressMeter: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var done = 0
    private let total: Int
    private let label: String
    private var printed = false

    init(enabled: Bool, total: Int, label: String) {
        self.enabled = enabled
        self.total = total
        self.label = label
    }

    func advance(by count: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += count
        let now = Date()
        guard now.timeIntervalSince(start) > 1, now.timeIntervalSince(lastPrint) > 0.2 else { return }
        lastPrint = now
        printed = true
        let percent = total > 0 ? 100 * done / total : 100
        StandardStreams.error("\r\(label) \(done)/\(total) (\(percent)%)\u{1B}[K")
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if printed { StandardStreams.error("\r\u{1B}[K") }
        printed = false
    }
}
