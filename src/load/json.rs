//! JSON to the spanned tree through jsonc-parser with every lenient option off.

use std::borrow::Cow;

use jsonc_parser::errors::ParseErrorKind;
use jsonc_parser::tokens::Token;
use jsonc_parser::{ParseOptions, Scanner, ScannerOptions};

use super::tree::{Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{
    duplicate_key, json_fast, scalar_too_long, too_deep, too_many_nodes, FileError, KeySet, Limits,
};
use crate::source::Span;
use crate::timings::{self, Laps, Part};

fn strict() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// JSON text to the tree in one pass over jsonc-parser's [`Scanner`] tokens: no AST (its
/// vectors of properties and elements grew one push at a time, then were copied into our
/// nodes: issue 23), the children of the open containers kept on shared stacks and moved
/// out in one exact allocation when a container closes, as the YAML builder does.
///
/// The grammar is jsonc-parser's `parse_to_ast` with [`strict`] options, followed step by
/// step: the same tokens are accepted, and a syntax error is the same error at the same
/// range (the test `tests::streaming_matches_the_ast_loader` compares the two on generated
/// texts). As before, a syntax error anywhere in the file is the one reported, even after a
/// tree error (a duplicate key, a limit): after the first tree error the text is only
/// checked, and that error is reported at the end if the syntax is sound.
pub fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, FileError> {
    // Most templates are strict JSON, which the fast path reads; it declines the rest
    // (issue 23).
    let fast = timings::time_part(Part::FastJson, || json_fast::load(text, base, limits));
    if let Ok(doc) = fast {
        return Ok(doc);
    }
    jsonc_path(text, base, limits)
}

/// jsonc-parser's reading: what every text outside the fast path's subset goes through, and
/// the reading the fast path must match exactly or decline (its oracle compares with it).
pub(crate) fn jsonc_path<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
) -> Result<Document<'s>, FileError> {
    let options = strict();
    let mut parser = Parser {
        scanner: Scanner::new(
            text,
            &ScannerOptions {
                allow_single_quoted_strings: options.allow_single_quoted_strings,
                allow_hexadecimal_numbers: options.allow_hexadecimal_numbers,
                allow_unary_plus_numbers: options.allow_unary_plus_numbers,
                allow_bare_decimal_point_numbers: options.allow_bare_decimal_point_numbers,
                allow_non_finite_numbers: options.allow_non_finite_numbers,
                allow_extended_string_escapes: options.allow_extended_string_escapes,
            },
        ),
        token: None,
        last_token_end: 0,
        ranges: Vec::new(),
        laps: Laps::new(Part::Tokenizer, Part::Tree),
        doc: Document::with_capacity_for(text, limits),
        base,
        limits,
        spare_keys: Vec::new(),
        entries: Vec::new(),
        items: Vec::new(),
        failed: None,
    };
    let root = parser
        .document()
        .map_err(|e| e.into_file_error(text, base))?;
    drop(parser.laps);
    if let Some(error) = parser.failed {
        return Err(error);
    }
    parser.doc.root = root;
    Ok(parser.doc)
}

