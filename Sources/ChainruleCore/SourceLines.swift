/// Where a program's lines end: at "\n", at "\r\n" (one line end, not two) or at a lone "\r"
/// (old Mac files), in any mix. The one definition every reader of a program uses — the
/// lexer, the fast scalar reader, the diagnostics' source lines, check's hints, the
/// interactive page — so that all of them count the same lines.
public enum LineEnds {
    /// Whether `byte` starts a line end ("\n" or "\r").
    @inlinable @inline(__always)
    public static func starts(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// The byte length of the line end that starts at `index` of `bytes`: 2 for "\r\n",
    /// 1 for "\n" or a lone "\r", 0 when no line end starts there.
    @inlinable @inline(__always)
    public static func length<Bytes: RandomAccessCollection<UInt8>>(at index: Int, of bytes: Bytes) -> Int where Bytes.Index == Int {
        guard index < bytes.endIndex else { return 0 }
        switch bytes[index] {
        case 0x0A: return 1
        case 0x0D: return index + 1 < bytes.endIndex && bytes[index + 1] == 0x0A ? 2 : 1
        default: return 0
        }
    }
}

extension StringProtocol {
    /// The lines of a program's text as its diagnostics count them (see `LineEnds`), without
    /// their line ends. Every place that shows line N of a source (diagnostics, check's
    /// hints, the interactive page) reads it through this.
    public func sourceLines() -> [SubSequence] {
        var lines: [SubSequence] = []
        var start = startIndex
        var index = startIndex
        let utf8 = self.utf8
        var byte = utf8.startIndex
        // Line ends are ASCII, so every byte index at one is also a character boundary.
        while byte != utf8.endIndex {
            let value = utf8[byte]
            guard LineEnds.starts(value) else {
                byte = utf8.index(after: byte)
                continue
            }
            index = byte
            var next = utf8.index(after: byte)
            if value == 0x0D, next != utf8.endIndex, utf8[next] == 0x0A { next = utf8.index(after: next) }
            lines.append(self[start..<index])
            start = next
            byte = next
        }
        lines.append(self[start..<endIndex])
        return lines
    }
}

/// What a terminal shows for a program's text: the facts the caret line needs.
public enum SourceText {
    /// The columns a terminal gives `scalar`: 0 for combining marks, format characters
    /// (a zero-width joiner, a variation selector) and the like; 2 for wide East Asian
    /// characters and emoji shown as pictures; 1 for the rest (a tab is the caller's).
    public static func displayWidth(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if scalar.properties.isEmojiPresentation { return 2 }
        for range in wideRanges where range.contains(value) { return 2 }
        return 1
    }

    /// East Asian Wide and Fullwidth blocks (after Markus Kuhn's wcwidth).
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
        0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
        0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// `line` as it can be printed: every control character but the tab (a NUL, a stray
    /// "\r", an escape that would recolour the terminal), and a line or paragraph
    /// separator, is shown as one visible character — its Control Pictures sign (␀, ␍, ␛)
    /// or U+FFFD — so the printed line holds one column per scalar, as the caret counts.
    public static func printable(_ line: some StringProtocol) -> String {
        var out = String.UnicodeScalarView()
        for scalar in line.unicodeScalars {
            out.append(visible(scalar))
        }
        return String(out)
    }

    /// `scalar`, or the visible sign `printable` shows for it.
    public static func visible(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x09: return scalar
        case 0x00...0x1F: return Unicode.Scalar(0x2400 + scalar.value)!
        case 0x7F: return "\u{2421}"
        case 0x80...0x9F, 0x2028, 0x2029: return "\u{FFFD}"
        default: return scalar
        }
    }

    /// The offset of the first byte of `bytes` that is not well-formed UTF-8, or nil.
    public static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var offset = 0
        // ASCII, the usual case, eight bytes at a time.
        while offset + 8 <= bytes.count,
              UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            offset += 8
        }
        var iterator = bytes[offset...].makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// The 1-based line and column of the byte at `offset` of `bytes`, whose bytes before
    /// it are well-formed UTF-8: lines end as `LineEnds` says, columns count Unicode scalars.
    public static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1, column = 1, index = 0
        // A leading byte-order mark takes no column (the lexer skips it).
        if offset >= 3, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < Swift.min(offset, bytes.count) {
            let end = LineEnds.length(at: index, of: bytes)
            if end > 0 {
                (line, column) = (line + 1, 1)
                index += end
                continue
            }
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return (line, column)
    }
}
