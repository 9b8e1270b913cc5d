import Foundation

/// Writing a file whole or not at all: into a temporary file beside the
/// target, renamed over it at the end. Every figure output goes through it,
/// so a failed render never leaves a partial file.
enum SafeWrite {
    /// Checks the folder, lets `body` write the temporary file, renames it to `path`.
    static func replacing(_ path: String, _ body: (String) throws(FigureError) -> Void) throws(FigureError) {
        try checkFolder(of: path)
        let temporary = temporaryPath(for: path)
        do throws(FigureError) {
            try body(temporary)
            try move(temporary, to: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Checks that the folder that will hold `target` exists and is writable.
    /// Errors name `asked`, the path the person gave (by default `target`).
    static func checkFolder(of target: String, asked: String? = nil) throws(FigureError) {
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw .unwritable(path: asked ?? target, reason: "the folder '\(folder)' does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw .unwritable(path: asked ?? target, reason: "the folder '\(folder)' is not writable")
        }
    }

    /// A hidden name beside `path`, unique to this process.
    static func temporaryPath(for path: String, suffix: String = "tmp") -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path + "/." + url.lastPathComponent
            + ".\(suffix)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Renames `from` to `path` (atomically replacing a file there).
    static func move(_ from: String, to path: String) throws(FigureError) {
        guard rename(from, path) == 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
    }

    static func data(_ data: Data, to path: String) throws(FigureError) {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw .unwritable(path: path, reason: error.localizedDescription)
        }
    }
}

import CCairo

/// A PDF surface for `path`. Cairo stamps every PDF with the time it was
/// made; when `SOURCE_DATE_EPOCH` is set (the reproducible-builds
/// convention; `make gallery` sets it) that time is used instead, so the same
/// figure gives the same bytes.
func pdfSurface(_ path: String, width: Double, height: Double) throws(FigureError) -> OpaquePointer {
    guard let surface = cairo_pdf_surface_create(path, width, height) else { throw .drawingFailed("no PDF surface") }
    if let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let seconds = Double(epoch) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let date = formatter.string(from: Date(timeIntervalSince1970: seconds))
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date)
    }
    return surface
}
