//! What a file's reports keep of its text once its tree and text are dropped: an
//! [`Excerpt`] holds the positions of the spans a report may print and the few whole lines
//! the human report shows around them (miette reads its snippets from it), so that memory
//! grows with the findings, not with the files that have them. Reporting only: the
//! pipeline's stages need [`Span`] and [`LineIndex`] alone.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{LineIndex, Position, Span};

/// Longest stretch of text (a span and a line of context on each side) that the human
/// report shows as a snippet: a minified template on one huge line would otherwise print
/// the whole line for every finding, output quadratic in the file.
pub const MAX_SNIPPET_BYTES: usize = 4096;

/// Does the snippet of `span` (its lines and one line either side, as miette shows it) stay
/// under [`MAX_SNIPPET_BYTES`]? Looks at no more than that many bytes either way.
pub fn fits_in_snippet(text: &str, span: Span) -> bool {
    let bytes = text.as_bytes();
    let (start, end) = (span.start.min(bytes.len()), span.end.min(bytes.len()));
    if end - start > MAX_SNIPPET_BYTES {
        return false;
    }
    let before = &bytes[start.saturating_sub(MAX_SNIPPET_BYTES)..start];
    let after = &bytes[end..(end + MAX_SNIPPET_BYTES).min(bytes.len())];
    let reaches_start = start <= MAX_SNIPPET_BYTES;
    let reaches_end = end + MAX_SNIPPET_BYTES >= bytes.len();
    (reaches_start || memchr::memrchr_iter(b'\n', before).nth(1).is_some())
        && (reaches_end || memchr::memchr_iter(b'\n', after).nth(1).is_some())
}

/// The part of a file that its reports need, kept once its tree and text are dropped: the
/// position of every span end a report may print, which spans fit in a snippet, and the
/// whole lines that the human report shows around them (windows, in miette's own line
/// numbering, so that a snippet rendered from here is byte for byte the one rendered
/// from the whole file). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Excerpt {
    inner: Arc<ExcerptData>,
}

#[derive(Debug, Default)]
struct ExcerptData {
    /// Sorted by offset, one entry per offset.
    points: Vec<(usize, Position)>,
    /// Sorted; the spans for which [`fits_in_snippet`] held.
    snippets: Vec<Span>,
    /// Sorted, disjoint, not touching.
    windows: Vec<Window>,
}

/// Whole lines of the file starting at byte `offset`, which is a line start.
#[derive(Debug)]
struct Window {
    offset: usize,
    /// Line breaks before `offset` as miette counts them (LF, CRLF and a lone CR), the
    /// 0-based line number miette gives `offset`.
    line: usize,
    text: Box<str>,
}

impl Window {
    fn end(&self) -> usize {
        self.offset + self.text.len()
    }
}

/// Collects the spans of one file's reports, then cuts the [`Excerpt`] out of its text.
pub struct ExcerptBuilder<'t> {
    text: &'t str,
    lines: LineIndex,
    /// Offsets of the CRs not followed by LF, which miette counts as line breaks.
    bare_cr: Vec<usize>,
    points: Vec<usize>,
    snippets: Vec<Span>,
    /// Byte ranges of whole lines to keep.
    ranges: Vec<(usize, usize)>,
}

