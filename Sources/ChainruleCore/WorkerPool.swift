import Dispatch
import Foundation
import Synchronization

/// The threads that the heavy kernels (matrix products, convolutions, max-pooling) and the
/// gradient checker spread their work over, and the rule that keeps results independent of them.
///
/// The threads are libdispatch's process-wide pool: started on first use, kept for the life of
/// the process and reused by every call; the calling thread works too. Work is cut into chunks
/// that are a function of its size and of `threads` only (never of timing), chunks are handed
/// out in order to whichever thread is free, and every chunk writes its own output elements,
/// each computed in the same order as on one thread. No partial sums are ever combined across
/// threads, so the bits are those of a one-thread run whatever the thread count.
public enum WorkerPool {
    /// The environment variable that sets `threads`: `CHAINRULE_THREADS=1` keeps everything on one thread.
    public static let environmentVariable = "CHAINRULE_THREADS"

    /// Threads used at most: `CHAINRULE_THREADS` when it is a positive integer, else the
    /// machine's active processors. Settable (`chainrule train --threads N`); at least 1.
    public static var threads: Int {
        get { configured.load(ordering: .relaxed) }
        set { configured.store(Swift.max(1, newValue), ordering: .relaxed) }
    }

    // A malformed CHAINRULE_THREADS cannot be refused here (a library may not exit): the
    // machine's cores are used, and the tool refuses it first with `environmentThreadCount()`.
    private static let configured = Atomic<Int>(
        (try? environmentThreadCount()) ?? Swift.max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// A thread count written by a person: a positive integer (surrounding spaces allowed), else nil.
    public static func threadCount(parsing text: String) -> Int? {
        guard let count = Int(text.trimmingCharacters(in: .whitespaces)), count >= 1 else { return nil }
        return count
    }

    /// The thread count `CHAINRULE_THREADS` asks for in `environment`: nil when it is unset.
    /// The one reading of the variable: the pool starts from it, and a tool calls it before
    /// any work so that a value that is not a positive integer is an error, never ignored.
    public static func environmentThreadCount(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ThreadCountError) -> Int? {
        guard let text = environment[environmentVariable] else { return nil }
        guard let count = threadCount(parsing: text) else { throw ThreadCountError(text: text) }
        return count
    }

    /// Work (multiply-adds or element visits) below which a kernel stays on the calling thread:
    /// 2¹⁶, some 20–40 µs on one core, where handing chunks to another thread stops paying.
    public static let parallelMinimumWork = 1 << 16

    /// Chunks per thread when work is split: more than one, so that a thread the machine
    /// slows down (other processes) holds the others up less.
    static let chunksPerThread = 2

    /// Calls `body(chunk)` once for every chunk in `0..<chunks`, on up to `threads` threads at
    /// once, and returns when all have run. With one thread (or one chunk) it runs them in order here.
    public static func forEachChunk(_ chunks: Int, _ body: @Sendable (Int) -> Void) {
        let workers = Swift.min(threads, chunks)
        guard workers > 1 else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                body(chunk)
            }
        }
    }

    /// Calls `body` on contiguous ranges that together cover `0..<count` once: on the whole
    /// range here when `work` is below `parallelMinimumWork` or there is one thread, else on
    /// up to `chunksPerThread · threads` ranges in parallel. Range bounds are multiples of
    /// `granularity` (the last may end at `count`); sizes in granules differ by at most one.
    public static func forEachRange(
        count: Int, work: Int, granularity: Int = 1, _ body: @Sendable (Range<Int>) -> Void
    ) {
        let granules = (count + granularity - 1) / granularity
        let threads = threads
        // Any thread count is allowed (CHAINRULE_THREADS, --threads): the product saturates.
        let (chunks, overflow) = threads.multipliedReportingOverflow(by: chunksPerThread)
        let parts = overflow ? granules : Swift.min(granules, chunks)
        guard work >= parallelMinimumWork, threads > 1, parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        forEachChunk(parts) { part in
            let base = granules / parts, extra = granules % parts
            let first = part * base + Swift.min(part, extra)
            let size = base + (part < extra ? 1 : 0)
            body((first * granularity)..<Swift.min(count, (first + size) * granularity))
        }
    }
}

/// A `CHAINRULE_THREADS` that is not a positive integer.
public struct ThreadCountError: Error, Equatable, CustomStringConvertible {
    /// The variable's text, as it was set.
    public let text: String

    public init(text: String) { self.text = text }

    public var description: String {
        "\(WorkerPool.environmentVariable) must be a positive integer (a thread count), got '\(text)'"
    }
}

/// A buffer's address handed to the pool's threads. Sound only as `WorkerPool` uses it: each
/// thread writes the elements of its own chunk and nothing another chunk reads or writes.
struct SharedPointer<Pointee>: @unchecked Sendable {
    let address: UnsafeMutablePointer<Pointee>
    init(_ address: UnsafeMutablePointer<Pointee>) { self.address = address }
}

/// A read-only buffer's address handed to the pool's threads (nobody writes it while they read).
struct SharedReadPointer<Pointee>: @unchecked Sendable {
    let address: UnsafePointer<Pointee>
    init(_ address: UnsafePointer<Pointee>) { self.address = address }
}
