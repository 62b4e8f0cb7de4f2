//! Byte offsets in a reviewed text file (an agreement, a feed definition, a source mapping)
//! turned into the 1-based line and column an editor shows.

/// A place in a text file: 1-based line and column.
///
/// The column counts characters, not bytes, so that it matches what an editor shows on a line
/// holding non-ASCII text (a party's name with an accent, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Position {
    /// The start of the file, for problems that belong to no particular key (a missing table).
    pub const START: Position = Position { line: 1, column: 1 };
}

/// The start of every line of one text, to turn byte offsets into positions.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// The position of byte `offset`; an offset past the end, or inside a character, is moved
    /// back to the nearest character boundary rather than failing: a position is a hint.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self.text.get(start..offset).map_or(0, |s| s.chars().count());
        Position { line: to_u32(line + 1), column: to_u32(column + 1) }
    }
}

/// Problems listed one to a line, each indented, as error messages show them.
pub struct Listed<'a, T>(pub &'a [T]);

impl<T: std::fmt::Display> std::fmt::Display for Listed<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {p}")?;
        }
        Ok(())
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_character_columns() {
        let text = "a = 1\nname = \"Zoë\"\nb = 2";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(4), Position { line: 1, column: 5 });
        assert_eq!(index.position(6), Position { line: 2, column: 1 });
        let b = text.find("b =").unwrap();
        assert_eq!(index.position(b), Position { line: 3, column: 1 });
        // After the two-byte ë, the closing quote is character 12 of line 2.
        let quote = text.rfind('"').unwrap();
        assert_eq!(index.position(quote), Position { line: 2, column: 12 });
        assert_eq!(index.position(10_000), Position { line: 3, column: 6 });
    }
}
