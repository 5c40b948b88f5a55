//! `--format compact`: one line per finding, `path:line:col: DDB001 [error] message`, the
//! shape of ruff's concise output and close to cfn-lint's `parseable`, so that editors,
//! `grep` and problem matchers read it. A file that could not be checked is a line of the
//! same shape with the code `load-error`; without a known place it points at `1:1`, as
//! ruff does for unreadable files, so that every line matches one pattern.

use std::io::{self, Write};

use crate::report::data::{FileReport, Report};
use crate::source::Position;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        render_file(file, out)?;
    }
    Ok(())
}

/// One file's lines (streamed output writes each file as it is done).
pub(crate) fn render_file(file: &FileReport, out: &mut dyn Write) -> io::Result<()> {
    {
        for error in &file.errors {
            let start = super::error_range(file, error).map(|(start, _)| start);
            line(
                out,
                &file.path,
                start,
                "load-error",
                "error",
                &error.message,
            )?;
        }
        for finding in &file.findings {
            let start = super::range_of(file.source.as_ref(), finding.span).map(|(s, _)| s);
            let message = match &finding.template {
                Some(t) => format!(
                    "{} (template {}:{}:{})",
                    finding.message, t.path, t.start.line, t.start.column
                ),
                None => finding.message.clone(),
            };
            line(
                out,
                &file.path,
                start,
                finding.code,
                finding.severity.as_str(),
                &message,
            )?;
        }
    }
    Ok(())
}

fn line(
    out: &mut dyn Write,
    path: &str,
    start: Option<Position>,
    code: &str,
    severity: &str,
    message: &str,
) -> io::Result<()> {
    let Position { line, column } = start.unwrap_or(Position { line: 1, column: 1 });
    writeln!(
        out,
        "{path}:{line}:{column}: {code} [{severity}] {}",
        one_line(message)
    )
}

/// A message on one line, so that one line is always one diagnostic.
fn one_line(message: &str) -> String {
    message
        .split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_become_one_line() {
        assert_eq!(one_line("a\r\nb\nc"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }
}
