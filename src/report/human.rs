//! Human output: one miette graphical diagnostic per finding and per load error, with the
//! snippet, a label on the span and a help line, then a one-line summary.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use crate::check::{FileReport, Report};
use crate::finding::{Finding, Label, Severity};
use crate::load::LoadError;
use crate::source::Span;

pub fn render(
    report: &Report,
    options: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    for file in &report.files {
        let source = file
            .source
            .as_ref()
            .map(|s| NamedSource::new(file.path.clone(), Arc::clone(&s.text)));
        for error in &file.errors {
            let diagnostic = ErrorDiagnostic {
                file,
                error,
                source: source.clone(),
            };
            write_diagnostic(&handler, &diagnostic, out)?;
        }
        for finding in &file.findings {
            let diagnostic = FindingDiagnostic {
                finding,
                source: source.clone(),
            };
            write_diagnostic(&handler, &diagnostic, out)?;
        }
    }
    writeln!(out, "{}", summary_line(report, options))
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
        "{} checked ({} {}, {} {}): {} ({} {}, {} {})",
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
    );
    if s.errors > 0 {
        line.push_str(&format!(
            ", {} could not be checked",
            plural(s.errors, "file", "files")
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
    source: Option<NamedSource<Arc<str>>>,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{} {}",
            self.finding.code, self.finding.name
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let primary = std::iter::once(labeled(self.finding.span, &self.finding.label, true));
        Some(Box::new(primary.chain(secondary(&self.finding.labels))))
    }
}

struct ErrorDiagnostic<'a> {
    file: &'a FileReport,
    error: &'a LoadError,
    source: Option<NamedSource<Arc<str>>>,
}

impl fmt::Debug for ErrorDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ErrorDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.path, self.error.message)
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
