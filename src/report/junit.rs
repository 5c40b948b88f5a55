//! `--format junit`: JUnit XML for CI test report views (GitLab, Jenkins, Azure DevOps).
//!
//! One `<testsuite>` per template file and one `<testcase>` per (table, rule) checked, so
//! passing checks show as passing tests and a new table shows as a new test. A check with
//! a finding at or above `--fail-on` is a `<failure>` (so the test view agrees with the
//! exit code); lower findings are kept in the testcase's `<system-out>`. A file that could
//! not be checked is one testcase with an `<error>`. Every element carries `time` (strict
//! schemas require it): the run's elapsed seconds on `<testsuites>`, zero below it.
//! Written by hand: the XML is small and every text and attribute goes through [`escape`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::finding::Finding;
use crate::report::data::{FailOn, FileReport, Report, Status};
use crate::rules;

/// The `time` of a testsuite or testcase. Strict JUnit schemas require the attribute, but
/// files are checked in parallel and one check takes microseconds, so a time per file or per
/// check would be noise; the run's elapsed time is on `<testsuites>`.
const UNTIMED: &str = "0";

struct Case<'a> {
    resource: &'a str,
    code: &'a str,
    findings: Vec<&'a Finding>,
}

pub fn render(report: &Report, fail_on: FailOn, out: &mut dyn Write) -> io::Result<()> {
    let suites: Vec<(&FileReport, Vec<Case>)> = report
        .files
        .iter()
        .filter(|f| {
            matches!(f.status, Status::Checked { .. })
                || !f.errors.is_empty()
                || !f.findings.is_empty()
        })
        .map(|f| (f, cases(f)))
        .collect();
    let tests: usize = suites
        .iter()
        .map(|(f, c)| c.len() + usize::from(!f.errors.is_empty()))
        .sum();
    let failures: usize = suites.iter().map(|(_, c)| failed(c, fail_on)).sum();
    let errors = suites.iter().filter(|(f, _)| !f.errors.is_empty()).count();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="ddb-guard" tests="{tests}" failures="{failures}" errors="{errors}" time="{:.3}">"#,
        report.elapsed.as_secs_f64()
    )?;
    for (file, cases) in &suites {
        let path = escape(&file.path);
        let file_errors = usize::from(!file.errors.is_empty());
        writeln!(
            out,
            r#"  <testsuite name="{path}" tests="{}" failures="{}" errors="{file_errors}" skipped="0" time="{UNTIMED}">"#,
            cases.len() + file_errors,
            failed(cases, fail_on),
        )?;
        if !file.errors.is_empty() {
            let first = &file.errors[0].message;
            writeln!(
                out,
                r#"    <testcase name="load" classname="{path}" file="{path}" time="{UNTIMED}">"#
            )?;
            let body: Vec<String> = file
                .errors
                .iter()
                .map(|e| {
                    let at = super::error_range(file, e)
                        .map(|(p, _)| format!(":{}:{}", p.line, p.column))
                        .unwrap_or_default();
                    let help = e
                        .help
                        .as_ref()
                        .map(|h| format!("\nhelp: {h}"))
                        .unwrap_or_default();
                    format!("{}{at}: {}{help}", file.path, e.message)
                })
                .collect();
            writeln!(
                out,
                r#"      <error message="{}" type="load-error">{}</error>"#,
                escape(first),
                escape_text(&body.join("\n"))
            )?;
            writeln!(out, "    </testcase>")?;
        }
        for case in cases {
            let rule = match rules::find(case.code) {
                Some(rule) => format!("{} {}", rule.code, rule.name),
                None => case.code.to_string(),
            };
            let name = if case.resource.is_empty() {
                rule
            } else {
                format!("{}: {rule}", case.resource)
            };
            let head = format!(
                r#"    <testcase name="{}" classname="{path}" file="{path}" time="{UNTIMED}""#,
                escape(&name)
            );
            let Some(first) = case.findings.first() else {
                writeln!(out, "{head}/>")?;
                continue;
            };
            let failing: Vec<&&Finding> = case
                .findings
                .iter()
                .filter(|f| fail_on.fails(f.severity))
                .collect();
            let line = super::range_of(file.source.as_ref(), first.span)
                .map(|(p, _)| format!(r#" line="{}""#, p.line))
                .unwrap_or_default();
            writeln!(out, "{head}{line}>")?;
            let body: Vec<String> = case
                .findings
                .iter()
                .map(|f| {
                    let at = super::range_of(file.source.as_ref(), f.span)
                        .map(|(p, _)| format!(":{}:{}", p.line, p.column))
                        .unwrap_or_default();
                    let help = f
                        .help
                        .as_ref()
                        .map(|h| format!("\nhelp: {h}"))
                        .unwrap_or_default();
                    format!(
                        "{}{at}: {} [{}] {}{help}",
                        file.path,
                        f.code,
                        f.severity.as_str(),
                        f.message
                    )
                })
                .collect();
            let body = escape_text(&body.join("\n"));
            match failing.first() {
                Some(first) => {
                    let message = if failing.len() == 1 {
                        first.message.clone()
                    } else {
                        format!("{} findings; first: {}", failing.len(), first.message)
                    };
                    writeln!(
                        out,
                        r#"      <failure message="{}" type="{}">{body}</failure>"#,
                        escape(&message),
                        escape(first.severity.as_str()),
                    )?;
                }
                None => writeln!(out, "      <system-out>{body}</system-out>")?,
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// The checked (resource, rule) pairs in check order, each with its findings (an empty
/// resource is a whole-template check); a finding on a pair that was not listed as checked
/// still gets its own testcase, so no finding is ever missing from the report.
fn cases(file: &FileReport) -> Vec<Case<'_>> {
    let mut cases: Vec<Case> = Vec::new();
    let mut at: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (resource, code) in &file.checked {
        at.entry((resource.as_str(), *code)).or_insert_with(|| {
            cases.push(Case {
                resource,
                code,
                findings: Vec::new(),
            });
            cases.len() - 1
        });
    }
    for finding in &file.findings {
        // A finding of a whole-template check belongs to that check's testcase.
        let key = if at.contains_key(&("", finding.code)) {
            ("", finding.code)
        } else {
            (finding.resource.as_str(), finding.code)
        };
        let i = *at.entry(key).or_insert_with(|| {
            cases.push(Case {
                resource: &finding.resource,
                code: finding.code,
                findings: Vec::new(),
            });
            cases.len() - 1
        });
        cases[i].findings.push(finding);
    }
    cases
}

fn failed(cases: &[Case], fail_on: FailOn) -> usize {
    cases
        .iter()
        .filter(|c| c.findings.iter().any(|f| fail_on.fails(f.severity)))
        .count()
}

/// Text safe in a double-quoted XML 1.0 attribute. Characters XML 1.0 cannot carry at
/// all (most C0 controls; lone surrogates cannot occur in `str`) become U+FFFD; line
/// breaks and tabs are character references, because parsers normalize them to spaces
/// in attributes.
pub fn escape(text: &str) -> String {
    escape_as(text, true)
}

/// Text safe in XML 1.0 element content; line breaks stay readable, a CR is a reference
/// because parsers would drop it.
pub fn escape_text(text: &str) -> String {
    escape_as(text, false)
}

fn escape_as(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' | '"' => out.push(c),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_survives_an_xml_parser_in_attributes_and_content(s in any::<String>()) {
            let xml = format!(r#"<a v="{}">{}</a>"#, escape(&s), escape_text(&s));
            let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
            let expected: String = s
                .chars()
                .map(|c| match c {
                    '\t' | '\n' | '\r' => c,
                    '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
                    c => c,
                })
                .collect();
            prop_assert_eq!(doc.root_element().attribute("v"), Some(expected.as_str()));
            prop_assert_eq!(doc.root_element().text().unwrap_or_default(), expected.as_str());
        }
    }
}
