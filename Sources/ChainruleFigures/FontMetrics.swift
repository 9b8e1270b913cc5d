import CCairo
import Foundation
import Synchronization

/// The advance width of every character and the line metrics of the figure
/// fonts, measured with Cairo once and kept for the process, and across
/// processes in a file (`FontMetrics.useFile` and `save`, which the command
/// line calls before and after drawing).
///
/// Why: Cairo's first font costs fontconfig's set-up (parsing every file of
/// /etc/fonts, about 24 million instructions under callgrind, more than the
/// rest of a small SVG figure), and an SVG figure needs fonts only to measure
/// its text. With the table filled, an SVG is measured without Cairo's fonts.
///
/// Widths are exact, not approximated: Cairo's toy text API maps each Unicode
/// scalar to one glyph without kerning or shaping, and `cairo_text_extents`
/// adds the glyphs' advances from 0 one after another, as `width` does with
/// the advances Cairo gave for each character alone (hint metrics off).
public enum FontMetrics {
    /// One font at one size.
    struct Key: Hashable, Sendable {
        var family: String
        var size: Double
        var bold: Bool
    }

    /// What Cairo measured for one font.
    struct Measured: Sendable, Equatable {
        var ascent: Double
        var height: Double
        var advances: [Unicode.Scalar: Double]
    }

    private struct State: ~Copyable {
        var fonts: [Key: Measured] = [:]
        /// Where the table is kept between processes, if anywhere.
        var file: String?
        var loaded = false
        /// Whether `fonts` holds measurements the file lacks.
        var unsaved = false
    }

    private static let state = Mutex(State())

