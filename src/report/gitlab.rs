//! `--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`), the
//! subset of the CodeClimate issue format GitLab reads: a JSON array of objects with
//! `description`, `check_name`, `fingerprint`, `severity`, `location.path` and
//! `location.lines.begin` (https://docs.gitlab.com/ci/testing/code_quality/).
//!
//! Fingerprints are SARIF's ([`super::fingerprint`]): a finding keeps its identity when
//! lines are added above it, so the merge request widget shows it as unchanged, not as
//! fixed and new. Suppressed and baselined findings are left out (they are accepted).
//! A file that could not be checked is a `blocker` issue (`check_name` `load-error`):
//! a report of a failed run must not read as a clean one.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::finding::Severity;
use crate::report::data::{FileReport, Report};

/// The `check_name` of a file that could not be checked.
pub const LOAD_ERROR: &str = "load-error";

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir().ok();
    let issues = build(report, cwd.as_deref());
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

fn build<'a>(report: &'a Report, cwd: Option<&Path>) -> Vec<Issue<'a>> {
    let mut issues = Vec::new();
    for file in &report.files {
        file_issues(file, cwd, &mut issues);
    }
    issues
}

/// One file's issues as the whole report prints them in its array (pretty, indented for
/// their place), so that streamed output can write the file as it is done. An element
/// never holds a NUL byte (JSON escapes control characters).
pub(crate) fn file_elements(file: &FileReport, cwd: Option<&Path>) -> Vec<String> {
    let mut issues = Vec::new();
    file_issues(file, cwd, &mut issues);
    issues
        .iter()
        .map(|issue| super::json::pretty_indented(issue, "  "))
        .collect()
}

fn file_issues<'a>(file: &'a FileReport, cwd: Option<&Path>, issues: &mut Vec<Issue<'a>>) {
    {
        // GitLab wants the path relative to the repository, without `./`; a file outside
        // the current directory keeps the path it was given.
        let path =
            super::relative_path(&file.path, cwd).unwrap_or_else(|| file.path.replace('\\', "/"));
        let uri = super::sarif::artifact_uri(&file.path, cwd);
        let line_of = |span| {
            super::range_of(file.source.as_ref(), span)
                .map(|(start, _)| start.line)
                .unwrap_or(1)
        };
        for (i, error) in file.errors.iter().enumerate() {
            issues.push(Issue {
                description: format!("{} could not be checked: {}", path, error.message),
                check_name: LOAD_ERROR,
                fingerprint: super::fingerprint::fingerprint(LOAD_ERROR, &uri, "", i + 1),
                severity: "blocker",
                location: Location {
                    path: path.clone(),
                    lines: Lines {
                        begin: error.span.map(line_of).unwrap_or(1),
                    },
                },
            });
        }
        for tracked in super::fingerprint::tracked(file, &uri) {
            if tracked.suppression.is_some() {
                continue;
            }
            let finding = tracked.finding;
            let description = if finding.resource.is_empty() {
                format!("{} {}", finding.code, finding.message)
            } else {
                format!("{} {}: {}", finding.code, finding.resource, finding.message)
            };
            issues.push(Issue {
                description,
                check_name: finding.code,
                fingerprint: tracked.fingerprint,
                severity: severity(finding.severity),
                // A change-set finding with `--template` lands on the template's line,
                // which the merge request shows.
                location: match &finding.template {
                    Some(t) => Location {
                        path: super::relative_path(&t.path, cwd)
                            .unwrap_or_else(|| t.path.replace('\\', "/")),
                        lines: Lines {
                            begin: t.start.line,
                        },
                    },
                    None => Location {
                        path: path.clone(),
                        lines: Lines {
                            begin: line_of(finding.span),
                        },
                    },
                },
            });
        }
    }
}

/// GitLab's scale is info, minor, major, critical, blocker. An error-severity finding is a
/// table whose data a stack operation can delete: critical. `blocker` is kept for files
/// that could not be checked at all.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}
