//! A fast path for the YAML most templates are written in (issue 23: saphyr's
//! character-at-a-time scanner was about 60% of all CPU in a `check` of the corpus).
//!
//! It reads a conservative subset of YAML with byte scans and drives the same [`Builder`]
//! with the same calls, values, styles, tags and spans that `yaml::saphyr_path`'s event loop makes for
//! that text, so the document is the same. At the first construct outside the subset, at
//! anything it is unsure of, and at any error (invalid YAML, or the builder's: duplicate
//! keys, limits) it declines, and the caller runs the saphyr path, which then owns every
//! error message, the libyaml fallback and the YAML 1.1 checks. Declining is always safe;
//! accepting with another tree would be a silent soundness bug, so the differential oracle
//! (`tests`, the `yaml_fast_agrees` fuzz target, `tests/it/yaml_fast.rs` on the corpus)
//! compares the two paths' documents on every text this path accepts.
//!
//! The subset: one document (a leading `---`), a block mapping or sequence at the root;
//! block mappings and sequences (compact `- key: v`, indentless `key:\n- v`, `-` alone,
//! `key:` alone); plain scalars, also over several lines (continuation lines may start
//! with an indicator or end in a comment); quoted scalars (the common escapes), also over
//! several lines indented past their collection; comments; `!Name` tags (CloudFormation's
//! short forms), also alone or above their value; flow collections of those, also over
//! several lines, with single-pair mappings in flow sequences (`[0, Fn::GetAZs: x]`) and
//! tags with no value (`[!GetAZs ]`); literal and folded block scalars without an
//! indentation indicator. Left to saphyr: anchors, aliases, `?` keys, directives, several
//! documents, tabs, carriage returns, `!!` and `!<...>` tags, the Unicode characters YAML
//! 1.1 reads otherwise (`yaml_dialects`), any error, and everything else.

mod scalars;

use std::borrow::Cow;

use super::builder::{Builder, Collection};
use super::tree::{long_form_tag, Document, ScalarStyle, Tag};
use super::yaml_dialects::{self, ScalarEvent};
use super::{Aliases, Limits};
use crate::source::Span;
use scalars::{Quoted, Stop};

/// The text is outside the subset, or is not valid YAML: read it with saphyr. `line` is
/// the line of this file that declined, which the corpus run counts to show what to read
/// next.
#[derive(Debug)]
pub struct Declined {
    pub line: u32,
}

#[track_caller]
fn declined() -> Declined {
    Declined {
        line: std::panic::Location::caller().line(),
    }
}

type Fast<T = ()> = Result<T, Declined>;

/// Keys longer than this are left to saphyr (YAML bounds an implicit key at 1024
/// characters).
const MAX_KEY: usize = 1000;

/// Nesting deeper than this is left to saphyr, so the recursion here stays shallow.
const MAX_NESTING: usize = 100;

/// The document `text` (at offset `base` of its file) holds, if it lies in the subset.
pub fn load<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, Declined> {
    if outside_subset(text) || yaml_dialects::unicode_character(text, base).is_some() {
        return Err(declined());
    }
    let mut reader = Reader {
        text,
        b: text.as_bytes(),
        base,
        pos: 0,
        depth: 0,
        builder: Builder::new(text, base, limits).with_aliases(aliases),
        seen: std::cell::Cell::new((usize::MAX, None)),
    };
    reader.document()?;
    Ok(reader.builder.finish())
}

/// Bytes the subset never holds: tabs, carriage returns, and the characters YAML does not
/// print (C0 and C1 controls, DEL, U+FFFE, U+FFFF), which saphyr refuses.
fn outside_subset(text: &str) -> bool {
    // In blocks without a short-circuit per byte, so the check vectorizes.
    let control = |chunk: &[u8]| {
        chunk.iter().fold(false, |seen, &c| {
            seen | ((c < 0x20) & (c != b'\n')) | (c == 0x7F)
        })
    };
    if text.as_bytes().chunks(256).any(control) {
        return true;
    }
    !text.is_ascii()
        && text
            .chars()
            .any(|c| matches!(c as u32, 0x80..=0x9F | 0xFFFE | 0xFFFF))
}

