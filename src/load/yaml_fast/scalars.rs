//! The scalar scanners of the fast YAML path: plain, quoted and block scalars, each read the
//! way saphyr-parser's scanner reads them (`scan_plain_scalar`, `scan_flow_scalar`,
//! `scan_block_scalar`), or `None` where the text leaves the fast path's subset. They only
//! read; the caller hands the result to the builder.
//!
//! The whole text was checked beforehand to hold no tab, no carriage return and no
//! character YAML does not print (`super::outside_subset`), so a space is the only blank
//! and `\n` the only line break here.

use std::borrow::Cow;

/// Where a plain scalar on one line stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// At the line break (or the end of the text) at this offset.
    Eol(usize),
    /// At a comment whose `#` is at this offset.
    Comment(usize),
    /// At a `:` (at this offset) followed by a blank or the end of the line: a key.
    Colon(usize),
}

/// A plain scalar in block context that starts at `p` and ends on its line: the end of its
/// text (trailing blanks trimmed), and what stopped it. `None` if it cannot start a plain
/// scalar in the subset.
pub(super) fn plain_in_block(b: &[u8], p: usize) -> Option<(usize, Stop)> {
    if !starts_plain(b, p, false) {
        return None;
    }
    scan_line(b, p)
}

/// The rest of a plain scalar's line in block context from `p` (a character of it).
fn scan_line(b: &[u8], p: usize) -> Option<(usize, Stop)> {
    let mut i = p + 1;
    let stop = loop {
        let Some(off) = memchr::memchr3(b'\n', b':', b'#', b.get(i..)?) else {
            break Stop::Eol(b.len());
        };
        let at = i + off;
        match b[at] {
            b'\n' => break Stop::Eol(at),
            b':' if matches!(b.get(at + 1), None | Some(b' ' | b'\n')) => break Stop::Colon(at),
            b'#' if b[at - 1] == b' ' => break Stop::Comment(at),
            _ => i = at + 1,
        }
    };
    let limit = match stop {
        Stop::Eol(at) | Stop::Comment(at) | Stop::Colon(at) => at,
    };
    Some((trim_blanks(b, p, limit), stop))
}

