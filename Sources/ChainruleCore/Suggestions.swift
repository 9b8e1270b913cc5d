/// "Did you mean …": the closest known name by edit distance. Every "did
/// you mean" of the tool (names in programs, op names, figure names) comes
/// from here, so they agree on what counts as a typo.
public enum Suggestions {
    /// The candidate nearest to `name`, if it is close enough to be a typo:
    /// none for names of 1 or 2 characters (any two are one edit apart) except
    /// a difference of case, 1 edit up to 4 characters, 2 up to 8, else 3.
    /// Ties go to the alphabetically first, so messages are reproducible.
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let length = name.unicodeScalars.count
        let limit = length <= 2 ? 0 : length <= 4 ? 1 : (length <= 8 ? 2 : 3)
        var best: (name: String, distance: Int)?
        let lowered = name.lowercased()
        for candidate in candidates where candidate != name {
            // Lengths further apart than the limit are further apart in edits.
            guard abs(candidate.unicodeScalars.count - length) <= limit else { continue }
            var distance = editDistance(name, candidate, stoppingAbove: limit)
            // A case-only difference (linear vs Linear) is the likeliest typo of all.
            if candidate.lowercased() == lowered { distance = 0 }
            guard distance <= limit else { continue }
            if best == nil || distance < best!.distance || (distance == best!.distance && candidate < best!.name) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance with transpositions counted as one edit
    /// (optimal string alignment), over Unicode scalars. With `bound`, any
    /// distance above it is returned as some number above it, found early:
    /// once a whole row of the table exceeds the bound, so does the result.
    public static func editDistance(_ a: String, _ b: String, stoppingAbove bound: Int = .max) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        var previous2 = [Int](repeating: 0, count: width)
        var previous = [Int](repeating: 0, count: width)
        for j in 0..<width { previous[j] = j }
        var current = [Int](repeating: 0, count: width)
        var previousMinimum = 0
        for i in 1...a.count {
            current[0] = i
            var minimum = i
            for j in 1..<width {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = Swift.min(value, previous2[j - 2] + 1)
                }
                current[j] = value
                minimum = Swift.min(minimum, value)
            }
            // A transposition reads two rows back, so both must exceed the bound.
            if minimum > bound && previousMinimum > bound { return bound + 1 }
            previousMinimum = minimum
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
