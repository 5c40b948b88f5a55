//! Human output: one miette graphical diagnostic per finding and per load error, with the
//! snippet, a label on the span and a help line, then a one-line summary.

use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use crate::finding::{Finding, Label, Severity, Suppression};
use crate::load::FileError;
use crate::report::data::{FileReport, Report};
use crate::report::excerpt::Excerpt;
use crate::source::Span;

pub fn render(
    report: &Report,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if options.statistics {
        return statistics(report, options, out);
    }
    let handler = handler(options);
    for file in &report.files {
        render_file(&handler, file, options, out)?;
    }
    tail(report, options, out)
}

/// The miette handler every diagnostic of a run is drawn with.
pub(crate) fn handler(options: &super::RenderOptions) -> GraphicalReportHandler {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
}

/// One file's diagnostics: what the report prints for it, in its place (streamed output
/// writes each file as it is done).
pub(crate) fn render_file(
    handler: &GraphicalReportHandler,
    file: &FileReport,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    {
        let source = file
            .source
            .as_ref()
            .map(|s| NamedSource::new(file.path.clone(), s.clone()));
        // A snippet whose lines are huge (a minified template on one line) would print the
        // whole line for every finding: output quadratic in the file. Those findings show
        // their position instead (`excerpt::fits_in_snippet`, decided when the excerpt was
        // cut, since the excerpt keeps no such lines).
        let snippet = |spans: &mut dyn Iterator<Item = Span>| {
            let excerpt = file.source.as_ref();
            let mut spans = spans.peekable();
            match (excerpt, spans.peek().copied()) {
                (Some(excerpt), Some(first)) => {
                    if spans.all(|span| excerpt.fits_in_snippet(span)) {
                        (source.clone(), None)
                    } else {
                        (
                            None,
                            file.source.as_ref().map(|s| position(&file.path, s, first)),
                        )
                    }
                }
                _ => (source.clone(), None),
            }
        };
        for error in &file.errors {
            let spans = error
                .span
                .into_iter()
                .chain(error.labels.iter().map(|l| l.span));
            let (source, location) = snippet(&mut spans.into_iter());
            let diagnostic = ErrorDiagnostic {
                file,
                error,
                source,
                location,
            };
            write_diagnostic(handler, &diagnostic, out)?;
        }
        for finding in &file.findings {
            let spans = std::iter::once(finding.span).chain(finding.labels.iter().map(|l| l.span));
            let (source, location) = snippet(&mut spans.into_iter());
            let diagnostic = FindingDiagnostic {
                finding,
                suppression: None,
                source,
                location,
            };
            write_diagnostic(handler, &diagnostic, out)?;
        }
        if options.show_suppressed {
            for (finding, suppression) in &file.suppressed {
                let spans = std::iter::once(finding.span)
                    .chain(finding.labels.iter().map(|l| l.span))
                    .chain([suppression.span]);
                let (source, location) = snippet(&mut spans.into_iter());
                let diagnostic = FindingDiagnostic {
                    finding,
                    suppression: Some(suppression),
                    source,
                    location,
                };
                write_diagnostic(handler, &diagnostic, out)?;
            }
        }
    }
    Ok(())
}

/// What follows the files: stale baseline entries and the summary line.
pub(crate) fn tail(
    report: &Report,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for entry in &report.stale_baseline {
        writeln!(
            out,
            "note: baseline entry {} for `{}` in {} matches no finding any more; refresh the baseline with --write-baseline",
            entry.rule, entry.resource, entry.path
        )?;
    }
    if options.quiet {
        return Ok(());
    }
    writeln!(out, "{}", summary_line(report, options))
}

/// `--statistics`: one line per rule with findings, most first (as ruff prints it), then
/// each load error, then the summary line.
fn statistics(
    report: &Report,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut counts = StatisticsCounts::new();
    for finding in report.files.iter().flat_map(|f| &f.findings) {
        *counts
            .entry((finding.code.to_string(), finding.name.to_string()))
            .or_default() += 1;
    }
    statistics_table(&counts, out)?;
    for file in &report.files {
        statistics_errors(file, out)?;
    }
    statistics_tail(report, options, out)
}

/// The findings per (rule code, rule name) that `--statistics` counts.
pub(crate) type StatisticsCounts = std::collections::BTreeMap<(String, String), usize>;

/// `--statistics`' table: one line per rule, most findings first.
pub(crate) fn statistics_table(counts: &StatisticsCounts, out: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<_> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    for ((code, name), n) in rows {
        writeln!(out, "{n:>width$}\t{code}\t{name}")?;
    }
    Ok(())
}

/// `--statistics`' lines for one file's load errors.
pub(crate) fn statistics_errors(file: &FileReport, out: &mut dyn Write) -> io::Result<()> {
    for error in &file.errors {
        writeln!(out, "{}: error: {}", file.path, error.message)?;
    }
    Ok(())
}

/// `--statistics`' last line (none with `--quiet`).
pub(crate) fn statistics_tail(
    report: &Report,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if options.quiet {
        return Ok(());
    }
    writeln!(out, "{}", summary_line(report, options))
}

fn position(path: &str, source: &Excerpt, span: Span) -> String {
    let at = source.position(span.start);
    format!("{path}:{}:{}", at.line, at.column)
}

