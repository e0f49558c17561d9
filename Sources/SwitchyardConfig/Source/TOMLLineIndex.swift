/// Finds the line of each key in a TOML document, since the TOML parser keeps no positions: one pass over the
/// lines following table headers (`[a.b]`, `[[a.b]]` with their index) and `key = value` lines (dotted and quoted
/// keys included). Keys inside inline tables take the line of their enclosing key.
struct TOMLLineIndex {
    private(set) var lines: [String: Int] = [:]

    init(_ text: String) {
        var table: [String] = []
        var arrayCounts: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[[") {
                guard let close = line.firstRange(of: "]]")?.lowerBound else { continue }
                let path = Self.keyParts(line[line.index(line.startIndex, offsetBy: 2)..<close])
                let joined = path.joined(separator: ".")
                let index = arrayCounts[joined, default: 0]
                arrayCounts[joined] = index + 1
                table = path + ["[\(index)]"]
                record(table, lineNumber)
            } else if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { continue }
                table = Self.keyParts(line[line.index(after: line.startIndex)..<close])
                record(table, lineNumber)
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = Self.keyParts(line[..<equals])
                if !key.isEmpty { record(table + key, lineNumber) }
            }
        }
    }

    /// The line of `path` (keys and `[i]` indices, as the decoder names them), or of its nearest ancestor.
    func line(of path: [String]) -> Int? {
        var path = path
        while !path.isEmpty {
            if let line = lines[Self.join(path)] { return line }
            path.removeLast()
        }
        return nil
    }

    private mutating func record(_ path: [String], _ line: Int) {
        let key = Self.join(path)
        if lines[key] == nil { lines[key] = line }
    }

    /// Lowercased path with indices attached to the key before them: `a.b[0].c`.
    static func join(_ path: [String]) -> String {
        var text = ""
        for part in path {
            if part.hasPrefix("[") { text += part } else { text += (text.isEmpty ? "" : ".") + part.lowercased() }
        }
        return text
    }

    /// `a. "b.c" .d` → ["a", "b.c", "d"].
    static func keyParts(_ text: Substring) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current.trimmingWhitespace())
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmingWhitespace())
        return parts.filter { !$0.isEmpty }
    }
}