    /// Characters measured together when a font is first measured, so that a
    /// later figure rarely meets a new one: printable ASCII and Latin-1, Greek,
    /// and the arrows, operators and marks figures write.
    static let commonCharacters: [Unicode.Scalar] = {
        let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0xA0...0xFF, 0x391...0x3C9, 0x2013...0x2026, 0x2190...0x21FF, 0x2200...0x22FF, 0x2713...0x2717]
        return ranges.flatMap { $0.compactMap(Unicode.Scalar.init) } + ["⚠", "·", "…"]
    }()

    /// Keeps the table in `path` from now on: read at the first measurement,
    /// rewritten by `save` if a font or character was measured anew. The file is a
    /// cache: one that cannot be read, or was written under another font
    /// configuration (`configurationSignature`), is measured again; one that
    /// cannot be written is left alone. `nil` keeps the table in this process only.
    public static func useFile(_ path: String?) {
        state.withLock {
            $0.file = path
            $0.loaded = false
        }
    }

    /// Writes the table to the `useFile` path if anything was measured since it
    /// was read or last saved. Once per process, not per new string: measuring
    /// is on the text-layout hot path, and rewriting the whole file there cost
    /// a file write for every label with a new character.
    public static func save() {
        state.withLock { state in
            guard state.unsaved, let file = state.file else { return }
            write(state.fonts, to: file)
            state.unsaved = false
        }
    }

    /// The file the command line keeps the table in: under `$XDG_CACHE_HOME`,
    /// else `~/.cache`.
    public static var defaultFile: String? {
        let base = environmentValue("XDG_CACHE_HOME").flatMap { $0.isEmpty ? nil : $0 } ?? environmentValue("HOME").map { $0 + "/.cache" }
        return base.map { $0 + "/chainrule/font-metrics" }
    }

    /// One variable of the environment. `getenv`, not `ProcessInfo.environment`,
    /// which copies every variable into a dictionary at each call (about 0.3
    /// million instructions, paid twice by every figure).
    static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The advance width of `text` in points (what `cairo_text_extents` gives as `x_advance`).
    static func width(_ text: String, family: String, size: Double, bold: Bool) -> Double {
        let key = Key(family: family, size: size, bold: bold)
        let scalars = Array(text.unicodeScalars)
        return state.withLock { state in
            var font = font(key, &state)
            let missing = scalars.filter { font.advances[$0] == nil }
            if !missing.isEmpty {
                font = measure(key, adding: missing, to: font)
                store(font, key, &state)
            }
            var width = 0.0
            for scalar in scalars { width += font.advances[scalar]! }
            return width
        }
    }

    /// Ascent and line height (ascent + descent) of the font, in points.
    static func lineMetrics(family: String, size: Double, bold: Bool) -> (ascent: Double, height: Double) {
        state.withLock { state in
            let font = font(Key(family: family, size: size, bold: bold), &state)
            return (font.ascent, font.height)
        }
    }

    /// The font as known, measured now (with its common characters) if it is not.
    private static func font(_ key: Key, _ state: inout State) -> Measured {
        if !state.loaded {
            state.loaded = true
            if let file = state.file, let fonts = read(file) { state.fonts.merge(fonts) { known, _ in known } }
        }
        if let font = state.fonts[key] { return font }
        let font = measure(key, adding: commonCharacters, to: nil)
        store(font, key, &state)
        return font
    }

    private static func store(_ font: Measured, _ key: Key, _ state: inout State) {
        state.fonts[key] = font
        state.unsaved = true
    }

    /// `font` with the advances of `characters` (and its line metrics) measured by Cairo.
    private static func measure(_ key: Key, adding characters: [Unicode.Scalar], to font: Measured?) -> Measured {
        // Cairo returns an object in an error state rather than NULL.
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        let cairo = cairo_create(surface)!
        defer {
            cairo_destroy(cairo)
            cairo_surface_destroy(surface)
        }
        applyFont(cairo, family: key.family, size: key.size, bold: key.bold)
        var measured = font ?? {
            var extents = cairo_font_extents_t()
            cairo_font_extents(cairo, &extents)
            return Measured(ascent: extents.ascent, height: extents.ascent + extents.descent, advances: [:])
        }()
        for scalar in characters where measured.advances[scalar] == nil {
            var extents = cairo_text_extents_t()
            cairo_text_extents(cairo, String(Character(scalar)), &extents)
            measured.advances[scalar] = extents.x_advance
        }
        return measured
    }

    // MARK: The file

    /// What the measurements depend on besides the family name: Cairo's
    /// version, fontconfig's settings, and the folders fonts are installed in
    /// (their modification times change when a font is added or removed).
    static func configurationSignature() -> String {
        let home = environmentValue("HOME") ?? ""
        let paths = ["/etc/fonts", "/etc/fonts/conf.d", "/etc/fonts/fonts.conf", "/usr/share/fonts", "/usr/local/share/fonts", "/var/cache/fontconfig",
                     home + "/.config/fontconfig", home + "/.fonts", home + "/.local/share/fonts"]
        let times = paths.map { path -> String in
            var info = stat()
            guard stat(path, &info) == 0 else { return "-" }
            return "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        let settings = ["FONTCONFIG_FILE", "FONTCONFIG_PATH", "FONTCONFIG_SYSROOT"].map { environmentValue($0) ?? "" }
        return (["cairo " + String(cString: cairo_version_string())] + times + settings).joined(separator: " ")
    }

    /// The file's format: its first line the signature; then per font a line
    /// `font<TAB>family<TAB>size<TAB>bold<TAB>ascent<TAB>height<TAB>count`
    /// (numbers in Swift's shortest round-trip form, so they read back
    /// exactly) followed by `count` characters as 12 bytes each: the code point
    /// (UInt32) and the advance's bits (UInt64), little-endian. Binary, because
    /// reading a thousand lines of text numbers cost more than the fonts saved.
    static func encode(_ fonts: [Key: Measured], signature: String) -> Data {
        var data = Data((signature + "\n").utf8)
        for (key, font) in fonts.sorted(by: { ($0.key.family, $0.key.size, $0.key.bold ? 1 : 0) < ($1.key.family, $1.key.size, $1.key.bold ? 1 : 0) }) {
            data += Data("font\t\(key.family)\t\(key.size)\t\(key.bold)\t\(font.ascent)\t\(font.height)\t\(font.advances.count)\n".utf8)
            for (scalar, advance) in font.advances.sorted(by: { $0.key.value < $1.key.value }) {
                withUnsafeBytes(of: scalar.value.littleEndian) { data += $0 }
                withUnsafeBytes(of: advance.bitPattern.littleEndian) { data += $0 }
            }
        }
        return data
    }

    /// The fonts in `data`, or nil if it is not such a file or was written under another signature.
    static func decode(_ data: Data, signature: String) -> [Key: Measured]? {
        let bytes = [UInt8](data)
        var position = 0
        func line() -> String? {
            guard let end = bytes[position...].firstIndex(of: 10) else { return nil }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        // One unaligned load per number: assembling it byte by byte cost more
        // than the rest of reading the file (1.3 of 3 million instructions).
        func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
            defer { position += MemoryLayout<T>.size }
            return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) })
        }
        guard line() == signature else { return nil }
        var fonts: [Key: Measured] = [:]
        while position < bytes.count {
            guard let header = line() else { return nil }
            let fields = header.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 7, fields[0] == "font", let size = Double(fields[2]), let bold = Bool(String(fields[3])),
                  let ascent = Double(fields[4]), let height = Double(fields[5]), let count = Int(fields[6]),
                  count >= 0, count <= (bytes.count - position) / 12 else { return nil }
            var advances = [Unicode.Scalar: Double](minimumCapacity: count)
            for _ in 0..<count {
                guard let scalar = Unicode.Scalar(integer(UInt32.self)) else { return nil }
                advances[scalar] = Double(bitPattern: integer(UInt64.self))
            }
            fonts[Key(family: String(fields[1]), size: size, bold: bold)] = Measured(ascent: ascent, height: height, advances: advances)
        }
        return fonts
    }

    private static func read(_ path: String) -> [Key: Measured]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return decode(data, signature: configurationSignature())
    }

    /// Writes the table beside `path` and renames it into place, so a reader
    /// never sees half a file; a failure leaves the cache as it was.
    private static func write(_ fonts: [Key: Measured], to path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: encode(fonts, signature: configurationSignature())) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