/// The span of a parse error at `start..end` of `text`: at least the character at `start`
/// (an empty range is hard to see), whole characters only. Found by the load_json fuzz
/// target: one byte past an error before a multibyte character split it.
fn error_span(text: &str, base: usize, start: usize, end: usize) -> Span {
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let first_char = text[start..].chars().next().map_or(0, char::len_utf8);
    let mut end = end.clamp(start + first_char, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(base + start, base + end)
}

/// The deepest nesting jsonc-parser's `parse_to_ast` reads: its count of open ranges (an
/// object, each property being read, an array), checked before each value.
const MAX_RANGES: usize = 512;

/// A syntax error, as jsonc-parser reports it.
enum Syntax {
    /// The scanner's own (an invalid string or number, a stray character).
    Scanner(jsonc_parser::errors::ParseError),
    /// The grammar's: the kind, and the byte range.
    Parser(ParseErrorKind, usize, usize),
}

impl Syntax {
    fn into_file_error(self, text: &str, base: usize) -> FileError {
        let (kind, start, end) = match &self {
            Syntax::Scanner(e) => (e.kind(), e.range().start, e.range().end),
            Syntax::Parser(kind, start, end) => (kind, *start, *end),
        };
        let message = match kind {
            ParseErrorKind::NestingDepthExceeded => {
                "nesting is deeper than the JSON parser's limit (512 levels, two per object)"
                    .to_string()
            }
            kind => format!("invalid JSON: {kind}"),
        };
        FileError::at(
            message,
            error_span(text, base, start, end),
            kind.to_string(),
        )
    }
}

struct Parser<'s, 'l> {
    scanner: Scanner<'s>,
    /// The current token (none at the end of the text).
    token: Option<Token<'s>>,
    last_token_end: usize,
    /// Where each open range starts (`parse_to_ast`'s range stack): an object's `{`, a
    /// property's name, an array's `[`.
    ranges: Vec<usize>,
    laps: Laps,
    doc: Document<'s>,
    base: usize,
    limits: &'l Limits,
    /// Key sets of finished objects, emptied, for the next object to reuse (one allocation
    /// per nesting level, not per object).
    spare_keys: Vec<KeySet<'s>>,
    /// The entries and items of the open objects and arrays, innermost last.
    entries: Vec<Entry>,
    items: Vec<NodeId>,
    /// The first tree error (a duplicate key, a limit): from then on nothing is built.
    failed: Option<FileError>,
}

/// Which token kinds a step looks at.
fn is_value_start(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::OpenBrace
            | Token::OpenBracket
            | Token::String(_)
            | Token::Boolean(_)
            | Token::Number(_)
            | Token::Null
    )
}

