import Foundation

/// A path the run cannot read or write, and the reason in the person's terms:
/// "no such file", "it is a folder, not a CSV file", "the folder 'out' is not
/// writable", "no space left on device". The tool adds the option that named
/// the path. One definition for both directions; `Access` only words the
/// description ("cannot read …", "cannot write …").
public struct PathFailure<Access: PathAccess>: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The path as the person gave it.
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot \(Access.verb) \(path): \(reason)" }
    /// The reason alone, for callers that name the path themselves; Foundation's
    /// `localizedDescription` reads it, so no caller prints an NSCocoaErrorDomain code.
    public var errorDescription: String? { reason }
}

/// Which way a `PathFailure` failed.
public protocol PathAccess: Sendable { static var verb: String { get } }
public enum Reading: PathAccess { public static let verb = "read" }
public enum Writing: PathAccess { public static let verb = "write" }

/// A path the run cannot write.
public typealias UnwritablePath = PathFailure<Writing>
/// A path the run cannot read.
public typealias UnreadablePath = PathFailure<Reading>

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
        let folder: String
        do { folder = try Temporaries.makeFolder(in: Self.folder(holding: path)) } catch { throw refuse(error) }
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
            let kind = FileKind(mode: status.st_mode)
            guard kind == .folder else { throw UnwritablePath(path: path, reason: "'\(path)' is \(kind.named), not a folder") }
            return
        }
        let parent = folder(holding: path)
        if parent != "." && parent != path { try makeFolders(parent) }
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
            switch FileKind(mode: status.st_mode) {
            case .folder:
                throw UnwritablePath(path: path, reason: "'\(path)' is a folder; give a file name")
            case .regular:
                break
            case .pipe, .device, .other:
                guard access(path, W_OK) == 0 else { throw UnwritablePath(path: path, reason: POSIXError.current.reason) }
                return
            }
        }
        try checkFolderTakesEntries(folder(holding: path), asked: path, mustExist: true)
    }

    /// Checks, without making it, that the folder `path` can be made (if
    /// missing) and written into: it, or the nearest folder above it that
    /// exists, is a folder that takes new entries.
    public static func checkFolder(_ path: String) throws(UnwritablePath) {
        try checkFolderTakesEntries(path, asked: path, mustExist: false)
    }

    /// Checks that the folder that will hold `target` exists and takes new entries;
    /// errors name `asked`, the path the person gave.
    public static func checkFolder(holding target: String, asked: String) throws(UnwritablePath) {
        try checkFolderTakesEntries(folder(holding: target), asked: asked, mustExist: true)
    }

    private static func checkFolderTakesEntries(_ folder: String, asked: String, mustExist: Bool) throws(UnwritablePath) {
        var status = stat()
        guard stat(folder, &status) == 0 else {
            let missing = errno == ENOENT
            guard missing else { throw UnwritablePath(path: asked, reason: "the folder '\(folder)': \(POSIXError.current.reason)") }
            guard !mustExist else { throw UnwritablePath(path: asked, reason: "the folder '\(folder)' does not exist") }
            let parent = self.folder(holding: folder)
            guard parent != folder else { throw UnwritablePath(path: asked, reason: "the folder '\(folder)' does not exist") }
            try checkFolderTakesEntries(parent, asked: asked, mustExist: false)
            return
        }
        let kind = FileKind(mode: status.st_mode)
        guard kind == .folder else { throw UnwritablePath(path: asked, reason: "'\(folder)' is \(kind.named), not a folder") }
        do {
            Temporaries.remove(folder: try Temporaries.makeFolder(in: folder))
        } catch {
            let reason = error.code == .EACCES ? "the folder '\(folder)' is not writable" : "the folder '\(folder)': \(error.reason)"
            throw UnwritablePath(path: asked, reason: reason)
        }
    }

    /// The folder that holds `path`, as the person wrote it: "a/b" → "a", "a" → ".",
    /// "/a" → "/", "a/b/" → "a". (Foundation's `deletingLastPathComponent` traps on some.)
    public static func folder(holding path: String) -> String {
        let bytes = withoutTrailingSlashes(path)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        var parent = bytes[..<slash]
        while parent.count > 1 && parent.last == UInt8(ascii: "/") { parent.removeLast() }
        return parent.isEmpty ? "/" : String(decoding: parent, as: UTF8.self)
    }

    /// The last part of `path`: "a/b/" → "b", "a" → "a", "/" → "/".
    public static func name(of path: String) -> String {
        let bytes = withoutTrailingSlashes(path)
        guard bytes != [UInt8(ascii: "/")] else { return "/" }
        return String(decoding: bytes[(bytes.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0)...], as: UTF8.self)
    }

    /// `path`'s bytes without the slashes that end it ("/" stays "/").
    private static func withoutTrailingSlashes(_ path: String) -> [UInt8] {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        return bytes
    }

    /// Writes all of `data` to a new file at `path`, every write(2) checked, or throws the
    /// system's reason (no space, …): a full disk is an error, never a short file.
    public static func writeAll(_ data: Data, to path: String) throws(POSIXError) {
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

/// What a path names, from its `stat` mode: the one switch over file kinds
/// that every reader of the person's files goes through.
public enum FileKind: Sendable, Equatable {
    case regular, folder, pipe, device, other

    public init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .folder
        case S_IFIFO: self = .pipe
        case S_IFCHR, S_IFBLK: self = .device
        default: self = .other
        }
    }

    /// What it is, as a message says it: "a folder", "a device".
    public var named: String {
        switch self {
        case .regular: "a file"
        case .folder: "a folder"
        case .pipe: "a pipe"
        case .device: "a device"
        case .other: "a socket"
        }
    }

    /// Why a file of this kind is not `expected` ("a .npy file"): "it is a folder, not a .npy file".
    public func refusal(expected: String) -> String {
        self == .other ? "it is not a regular file" : "it is \(named), not \(expected)"
    }
}