/// A plain scalar inside a flow collection that starts at `p`: the end of its text, which
/// must be followed by a flow indicator, a `: ` or a comment, on its line or (after blank
/// lines) on the next. `None` where it would go on to the next line (a multi-line plain
/// scalar) or leave the subset.
pub(super) fn plain_in_flow(b: &[u8], p: usize) -> Option<usize> {
    if !starts_plain(b, p, true) {
        return None;
    }
    let mut i = p + 1;
    loop {
        match b.get(i) {
            None => return None,
            // The scalar ends at the line break only if no text of it follows on the next
            // lines: a flow indicator or a comment comes first.
            Some(b'\n') => {
                let mut j = i;
                while matches!(b.get(j), Some(b' ' | b'\n')) {
                    j += 1;
                }
                match b.get(j) {
                    Some(b',' | b']' | b'}' | b'#') => break,
                    _ => return None,
                }
            }
            Some(b',' | b'[' | b']' | b'{' | b'}') => break,
            Some(b':')
                if matches!(
                    b.get(i + 1),
                    None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                ) =>
            {
                break
            }
            Some(b'#') if b[i - 1] == b' ' => break,
            // saphyr refuses a word of a plain scalar in a flow that is `-` before a flow
            // indicator (`[a -, b]`), and libyaml reads it: leave it to them (found by the
            // yaml_fast_agrees fuzz target).
            Some(b'-')
                if b[i - 1] == b' '
                    && matches!(b.get(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}')) =>
            {
                return None
            }
            _ => i += 1,
        }
    }
    Some(trim_blanks(b, p, i))
}

/// Whether a plain scalar may start at `p`: not at an indicator, except `-` and `:`
/// before a character that is not blank (`-1`, `:lambda:path`), and `?` so in block
/// context (YAML 1.1 reads a `?` in a flow otherwise).
fn starts_plain(b: &[u8], p: usize, in_flow: bool) -> bool {
    match b.get(p) {
        None | Some(b'\n' | b' ') => false,
        Some(b'-') => match b.get(p + 1) {
            None | Some(b' ' | b'\n') => false,
            Some(b',' | b'[' | b']' | b'{' | b'}') => !in_flow,
            Some(_) => true,
        },
        // `?x` and `:x` are text in block context (in a flow, YAML 1.1 reads a key).
        Some(b'?' | b':') if !in_flow => !matches!(b.get(p + 1), None | Some(b' ' | b'\n')),
        Some(
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`',
        ) => false,
        Some(_) => true,
    }
}

/// The end of `b[from..to]` without its trailing spaces.
fn trim_blanks(b: &[u8], from: usize, to: usize) -> usize {
    let mut end = to;
    while end > from && b[end - 1] == b' ' {
        end -= 1;
    }
    end
}

/// A quoted scalar: its value, the offset just past its closing quote, and whether it
/// spans lines.
pub(super) struct Quoted<'s> {
    pub value: Cow<'s, str>,
    pub end: usize,
    pub multi_line: bool,
}

/// The quoted scalar whose opening quote (`'` or `"`) is at `p`, read as saphyr's
/// `scan_flow_scalar` reads it: `''`, the common escapes, and line folding (a line break is
/// a space, each empty line after it a line break, the blanks around breaks dropped, an
/// escaped break nothing). Each continuation line must start at column `min_col` or
/// further (the caller's bound, stricter than saphyr's indentation rule).
pub(super) fn quoted(text: &str, p: usize, min_col: usize) -> Option<Quoted<'_>> {
    let b = text.as_bytes();
    let single = *b.get(p)? == b'\'';
    let close = if single { b'\'' } else { b'"' };
    // The value is `text[p + 1..]` up to the closing quote until something is not taken
    // as written; from then on it is `value` and the text from `run` on.
    let mut value = String::new();
    let mut owned = false;
    let mut run = p + 1;
    let mut i = p + 1;
    let mut multi_line = false;
    loop {
        // Characters up to a blank, a line break or the closing quote.
        let mut escaped_break = false;
        loop {
            match b.get(i) {
                None => return None,
                Some(b' ' | b'\n') => break,
                Some(&c) if c == close && single && b.get(i + 1) == Some(&b'\'') => {
                    value.push_str(text.get(run..=i)?);
                    owned = true;
                    i += 2;
                    run = i;
                }
                Some(&c) if c == close => break,
                Some(b'\\') if !single => {
                    value.push_str(text.get(run..i)?);
                    owned = true;
                    if b.get(i + 1) == Some(&b'\n') {
                        i += 2;
                        run = i;
                        escaped_break = true;
                        break;
                    }
                    let (c, len) = escape(b, i + 1)?;
                    value.push(c);
                    i += 1 + len;
                    run = i;
                }
                Some(_) => i += 1,
            }
        }
        if b.get(i) == Some(&close) {
            break;
        }
        // Blanks and line breaks.
        let blanks = i;
        let mut leading_break = false;
        let mut breaks = 0usize;
        let mut folded = escaped_break;
        while let Some(&c) = b.get(i) {
            match c {
                b' ' => i += 1,
                b'\n' => {
                    if folded {
                        breaks += 1;
                    } else {
                        leading_break = true;
                        folded = true;
                    }
                    i += 1;
                }
                _ => break,
            }
        }
        if folded {
            multi_line = true;
            let line = b[..i]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |at| at + 1);
            if i - line < min_col {
                return None;
            }
            if !escaped_break {
                value.push_str(text.get(run..blanks)?);
            }
            owned = true;
            if leading_break && breaks == 0 {
                value.push(' ');
            }
            for _ in 0..breaks {
                value.push('\n');
            }
            run = i;
        }
    }
    let value = if owned {
        value.push_str(text.get(run..i)?);
        Cow::Owned(value)
    } else {
        Cow::Borrowed(text.get(p + 1..i)?)
    };
    Some(Quoted {
        value,
        end: i + 1,
        multi_line,
    })
}

/// The character a double-quoted escape stands for (the escape's letter at `at`), and how
/// many bytes follow the backslash.
fn escape(b: &[u8], at: usize) -> Option<(char, usize)> {
    let simple = match *b.get(at)? {
        b'\\' => '\\',
        b'"' => '"',
        b'/' => '/',
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'0' => '\0',
        b'x' => return hex(b, at + 1, 2).map(|c| (c, 3)),
        b'u' => return hex(b, at + 1, 4).map(|c| (c, 5)),
        b'U' => return hex(b, at + 1, 8).map(|c| (c, 9)),
        _ => return None,
    };
    Some((simple, 1))
}

fn hex(b: &[u8], at: usize, digits: usize) -> Option<char> {
    let text = std::str::from_utf8(b.get(at..at + digits)?).ok()?;
    if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(text, 16).ok()?)
}

/// A block scalar (`|`, `>`, with `+`/`-`), read as `scan_block_scalar` reads it.
pub(super) struct BlockScalar {
    pub value: String,
    /// The first content character (where saphyr's event starts for an untagged one).
    pub content_start: usize,
    /// Where saphyr's scanner stopped: inside the first line after the scalar, past as
    /// many spaces as the scalar's indentation (its event ends there).
    pub raw_end: usize,
    /// The start of the line on which the scanner stopped, where the structure goes on.
    pub next_line: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomping {
    Strip,
    Clip,
    Keep,
}

/// The block scalar whose indicator (`|` or `>`) is at `p`, inside a block collection
/// indented by `parent` columns. `None` for an indentation indicator, an empty scalar,
/// leading blank lines longer than the text's indentation, or text running to the end of
/// the file without a line break (saphyr and YAML 1.1 differ there: `yaml_dialects`).
pub(super) fn block_scalar(text: &str, p: usize, parent: usize) -> Option<BlockScalar> {
    let b = text.as_bytes();
    let len = b.len();
    let literal = *b.get(p)? == b'|';
    let mut i = p + 1;
    let chomping = match b.get(i) {
        Some(b'+') => Chomping::Keep,
        Some(b'-') => Chomping::Strip,
        _ => Chomping::Clip,
    };
    if chomping != Chomping::Clip {
        i += 1;
    }
    let blanks = i;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    if b.get(i) == Some(&b'#') {
        if i == blanks {
            return None;
        }
        i += memchr::memchr(b'\n', &b[i..])?;
    }
    if b.get(i) != Some(&b'\n') {
        return None;
    }
    i += 1;
    // Leading empty lines, and the indentation of the first line with text.
    let mut breaks = 0usize;
    let mut widest = 0usize;
    let mut line;
    loop {
        line = i;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        widest = widest.max(i - line);
        if b.get(i) == Some(&b'\n') {
            breaks += 1;
            i += 1;
            continue;
        }
        break;
    }
    if i >= len {
        return None;
    }
    let indent = widest.max(parent + 1).max(1);
    if i - line != indent {
        return None;
    }
    let content_start = i;
    let mut value = String::new();
    let mut leading_break = false;
    let mut leading_blank = false;
    loop {
        // At the first content character of a content line (column `indent`).
        let trailing_blank = b[i] == b' ';
        if !literal && leading_break && !leading_blank && !trailing_blank {
            push_breaks(&mut value, breaks);
            if breaks == 0 {
                value.push(' ');
            }
        } else {
            if leading_break {
                value.push('\n');
            }
            push_breaks(&mut value, breaks);
        }
        breaks = 0;
        leading_blank = trailing_blank;
        let end = i + memchr::memchr(b'\n', &b[i..])?;
        value.push_str(text.get(i..end)?);
        leading_break = true;
        i = end + 1;
        // The next lines' indentation, and the empty ones.
        loop {
            line = i;
            while i - line < indent && b.get(i) == Some(&b' ') {
                i += 1;
            }
            if b.get(i) == Some(&b'\n') {
                breaks += 1;
                i += 1;
                continue;
            }
            break;
        }
        if i < len && i - line == indent {
            continue;
        }
        break;
    }
    if i >= len && !text.ends_with('\n') {
        return None;
    }
    if chomping != Chomping::Strip && leading_break {
        value.push('\n');
    }
    if chomping == Chomping::Keep {
        push_breaks(&mut value, breaks);
    }
    Some(BlockScalar {
        value,
        content_start,
        raw_end: i,
        next_line: line,
    })
}

fn push_breaks(value: &mut String, breaks: usize) {
    for _ in 0..breaks {
        value.push('\n');
    }
}

/// A plain scalar in block context whose first line is `text[p..end]` and whose line ends
/// at `eol`, with the lines that continue it: those indented by more than `parent` (the
/// block collection it is in), as saphyr's `scan_plain_scalar` reads them (a line break is
/// a space, each empty line after it a line break, the blanks around breaks dropped).
/// A continuation line may start with an indicator (`- x`, `'x`, `{`: text there) and may
/// end in a comment, which ends the scalar. Returns the value and the end of its last
/// line's text; `None` if a continuation line starts with or holds `: ` (an error).
pub(super) fn plain_lines(
    text: &str,
    p: usize,
    end: usize,
    eol: usize,
    parent: usize,
) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    let mut value: Option<String> = None;
    let mut last = end;
    let mut breaks = 0usize;
    let mut line = eol + 1;
    while line < b.len() {
        let mut first = line;
        while b.get(first) == Some(&b' ') {
            first += 1;
        }
        match b.get(first) {
            None => break,
            Some(b'\n') => {
                breaks += 1;
                line = first + 1;
                continue;
            }
            Some(b'#') => break,
            Some(_) if first - line <= parent => break,
            // Any other character goes on the text (saphyr's and libyaml's scanners test
            // for indicators only where a token starts); `: ` would end it, and then the
            // text is an error.
            Some(b':') if matches!(b.get(first + 1), None | Some(b' ' | b'\n')) => return None,
            Some(_) => {}
        }
        let (text_end, stop) = scan_line(b, first)?;
        let at = match stop {
            Stop::Eol(at) => Some(at),
            // A comment ends the text; a line more indented after it is an error, which
            // the caller declines.
            Stop::Comment(_) => None,
            Stop::Colon(_) => return None,
        };
        let s = value.get_or_insert_with(|| text[p..end].to_string());
        if breaks == 0 {
            s.push(' ');
        }
        for _ in 0..breaks {
            s.push('\n');
        }
        s.push_str(text.get(first..text_end)?);
        last = text_end;
        breaks = 0;
        let Some(at) = at else { break };
        line = at + 1;
    }
    let value = match value {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(text.get(p..end)?),
    };
    Some((value, last))
}
