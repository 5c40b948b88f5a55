//! Byte spans and the line index that turns them into 1-based line/column at render time.
//!
//! Spans travel through the whole pipeline; line and column are computed only when a
//! finding is rendered, by binary search over the newline offsets of its file. What a
//! report keeps of a file's text (positions, snippet lines) is the reporting side's
//! [`Excerpt`](crate::report::excerpt::Excerpt).

use std::sync::Arc;

/// A half-open byte range `start..end` into a file's text (BOM included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A 1-based line and a 1-based column counted in characters (Unicode scalar values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Offsets of every line start, so that a byte offset maps to a line by binary search.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

const BOM: &str = "\u{feff}";

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// 0-based index of the line holding `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    pub(crate) fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// Line and column of a byte offset. A BOM is not a column; a CR before LF is part of
    /// its line, so CRLF files report the same positions as LF files.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let mut start = self.line_starts[line];
        if line == 0 && text.starts_with(BOM) && offset >= BOM.len() {
            start = BOM.len();
        }
        let column = text
            .get(start..offset)
            .map(|s| s.chars().count())
            // An offset inside a multi-byte character counts up to that character.
            .unwrap_or_else(|| {
                text[start..]
                    .char_indices()
                    .take_while(|(i, _)| start + i < offset)
                    .count()
            });
        Position {
            line: line + 1,
            column: column + 1,
        }
    }
}

/// A file's text kept for rendering (snippets, positions) once its tree is dropped.
#[derive(Clone, Debug)]
pub struct SourceText {
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
}

impl SourceText {
    pub fn new(text: Arc<str>) -> Self {
        let lines = Arc::new(LineIndex::new(&text));
        SourceText { text, lines }
    }

    pub fn position(&self, offset: usize) -> Position {
        self.lines.position(&self.text, offset)
    }

    /// Start and end positions of a span; the end is exclusive, as in SARIF and GitHub.
    pub fn range(&self, span: Span) -> (Position, Position) {
        (self.position(span.start), self.position(span.end))
    }
}

/// What the bytes of a file were when it was checked: `--fix` re-reads the file and
/// refuses to edit it if they are not the same any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentHash {
    pub len: usize,
    pub hash: u64,
}

impl ContentHash {
    pub fn of(bytes: &[u8]) -> Self {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        ContentHash {
            len: bytes.len(),
            hash: hasher.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(text: &str, offset: usize) -> (usize, usize) {
        let p = LineIndex::new(text).position(text, offset);
        (p.line, p.column)
    }

    #[test]
    fn positions_are_one_based() {
        let t = "ab\ncd\n";
        assert_eq!(pos(t, 0), (1, 1));
        assert_eq!(pos(t, 1), (1, 2));
        assert_eq!(pos(t, 3), (2, 1));
        assert_eq!(pos(t, 4), (2, 2));
    }

    #[test]
    fn crlf_lines_report_like_lf() {
        let t = "ab\r\ncd\r\n";
        assert_eq!(pos(t, 4), (2, 1));
        assert_eq!(pos(t, 5), (2, 2));
    }

    #[test]
    fn bom_is_not_a_column() {
        let t = "\u{feff}ab\ncd";
        assert_eq!(pos(t, 3), (1, 1));
        assert_eq!(pos(t, 4), (1, 2));
        assert_eq!(pos(t, 6), (2, 1));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let t = "é: x";
        assert_eq!(pos(t, 2), (1, 2));
        assert_eq!(pos(t, 4), (1, 4));
    }
}
