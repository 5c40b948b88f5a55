//! `--format github`: GitHub Actions workflow commands
//! (`::error file=...,line=...,col=...,endLine=...,endColumn=...,title=...::message`),
//! which the runner turns into annotations on the pull request's diff, plus a Markdown job
//! summary for `$GITHUB_STEP_SUMMARY`.
//!
//! GitHub shows only 10 error and 10 warning annotations per step, so the most important
//! come first: files that could not be checked, then errors, warnings and notes, each in
//! path and position order. The job summary lists everything, within GitHub's 1 MiB limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use crate::finding::Severity;
use crate::report::data::Report;
use crate::source::Position;

/// GitHub refuses a step summary larger than this, and then shows none of it.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

struct Annotation<'a> {
    /// 0 for a file that could not be checked, then by severity.
    rank: u8,
    command: &'static str,
    file: String,
    range: Option<(Position, Position)>,
    title: String,
    message: std::borrow::Cow<'a, str>,
    help: Option<&'a str>,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir().ok();
    for annotation in annotations(report, cwd.as_deref()) {
        writeln!(out, "{}", command_line(&annotation))?;
    }
    Ok(())
}

fn annotations<'a>(report: &'a Report, cwd: Option<&Path>) -> Vec<Annotation<'a>> {
    let mut all = Vec::new();
    for file in &report.files {
        let path = super::relative_path(&file.path, cwd).unwrap_or_else(|| file.path.clone());
        for error in &file.errors {
            all.push(Annotation {
                rank: 0,
                command: "error",
                file: path.clone(),
                range: super::error_range(file, error),
                title: "ddb-guard load-error".to_string(),
                message: error.message.as_str().into(),
                help: error.help.as_deref(),
            });
        }
        for finding in &file.findings {
            // A change-set finding with `--template` is annotated on the template's line
            // (a line of the pull request); the message says where the change is.
            let (file_name, range, message) = match &finding.template {
                Some(t) => {
                    let at = super::range_of(file.source.as_ref(), finding.span)
                        .map(|(s, _)| format!(":{}:{}", s.line, s.column))
                        .unwrap_or_default();
                    (
                        super::relative_path(&t.path, cwd).unwrap_or_else(|| t.path.clone()),
                        Some((t.start, t.end)),
                        format!("{} ({} {}{at})", finding.message, t.via, path).into(),
                    )
                }
                None => (
                    path.clone(),
                    super::range_of(file.source.as_ref(), finding.span),
                    finding.message.as_str().into(),
                ),
            };
            all.push(Annotation {
                rank: super::severity_rank(finding.severity),
                command: match finding.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "notice",
                },
                file: file_name,
                range,
                title: format!("{} {}", finding.code, finding.name),
                message,
                help: finding.help.as_deref(),
            });
        }
    }
    // Stable: findings at the same place keep their rule order.
    all.sort_by(|a, b| {
        (a.rank, &a.file, a.range.map(|r| r.0)).cmp(&(b.rank, &b.file, b.range.map(|r| r.0)))
    });
    all
}

fn command_line(a: &Annotation) -> String {
    let mut properties = vec![format!("file={}", escape_property(&a.file))];
    if let Some((start, end)) = a.range {
        properties.push(format!("line={}", start.line));
        properties.push(format!("col={}", start.column));
        properties.push(format!("endLine={}", end.line));
        properties.push(format!("endColumn={}", end.column));
    }
    properties.push(format!("title={}", escape_property(&a.title)));
    let mut message = a.message.to_string();
    if let Some(help) = a.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} {}::{}",
        a.command,
        properties.join(","),
        escape_data(&message)
    )
}

/// A command's message, escaped as `@actions/core` does, so that a CR or LF cannot end the
/// command early and a `%` survives the runner's unescaping.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command property: the message escapes plus `:` and `,`, which separate properties
/// and end the property list.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The Markdown job summary: counts per rule, then a table of findings per file. It is at
/// most `budget` bytes (less than [`STEP_SUMMARY_LIMIT`] minus what the step already wrote);
/// whatever does not fit is replaced by a note saying how much was left out. Empty when not
/// even the note fits.
pub fn step_summary(report: &Report, budget: usize) -> String {
    let cwd = std::env::current_dir().ok();
    step_summary_in(report, cwd.as_deref(), budget)
}

