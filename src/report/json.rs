//! `--format json`: one document with a version, a summary, every finding and every error.

use std::io::{self, Write};

use serde::Serialize;

use crate::check::Report;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: JsonSummary,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
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
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    path: &'a str,
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
}

#[derive(Serialize)]
struct JsonError<'a> {
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
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
        },
        findings: Vec::new(),
        errors: Vec::new(),
    };
    for file in &report.files {
        for f in &file.findings {
            let Some(source) = &file.source else { continue };
            let (start, end) = source.range(f.span);
            doc.findings.push(JsonFinding {
                rule: f.code,
                name: f.name,
                severity: f.severity.as_str(),
                path: &file.path,
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
            });
        }
        for e in &file.errors {
            let start = match (&file.source, e.span) {
                (Some(source), Some(span)) => Some(source.position(span.start)),
                _ => None,
            };
            doc.errors.push(JsonError {
                path: &file.path,
                line: start.map(|p| p.line),
                column: start.map(|p| p.column),
                message: &e.message,
                help: e.help.as_deref(),
            });
        }
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
