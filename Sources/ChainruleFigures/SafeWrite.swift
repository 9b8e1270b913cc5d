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
        do { try OutputFiles.checkFolder(holding: target, asked: asked ?? target) } catch {
            throw .unwritable(path: error.path, reason: error.reason)
        }
    }

    /// Renames `from` to `path` (atomically replacing a file there).
    static func move(_ from: String, to path: String) throws(FigureError) {
        do { try Temporaries.rename(from, to: path) } catch { throw .unwritable(path: path, reason: error.reason) }
    }

    /// Writes `data` to a new file at `path`, every write checked (`OutputFiles.writeAll`),
    /// with the system's reason on failure (no space, …).
    static func data(_ data: Data, to path: String) throws(FigureError) {
        do { try OutputFiles.writeAll(data, to: path) } catch { throw .unwritable(path: path, reason: error.reason) }
    }

    /// Writes the files `names` into the folder `folder`, all or none — `body(k, file)`
    /// writes the `k`-th at the path `file` — and returns their paths. The folder is
    /// checked first (`OutputFiles.checkFolder`: a device or file there, a folder that
    /// takes no entries, a read-only file system are refused with the system's reason);
    /// missing folders are made. The files are written into a tracked staging folder and
    /// moved in at the end: into an existing folder file by file (after its old files,
    /// those `isOld` names, are removed), else the new folder (with any missing folders
    /// above it) renamed into place; on any error nothing is left behind.
    @discardableResult
    static func files(_ names: [String], into folder: String, asked: String? = nil, replacing isOld: (String) -> Bool = { _ in false },
                      _ body: (Int, String) throws(FigureError) -> Void) throws(FigureError) -> [String] {
        var folder = folder
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        let asked = asked ?? folder
        do { try OutputFiles.checkFolder(folder) } catch { throw .unwritable(path: asked, reason: error.reason) }
        func exists(_ path: String) -> Bool { var status = stat(); return stat(path, &status) == 0 }
        if exists(folder) {
            try staging(beside: folder + "/files", naming: asked) { (staging) throws(FigureError) in
                for (k, name) in names.enumerated() { try body(k, staging + "/" + name) }
                let old = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                for name in old where isOld(name) && !name.hasPrefix(".chainrule-") { unlink(folder + "/" + name) }
                for name in names { try move(staging + "/" + name, to: folder + "/" + name) }
            }
        } else {
            // The first missing folder on the way: made whole inside the staging folder, then renamed.
            var top = folder
            while true {
                let parent = OutputFiles.folder(holding: top)
                if parent == top || exists(parent) { break }
                top = parent
            }
            try staging(beside: top, naming: asked) { (staging) throws(FigureError) in
                let made = staging + "/" + OutputFiles.name(of: top)
                let inner = made + folder.dropFirst(top.count)
                do throws(UnwritablePath) { try OutputFiles.makeFolders(inner) } catch { throw .unwritable(path: asked, reason: error.reason) }
                for (k, name) in names.enumerated() { try body(k, inner + "/" + name) }
                try move(made, to: top)
            }
        }
        return names.map { folder + "/" + $0 }
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
