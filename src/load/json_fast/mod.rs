//! A fast path for strict JSON (issue 23: jsonc-parser's character-at-a-time scanner and
//! our streaming loop over its tokens were about 8% of all instructions in a `check` of
//! the corpus, for the 28% of its bytes that are JSON).
//!
//! It reads RFC 8259 JSON with byte scans (string bodies with `memchr2` up to the closing
//! quote or a backslash) and builds the very document `json::jsonc_path` builds for that
//! text: the same nodes in the same arena order (a key before its value, children before
//! their collection), the same values, styles and spans, and the same duplicate-key index
//! of a large mapping, through the same [`KeySet`]. At anything it is unsure of, and at any
//! error (invalid JSON, or the loader's own: duplicate keys, limits) it declines, and the
//! caller runs the jsonc path, which then owns every error message and every lenient or
//! odd reading. Declining is always safe; accepting with another tree would be a silent
//! soundness bug, so the differential oracle (`tests`, the `json_fast_agrees` fuzz target,
//! `tests/it/json_fast.rs` on the corpus) compares the two paths' documents on every text
//! this path accepts.
//!
//! Declined: an empty or blank text; comments; trailing or missing commas; whitespace other
//! than space, tab, line feed and carriage return (jsonc also skips vertical tab, form feed
//! and Unicode spaces); any byte outside a string that is not JSON (a BOM, `'`, words,
//! `Infinity`, `+1`, `.5`, `01`, `1.`, hexadecimal); in a string, a control character
//! (below U+0020, which jsonc keeps raw), an escape other than the eight of JSON and
//! `\uXXXX`, a lone or reversed surrogate escape; nesting deeper than the limit or than
//! [`MAX_NESTING`]; any limit reached; a duplicate key.

use std::borrow::Cow;