/// A file opened for reading, not yet read: its descriptor (closed when this
/// ends), what it is and its size at the open.
public final class OpenedFile {
    public let descriptor: Int32
    public let kind: FileKind
    public let size: Int
    private var owned = true

    init(descriptor: Int32, kind: FileKind, size: Int) {
        (self.descriptor, self.kind, self.size) = (descriptor, kind, size)
    }

    /// A `FileHandle` that takes over the descriptor.
    public func handle() -> FileHandle {
        owned = false
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    deinit { if owned { close(descriptor) } }
}

/// Files a run reads: regular files only (a program also reads a pipe). A
/// folder, device or named pipe is refused before reading — a pipe nobody
/// writes to would wait forever, `/dev/zero` never ends — and the open itself
/// never waits.
public enum InputFiles {
    /// `path` opened without waiting (`O_NONBLOCK`), with what it is; not yet refused for its kind.
    public static func opened(_ path: String) throws(UnreadablePath) -> OpenedFile {
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
        return OpenedFile(descriptor: descriptor, kind: FileKind(mode: status.st_mode), size: Int(status.st_size))
    }

    /// `path` opened, refused unless it is one of `kinds`; `kind` names what it should be in the refusal ("a .npy file").
    public static func opened(_ path: String, kind: String, accepting kinds: Set<FileKind> = [.regular]) throws(UnreadablePath) -> OpenedFile {
        let file = try opened(path)
        guard kinds.contains(file.kind) else { throw UnreadablePath(path: path, reason: file.kind.refusal(expected: kind)) }
        return file
    }

    /// The open regular file at `path`; `kind` names what it should be in the refusal ("a .npy file").
    public static func open(_ path: String, kind: String) throws(UnreadablePath) -> FileHandle {
        try opened(path, kind: kind).handle()
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
