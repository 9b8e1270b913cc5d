import ChainruleCore
import Foundation

/// Writing a file whole or not at all: into a tracked temporary folder
/// beside the target (see `Temporaries`), renamed over it at the end. Every
/// figure output goes through it, so neither a failed render nor an
/// interrupted one (SIGINT, SIGTERM) leaves a partial file. Errors name the
/// person's path, never the temporary one.
enum SafeWrite {
    /// Checks the folder, lets `body` write a temporary file, renames it to `path`.
    static func replacing(_ path: String, _ body: (String) throws(FigureError) -> Void) throws(FigureError) {
        try checkFolder(of: path)
        try staging(beside: path, naming: path) { (folder) throws(FigureError) in
            let temporary = folder + "/partial"
            try body(temporary)
            try move(temporary, to: path)
        }
    }

    /// Runs `body` with a new, empty, tracked folder beside `target` (in the
    /// same folder, so renames out of it are atomic), then removes the folder
    /// with whatever `body` left in it — also when `body` throws. Errors
    /// about anything inside it name `asked`, the path the person gave.
    static func staging<Value>(beside target: String, naming asked: String,
                                _ body: (String) throws(FigureError) -> Value) throws(FigureError) -> Value {
        let parent = URL(fileURLWithPath: target).deletingLastPathComponent().path
        let folder: String
        do { folder = try Temporaries.makeFolder(in: parent) } catch {
            throw .unwritable(path: asked, reason: error.reason)
        }
        defer { Temporaries.remove(folder: folder) }
        do { return try body(folder) } catch {
            if case .unwritable(let path, let reason) = error, path == folder || path.hasPrefix(folder + "/") {
                throw .unwritable(path: asked, reason: reason)
            }
            throw error
        }
    }

    /// Checks that the folder that will hold `target` exists and is writable.
    /// Errors name `asked`, the path the person gave (by default `target`),
    /// and the system's reason (a symbolic-link loop, a read-only file system, …).
    static func checkFolder(of target: String, asked: String? = nil) throws(FigureError) {
        let parent = (target as NSString).deletingLastPathComponent, folder = parent.isEmpty ? "." : parent  // as the person wrote it
        func refuse(_ reason: String) -> FigureError { .unwritable(path: asked ?? target, reason: reason) }
        var status = stat()
        guard stat(folder, &status) == 0 else {
            if errno == ENOENT { throw refuse("the folder '\(folder)' does not exist") }
            throw refuse("the folder '\(folder)': \(POSIXError.current.reason)")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw refuse("'\(folder)' is not a folder") }
        guard access(folder, W_OK) == 0 else {
            if errno == EACCES { throw refuse("the folder '\(folder)' is not writable") }
            throw refuse("the folder '\(folder)': \(POSIXError.current.reason)")
        }
    }

    /// Renames `from` to `path` (atomically replacing a file there).
    static func move(_ from: String, to path: String) throws(FigureError) {
        do { try Temporaries.rename(from, to: path) } catch { throw .unwritable(path: path, reason: error.reason) }
    }

    /// Writes `data` to a new file at `path`, with the system's reason on failure (no space, …).
    static func data(_ data: Data, to path: String) throws(FigureError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .unwritable(path: path, reason: POSIXError.current.reason) }
        var failure: POSIXError?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = .current
                    return
                }
                offset += written
            }
        }
        if close(fd) != 0 && failure == nil { failure = .current }
        if let failure { throw .unwritable(path: path, reason: failure.reason) }
    }
}

import CCairo

/// The bytes a PDF surface writes, kept in memory until the PDF is finished; then they go to the
/// file through `SafeWrite.data`, whose every write(2) is checked. (Cairo's own file stream drops
/// a failed write: a PDF cut short by a full disk was reported written.)
final class PDFBytes {
    var data = Data()
}

/// A PDF surface writing into `bytes`. Cairo stamps every PDF with the time it was
/// made; when `SOURCE_DATE_EPOCH` is set (the reproducible-builds
/// convention; `make gallery` sets it) that time is used instead, so the same
/// figure gives the same bytes.
func pdfSurface(_ bytes: PDFBytes, width: Double, height: Double) throws(FigureError) -> OpaquePointer {
    let write: cairo_write_func_t = { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        Unmanaged<PDFBytes>.fromOpaque(closure).takeUnretainedValue().data.append(data, count: Int(length))
        return CAIRO_STATUS_SUCCESS
    }
    guard let surface = cairo_pdf_surface_create_for_stream(write, Unmanaged.passUnretained(bytes).toOpaque(), width, height)
    else { throw .drawingFailed("no PDF surface") }
    if let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let seconds = Double(epoch) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let date = formatter.string(from: Date(timeIntervalSince1970: seconds))
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date)
    }
    return surface
}