fn step_summary_in(report: &Report, cwd: Option<&Path>, budget: usize) -> String {
    let total = report.summary.findings + report.summary.errors;
    let mut md = Capped::new(budget, total);
    let s = &report.summary;
    md.line("## ddb-guard");
    md.line("");
    let status = if s.errors > 0 {
        format!(
            ":x: {} could not be checked; {} in {} ({})",
            count(s.errors, "file", "files"),
            count(s.findings, "finding", "findings"),
            count(s.templates, "template", "templates"),
            count(s.tables, "table", "tables"),
        )
    } else if s.findings > 0 {
        format!(
            ":x: {} ({} {}, {}{}) in {} ({})",
            count(s.findings, "finding", "findings"),
            s.error_findings,
            if s.error_findings == 1 {
                "error"
            } else {
                "errors"
            },
            count(s.warning_findings, "warning", "warnings"),
            if s.note_findings > 0 {
                format!(", {}", count(s.note_findings, "note", "notes"))
            } else {
                String::new()
            },
            count(s.templates, "template", "templates"),
            count(s.tables, "table", "tables"),
        )
    } else {
        format!(
            ":white_check_mark: no findings in {} ({})",
            count(s.templates, "template", "templates"),
            count(s.tables, "table", "tables"),
        )
    };
    md.line(&status);

    let mut per_rule: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for finding in report.files.iter().flat_map(|f| &f.findings) {
        let counts = per_rule.entry((finding.code, finding.name)).or_default();
        counts[usize::from(super::severity_rank(finding.severity) - 1)] += 1;
    }
    if !per_rule.is_empty() {
        md.line("");
        md.line("| Rule | Name | Errors | Warnings | Notes |");
        md.line("|---|---|---:|---:|---:|");
        for ((code, name), [errors, warnings, notes]) in &per_rule {
            md.line(&format!(
                "| {code} | {} | {errors} | {warnings} | {notes} |",
                cell(name)
            ));
        }
    }

    let failed: Vec<_> = report
        .files
        .iter()
        .filter(|f| !f.errors.is_empty())
        .collect();
    if !failed.is_empty() {
        md.line("");
        md.line("### Could not be checked");
        md.line("");
        md.line("| File | Line | Error |");
        md.line("|---|---:|---|");
        for file in failed {
            let path = super::relative_path(&file.path, cwd).unwrap_or_else(|| file.path.clone());
            for error in &file.errors {
                let at = super::error_range(file, error)
                    .map(|(p, _)| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                let row = format!("| {} | {at} | {} |", cell(&path), cell(&error.message));
                if !md.row(&row) {
                    return md.finish();
                }
            }
        }
    }

    for file in report.files.iter().filter(|f| !f.findings.is_empty()) {
        let path = super::relative_path(&file.path, cwd).unwrap_or_else(|| file.path.clone());
        md.line("");
        md.line(&format!("### {}", cell(&path)));
        md.line("");
        md.line("| Line | Rule | Severity | Resource | Message |");
        md.line("|---:|---|---|---|---|");
        for finding in &file.findings {
            let at = super::range_of(file.source.as_ref(), finding.span)
                .map(|(p, _)| format!("{}:{}", p.line, p.column))
                .unwrap_or_default();
            let row = format!(
                "| {at} | {} {} | {} | {} | {} |",
                finding.code,
                cell(finding.name),
                finding.severity.as_str(),
                cell(&finding.resource),
                cell(&finding.message)
            );
            if !md.row(&row) {
                return md.finish();
            }
        }
    }
    md.finish()
}

/// Append the job summary to the file GitHub names in `$GITHUB_STEP_SUMMARY`, keeping the
/// step under [`STEP_SUMMARY_LIMIT`] together with what earlier commands of the step wrote.
pub fn append_step_summary(path: &Path, report: &Report) -> io::Result<()> {
    let existing = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let existing = usize::try_from(existing).unwrap_or(usize::MAX);
    // Strictly under the limit, with a blank line separating us from earlier content.
    let budget = STEP_SUMMARY_LIMIT
        .saturating_sub(existing)
        .saturating_sub(2);
    let markdown = step_summary(report, budget);
    if markdown.is_empty() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let separator = if existing > 0 { "\n" } else { "" };
    file.write_all(format!("{separator}{markdown}").as_bytes())?;
    file.flush()
}

/// Markdown that stops adding rows before it would pass its budget, always leaving room
/// for the note that says how many rows were left out.
struct Capped {
    text: String,
    budget: usize,
    /// Findings and errors not yet written as rows.
    remaining: usize,
    truncated: bool,
}

const NOTE_RESERVE: usize = 200;

impl Capped {
    fn new(budget: usize, rows: usize) -> Self {
        Capped {
            text: String::new(),
            budget,
            remaining: rows,
            truncated: budget < NOTE_RESERVE,
        }
    }

    fn fits(&self, line: &str) -> bool {
        self.text.len() + line.len() + 1 + NOTE_RESERVE <= self.budget
    }

    fn line(&mut self, line: &str) {
        if self.truncated || !self.fits(line) {
            self.truncated = true;
            return;
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Add a finding or error row; false once the budget is spent.
    fn row(&mut self, line: &str) -> bool {
        self.line(line);
        if self.truncated {
            return false;
        }
        self.remaining -= 1;
        true
    }

    fn finish(mut self) -> String {
        if self.budget < NOTE_RESERVE {
            return String::new();
        }
        if self.truncated {
            let _ = write!(
                self.text,
                "\n> [!WARNING]\n> Summary truncated to stay under GitHub's 1 MiB step summary \
                 limit: {} not shown. Use `--format sarif` or `--format json` for the full list.\n",
                count(self.remaining, "row", "rows")
            );
        }
        self.text
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Text for a Markdown table cell: no HTML from templates, no column breaks, one line.
/// Messages quote values in backtick code spans, where GitHub shows entities and
/// backslashes literally but still splits columns on `|`: so inside a span only `|` is
/// escaped, outside it HTML is too. With an odd number of backticks the spans cannot be
/// trusted, and everything is escaped.
fn cell(text: &str) -> String {
    let spans_pair = text.matches('`').count().is_multiple_of(2);
    let mut in_code = false;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '`' if spans_pair => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' => out.push_str(if in_code { " " } else { "<br>" }),
            '\r' => {}
            _ if in_code => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' => out.push_str("\\\\"),
            '`' => out.push_str("\\`"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The runner's unescaping (actions/runner `ActionCommand`): `%25` last, so that an
    /// escaped `%0A` stays literal.
    fn unescape(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    /// A parsed command: name, properties, message.
    type Command = (String, Vec<(String, String)>, String);

    /// Parse a command line the way the runner does: `::name props::message`, where the
    /// command info ends at the first `::`, the name at the first space, properties split
    /// on `,` and each on its first `=`.
    fn parse(line: &str) -> Option<Command> {
        let rest = line.strip_prefix("::")?;
        let (info, message) = rest.split_once("::")?;
        let (name, props) = info.split_once(' ').unwrap_or((info, ""));
        let properties = props
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), unescape(v))
            })
            .collect();
        Some((name.to_string(), properties, unescape(message)))
    }

    fn annotation<'a>(file: &str, title: &str, message: &'a str) -> Annotation<'a> {
        Annotation {
            rank: 1,
            command: "error",
            file: file.to_string(),
            range: Some((
                Position { line: 3, column: 5 },
                Position { line: 3, column: 9 },
            )),
            title: title.to_string(),
            message: message.into(),
            help: None,
        }
    }

    proptest! {
        #[test]
        fn escaped_data_round_trips_and_has_no_line_breaks(s in any::<String>()) {
            let escaped = escape_data(&s);
            prop_assert!(!escaped.contains('\r') && !escaped.contains('\n'));
            prop_assert_eq!(unescape(&escaped), s);
        }

        #[test]
        fn escaped_property_round_trips_and_cannot_end_the_property(s in any::<String>()) {
            let escaped = escape_property(&s);
            prop_assert!(!escaped.contains(['\r', '\n', ':', ',']));
            prop_assert_eq!(unescape(&escaped), s);
        }

        #[test]
        fn any_file_title_and_message_survive_the_runners_parser(
            file in "[^\u{0}]{0,40}",
            title in ".{0,40}",
            message in any::<String>(),
        ) {
            let line = command_line(&annotation(&file, &title, &message));
            prop_assert!(!line.contains(['\r', '\n']));
            let (name, properties, parsed_message) = parse(&line).expect("a command");
            prop_assert_eq!(name, "error");
            let get = |key: &str| {
                properties.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
            };
            prop_assert_eq!(get("file"), Some(file.clone()));
            prop_assert_eq!(get("title"), Some(title.clone()));
            prop_assert_eq!(get("line"), Some("3".to_string()));
            prop_assert_eq!(get("endColumn"), Some("9".to_string()));
            prop_assert_eq!(parsed_message, message);
        }
    }

    #[test]
    fn help_follows_the_message_on_its_own_line() {
        let mut a = annotation("t.yaml", "DDB001 deletion-policy", "no policy");
        a.help = Some("add `DeletionPolicy: Retain`");
        assert_eq!(
            command_line(&a),
            "::error file=t.yaml,line=3,col=5,endLine=3,endColumn=9,\
             title=DDB001 deletion-policy::no policy%0Ahelp: add `DeletionPolicy: Retain`"
        );
    }

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(
            cell("a|b<script>&\nc\\"),
            "a\\|b&lt;script&gt;&amp;<br>c\\\\"
        );
    }

    #[test]
    fn code_spans_in_cells_keep_their_text_literal() {
        assert_eq!(cell("is `<b>&|x` now"), "is `<b>&\\|x` now");
        // An unpaired backtick: no span to trust, so everything is escaped.
        assert_eq!(cell("a ` <b>"), "a \\` &lt;b&gt;");
    }
}