fn write_diagnostic(
    handler: &GraphicalReportHandler,
    diagnostic: &dyn Diagnostic,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = String::new();
    if handler.render_report(&mut text, diagnostic).is_err() {
        text = format!("{diagnostic}\n");
    }
    writeln!(out, "{text}")
}

fn summary_line(report: &Report, options: &super::RenderOptions) -> String {
    let s = &report.summary;
    let mut line = format!(
        "{} checked ({} {}, {} {}): {} ({} {}, {} {}{})",
        plural(s.files, "file", "files"),
        s.templates,
        if s.templates == 1 {
            "template"
        } else {
            "templates"
        },
        s.tables,
        if s.tables == 1 { "table" } else { "tables" },
        plural(s.findings, "finding", "findings"),
        s.error_findings,
        if s.error_findings == 1 {
            "error"
        } else {
            "errors"
        },
        s.warning_findings,
        if s.warning_findings == 1 {
            "warning"
        } else {
            "warnings"
        },
        // Notes are findings too; named only when there are some, as they never fail a run.
        if s.note_findings > 0 {
            format!(", {}", plural(s.note_findings, "note", "notes"))
        } else {
            String::new()
        },
    );
    if s.suppressed > 0 {
        line.push_str(&format!(", {} suppressed", s.suppressed));
    }
    if s.baselined > 0 {
        line.push_str(&format!(", {} in the baseline", s.baselined));
    }
    if s.stale_baseline > 0 {
        line.push_str(&format!(
            ", {}",
            plural(
                s.stale_baseline,
                "stale baseline entry",
                "stale baseline entries"
            )
        ));
    }
    if s.errors > 0 {
        // Files, not errors: one file may have several (two missing nested templates).
        let failed = s.failed_files;
        line.push_str(&format!(
            ", {} could not be checked",
            plural(failed.max(1), "file", "files")
        ));
    }
    if options.timing {
        line.push_str(&format!(" in {:.2}s", report.elapsed.as_secs_f64()));
    }
    line
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn labeled(span: Span, text: &str, primary: bool) -> LabeledSpan {
    let span = miette::SourceSpan::new(span.start.into(), span.len());
    if primary {
        LabeledSpan::new_primary_with_span(Some(text.to_string()), span)
    } else {
        LabeledSpan::new_with_span(Some(text.to_string()), span)
    }
}

fn secondary(labels: &[Label]) -> impl Iterator<Item = LabeledSpan> + '_ {
    labels.iter().map(|l| labeled(l.span, &l.text, false))
}

struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    /// Set for a suppressed finding shown by `--show-suppressed`.
    suppression: Option<&'a Suppression>,
    source: Option<NamedSource<Excerpt>>,
    /// `path:line:column`, when the snippet is left out.
    location: Option<String>,
}

const TOO_LONG: &str = "snippet left out: its lines are too long to show";

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)?;
        match &self.location {
            Some(at) => write!(f, "\n  at {at} ({TOO_LONG})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let suppressed = if self.suppression.is_some() {
            " (suppressed)"
        } else {
            ""
        };
        Some(Box::new(format!(
            "{} {}{suppressed}",
            self.finding.code, self.finding.name
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        if self.suppression.is_some() {
            return Some(miette::Severity::Advice);
        }
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if let Some(suppression) = self.suppression {
            let reason = match suppression.reason.as_str() {
                "" => "(no reason given)",
                reason => reason,
            };
            let at = suppression
                .template
                .as_deref()
                .map(|t| {
                    format!(
                        " (suppressed at {}:{}:{})",
                        t.path, t.start.line, t.start.column
                    )
                })
                .unwrap_or_default();
            return Some(Box::new(format!("suppressed: {reason}{at}")));
        }
        let template = self
            .finding
            .template
            .as_ref()
            .map(|t| format!("declared in {}:{}:{}", t.path, t.start.line, t.start.column));
        match (&self.finding.help, template) {
            (Some(help), Some(at)) => Some(Box::new(format!("{help}\n{at}"))),
            (None, Some(at)) => Some(Box::new(at)),
            (help, None) => help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>),
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let primary = std::iter::once(labeled(self.finding.span, &self.finding.label, true));
        let suppressed_here = self
            .suppression
            .map(|s| labeled(s.span, "suppressed here", false));
        Some(Box::new(
            primary
                .chain(secondary(&self.finding.labels))
                .chain(suppressed_here),
        ))
    }
}

struct ErrorDiagnostic<'a> {
    file: &'a FileReport,
    error: &'a FileError,
    source: Option<NamedSource<Excerpt>>,
    location: Option<String>,
}

impl fmt::Debug for ErrorDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ErrorDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.path, self.error.message)?;
        match &self.location {
            Some(at) => write!(f, "\n  at {at} ({TOO_LONG})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ErrorDiagnostic<'_> {}

impl Diagnostic for ErrorDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new("load-error"))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.error.span?;
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.error.span?;
        self.source.as_ref()?;
        let text = self.error.label.as_deref().unwrap_or("here");
        let primary = std::iter::once(labeled(span, text, true));
        Some(Box::new(primary.chain(secondary(&self.error.labels))))
    }
}
