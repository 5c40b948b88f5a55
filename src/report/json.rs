//! `--format json`: one document with a version, a summary, every finding and every error.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{Finding, Suppression};
use crate::report::data::{FileReport, Report};
use crate::report::excerpt::Excerpt;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: JsonSummary,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    /// Findings silenced by a resource's `Metadata.ddb-guard.ignore`, with the reason.
    suppressed: Vec<JsonFinding<'a>>,
    /// `--baseline` entries that match no finding in the files checked.
    stale_baseline: &'a [super::data::BaselineEntry],
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    templates: usize,
    tables: usize,
    findings: usize,
    errors: usize,
    skipped: usize,
    not_templates: usize,
    suppressed: usize,
    baselined: usize,
    stale_baseline: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    path: &'a str,
    /// The `ddb-guard.toml` the file was checked with; absent when none applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a str>,
    resource: &'a str,
    resource_type: &'a str,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    byte_offset: usize,
    byte_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<JsonSuppression<'a>>,
    /// What `--fix` would do, so that editors and bots can offer the same edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
    /// Where the finding is in another file: the template a change set was made from, or
    /// the `${file(...)}` fragment of a Serverless service.
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<JsonTemplate<'a>>,
    /// The CDK construct and stack of a finding in a `cdk synth` template.
    #[serde(skip_serializing_if = "Option::is_none")]
    cdk: Option<JsonCdk<'a>>,
}

#[derive(Serialize)]
struct JsonCdk<'a> {
    construct_path: Option<&'a str>,
    stack: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonTemplate<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    byte_offset: usize,
    byte_length: usize,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: crate::finding::Applicability,
    description: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    byte_offset: usize,
    byte_length: usize,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    content: &'a str,
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    reason: &'a str,
    /// The file the entry is in, when it is not the finding's (a Serverless fragment);
    /// `line` and `column` are then in that file.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    line: usize,
    column: usize,
}

/// A file that could not be checked; `inventory --format json` lists its errors the same way.
#[derive(Serialize)]
pub(crate) struct JsonError<'a> {
    pub path: &'a str,
    /// The `ddb-guard.toml` the file was checked with; absent when none applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<&'a str>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let mut doc = JsonReport {
        version: 1,
        summary: JsonSummary {
            files: s.files,
            templates: s.templates,
            tables: s.tables,
            findings: s.findings,
            errors: s.errors,
            skipped: s.skipped,
            not_templates: s.not_templates,
            suppressed: s.suppressed,
            baselined: s.baselined,
            stale_baseline: s.stale_baseline,
        },
        findings: Vec::new(),
        errors: Vec::new(),
        suppressed: Vec::new(),
        stale_baseline: &report.stale_baseline,
    };
    for file in &report.files {
        add_file(&mut doc, file);
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// One file's elements of the `findings`, `errors` and `suppressed` arrays, each as the
/// document prints it in its array (pretty, indented for its place), so that streamed
/// output can write the file as it is done and the document stays byte for byte the
/// same. Elements never hold a NUL byte (JSON escapes control characters).
pub(crate) fn file_elements(file: &FileReport) -> [Vec<String>; 3] {
    let mut doc = JsonReport {
        version: 1,
        summary: JsonSummary {
            files: 0,
            templates: 0,
            tables: 0,
            findings: 0,
            errors: 0,
            skipped: 0,
            not_templates: 0,
            suppressed: 0,
            baselined: 0,
            stale_baseline: 0,
        },
        findings: Vec::new(),
        errors: Vec::new(),
        suppressed: Vec::new(),
        stale_baseline: &[],
    };
    add_file(&mut doc, file);
    fn texts<T: Serialize>(items: &[T]) -> Vec<String> {
        items
            .iter()
            .map(|item| pretty_indented(item, "    "))
            .collect()
    }
    [
        texts(&doc.findings),
        texts(&doc.errors),
        texts(&doc.suppressed),
    ]
}

fn add_file<'a>(doc: &mut JsonReport<'a>, file: &'a FileReport) {
    let Some(source) = &file.source else {
        // Findings always keep their file's text; without it there is nothing to place.
        add_errors(doc, file);
        return;
    };
    doc.findings
        .extend(file.findings.iter().map(|f| finding(file, source, f, None)));
    doc.suppressed.extend(
        file.suppressed
            .iter()
            .map(|(f, sup)| finding(file, source, f, Some(sup))),
    );
    add_errors(doc, file);
}

fn finding<'a>(
    file: &'a FileReport,
    source: &Excerpt,
    f: &'a Finding,
    suppression: Option<&'a Suppression>,
) -> JsonFinding<'a> {
    let (start, end) = source.range(f.span);
    JsonFinding {
        rule: f.code,
        name: f.name,
        severity: f.severity.as_str(),
        path: &file.path,
        config: file.config.as_deref(),
        resource: &f.resource,
        resource_type: &f.resource_type,
        message: &f.message,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        byte_offset: f.span.start,
        byte_length: f.span.len(),
        help: f.help.as_deref(),
        suppression: suppression.map(|sup| {
            let (path, at) = match sup.template.as_deref() {
                Some(t) => (Some(t.path.as_str()), t.start),
                None => (None, source.position(sup.span.start)),
            };
            JsonSuppression {
                reason: &sup.reason,
                path,
                line: at.line,
                column: at.column,
            }
        }),
        template: f.template.as_deref().map(|t| JsonTemplate {
            path: &t.path,
            line: t.start.line,
            column: t.start.column,
            end_line: t.end.line,
            end_column: t.end.column,
            byte_offset: t.span.start,
            byte_length: t.span.len(),
        }),
        cdk: f.cdk.as_deref().map(|c| JsonCdk {
            construct_path: c.construct_path.as_deref(),
            stack: c.stack.as_deref(),
        }),
        fix: f.fix.as_ref().map(|fix| JsonFix {
            applicability: fix.applicability,
            description: &fix.description,
            edits: fix
                .edits
                .iter()
                .map(|edit| {
                    let (start, end) = source.range(edit.span);
                    JsonEdit {
                        byte_offset: edit.span.start,
                        byte_length: edit.span.len(),
                        line: start.line,
                        column: start.column,
                        end_line: end.line,
                        end_column: end.column,
                        content: &edit.replacement,
                    }
                })
                .collect(),
        }),
    }
}

fn add_errors<'a>(doc: &mut JsonReport<'a>, file: &'a FileReport) {
    for e in &file.errors {
        let start = match (&file.source, e.span) {
            (Some(source), Some(span)) => Some(source.position(span.start)),
            _ => None,
        };
        doc.errors.push(JsonError {
            path: &file.path,
            config: file.config.as_deref(),
            line: start.map(|p| p.line),
            column: start.map(|p| p.column),
            message: &e.message,
            help: e.help.as_deref(),
        });
    }
}

/// `item` as `serde_json`'s pretty printer writes it, each line indented by `indent`: an
/// element of an array nested that deep, written on its own (a streamed report's part).
pub(crate) fn pretty_indented<T: Serialize>(item: &T, indent: &str) -> String {
    let text = serde_json::to_string_pretty(item).unwrap_or_default();
    let mut indented = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            indented.push('\n');
        }
        indented.push_str(indent);
        indented.push_str(line);
    }
    indented
}