use super::tree::{Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{KeySet, Limits};
use crate::source::Span;

#[cfg(test)]
mod tests;

/// The text is outside the strict subset, or is not valid JSON, or the loader refuses it:
/// read it with jsonc-parser. `line` is the line of this file that declined, which the
/// corpus run counts to show what to read next.
#[derive(Debug)]
pub struct Declined {
    pub line: u32,
}

#[track_caller]
#[cold]
fn declined() -> Declined {
    Declined {
        line: std::panic::Location::caller().line(),
    }
}

type Fast<T = ()> = Result<T, Declined>;

/// Nesting deeper than this is left to jsonc: the jsonc path refuses more than 512 open
/// ranges (two per object, one per array), which this many levels never reach.
const MAX_NESTING: usize = 200;

/// The document `text` (at offset `base` of its file) holds, if it is strict JSON that the
/// jsonc path reads without an error.
pub fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, Declined> {
    let (frames, entries, items) = SPARE_STACKS.take();
    let mut reader = Reader {
        text,
        b: text.as_bytes(),
        base,
        limits,
        doc: Document::with_capacity_for(text, limits),
        frames,
        entries,
        items,
        key_sets: Vec::new(),
        open_maps: 0,
    };
    let root = reader.document();
    let (mut frames, mut entries, mut items) = (reader.frames, reader.entries, reader.items);
    if entries.capacity() <= SPARE_STACK_LIMIT && items.capacity() <= SPARE_STACK_LIMIT {
        frames.clear();
        entries.clear();
        items.clear();
        SPARE_STACKS.set((frames, entries, items));
    }
    let mut doc = reader.doc;
    doc.root = Some(root?);
    Ok(doc)
}

thread_local! {
    /// The stacks of the last reading on this thread, empty, for the next one: starting
    /// each file from empty stacks cost a few reallocations per file, as in the YAML
    /// builder.
    static SPARE_STACKS: std::cell::Cell<(Vec<Frame>, Vec<Entry>, Vec<NodeId>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Stacks larger than this many children are not kept for the next file.
const SPARE_STACK_LIMIT: usize = 1 << 16;

/// An open object or array.
struct Frame {
    map: bool,
    /// Where its `{` or `[` is.
    start: usize,
    /// Where its children start on the shared `entries` (an object) or `items` (an
    /// array) stack.
    first: usize,
    /// An object's key whose value is being read.
    key: NodeId,
}

struct Reader<'s, 'l> {
    text: &'s str,
    b: &'s [u8],
    base: usize,
    limits: &'l Limits,
    doc: Document<'s>,
    frames: Vec<Frame>,
    /// The entries and items of the open objects and arrays, innermost last: each takes
    /// its own off in one exact allocation when it closes, as the jsonc path does.
    entries: Vec<Entry>,
    items: Vec<NodeId>,
    /// The key sets of the open objects (the first `open_maps`), then spare ones, emptied,
    /// for the next object to reuse.
    key_sets: Vec<KeySet<'s>>,
    open_maps: usize,
}

/// JSON's whitespace, the only bytes skipped between tokens.
#[inline(always)]
fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// Whether `bytes` hold a control character, which jsonc keeps raw in a string and this
/// path declines. Without a short-circuit per byte, so the check vectorizes.
#[inline(always)]
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |seen, &c| seen | (c < 0x20))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at`, as a little-endian word.
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Where the first `"`, `\` or control character of a string body lies, among the
/// [`SHORT`] bytes at `at` (a string's body is short, usually): eight bytes at a time with
/// word arithmetic (a call to `memchr2` costs more than a short body). `None`: not within
/// those bytes (or too near the end of the text), and `string` scans on with `memchr2`.
#[inline(always)]
fn short_string_stop(b: &[u8], at: usize) -> Option<usize> {
    let mut chunk = at;
    while chunk < at + SHORT {
        let word = word_at(b, chunk)?;
        // A byte's high bit is set where it is zero (`"` after `^`, `\` after `^`) or
        // below 0x20; a borrow can set it wrongly only in a byte above a true one, so the
        // lowest flag is the first match.
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flags = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH_BITS;
        if flags != 0 {
            return Some(chunk + (flags.trailing_zeros() / 8) as usize);
        }
        chunk += 8;
    }
    None
}

/// How many bytes of a string body [`short_string_stop`] scans before `memchr2` takes over.
const SHORT: usize = 32;

impl<'s> Reader<'s, '_> {
    /// The root value, then nothing but whitespace.
    fn document(&mut self) -> Fast<NodeId> {
        let mut pos = self.skip_blanks(0);
        'value: loop {
            // A value starts at `pos`; once it is read, `id` is its node and `pos` is past it.
            let (mut id, end) = match self.b.get(pos) {
                Some(b'{') => {
                    self.open(true, pos)?;
                    pos = self.skip_blanks(pos + 1);
                    if self.b.get(pos) == Some(&b'}') {
                        (self.close(pos + 1)?, pos + 1)
                    } else {
                        pos = self.key(pos)?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.open(false, pos)?;
                    pos = self.skip_blanks(pos + 1);
                    if self.b.get(pos) == Some(&b']') {
                        (self.close(pos + 1)?, pos + 1)
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let (text, end) = self.string(pos)?;
                    (self.scalar(pos, end, text, ScalarStyle::Quoted)?, end)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let end = self.number(pos)?;
                    let text = self.text.get(pos..end).ok_or_else(declined)?;
                    (
                        self.scalar(pos, end, Cow::Borrowed(text), ScalarStyle::Plain)?,
                        end,
                    )
                }
                Some(b't') => self.literal(pos, "true")?,
                Some(b'f') => self.literal(pos, "false")?,
                Some(b'n') => self.literal(pos, "null")?,
                _ => return Err(declined()),
            };
            pos = end;
            // Hand the value to its collection; close the collections that end after it.
            loop {
                let Some(frame) = self.frames.last() else {
                    return if self.skip_blanks(pos) == self.b.len() {
                        Ok(id)
                    } else {
                        Err(declined())
                    };
                };
                if frame.map {
                    self.entries.push(Entry {
                        key: frame.key,
                        value: id,
                    });
                } else {
                    self.items.push(id);
                }
                let map = frame.map;
                pos = self.skip_blanks(pos);
                match self.b.get(pos) {
                    Some(b',') => {
                        pos = self.skip_blanks(pos + 1);
                        if map {
                            pos = self.key(pos)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if map => {
                        pos += 1;
                        id = self.close(pos)?;
                    }
                    Some(b']') if !map => {
                        pos += 1;
                        id = self.close(pos)?;
                    }
                    _ => return Err(declined()),
                }
            }
        }
    }

    #[inline(always)]
    fn skip_blanks(&self, mut pos: usize) -> usize {
        while let Some(&c) = self.b.get(pos) {
            if !is_blank(c) {
                break;
            }
            pos += 1;
            // The indentation of pretty-printed JSON, eight spaces at a time.
            while word_at(self.b, pos) == Some(ONES * u64::from(b' ')) {
                pos += 8;
            }
        }
        pos
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }

    fn push(&mut self, node: Node<'s>) -> Fast<NodeId> {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            return Err(declined());
        }
        Ok(self.doc.push(node))
    }

    fn scalar(
        &mut self,
        start: usize,
        end: usize,
        text: Cow<'s, str>,
        style: ScalarStyle,
    ) -> Fast<NodeId> {
        if text.len() > self.limits.max_scalar_len {
            return Err(declined());
        }
        let span = self.span(start, end);
        self.push(Node {
            span,
            tag: None,
            kind: NodeKind::Scalar(Scalar { text, style }),
        })
    }

    /// `true`, `false` or `null` at `pos`: the scalar and where it ends. What follows is
    /// checked by the caller (a separator, a closing bracket, the end), so `truex` or `nul`
    /// is declined.
    fn literal(&mut self, pos: usize, word: &'static str) -> Fast<(NodeId, usize)> {
        let end = pos + word.len();
        if self.b.get(pos..end) != Some(word.as_bytes()) {
            return Err(declined());
        }
        let id = self.scalar(pos, end, Cow::Borrowed(word), ScalarStyle::Plain)?;
        Ok((id, end))
    }

    /// A number at `pos` as RFC 8259 writes it; where it ends. Its text is kept as written
    /// (`-0`, `1E+05`, digits beyond any float), as jsonc's token is.
    fn number(&self, pos: usize) -> Fast<usize> {
        let b = self.b;
        let digits = |mut at: usize| {
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            at
        };
        let mut at = pos;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        at = match b.get(at) {
            Some(b'0') => at + 1,
            Some(b'1'..=b'9') => digits(at + 1),
            _ => return Err(declined()),
        };
        if b.get(at) == Some(&b'.') {
            if !b.get(at + 1).is_some_and(u8::is_ascii_digit) {
                return Err(declined());
            }
            at = digits(at + 1);
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(b.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if !b.get(at).is_some_and(u8::is_ascii_digit) {
                return Err(declined());
            }
            at = digits(at);
        }
        Ok(at)
    }

    /// The string whose opening quote is at `pos`: its value and the end of its closing
    /// quote. Borrowed from the text when it has no escape, as jsonc's is.
    #[inline]
    fn string(&self, pos: usize) -> Fast<(Cow<'s, str>, usize)> {
        let start = pos + 1;
        let end = match short_string_stop(self.b, start) {
            Some(end) => end,
            None => {
                let rest = self.b.get(start..).ok_or_else(declined)?;
                let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
                    return Err(declined());
                };
                if has_control(&rest[..at]) {
                    return Err(declined());
                }
                start + at
            }
        };
        match self.b.get(end) {
            Some(b'"') => {
                let text = self.text.get(start..end).ok_or_else(declined)?;
                Ok((Cow::Borrowed(text), end + 1))
            }
            Some(b'\\') => self.escaped(start, end),
            _ => Err(declined()),
        }
    }

    /// The rest of a string from its first backslash, at `at` (its text starts at `start`).
    #[cold]
    #[inline(never)]
    fn escaped(&self, start: usize, mut at: usize) -> Fast<(Cow<'s, str>, usize)> {
        let b = self.b;
        let mut value = String::with_capacity(at - start + 16);
        let mut from = start;
        loop {
            // A backslash at `at`; the text before it (from `from`) holds no control.
            value.push_str(self.text.get(from..at).ok_or_else(declined)?);
            let (decoded, length) = match b.get(at + 1) {
                Some(b'"') => ('"', 2),
                Some(b'\\') => ('\\', 2),
                Some(b'/') => ('/', 2),
                Some(b'b') => ('\u{08}', 2),
                Some(b'f') => ('\u{0C}', 2),
                Some(b'n') => ('\n', 2),
                Some(b'r') => ('\r', 2),
                Some(b't') => ('\t', 2),
                Some(b'u') => self.unicode_escape(at)?,
                _ => return Err(declined()),
            };
            value.push(decoded);
            at += length;
            from = at;
            let rest = b.get(at..).ok_or_else(declined)?;
            let Some(next) = memchr::memchr2(b'"', b'\\', rest) else {
                return Err(declined());
            };
            if has_control(&rest[..next]) {
                return Err(declined());
            }
            at += next;
            if b[at] == b'"' {
                value.push_str(self.text.get(from..at).ok_or_else(declined)?);
                return Ok((Cow::Owned(value), at + 1));
            }
        }
    }

    /// The `\uXXXX` escape at `at` (a high surrogate with the `\uXXXX` low one right after
    /// it, as jsonc requires): the character and the escape's length.
    fn unicode_escape(&self, at: usize) -> Fast<(char, usize)> {
        let first = self.hex4(at + 2)?;
        let (code, length) = match first {
            0xD800..=0xDBFF => {
                if self.b.get(at + 6..at + 8) != Some(b"\\u") {
                    return Err(declined());
                }
                let second = self.hex4(at + 8)?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(declined());
                }
                (((first - 0xD800) << 10) + (second - 0xDC00) + 0x10000, 12)
            }
            0xDC00..=0xDFFF => return Err(declined()),
            _ => (first, 6),
        };
        let c = char::from_u32(code).ok_or_else(declined)?;
        Ok((c, length))
    }

    /// Four hexadecimal digits at `at`.
    fn hex4(&self, at: usize) -> Fast<u32> {
        let digits = self.b.get(at..at + 4).ok_or_else(declined)?;
        let mut value = 0;
        for &d in digits {
            let digit = (d as char).to_digit(16).ok_or_else(declined)?;
            value = value * 16 + digit;
        }
        Ok(value)
    }

    /// An object's key at `pos` (where a `"` must be), its colon, and the blanks after
    /// it: the key's node becomes the innermost object's pending key. Where the value
    /// starts.
    fn key(&mut self, pos: usize) -> Fast<usize> {
        if self.b.get(pos) != Some(&b'"') {
            return Err(declined());
        }
        let (name, end) = self.string(pos)?;
        let span = self.span(pos, end);
        let seen = self
            .open_maps
            .checked_sub(1)
            .and_then(|at| self.key_sets.get_mut(at))
            .ok_or_else(declined)?;
        if seen.insert(name.clone(), span).is_some() {
            return Err(declined());
        }
        let key = self.scalar(pos, end, name, ScalarStyle::Quoted)?;
        if let Some(frame) = self.frames.last_mut() {
            frame.key = key;
        }
        let colon = self.skip_blanks(end);
        if self.b.get(colon) != Some(&b':') {
            return Err(declined());
        }
        Ok(self.skip_blanks(colon + 1))
    }

    /// Open an object (`map`) or an array whose bracket is at `pos`.
    fn open(&mut self, map: bool, pos: usize) -> Fast {
        // The jsonc path refuses a collection at depth `frames + 1` past the limit.
        if self.frames.len() >= self.limits.max_depth || self.frames.len() >= MAX_NESTING {
            return Err(declined());
        }
        let first = if map {
            if self.key_sets.len() == self.open_maps {
                self.key_sets.push(KeySet::new());
            }
            self.open_maps += 1;
            self.entries.len()
        } else {
            self.items.len()
        };
        self.frames.push(Frame {
            map,
            start: pos,
            first,
            key: 0,
        });
        Ok(())
    }

    /// Close the innermost collection, whose closing bracket ends at `end`: its node.
    fn close(&mut self, end: usize) -> Fast<NodeId> {
        let frame = self.frames.pop().ok_or_else(declined)?;
        let span = self.span(frame.start, end);
        if !frame.map {
            let kind = self.doc.seq_from_tail(&mut self.items, frame.first);
            return self.push(Node {
                span,
                tag: None,
                kind,
            });
        }
        let kind = self.doc.map_from_tail(&mut self.entries, frame.first);
        let id = self.push(Node {
            span,
            tag: None,
            kind,
        })?;
        self.open_maps -= 1;
        if let Some(seen) = self.key_sets.get_mut(self.open_maps) {
            if let Some(index) = seen.take_index() {
                self.doc.large_maps.insert(id, index);
            }
            seen.clear();
        }
        Ok(id)
    }
}
