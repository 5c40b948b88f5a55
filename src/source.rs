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
    /// Characters before each [`CHAR_BLOCK`] bytes of the text, counted the first time a
    /// column is asked on a line longer than that: a column then costs at most two blocks,
    /// not the line's length (a minified template is one line, and counting from its start
    /// for each of n findings made reporting n x size).
    chars_before_block: std::sync::OnceLock<Vec<usize>>,
}

/// Bytes between two character-count checkpoints of a [`LineIndex`].
const CHAR_BLOCK: usize = 4096;

/// Characters starting in `bytes` (UTF-8): the bytes that are not continuation bytes. An
/// offset inside a multi-byte character counts up to that character.
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

const BOM: &str = "\u{feff}";

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // Counted first (a vectorized count), so that the starts are stored without the
        // vector's regrowths, which cost more than the count (issue 23).
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let mut line_starts = Vec::with_capacity(newlines + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            line_starts,
            chars_before_block: std::sync::OnceLock::new(),
        }
    }

    /// Characters in `text[..offset]`, by the nearest checkpoint before `offset`.
    fn chars_before(&self, bytes: &[u8], offset: usize) -> usize {
        let blocks = self.chars_before_block.get_or_init(|| {
            let mut counts = vec![0];
            let mut total = 0;
            for chunk in bytes.chunks(CHAR_BLOCK) {
                total += char_starts(chunk);
                counts.push(total);
            }
            counts
        });
        let block = offset / CHAR_BLOCK;
        let counted = blocks.get(block).copied().unwrap_or(0);
        counted + bytes.get(block * CHAR_BLOCK..offset).map_or(0, char_starts)
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
        // An offset inside a multi-byte character counts up to that character.
        let bytes = text.as_bytes();
        let column = if offset - start <= 2 * CHAR_BLOCK {
            bytes.get(start..offset).map_or(0, char_starts)
        } else {
            self.chars_before(bytes, offset) - self.chars_before(bytes, start)
        };
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
    /// Keyed once per process (the hash is compared within the run that made it, never
    /// stored): SipHash over every byte of each file with findings was 0.8% of a run's
    /// instructions (issue 23); aHash reads the bytes several times faster.
    pub fn of(bytes: &[u8]) -> Self {
        static KEYS: std::sync::OnceLock<crate::hash::RandomState> = std::sync::OnceLock::new();
        ContentHash {
            len: bytes.len(),
            hash: KEYS
                .get_or_init(crate::hash::RandomState::new)
                .hash_one(bytes),
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

    /// A column far along one long line (a minified template) is counted through the
    /// checkpoints: the same as counting from the line's start, at every offset, with
    /// multi-byte characters across the checkpoints and offsets inside them.
    #[test]
    fn columns_on_long_lines_match_counting_from_the_line_start() {
        let line: String = (0..3 * CHAR_BLOCK)
            .map(|i| match i % 7 {
                0 => 'é',
                3 => '€',
                5 => '𝄞',
                _ => 'a',
            })
            .collect();
        let text = format!("\u{feff}{line}\nx{line}\n{line}");
        let lines = LineIndex::new(&text);
        // Offsets around every checkpoint, and others spread along the text.
        let near_block = |o: usize| o % CHAR_BLOCK < 5 || CHAR_BLOCK - o % CHAR_BLOCK < 5;
        for offset in (0..=text.len()).filter(|&o| o % 61 == 0 || near_block(o)) {
            // Counted from the line's start, character by character.
            let before = &text.as_bytes()[..offset];
            let line_no = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let mut start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            if start == 0 && offset >= BOM.len() {
                start = BOM.len();
            }
            let column = text[start..]
                .char_indices()
                .take_while(|(i, _)| start + i < offset)
                .count()
                + 1;
            let p = lines.position(&text, offset);
            assert_eq!((p.line, p.column), (line_no, column), "offset {offset}");
        }
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let t = "é: x";
        assert_eq!(pos(t, 2), (1, 2));
        assert_eq!(pos(t, 4), (1, 4));
    }
}
