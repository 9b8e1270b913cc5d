import Foundation

/// A path the run cannot write, and the reason in the person's terms:
/// "the folder 'out' is not writable", "'out' is a file, not a folder",
/// "no space left on device". The tool adds the option that named the path.
public struct UnwritablePath: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The path as the person gave it.
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot write \(path): \(reason)" }
    /// The reason alone, for callers that name the path themselves; Foundation's
    /// `localizedDescription` reads it, so no caller prints an NSCocoaErrorDomain code.
    public var errorDescription: String? { reason }
}

/// Files a run writes, whole or not at all, and the check that they can be
/// written at all — made before the work (training for an hour, then failing
/// to write its plots, is the mistake this prevents).
public enum OutputFiles {
    /// Writes `data` to `path` whole or not at all: into a tracked temporary
    /// folder beside it, with every `write` checked (a full disk is an error,
    /// never a short file), then renamed into place — a device or pipe at
    /// `path` is written into (see `Temporaries.rename`). An interrupted run
    /// leaves nothing behind.
    public static func write(_ data: Data, to path: String) throws(UnwritablePath) {
        func refuse(_ error: POSIXError) -> UnwritablePath { UnwritablePath(path: path, reason: error.reason) }
        let parent = (path as NSString).deletingLastPathComponent
        let folder: String
        do { folder = try Temporaries.makeFolder(in: parent.isEmpty ? "." : parent) } catch { throw refuse(error) }
        defer { Temporaries.remove(folder: folder) }
        let temporary = folder + "/partial"
        do {
            try writeAll(data, to: temporary)
            try Temporaries.rename(temporary, to: path)
        } catch { throw refuse(error) }
    }

    /// Makes the folder `path` and the missing folders above it (as `mkdir -p`).
    public static func makeFolders(_ path: String) throws(UnwritablePath) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw UnwritablePath(path: path, reason: "'\(path)' is a file, not a folder") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try makeFolders(parent) }
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
            throw UnwritablePath(path: path, reason: POSIXError.current.reason)
        }
    }

    /// Checks, without leaving anything behind, that a file can be written at
    /// `path`: its folder exists and takes a new entry (tried by making and
    /// removing a hidden folder in it, so a read-only file system is found
    /// even by root), and `path` is not a folder. A device or pipe already at
    /// `path` (`/dev/stdout`) is written in place, so it only has to be writable.
    public static func checkFile(_ path: String) throws(UnwritablePath) {
        var status = stat()
        if stat(path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                throw UnwritablePath(path: path, reason: "'\(path)' is a folder; give a file name")
            case S_IFREG:
                break
            default:
                guard access(path, W_OK) == 0 else { throw UnwritablePath(path: path, reason: POSIXError.current.reason) }
                return
            }
        }
        let parent = (path as NSString).deletingLastPathComponent
        try checkFolderTakesEntries(parent.isEmpty ? "." : parent, asked: path, mustExist: true)
    }

    /// Checks, without making it, that the folder `path` can be made (if
    /// missing) and written into: it, or the nearest folder above it that
    /// exists, is a folder that takes new entries.
    public static func checkFolder(_ path: String) throws(UnwritablePath) {
        try checkFolderTakesEntries(path, asked: path, mustExist: false)
    }

    private static func checkFolderTakesEntries(_ folder: String, asked: String, mustExist: Bool) throws(UnwritablePath) {
        var status = stat()
        guard stat(folder, &status) == 0 else {
            let missing = errno == ENOENT
            guard missing else { throw UnwritablePath(path: asked, reason: "'\(folder)': \(POSIXError.current.reason)") }
            guard !mustExist else { throw UnwritablePath(path: asked, reason: "the folder '\(folder)' does not exist") }
            let written = (folder as NSString).deletingLastPathComponent, parent = written.isEmpty ? "." : written
            guard parent != folder else { throw UnwritablePath(path: asked, reason: "the folder '\(folder)' does not exist") }
            try checkFolderTakesEntries(parent, asked: asked, mustExist: false)
            return
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw UnwritablePath(path: asked, reason: "'\(folder)' is a file, not a folder") }
        do {
            Temporaries.remove(folder: try Temporaries.makeFolder(in: folder))
        } catch {
            let reason = error.code == .EACCES ? "the folder '\(folder)' is not writable" : "the folder '\(folder)': \(error.reason)"
            throw UnwritablePath(path: asked, reason: reason)
        }
    }

    /// Writes all of `data` to a new file at `path`, or throws the system's reason (no space, …).
    private static func writeAll(_ data: Data, to path: String) throws(POSIXError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw .current }
        var failure: POSIXError?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    failure = written < 0 ? .current : POSIXError(.EIO)
                    return
                }
                offset += written
            }
        }
        if close(descriptor) != 0 && failure == nil && errno != EINTR { failure = .current }
        if let failure { throw failure }
    }
}

/// A path the run cannot read, and why in the person's terms: "no such
/// file", "it is a folder, not a CSV file", "it is a device, not a CSV file".
public struct UnreadablePath: Error, Equatable, CustomStringConvertible {
    /// The path as the person gave it.
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Files a run reads: regular files only. A folder, device or named pipe is
/// refused before reading — a pipe nobody writes to would wait forever,
/// `/dev/zero` never ends — and the open itself never waits.
public enum InputFiles {
    /// The open file at `path`; `kind` names what it should be in the refusal ("a .npy file").
    public static func open(_ path: String, kind: String) throws(UnreadablePath) -> FileHandle {
        let descriptor = Foundation.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw UnreadablePath(path: path, reason: errno == ENOENT ? "no such file" : POSIXError.current.reason)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = POSIXError.current.reason
            close(descriptor)
            throw UnreadablePath(path: path, reason: reason)
        }
        let refusal: String? = switch status.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "it is a folder, not \(kind)"
        case S_IFIFO: "it is a pipe, not \(kind)"
        case S_IFCHR, S_IFBLK: "it is a device, not \(kind)"
        default: "it is not a regular file"
        }
        if let refusal {
            close(descriptor)
            throw UnreadablePath(path: path, reason: refusal)
        }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// The whole contents of the regular file at `path`.
    public static func contents(of path: String, kind: String) throws(UnreadablePath) -> Data {
        let handle = try open(path, kind: kind)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw UnreadablePath(path: path, reason: (error as? POSIXError)?.reason ?? "the file cannot be read")
        }
    }
}
