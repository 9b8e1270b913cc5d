#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zeroed memory for the scalar front end's tape and name table, taken from
/// the system in one piece and given back when it ends.
///
/// A scalar program of 65,000 bindings writes a few megabytes once, and on
/// a virtual machine each 4 KiB page it touches for the first time is a
/// fault that costs more than the instructions that fill it. So a block of
/// at least `hugeThreshold` bytes is mapped on its own, aligned to 2 MiB
/// and, on Linux, advised as huge pages (`MADV_HUGEPAGE`): where the kernel
/// has them, one fault maps 2 MiB. Anonymous memory comes zeroed, so a
/// table whose empty slot is all zero bits needs no pass to clear it.
/// Smaller blocks come zeroed from `calloc`.
struct ScalarMemory: ~Copyable {
    let base: UnsafeMutableRawPointer
    /// The bytes given: at least those asked for.
    let size: Int
    /// Whether `base` is a mapping of its own (else `calloc`'s).
    private let mapped: Bool

    /// The size of a huge page on x86-64 and arm64 Linux, and the unit a large block is rounded to.
    static let hugePage = 2 << 20
    /// From a quarter of a huge page on, a block is mapped on its own.
    static let hugeThreshold = hugePage / 4

    /// `bytes` zeroed bytes, aligned to at least 16; nil when the system has none to give.
    init?(bytes: Int) {
        guard bytes >= 0, bytes <= Int.max / 2 else { return nil }
        #if os(Linux)
        if bytes >= Self.hugeThreshold {
            let size = (bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage
            // Mapped one huge page larger, then trimmed to a 2 MiB boundary at both ends.
            let raw = mmap(nil, size + Self.hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let raw, raw != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
            let address = Int(bitPattern: raw)
            let aligned = (address + Self.hugePage - 1) / Self.hugePage * Self.hugePage
            if aligned > address { munmap(raw, aligned - address) }
            let end = aligned + size, mappedEnd = address + size + Self.hugePage
            if mappedEnd > end { munmap(UnsafeMutableRawPointer(bitPattern: end), mappedEnd - end) }
            base = UnsafeMutableRawPointer(bitPattern: aligned)!
            // Advice only: without huge pages the block is ordinary memory.
            _ = madvise(base, size, MADV_HUGEPAGE)
            (self.size, mapped) = (size, true)
            return
        }
        #endif
        guard let block = calloc(max(bytes, 1), 1) else { return nil }
        (base, size, mapped) = (block, max(bytes, 1), false)
    }

    deinit {
        if mapped {
            munmap(base, size)
        } else {
            free(base)
        }
    }
}