impl<'s> Parser<'s, '_> {
    fn document(&mut self) -> Result<Option<NodeId>, Syntax> {
        self.scan()?;
        let value = self.value(1)?;
        self.scan()?;
        if self.token.is_some() {
            return Err(self.token_error(ParseErrorKind::MultipleRootJsonValues));
        }
        Ok(value)
    }

    /// The next token; a comment is an error (comments are not allowed).
    fn scan(&mut self) -> Result<(), Syntax> {
        self.laps.lap(true);
        let token = self.scanner.scan();
        self.laps.lap(false);
        match token.map_err(Syntax::Scanner)? {
            Some(Token::CommentLine(_) | Token::CommentBlock(_)) => {
                Err(self.token_error(ParseErrorKind::CommentsNotAllowed))
            }
            token => {
                self.token = token;
                self.last_token_end = self.scanner.token_end();
                Ok(())
            }
        }
    }

    /// An error at the current token (at the end of the text: the next character, or
    /// the end).
    fn token_error(&self, kind: ParseErrorKind) -> Syntax {
        let (start, end) = (self.scanner.token_start(), self.scanner.token_end());
        let text = self.scanner.file_text();
        let end = if end > start {
            end
        } else if let Some(c) = text.get(end..).and_then(|rest| rest.chars().next()) {
            end + c.len_utf8()
        } else {
            text.len()
        };
        Syntax::Parser(kind, start, end)
    }

    /// An error from the start of the innermost open range to the current token's end.
    fn range_error(&mut self, kind: ParseErrorKind) -> Syntax {
        let start = self.ranges.pop().unwrap_or(0);
        Syntax::Parser(kind, start, self.scanner.token_end())
    }

    fn token_span(&self) -> Span {
        Span::new(
            self.base + self.scanner.token_start(),
            self.base + self.scanner.token_end(),
        )
    }

    fn building(&self) -> bool {
        self.failed.is_none()
    }

    /// Record the first tree error.
    fn fail(&mut self, error: FileError) {
        if self.failed.is_none() {
            self.failed = Some(error);
        }
    }

    fn push(&mut self, span: Span, kind: NodeKind<'s>) -> NodeId {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            self.fail(too_many_nodes(span, self.limits));
            return 0;
        }
        self.doc.push(Node {
            span,
            tag: None,
            kind,
        })
    }

    fn scalar(&mut self, span: Span, text: Cow<'s, str>, style: ScalarStyle) -> NodeId {
        if !self.building() {
            return 0;
        }
        if text.len() > self.limits.max_scalar_len {
            self.fail(scalar_too_long(span, self.limits));
            return 0;
        }
        self.push(span, NodeKind::Scalar(Scalar { text, style }))
    }

    /// The value at the current token (none at the end of the text), at `depth` (the
    /// root is at 1). The recursion is bounded by [`MAX_RANGES`], as jsonc-parser's.
    fn value(&mut self, depth: usize) -> Result<Option<NodeId>, Syntax> {
        if self.ranges.len() > MAX_RANGES {
            return Err(self.range_error(ParseErrorKind::NestingDepthExceeded));
        }
        let span = self.token_span();
        let id = match self.token.take() {
            None => return Ok(None),
            Some(Token::OpenBrace) => self.object(depth)?,
            Some(Token::OpenBracket) => self.array(depth)?,
            Some(Token::String(value)) => self.scalar(span, value, ScalarStyle::Quoted),
            Some(Token::Number(value)) => {
                self.scalar(span, Cow::Borrowed(value), ScalarStyle::Plain)
            }
            Some(Token::Boolean(value)) => {
                let text = if value { "true" } else { "false" };
                self.scalar(span, Cow::Borrowed(text), ScalarStyle::Plain)
            }
            Some(Token::Null) => self.scalar(span, Cow::Borrowed("null"), ScalarStyle::Plain),
            Some(Token::CloseBracket) => {
                return Err(self.token_error(ParseErrorKind::UnexpectedCloseBracket))
            }
            Some(Token::CloseBrace) => {
                return Err(self.token_error(ParseErrorKind::UnexpectedCloseBrace))
            }
            Some(Token::Comma) => return Err(self.token_error(ParseErrorKind::UnexpectedComma)),
            Some(Token::Colon) => return Err(self.token_error(ParseErrorKind::UnexpectedColon)),
            Some(Token::Word(_) | Token::CommentLine(_) | Token::CommentBlock(_)) => {
                return Err(self.token_error(ParseErrorKind::UnexpectedWord))
            }
        };
        Ok(Some(id))
    }

    /// After a property or an element: a comma, then not the closing bracket (no trailing
    /// commas); or no comma, and then not the start of another one (no missing commas).
    fn separator(
        &mut self,
        closes: fn(&Token<'_>) -> bool,
        missing: fn(&Token<'_>) -> bool,
    ) -> Result<(), Syntax> {
        let after_value_end = self.last_token_end;
        self.scan()?;
        match &self.token {
            Some(Token::Comma) => {
                let comma = (self.scanner.token_start(), self.scanner.token_end());
                self.scan()?;
                if self.token.as_ref().is_some_and(closes) {
                    return Err(Syntax::Parser(
                        ParseErrorKind::TrailingCommasNotAllowed,
                        comma.0,
                        comma.1,
                    ));
                }
            }
            Some(token) if missing(token) => {
                return Err(Syntax::Parser(
                    ParseErrorKind::ExpectedComma,
                    after_value_end,
                    after_value_end,
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// An object; the current token is its `{`.
    fn object(&mut self, depth: usize) -> Result<NodeId, Syntax> {
        let start = self.scanner.token_start();
        self.ranges.push(start);
        // Too deep: the error covers the whole object, known at its `}`.
        let too_deep_here = self.building() && depth > self.limits.max_depth;
        if too_deep_here {
            self.fail(FileError::new("too deep"));
        }
        let first = self.entries.len();
        let mut seen = if self.building() {
            Some(self.spare_keys.pop().unwrap_or_else(KeySet::new))
        } else {
            None
        };
        self.scan()?;
        loop {
            match self.token.take() {
                Some(Token::CloseBrace) => {
                    self.token = Some(Token::CloseBrace);
                    break;
                }
                Some(Token::String(name)) => self.property(name, depth, seen.as_mut())?,
                None => return Err(self.range_error(ParseErrorKind::UnterminatedObject)),
                Some(Token::Word(_) | Token::Number(_) | Token::Boolean(_) | Token::Null) => {
                    return Err(self.token_error(ParseErrorKind::ExpectedStringObjectProperty))
                }
                Some(_) => return Err(self.token_error(ParseErrorKind::UnexpectedTokenInObject)),
            }
            self.separator(
                |token| matches!(token, Token::CloseBrace),
                |token| {
                    matches!(
                        token,
                        Token::String(_)
                            | Token::Word(_)
                            | Token::Number(_)
                            | Token::Boolean(_)
                            | Token::Null
                    )
                },
            )?;
        }
        self.ranges.pop();
        let span = Span::new(self.base + start, self.base + self.scanner.token_end());
        if too_deep_here {
            self.failed = Some(too_deep(span, self.limits));
        }
        let Some(mut seen) = seen.filter(|_| self.building()) else {
            self.entries.truncate(first);
            return Ok(0);
        };
        let kind = self.doc.map_from_tail(&mut self.entries, first);
        let id = self.push(span, kind);
        if let Some(index) = seen.take_index() {
            self.doc.large_maps.insert(id, index);
        }
        seen.clear();
        self.spare_keys.push(seen);
        Ok(id)
    }

    /// A property whose name is the current token (already taken), and its value.
    fn property(
        &mut self,
        name: Cow<'s, str>,
        depth: usize,
        seen: Option<&mut KeySet<'s>>,
    ) -> Result<(), Syntax> {
        self.ranges.push(self.scanner.token_start());
        let key_span = self.token_span();
        let mut key = 0;
        if let Some(seen) = seen.filter(|_| self.building()) {
            if let Some(first) = seen.insert(name.clone(), key_span) {
                self.fail(duplicate_key(&name, first, key_span));
            } else {
                key = self.scalar(key_span, name, ScalarStyle::Quoted);
            }
        }
        self.scan()?;
        if !matches!(self.token, Some(Token::Colon)) {
            return Err(self.token_error(ParseErrorKind::ExpectedColonAfterObjectKey));
        }
        self.scan()?;
        let Some(value) = self.value(depth + 1)? else {
            return Err(self.token_error(ParseErrorKind::ExpectedObjectValue));
        };
        self.ranges.pop();
        if self.building() {
            self.entries.push(Entry { key, value });
        }
        Ok(())
    }

    /// An array; the current token is its `[`.
    fn array(&mut self, depth: usize) -> Result<NodeId, Syntax> {
        let start = self.scanner.token_start();
        self.ranges.push(start);
        let too_deep_here = self.building() && depth > self.limits.max_depth;
        if too_deep_here {
            self.fail(FileError::new("too deep"));
        }
        let first = self.items.len();
        self.scan()?;
        loop {
            match &self.token {
                Some(Token::CloseBracket) => break,
                None => return Err(self.range_error(ParseErrorKind::UnterminatedArray)),
                Some(_) => {
                    let Some(item) = self.value(depth + 1)? else {
                        return Err(self.range_error(ParseErrorKind::UnterminatedArray));
                    };
                    if self.building() {
                        self.items.push(item);
                    }
                }
            }
            self.separator(|token| matches!(token, Token::CloseBracket), is_value_start)?;
        }
        self.ranges.pop();
        let span = Span::new(self.base + start, self.base + self.scanner.token_end());
        if too_deep_here {
            self.failed = Some(too_deep(span, self.limits));
        }
        if !self.building() {
            self.items.truncate(first);
            return Ok(0);
        }
        let kind = self.doc.seq_from_tail(&mut self.items, first);
        Ok(self.push(span, kind))
    }
}

/// The loader before issue 23's streaming one: jsonc-parser's AST, then the tree. Kept as
/// the oracle the streaming loader is compared with.
#[cfg(test)]
mod ast_oracle {
    use std::borrow::Cow;

    use jsonc_parser::ast::{ObjectPropName, Value};
    use jsonc_parser::CollectOptions;

    use super::super::tree::{Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
    use super::super::{
        duplicate_key, scalar_too_long, too_deep, too_many_nodes, FileError, KeySet, Limits,
    };
    use super::{error_span, strict};
    use crate::source::Span;

    pub fn load<'s>(
        text: &'s str,
        base: usize,
        limits: &Limits,
    ) -> Result<Document<'s>, FileError> {
        let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict());
        let parsed = parsed.map_err(|e| {
            let r = e.range();
            let message = match e.kind() {
                jsonc_parser::errors::ParseErrorKind::NestingDepthExceeded => {
                    "nesting is deeper than the JSON parser's limit (512 levels, two per object)"
                        .to_string()
                }
                kind => format!("invalid JSON: {kind}"),
            };
            FileError::at(
                message,
                error_span(text, base, r.start, r.end),
                e.kind().to_string(),
            )
        })?;
        let mut builder = Builder {
            doc: Document::with_capacity_for(text, limits),
            base,
            limits,
        };
        if let Some(value) = parsed.value {
            let root = builder.value(value, 1)?;
            builder.doc.root = Some(root);
        }
        Ok(builder.doc)
    }

    struct Builder<'s, 'l> {
        doc: Document<'s>,
        base: usize,
        limits: &'l Limits,
    }

    impl<'s> Builder<'s, '_> {
        fn span(&self, r: jsonc_parser::common::Range) -> Span {
            Span::new(self.base + r.start, self.base + r.end)
        }

        fn push(&mut self, span: Span, kind: NodeKind<'s>) -> Result<NodeId, FileError> {
            if self.doc.nodes.len() >= self.limits.max_nodes {
                return Err(too_many_nodes(span, self.limits));
            }
            Ok(self.doc.push(Node {
                span,
                tag: None,
                kind,
            }))
        }

        fn scalar(
            &mut self,
            span: Span,
            text: Cow<'s, str>,
            style: ScalarStyle,
        ) -> Result<NodeId, FileError> {
            if text.len() > self.limits.max_scalar_len {
                return Err(scalar_too_long(span, self.limits));
            }
            self.push(span, NodeKind::Scalar(Scalar { text, style }))
        }

        fn value(&mut self, value: Value<'s>, depth: usize) -> Result<NodeId, FileError> {
            match value {
                Value::StringLit(s) => {
                    self.scalar(self.span(s.range), s.value, ScalarStyle::Quoted)
                }
                Value::NumberLit(n) => self.scalar(
                    self.span(n.range),
                    Cow::Borrowed(n.value),
                    ScalarStyle::Plain,
                ),
                Value::BooleanLit(b) => {
                    let text = if b.value { "true" } else { "false" };
                    self.scalar(self.span(b.range), Cow::Borrowed(text), ScalarStyle::Plain)
                }
                Value::NullKeyword(n) => self.scalar(
                    self.span(n.range),
                    Cow::Borrowed("null"),
                    ScalarStyle::Plain,
                ),
                Value::Array(a) => {
                    let span = self.span(a.range);
                    if depth > self.limits.max_depth {
                        return Err(too_deep(span, self.limits));
                    }
                    let mut items = Vec::with_capacity(a.elements.len());
                    for element in a.elements {
                        items.push(self.value(element, depth + 1)?);
                    }
                    let kind = self.doc.new_seq(items);
                    self.push(span, kind)
                }
                Value::Object(o) => {
                    let span = self.span(o.range);
                    if depth > self.limits.max_depth {
                        return Err(too_deep(span, self.limits));
                    }
                    let mut entries = Vec::with_capacity(o.properties.len());
                    let mut seen = KeySet::new();
                    for prop in o.properties {
                        let (name, name_range) = match prop.name {
                            ObjectPropName::String(s) => (s.value, s.range),
                            ObjectPropName::Word(w) => (Cow::Borrowed(w.value), w.range),
                        };
                        let key_span = self.span(name_range);
                        if let Some(first) = seen.insert(name.clone(), key_span) {
                            return Err(duplicate_key(&name, first, key_span));
                        }
                        let key = self.scalar(key_span, name, ScalarStyle::Quoted)?;
                        let value = self.value(prop.value, depth + 1)?;
                        entries.push(Entry { key, value });
                    }
                    let kind = self.doc.new_map(entries);
                    let id = self.push(span, kind)?;
                    if let Some(index) = seen.take_index() {
                        self.doc.large_maps.insert(id, index);
                    }
                    Ok(id)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{load, Format, Limits};
    use proptest::prelude::*;

    use super::super::Limits as L;

    /// The streaming loader and the AST oracle agree: the same tree (nodes, spans, root,
    /// large-map indexes) or the same error (message, span, labels).
    fn agree(text: &str, limits: &L) {
        let streamed = super::jsonc_path(text, 3, limits);
        let oracle = super::ast_oracle::load(text, 3, limits);
        match (streamed, oracle) {
            (Ok(a), Ok(b)) => {
                assert!(a.same_arena(&b), "{text:?}: {a:?} {b:?}");
                assert_eq!(a.root, b.root, "{text:?}");
                let index = |d: &crate::load::Document<'_>| {
                    let mut v: Vec<_> = d
                        .large_maps
                        .iter()
                        .map(|(id, index)| {
                            let mut keys: Vec<_> =
                                index.iter().map(|(k, p)| (k.to_string(), *p)).collect();
                            keys.sort();
                            (*id, keys)
                        })
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(index(&a), index(&b), "{text:?}");
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{text:?}"),
            (a, b) => panic!(
                "{text:?}: streamed {:?} oracle {:?}",
                a.map(|d| d.nodes.len()),
                b.map(|d| d.nodes.len())
            ),
        }
    }

    /// Pieces of JSON and of almost-JSON, so that generated texts hit every grammar error.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\"a\"",
            "\"b\"",
            "\"a\"",
            "\"\\u00e9\"",
            "\"x\\n\"",
            "1",
            "-2.5e3",
            "true",
            "false",
            "null",
            "word",
            "Infinity",
            "NaN",
            "'s'",
            "0x1F",
            "+1",
            ".5",
            "// c\n",
            "/* c */",
            "\"unterminated",
            "\u{e9}",
            "\"\u{65e5}\"",
            "{\"k\": ",
            "[1, ",
            "\"a\": 1",
            "\"a\": 1, \"b\": 2",
            "}",
            "]",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn streaming_matches_the_ast_loader(pieces in prop::collection::vec(piece(), 0..40)) {
            let text: String = pieces.concat();
            agree(&text, &L::default());
            // Small limits, so that the tree errors (depth, nodes, scalar length) happen
            // too, before and after syntax errors.
            agree(&text, &L { max_depth: 2, max_nodes: 6, max_scalar_len: 2 });
        }
    }

    #[test]
    fn streaming_matches_the_ast_loader_on_deep_wide_and_duplicate_texts() {
        let mut cases: Vec<String> = vec![
            "[".repeat(600),
            "[".repeat(600) + &"]".repeat(600),
            "{\"a\":".repeat(300) + "1" + &"}".repeat(300),
            "{\"a\":".repeat(255) + "1" + &"}".repeat(255),
            "{\"a\":".repeat(256) + "1" + &"}".repeat(256),
            "{\"a\":".repeat(257) + "1" + &"}".repeat(257),
            "[".repeat(512) + &"]".repeat(512),
            "[".repeat(513) + &"]".repeat(513),
            "[".repeat(130) + &"]".repeat(130),
            "[".repeat(130) + &"]".repeat(129) + ",",
            "{\"a\": 1, \"a\": 2}".into(),
            "{\"a\": 1, \"a\": 2, }".into(),
            "{\"a\": [1, 2,], \"a\": 2}".into(),
            "{\"a\": 1 \"b\": 2}".into(),
            "[1 2]".into(),
            "[1 }".into(),
            "{\"a\" 1}".into(),
            "{\"a\":}".into(),
            "{\"a\": 1}}".into(),
            "".into(),
            "   ".into(),
        ];
        let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        cases.push(format!("{{{}}}", keys.join(", ")));
        cases.push(format!("{{{}, \"k7\": 0}}", keys.join(", ")));
        cases.push(format!("{{{}, \"k7\": 0, }}", keys.join(", ")));
        for text in &cases {
            agree(text, &L::default());
            agree(
                text,
                &L {
                    max_depth: 2,
                    max_nodes: 6,
                    max_scalar_len: 2,
                },
            );
            agree(
                text,
                &L {
                    max_depth: 200,
                    max_nodes: 100_000,
                    max_scalar_len: 100,
                },
            );
        }
    }

    #[test]
    fn an_error_before_a_multibyte_character_covers_the_whole_character() {
        // Found by the load_json fuzz target (fuzz/corpus/load_json/crash-*).
        for text in [
            "{\"T\": \"A\"\u{7a1}}",
            "{\"a\": 1 日本}",
            "{\u{feff}}",
            "é",
        ] {
            let error = load(text, Format::Json, &Limits::default()).expect_err("invalid");
            let span = error.span.expect("span");
            assert!(
                text.get(span.start..span.end).is_some(),
                "{text:?} {span:?}"
            );
            assert!(span.end > span.start, "{text:?} {span:?}");
        }
    }
}