impl<'t> ExcerptBuilder<'t> {
    pub fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        ExcerptBuilder {
            text,
            lines: LineIndex::new(text),
            bare_cr: memchr::memchr_iter(b'\r', bytes)
                .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
                .collect(),
            points: Vec::new(),
            snippets: Vec::new(),
            ranges: Vec::new(),
        }
    }

    /// A span whose positions a report may print, but never shown as a snippet (a fix's
    /// edit, for instance).
    pub fn point(&mut self, span: Span) {
        self.points.extend([span.start, span.end]);
    }

    /// The spans of one diagnostic, shown together in one snippet when they all fit.
    pub fn diagnostic(&mut self, spans: &[Span]) {
        let mut all_fit = true;
        for &span in spans {
            self.point(span);
            if fits_in_snippet(self.text, span) {
                self.snippets.push(span);
            } else {
                all_fit = false;
            }
        }
        if !all_fit || spans.is_empty() {
            return;
        }
        // miette counts a lone CR as a line break when it numbers lines and reads context,
        // but not when it splits lines to show them, so around one it may show more lines
        // than the window below would hold (found by the proptest at the end of this
        // file). Files with classic Mac line breaks are rare: keep such a file whole.
        if !self.bare_cr.is_empty() {
            self.ranges.push((0, self.text.len()));
            return;
        }
        let mut contexts: Vec<(Span, usize, usize)> = spans
            .iter()
            .map(|&s| {
                let (start, end) = self.context(s);
                (s, start, end)
            })
            .collect();
        contexts.sort_by_key(|(s, _, _)| s.start);
        // miette joins the snippets of two labels into one when, in its line numbers,
        // `left.line + left.line_count >= right.line` (`line_count` counts from the start
        // of the file), and then shows every line between them. `left` is the previous
        // label, or the labels miette has joined so far, which start no later. Keep those
        // lines whenever the join may happen (the test errs on the side of keeping): with
        // the previous label's line, not the first of the run kept so far, since miette
        // may not have joined that run (found by the proptest below, with bare CRs).
        let (first, mut start, mut end) = contexts[0];
        let mut last_line = self.miette_line(first.start);
        for &(next, next_start, next_end) in &contexts[1..] {
            let joins = next_start <= end
                || last_line + self.miette_line(end) + 1 >= self.miette_line(next_start);
            if joins {
                end = end.max(next_end);
            } else {
                self.ranges.push((start, end));
                (start, end) = (next_start, next_end);
            }
            last_line = self.miette_line(next.start);
        }
        self.ranges.push((start, end));
    }

    /// The whole lines miette may read around `span` with one line of context: from the
    /// start of the line before the span's first line to the end of the second line after
    /// the line holding `span.end`. One line after would do, but for a span that ends
    /// between the CR and the LF of a CRLF, which miette takes for the end of that line
    /// (found by the proptest at the end of this file).
    fn context(&self, span: Span) -> (usize, usize) {
        let len = self.text.len();
        let first = self.lines.line_of(span.start.min(len));
        let last = self.lines.line_of(span.end.min(len));
        let start = self.lines.line_start(first.saturating_sub(1)).unwrap_or(0);
        let end = self.lines.line_start(last + 3).unwrap_or(len);
        (start, end)
    }

    /// Line breaks before `offset` as miette counts them.
    fn miette_line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.lines.line_of(offset) + self.bare_cr.partition_point(|&i| i < offset)
    }

    pub fn finish(mut self) -> Excerpt {
        self.points.sort_unstable();
        self.points.dedup();
        let points = self
            .points
            .iter()
            .map(|&o| (o, self.lines.position(self.text, o)))
            .collect();
        self.snippets.sort_unstable();
        self.snippets.dedup();
        self.ranges.sort_unstable();
        let mut windows: Vec<Window> = Vec::new();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for &(start, end) in &self.ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        for (start, end) in merged {
            windows.push(Window {
                offset: start,
                line: self.miette_line(start),
                text: self.text[start..end].into(),
            });
        }
        Excerpt {
            inner: Arc::new(ExcerptData {
                points,
                snippets: self.snippets,
                windows,
            }),
        }
    }
}

impl Excerpt {
    /// Line and column of a byte offset, exactly as [`LineIndex::position`] gives them on
    /// the whole text. Only offsets given to the builder are known; any other gets the
    /// position of the nearest known offset before it (never reached: every span a report
    /// prints is registered when the excerpt is built).
    pub fn position(&self, offset: usize) -> Position {
        let points = &self.inner.points;
        match points.binary_search_by_key(&offset, |(o, _)| *o) {
            Ok(i) => points[i].1,
            Err(i) => {
                debug_assert!(false, "offset {offset} is not in the excerpt");
                points
                    .get(i.wrapping_sub(1))
                    .map(|(_, p)| *p)
                    .unwrap_or(Position { line: 1, column: 1 })
            }
        }
    }

    /// Start and end positions of a span; the end is exclusive, as in SARIF and GitHub.
    pub fn range(&self, span: Span) -> (Position, Position) {
        (self.position(span.start), self.position(span.end))
    }

    /// [`fits_in_snippet`] for a span given to the builder as part of a diagnostic.
    pub fn fits_in_snippet(&self, span: Span) -> bool {
        self.inner.snippets.binary_search(&span).is_ok()
    }