/// What a line holds from a node's first character (see [`Reader::probe`]).
enum Probe<'s> {
    /// `key:`: the key's value and style, where its event ends, and the colon.
    Key {
        value: Cow<'s, str>,
        style: ScalarStyle,
        end: usize,
        colon: usize,
    },
    /// A plain scalar whose first line's text ends at `end`, stopped by `stop`.
    Plain { end: usize, stop: Stop },
    /// A quoted scalar that is not a key.
    Quoted(Quoted<'s>),
}

/// Where a node stands, which decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// After `key:` on the same line: no block collection may start here.
    AfterKey,
    /// After `- ` on the same line: a compact mapping or sequence may.
    AfterDash,
    /// At the start of its own line.
    OwnLine,
}

struct Reader<'s, 'l> {
    text: &'s str,
    b: &'s [u8],
    base: usize,
    /// The start of the next line not read yet.
    pos: usize,
    depth: usize,
    builder: Builder<'s, 'l>,
    /// The last [`Reader::next_content_line`] asked and its answer: each collection that
    /// ends at a line asks for it again (one question per level, on a deep template).
    seen: std::cell::Cell<(usize, Option<(usize, usize)>)>,
}

impl<'s> Reader<'s, '_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }

    fn line_end(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.b[from.min(self.b.len())..]).map_or(self.b.len(), |o| from + o)
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while self.b.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    }

    /// From `at` (after a token), the rest of the line must be blanks and an optional
    /// comment (after a blank); returns the start of the next line.
    fn end_of_line(&self, at: usize) -> Fast<usize> {
        let after = self.skip_spaces(at);
        match self.b.get(after) {
            None => Ok(self.b.len()),
            Some(b'\n') => Ok(after + 1),
            Some(b'#') if after > at => Ok((self.line_end(after) + 1).min(self.b.len())),
            _ => Err(declined()),
        }
    }

    /// The next line from `from` (a line start) that holds a node: its start and its
    /// indentation. Blank and comment-only lines are skipped; a document marker declines.
    fn next_content_line(&self, from: usize) -> Fast<Option<(usize, usize)>> {
        let (at, found) = self.seen.get();
        if at == from {
            return Ok(found);
        }
        let found = self.find_content_line(from)?;
        self.seen.set((from, found));
        Ok(found)
    }

    fn find_content_line(&self, mut from: usize) -> Fast<Option<(usize, usize)>> {
        while from < self.b.len() {
            let first = self.skip_spaces(from);
            match self.b.get(first) {
                None => return Ok(None),
                Some(b'\n') => from = first + 1,
                Some(b'#') => from = self.line_end(first) + 1,
                Some(_) => {
                    let rest = &self.b[from..];
                    if first == from && (rest.starts_with(b"---") || rest.starts_with(b"...")) {
                        return Err(declined());
                    }
                    return Ok(Some((from, first - from)));
                }
            }
        }
        Ok(None)
    }

    fn document(&mut self) -> Fast {
        // Comments, then an optional `---` alone on its line.
        let mut at = 0;
        loop {
            let first = self.skip_spaces(at);
            match self.b.get(first) {
                None => return Err(declined()),
                Some(b'\n') => at = first + 1,
                Some(b'#') => at = self.line_end(first) + 1,
                Some(b'%') => return Err(declined()),
                _ => break,
            }
        }
        if self.b[at..].starts_with(b"---") {
            at = self.end_of_line(at + 3)?;
        }
        let Some((line, 0)) = self.next_content_line(at)? else {
            return Err(declined());
        };
        self.builder
            .document_start(self.span(0, 0))
            .map_err(|_| declined())?;
        if !self.is_dash(line) && !matches!(self.probe(line, 0)?, Probe::Key { .. }) {
            // A scalar or flow collection as the whole document.
            return Err(declined());
        }
        self.node(line, None, Place::OwnLine)?;
        match self.next_content_line(self.pos)? {
            None => Ok(()),
            Some(_) => Err(declined()),
        }
    }

    /// The column of offset `at`.
    fn column(&self, at: usize) -> usize {
        at - self.b[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |nl| nl + 1)
    }

    /// The node starting at `p` (its first character) inside the block collection indented
    /// by `parent` columns (`None` at the root). Leaves `pos` at the line after it.
    fn node(&mut self, p: usize, parent: Option<usize>, place: Place) -> Fast {
        let n = parent.unwrap_or(0);
        match self.b[p] {
            b'-' if matches!(self.b.get(p + 1), None | Some(b' ' | b'\n')) => {
                if place == Place::AfterKey {
                    return Err(declined());
                }
                self.block_seq(p, None, false)
            }
            b'!' => self.tagged(p, n, place),
            b'|' | b'>' if place != Place::OwnLine => self.block_scalar(p, None, n),
            b'[' | b'{' => {
                let end = self.flow(p, None, n)?;
                self.pos = self.end_of_line(end)?;
                Ok(())
            }
            _ => match self.probe(p, n)? {
                Probe::Key { .. } if place == Place::AfterKey => Err(declined()),
                key @ Probe::Key { .. } => self.block_map(p, None, key),
                scalar => self.scalar_on_line(scalar, p, None, p, n),
            },
        }
    }

    /// A tag (`!Ref`) at `p`, and the node it tags: on the same line, or a block
    /// collection on the next ones.
    fn tagged(&mut self, p: usize, n: usize, place: Place) -> Fast {
        let (tag, after) = self.tag(p)?;
        let q = self.skip_spaces(after);
        match self.b.get(q) {
            None | Some(b'\n' | b'#') => {
                let next = self.end_of_line(after)?;
                let following = self.next_content_line(next)?;
                let (deeper, dash) = match following {
                    Some((line, indent)) => {
                        let dash = self.is_dash(line + indent);
                        let deeper = match place {
                            Place::AfterKey => indent > n || (indent == n && dash),
                            Place::AfterDash if indent == n + 1 => return Err(declined()),
                            Place::AfterDash => indent >= n + 2,
                            // `key:\n  !If\n    - c`, `key:\n  !If\n  - c`: the collection
                            // below its tag.
                            Place::OwnLine if indent >= self.column(p) => true,
                            Place::OwnLine => return Err(declined()),
                        };
                        (deeper, dash)
                    }
                    None if place == Place::OwnLine => return Err(declined()),
                    None => (false, false),
                };
                let Some((line, indent)) = following.filter(|_| deeper) else {
                    // A tag with no value (`!GetAZs` alone): saphyr's empty scalar covers
                    // the tag.
                    self.scalar(
                        Cow::Borrowed(""),
                        ScalarStyle::Plain,
                        self.span(p, after),
                        Some(tag),
                    )?;
                    self.pos = next;
                    return Ok(());
                };
                let first = line + indent;
                if dash {
                    return self.block_seq(first, Some((p, tag)), indent == n);
                }
                match self.probe(first, n)? {
                    key @ Probe::Key { .. } => self.block_map(first, Some((p, tag)), key),
                    // A scalar on the next line (`!Sub\n  'text'`).
                    scalar => self.scalar_on_line(scalar, first, Some(tag), p, n),
                }
            }
            Some(b'|' | b'>') if place != Place::OwnLine => self.block_scalar(q, Some((p, tag)), n),
            Some(b'[' | b'{') => {
                let end = self.flow(q, Some((p, tag)), n)?;
                self.pos = self.end_of_line(end)?;
                Ok(())
            }
            Some(_) => match self.probe(q, n)? {
                Probe::Key { .. } => Err(declined()),
                scalar => self.scalar_on_line(scalar, q, Some(tag), p, n),
            },
        }
    }

    /// `!Name` at `p` with a CloudFormation-like name (letters, digits, `:` as in
    /// `!Rain::Module`): its tag as `yaml::tag_of` makes it,
    /// and the offset after it (a blank or the line's end must follow).
    fn tag(&self, p: usize) -> Fast<(Tag, usize)> {
        let mut end = p + 1;
        while self
            .b
            .get(end)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b':')
        {
            end += 1;
        }
        if end == p + 1 || !matches!(self.b.get(end), None | Some(b' ' | b'\n')) {
            return Err(declined());
        }
        Ok((long_form_tag(&self.text[p + 1..end]), end))
    }

    /// What the line holds from `p`, the first character of a node in a block collection
    /// indented by `n`: a mapping's key, or a scalar (read once, for whichever it is).
    fn probe(&self, p: usize, n: usize) -> Fast<Probe<'s>> {
        if !matches!(self.b[p], b'\'' | b'"') {
            return match scalars::plain_in_block(self.b, p) {
                Some((end, Stop::Colon(colon))) => {
                    let key = &self.text[p..end];
                    // saphyr limits an implicit key's length; a merge key is the builder's.
                    if end - p > MAX_KEY || key == "<<" {
                        return Err(declined());
                    }
                    Ok(Probe::Key {
                        value: Cow::Borrowed(key),
                        style: ScalarStyle::Plain,
                        end,
                        colon,
                    })
                }
                Some((end, stop)) => Ok(Probe::Plain { end, stop }),
                None => Err(declined()),
            };
        }
        let quoted = self.quoted(p, n)?;
        let colon = self.skip_spaces(quoted.end);
        match self.b.get(colon) {
            Some(b':') if matches!(self.b.get(colon + 1), None | Some(b' ' | b'\n')) => {
                // A key on more than one line is an error.
                if quoted.multi_line || quoted.end - p > MAX_KEY {
                    return Err(declined());
                }
                Ok(Probe::Key {
                    value: quoted.value,
                    style: ScalarStyle::Quoted,
                    end: self.token_end(quoted.end)?,
                    colon,
                })
            }
            _ => Ok(Probe::Quoted(quoted)),
        }
    }

    /// The scalar `probe` found at `p` (tagged by `tag`, whose `!` is at `start`), in a
    /// block collection indented by `n`: hands it to the builder and moves to the next
    /// line.
    fn scalar_on_line(
        &mut self,
        probe: Probe<'s>,
        p: usize,
        tag: Option<Tag>,
        start: usize,
        n: usize,
    ) -> Fast {
        let (value, style, end) = match probe {
            Probe::Quoted(Quoted { value, end, .. }) => {
                (value, ScalarStyle::Quoted, self.token_end(end)?)
            }
            Probe::Plain {
                end,
                stop: Stop::Comment(_),
            } => (Cow::Borrowed(&self.text[p..end]), ScalarStyle::Plain, end),
            Probe::Plain {
                end,
                stop: Stop::Eol(eol),
            } => {
                let (value, end) =
                    scalars::plain_lines(self.text, p, end, eol, n).ok_or_else(|| declined())?;
                (value, ScalarStyle::Plain, end)
            }
            _ => return Err(declined()),
        };
        self.scalar(value, style, self.span(start, end), tag)?;
        self.pos = self.end_of_line(end)?;
        Ok(())
    }

    /// The quoted scalar at `p`, in a block collection indented by `n`: its continuation
    /// lines must be indented by two more (saphyr wants more than `n`, or `n + 1` after
    /// `- `).
    fn quoted(&self, p: usize, n: usize) -> Fast<Quoted<'s>> {
        scalars::quoted(self.text, p, n + 2).ok_or_else(|| declined())
    }

    fn scalar(
        &mut self,
        value: Cow<'s, str>,
        style: ScalarStyle,
        span: Span,
        tag: Option<Tag>,
    ) -> Fast {
        // saphyr's loop reads a `?`-plain scalar in a flow through `yaml_dialects`; leave
        // those to it.
        if style == ScalarStyle::Plain && value.starts_with('?') && self.builder.in_flow() {
            return Err(declined());
        }
        self.builder
            .scalar(value, style, span, tag, 0)
            .map_err(|_| declined())
    }

    fn enter(&mut self) -> Fast {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(declined());
        }
        Ok(())
    }

    fn start(&mut self, kind: Collection, span: Span, tag: Option<Tag>, flow: bool) -> Fast {
        self.enter()?;
        self.builder
            .start(kind, span, tag, flow, 0)
            .map_err(|_| declined())
    }

    fn end(&mut self, span: Span) -> Fast {
        self.depth -= 1;
        self.builder.end(span).map_err(|_| declined())
    }

    /// The start event's span of a block collection whose first entry is at `p`: empty
    /// there, or from its tag to there.
    fn block_start(&self, p: usize, tag: &Option<(usize, Tag)>) -> Span {
        match tag {
            Some((at, _)) => self.span(*at, p),
            None => self.span(p, p),
        }
    }

    /// A block mapping whose first key is at `p` (tagged by the tag at `tag.0`), `first`
    /// as [`Reader::probe`] read it.
    fn block_map(&mut self, p: usize, tag: Option<(usize, Tag)>, first: Probe<'s>) -> Fast {
        let m = self.column(p);
        let span = self.block_start(p, &tag);
        self.start(Collection::Map, span, tag.map(|t| t.1), false)?;
        let mut key = p;
        let mut probe = first;
        loop {
            let Probe::Key {
                value,
                style,
                end,
                colon,
            } = probe
            else {
                return Err(declined());
            };
            self.scalar(value, style, self.span(key, end), None)?;
            let q = self.skip_spaces(colon + 1);
            if matches!(self.b.get(q), None | Some(b'\n' | b'#')) {
                let next = self.end_of_line(colon + 1)?;
                match self.next_content_line(next)? {
                    Some((line, indent)) if indent > m => {
                        self.node(line + indent, Some(m), Place::OwnLine)?;
                    }
                    Some((line, indent)) if indent == m && self.is_dash(line + indent) => {
                        self.block_seq(line + indent, None, true)?;
                    }
                    _ => {
                        self.empty_scalar(colon)?;
                        self.pos = next;
                    }
                }
            } else {
                self.node(q, Some(m), Place::AfterKey)?;
            }
            match self.next_content_line(self.pos)? {
                Some((line, indent)) if indent == m && !self.is_dash(line + indent) => {
                    key = line + indent;
                    probe = self.probe(key, m)?;
                }
                Some((_, indent)) if indent >= m => return Err(declined()),
                _ => break,
            }
        }
        self.end(self.span(self.pos, self.pos))
    }

    /// The empty plain scalar saphyr gives a key or a `-` with no value, at `at`.
    fn empty_scalar(&mut self, at: usize) -> Fast {
        self.scalar(
            Cow::Borrowed(""),
            ScalarStyle::Plain,
            self.span(at, at),
            None,
        )
    }

    fn is_dash(&self, at: usize) -> bool {
        self.b.get(at) == Some(&b'-') && matches!(self.b.get(at + 1), None | Some(b' ' | b'\n'))
    }

    /// A block sequence whose first `-` is at `p`; `indentless` when that is the column of
    /// the mapping it is a value of (the mapping's next key ends it).
    fn block_seq(&mut self, p: usize, tag: Option<(usize, Tag)>, indentless: bool) -> Fast {
        let c = self.column(p);
        let span = if indentless {
            // saphyr starts an indentless sequence where its first entry's token ends: past
            // the `-`, the blanks and a comment.
            let q = self.skip_spaces(p + 1);
            let at = if self.b.get(q) == Some(&b'#') {
                self.line_end(q)
            } else {
                q
            };
            self.span(tag.as_ref().map_or(at, |t| t.0), at)
        } else {
            self.block_start(p, &tag)
        };
        self.start(Collection::Seq, span, tag.map(|t| t.1), false)?;
        let mut dash = p;
        loop {
            let q = self.skip_spaces(dash + 1);
            if matches!(self.b.get(q), None | Some(b'\n' | b'#')) {
                let next = self.end_of_line(dash + 1)?;
                match self.next_content_line(next)? {
                    Some((line, indent)) if indent >= c + 2 => {
                        self.node(line + indent, Some(c), Place::OwnLine)?;
                    }
                    Some((_, indent)) if indent > c => return Err(declined()),
                    _ => {
                        // saphyr's empty entry sits where the line's blanks and comment end.
                        self.empty_scalar(self.line_end(q))?;
                        self.pos = next;
                    }
                }
            } else {
                self.node(q, Some(c), Place::AfterDash)?;
            }
            match self.next_content_line(self.pos)? {
                Some((line, indent)) if indent == c && self.is_dash(line + indent) => {
                    dash = line + indent;
                }
                Some((_, indent)) if indent > c => return Err(declined()),
                _ => break,
            }
        }
        self.end(self.span(self.pos, self.pos))
    }

    /// A block scalar whose indicator is at `p`, in a block collection indented by `n`.
    fn block_scalar(&mut self, p: usize, tag: Option<(usize, Tag)>, n: usize) -> Fast {
        let block = scalars::block_scalar(self.text, p, n).ok_or_else(|| declined())?;
        let start = tag.as_ref().map_or(block.content_start, |t| t.0);
        let raw = self.span(start, block.raw_end);
        let event = ScalarEvent {
            style: ScalarStyle::Block,
            tagged: tag.is_some(),
            span: raw,
        };
        let (value, ambiguity) =
            event.as_yaml_1_1(Cow::Owned(block.value), &self.builder, self.text, self.base);
        if ambiguity.is_some() {
            return Err(declined());
        }
        let span = super::builder::trim_scalar_span(self.text, self.base, raw, ScalarStyle::Block);
        self.builder
            .scalar(value, ScalarStyle::Block, span, tag.map(|t| t.1), 0)
            .map_err(|_| declined())?;
        self.pos = block.next_line;
        Ok(())
    }

    /// A flow collection whose bracket is at `p` (tagged by the tag at `tag.0`), inside a
    /// block collection indented by `n`; returns the offset after its closing bracket.
    fn flow(&mut self, p: usize, tag: Option<(usize, Tag)>, n: usize) -> Fast<usize> {
        let map = self.b[p] == b'{';
        let close = if map { b'}' } else { b']' };
        let start = tag.as_ref().map_or(p, |t| t.0);
        let (kind, tag) = (
            if map {
                Collection::Map
            } else {
                Collection::Seq
            },
            tag.map(|t| t.1),
        );
        self.start(kind, self.span(start, p + 1), tag, true)?;
        let mut at = self.flow_space(p + 1, n)?;
        let mut first = true;
        // A mapping's trailing comma, whose token saphyr's end event takes (a sequence's
        // end event is its bracket's, comma or not).
        let mut trailing = None;
        loop {
            if self.b.get(at) == Some(&close) && first {
                break;
            }
            if map {
                let end = self.flow_key(at, n)?;
                at = self.flow_space(end, n)?;
                if self.b.get(at) != Some(&b':')
                    || !matches!(self.b.get(at + 1), Some(b' ' | b'\n'))
                {
                    return Err(declined());
                }
                at = self.flow_space(at + 1, n)?;
            }
            let end = self.flow_item(at, n, !map)?;
            at = self.flow_space(end, n)?;
            match self.b.get(at) {
                Some(b',') => {
                    let comma = at;
                    at = self.flow_space(at + 1, n)?;
                    first = false;
                    // A trailing comma (`[a, b,]`) adds no entry.
                    if self.b.get(at) == Some(&close) {
                        trailing = map.then_some(comma);
                        break;
                    }
                }
                Some(&c) if c == close => break,
                _ => return Err(declined()),
            }
        }
        // saphyr's end event covers the bracket, the blanks and a comment after it.
        let end = self.token_end(at + 1)?;
        let span = match trailing {
            Some(comma) => self.span(comma, self.token_end(comma + 1)?),
            None => self.span(at, end),
        };
        self.end(span)?;
        Ok(end)
    }

    /// Where saphyr's token for a flow indicator or a quoted scalar ends, from `at` just
    /// past it: its scanner takes the blanks and a comment after it in (`skip_ws_to_eol`).
    fn token_end(&self, at: usize) -> Fast<usize> {
        let end = self.skip_spaces(at);
        match self.b.get(end) {
            Some(b'#') if end == at => Err(declined()),
            Some(b'#') => Ok(self.line_end(end)),
            _ => Ok(end),
        }
    }

    /// Past blanks, comments and line breaks inside a flow collection; a line must be
    /// indented by more than `n + 1` (saphyr's rule for a flow inside a block collection
    /// indented by `n`, with one column to spare).
    fn flow_space(&self, mut at: usize, n: usize) -> Fast<usize> {
        loop {
            let after = self.skip_spaces(at);
            match self.b.get(after) {
                Some(b'#') if after > at => at = self.line_end(after),
                Some(b'\n') => {
                    let line = after + 1;
                    let first = self.skip_spaces(line);
                    if !matches!(self.b.get(first), Some(b'\n')) && first - line < n + 2 {
                        return Err(declined());
                    }
                    at = line;
                }
                None => return Err(declined()),
                _ => return Ok(after),
            }
        }
    }

    /// A flow mapping's key at `p`: a plain or quoted scalar; returns the offset after it.
    fn flow_key(&mut self, p: usize, n: usize) -> Fast<usize> {
        let end = self.flow_key_scalar(p, n)?;
        if end - p > MAX_KEY {
            return Err(declined());
        }
        Ok(end)
    }

    fn flow_key_scalar(&mut self, p: usize, n: usize) -> Fast<usize> {
        match self.b[p] {
            b'\'' | b'"' => {
                let Quoted {
                    value,
                    end,
                    multi_line,
                } = self.quoted(p, n)?;
                if multi_line {
                    return Err(declined());
                }
                let event_end = self.token_end(end)?;
                self.scalar(value, ScalarStyle::Quoted, self.span(p, event_end), None)?;
                Ok(end)
            }
            _ => {
                let end = scalars::plain_in_flow(self.b, p).ok_or_else(|| declined())?;
                self.scalar(
                    Cow::Borrowed(&self.text[p..end]),
                    ScalarStyle::Plain,
                    self.span(p, end),
                    None,
                )?;
                Ok(end)
            }
        }
    }

    /// A flow sequence's item (`seq`) or a flow mapping's value at `p`; returns the offset
    /// after it. A sequence's item may be a single-pair mapping (`[0, Fn::GetAZs: x]`).
    fn flow_item(&mut self, p: usize, n: usize, seq: bool) -> Fast<usize> {
        let (tag, q) = if self.b[p] == b'!' {
            let (tag, after) = self.tag(p)?;
            let q = self.skip_spaces(after);
            if q == after {
                return Err(declined());
            }
            // A tag with no value (`!GetAZs ]`): saphyr's empty scalar covers the tag.
            let next = self.flow_space(after, n)?;
            if matches!(self.b.get(next), Some(b',' | b']' | b'}')) {
                self.scalar(
                    Cow::Borrowed(""),
                    ScalarStyle::Plain,
                    self.span(p, after),
                    Some(tag),
                )?;
                return Ok(after);
            }
            (Some((p, tag)), q)
        } else {
            (None, p)
        };
        let pair = seq && tag.is_none();
        match self.b.get(q) {
            Some(b'[' | b'{') => self.flow(q, tag, n),
            Some(b'\'' | b'"') => {
                let Quoted {
                    value,
                    end,
                    multi_line,
                } = self.quoted(q, n)?;
                let start = tag.as_ref().map_or(q, |t| t.0);
                let event_end = self.token_end(end)?;
                let span = self.span(start, event_end);
                if pair && !multi_line && end - q <= MAX_KEY {
                    if let Some(colon) = self.pair_colon(end) {
                        return self.flow_pair(q, value, ScalarStyle::Quoted, span, colon, n);
                    }
                }
                self.scalar(value, ScalarStyle::Quoted, span, tag.map(|t| t.1))?;
                Ok(end)
            }
            Some(_) => {
                let end = scalars::plain_in_flow(self.b, q).ok_or_else(|| declined())?;
                let value = Cow::Borrowed(&self.text[q..end]);
                if self.b.get(self.skip_spaces(end)) == Some(&b':') {
                    // Only a sequence's item can be a `key: value` pair.
                    let colon = self.pair_colon(end).filter(|_| pair && end - q <= MAX_KEY);
                    let Some(colon) = colon else {
                        return Err(declined());
                    };
                    return self.flow_pair(
                        q,
                        value,
                        ScalarStyle::Plain,
                        self.span(q, end),
                        colon,
                        n,
                    );
                }
                let start = tag.as_ref().map_or(q, |t| t.0);
                self.scalar(
                    value,
                    ScalarStyle::Plain,
                    self.span(start, end),
                    tag.map(|t| t.1),
                )?;
                Ok(end)
            }
            None => Err(declined()),
        }
    }

    /// After a flow sequence's scalar ending at `end`: the colon that makes it the key of a
    /// single-pair mapping, on the same line and followed by a blank or the line's end.
    fn pair_colon(&self, end: usize) -> Option<usize> {
        let colon = self.skip_spaces(end);
        (self.b.get(colon) == Some(&b':') && matches!(self.b.get(colon + 1), Some(b' ' | b'\n')))
            .then_some(colon)
    }

    /// The single-pair mapping of a flow sequence (`[0, key: value]`) whose key starts at
    /// `p` (read as `key`, `style`, `key_span`) and whose colon is at `colon`; returns the
    /// offset after its value. saphyr starts the mapping at the key, as a block one (no
    /// bracket opens it, so the builder ends it at its value); an empty value is left to
    /// it.
    fn flow_pair(
        &mut self,
        p: usize,
        key: Cow<'s, str>,
        style: ScalarStyle,
        key_span: Span,
        colon: usize,
        n: usize,
    ) -> Fast<usize> {
        self.start(Collection::Map, self.span(p, p), None, false)?;
        self.scalar(key, style, key_span, None)?;
        let at = self.flow_space(colon + 1, n)?;
        if matches!(self.b.get(at), Some(b',' | b']' | b'}')) {
            return Err(declined());
        }
        let end = self.flow_item(at, n, false)?;
        self.end(self.span(end, end))?;
        Ok(end)
    }
}

#[cfg(test)]
mod tests;