    /// Add what `other` (cut from the same text) keeps to this excerpt.
    pub fn merge(&mut self, other: &Excerpt) {
        let (a, b) = (&self.inner, &other.inner);
        let mut points: Vec<(usize, Position)> =
            a.points.iter().chain(&b.points).copied().collect();
        points.sort_by_key(|(o, _)| *o);
        points.dedup_by_key(|(o, _)| *o);
        let mut snippets: Vec<Span> = a.snippets.iter().chain(&b.snippets).copied().collect();
        snippets.sort_unstable();
        snippets.dedup();
        let mut all: Vec<&Window> = a.windows.iter().chain(&b.windows).collect();
        all.sort_by_key(|w| w.offset);
        let mut windows: Vec<Window> = Vec::new();
        for w in all {
            match windows.last_mut() {
                Some(last) if w.offset <= last.end() => {
                    if w.end() > last.end() {
                        let tail = &w.text[last.end() - w.offset..];
                        last.text = format!("{}{tail}", last.text).into();
                    }
                }
                _ => windows.push(Window {
                    offset: w.offset,
                    line: w.line,
                    text: w.text.clone(),
                }),
            }
        }
        self.inner = Arc::new(ExcerptData {
            points,
            snippets,
            windows,
        });
    }
}

/// Snippets for miette, read from the window that holds the span. A window starts at a
/// line start at least one line before every span it was cut for and ends at least one
/// line after, so miette's own reading of the window (`[u8]`) finds the same lines; only
/// the offsets and line numbers are shifted back to the file's.
impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let windows = &self.inner.windows;
        let (start, end) = (span.offset(), span.offset() + span.len());
        let i = windows.partition_point(|w| w.offset <= start);
        let window = i
            .checked_sub(1)
            .map(|i| &windows[i])
            .filter(|w| end <= w.end())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((start - window.offset).into(), span.len());
        let contents =
            window
                .text
                .as_bytes()
                .read_span(&local, context_lines_before, context_lines_after)?;
        let at = contents.span();
        Ok(Box::new(MietteSpanContents::new(
            contents.data(),
            SourceSpan::new((at.offset() + window.offset).into(), at.len()),
            contents.line() + window.line,
            contents.column(),
            contents.line_count() + window.line,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diagnostic with labels on `spans` (the first primary), rendered as the human
    /// report renders findings.
    struct Shown<S: SourceCode + 'static> {
        spans: Vec<Span>,
        source: miette::NamedSource<S>,
    }

    impl<S: SourceCode> std::fmt::Debug for Shown<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("shown")
        }
    }

    impl<S: SourceCode> std::fmt::Display for Shown<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("shown")
        }
    }

    impl<S: SourceCode> std::error::Error for Shown<S> {}

    impl<S: SourceCode + Send + Sync + 'static> miette::Diagnostic for Shown<S> {
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.source)
        }

        fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
            Some(Box::new(self.spans.iter().enumerate().map(|(i, s)| {
                let span = SourceSpan::new(s.start.into(), s.len());
                let text = Some(format!("label {i}"));
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text, span)
                } else {
                    miette::LabeledSpan::new_with_span(text, span)
                }
            })))
        }
    }

    fn render<S: SourceCode + Send + Sync + 'static>(spans: &[Span], source: S) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(80)
                .with_links(false);
        let shown = Shown {
            spans: spans.to_vec(),
            source: miette::NamedSource::new("t.yaml", source),
        };
        let mut out = String::new();
        handler.render_report(&mut out, &shown).unwrap();
        out
    }

    /// Cut an excerpt for `groups` (one diagnostic each) and check that every position,
    /// every snippet decision and every rendering is what the whole text gives.
    fn assert_excerpt_agrees(text: &str, groups: &[Vec<Span>]) {
        let mut builder = ExcerptBuilder::new(text);
        for group in groups {
            builder.diagnostic(group);
        }
        let excerpt = builder.finish();
        let lines = LineIndex::new(text);
        let full: Arc<str> = text.into();
        for group in groups {
            for span in group {
                for offset in [span.start, span.end] {
                    assert_eq!(
                        excerpt.position(offset),
                        lines.position(text, offset),
                        "position of {offset}"
                    );
                }
                assert_eq!(excerpt.fits_in_snippet(*span), fits_in_snippet(text, *span));
            }
            if group.iter().all(|s| fits_in_snippet(text, *s)) {
                assert_eq!(
                    render(group, excerpt.clone()),
                    render(group, Arc::clone(&full)),
                    "rendering of {group:?}"
                );
            }
        }
        let kept: usize = excerpt.inner.windows.iter().map(|w| w.text.len()).sum();
        assert!(kept <= text.len());
    }

    #[test]
    fn excerpt_renders_findings_far_apart_in_a_long_file_like_the_whole_text() {
        let mut text = String::from("\u{feff}Resources:\r\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "  Table{i}:\r\n    Type: AWS::DynamoDB::Table # é日本\r\n"
            ));
        }
        let at = |needle: &str| {
            let start = text.find(needle).unwrap();
            Span::new(start, start + needle.len())
        };
        let near = vec![at("Table10:"), at("Table12:")];
        let far = vec![at("Table2999:"), at("Table5:")];
        let one = vec![at("Table1500:")];
        let groups = [near, far, one];
        assert_excerpt_agrees(&text, &groups);
        let mut builder = ExcerptBuilder::new(&text);
        for group in &groups {
            builder.diagnostic(group);
        }
        let excerpt = builder.finish();
        let kept: usize = excerpt.inner.windows.iter().map(|w| w.text.len()).sum();
        assert!(
            kept < text.len() / 10,
            "kept {kept} of {} bytes",
            text.len()
        );
    }

    #[test]
    fn excerpt_leaves_out_snippets_of_huge_lines_but_keeps_their_positions() {
        let text = format!("{{\"Resources\": {{{}\"T\": 1}}}}\n", " ".repeat(10_000));
        let start = text.find("\"T\"").unwrap();
        let span = Span::new(start, start + 3);
        let mut builder = ExcerptBuilder::new(&text);
        builder.diagnostic(&[span]);
        let excerpt = builder.finish();
        assert!(!excerpt.fits_in_snippet(span));
        assert!(excerpt.inner.windows.is_empty());
        assert_eq!(
            excerpt.position(start),
            LineIndex::new(&text).position(&text, start)
        );
    }

    #[test]
    fn merged_excerpts_keep_both() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ng: 7\n";
        let (first, second) = (Span::new(0, 1), Span::new(30, 31));
        let cut = |span| {
            let mut builder = ExcerptBuilder::new(text);
            builder.diagnostic(&[span]);
            builder.finish()
        };
        let mut excerpt = cut(first);
        excerpt.merge(&cut(second));
        for span in [first, second] {
            assert_eq!(
                render(&[span], excerpt.clone()),
                render(&[span], text.to_string())
            );
            assert_eq!(
                excerpt.position(span.end),
                LineIndex::new(text).position(text, span.end)
            );
        }
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        fn texts() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just("a".to_string()),
                Just("key: value".to_string()),
                Just("é".to_string()),
                Just("日本".to_string()),
                Just("\n".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("\r".to_string()),
                Just("  ".to_string()),
                Just("x".repeat(3000)),
            ];
            // Half the texts have no lone CR: those keep whole files (see `diagnostic`).
            let pieces = proptest::collection::vec(piece, 0..60);
            (any::<bool>(), any::<bool>(), pieces).prop_map(|(bom, lone_cr, pieces)| {
                let body: String = pieces
                    .into_iter()
                    .filter(|p| lone_cr || p != "\r")
                    .collect();
                if bom {
                    format!("\u{feff}{body}")
                } else {
                    body
                }
            })
        }

        /// Spans at character boundaries, as the loaders make them.
        fn spans_in(text: &str, raw: &[(usize, usize)]) -> Vec<Span> {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            raw.iter()
                .map(|&(a, len)| {
                    let start = bounds[a % bounds.len()];
                    let end = bounds
                        .iter()
                        .copied()
                        .filter(|&b| b >= start)
                        .nth(len % 40)
                        .unwrap_or(text.len());
                    Span::new(start, end)
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn excerpt_positions_and_snippets_equal_the_whole_texts(
                text in texts(),
                groups in proptest::collection::vec(
                    proptest::collection::vec((any::<usize>(), any::<usize>()), 1..4),
                    1..4,
                ),
            ) {
                let groups: Vec<Vec<Span>> =
                    groups.iter().map(|g| spans_in(&text, g)).collect();
                assert_excerpt_agrees(&text, &groups);
            }
        }
    }
}
