//! Stage 5: reports. One file per output format; every format renders the same
//! [`Report`]. A reporter never inspects templates: it reads
//! findings, errors, spans and, for snippets, the file text.
//!
//! One run can write several reports (`--format github --format sarif=results.sarif`):
//! the templates are parsed once and each [`Output`] renders the same report.

pub mod compact;
pub mod data;
pub mod excerpt;
pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod inventory;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod stream;

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use clap::ValueEnum;

use crate::finding::Severity;
use crate::load::FileError;
use crate::report::data::{FailOn, FileReport, Report};
use crate::report::excerpt::Excerpt;
use crate::source::{Position, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Compact,
    Github,
    Sarif,
    Junit,
    Gitlab,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Compact => "compact",
            Format::Github => "github",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Gitlab => "gitlab",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub color: bool,
    /// Terminal width for wrapping human output.
    pub width: usize,
    /// Print the elapsed time in the summary (off in snapshot tests).
    pub timing: bool,
    /// List suppressed findings too (`--show-suppressed`); they are always counted.
    pub show_suppressed: bool,
    /// Which findings fail the run; formats with a pass/fail notion (JUnit) agree with
    /// the exit code.
    pub fail_on: FailOn,
    /// `--quiet`: human output holds only findings and errors, no summary line.
    pub quiet: bool,
    /// `--statistics`: human output is the number of findings per rule.
    pub statistics: bool,
}

pub fn render(
    format: Format,
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, options, out),
        Format::Json => json::render(report, out),
        Format::Compact => compact::render(report, out),
        Format::Github => github::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, options.fail_on, out),
        Format::Gitlab => gitlab::render(report, out),
    }
}

/// Where one report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// One requested report: `--format NAME[=DEST]`; no destination, or `-`, is stdout. `F`
/// is the command's format list (`check`'s [`Format`], `inventory`'s formats).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output<F = Format> {
    pub format: F,
    pub destination: Destination,
}

/// A format's name as the command line spells it.
pub fn format_name<F: ValueEnum>(format: &F) -> String {
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

impl<F: ValueEnum> FromStr for Output<F> {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let (name, destination) = match spec.split_once('=') {
            None => (spec, Destination::Stdout),
            Some((_, "")) => {
                return Err(format!(
                    "`{spec}` names no file after `=` (use NAME=FILE, or NAME alone for stdout)"
                ))
            }
            Some((name, "-")) => (name, Destination::Stdout),
            Some((name, file)) => (name, Destination::File(PathBuf::from(file))),
        };
        let format = <F as ValueEnum>::from_str(name, true).map_err(|_| {
            let names: Vec<String> = F::value_variants().iter().map(format_name).collect();
            format!(
                "unknown format `{name}` (possible formats: {})",
                names.join(", ")
            )
        })?;
        Ok(Output {
            format,
            destination,
        })
    }
}

impl<F: ValueEnum> fmt::Display for Output<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format_name(&self.format);
        match &self.destination {
            Destination::Stdout => f.write_str(&name),
            Destination::File(p) => write!(f, "{name}={}", p.display()),
        }
    }
}

/// Refuse, before any template is read, a set of outputs that cannot all be written: two
/// on stdout would interleave, two into one file would overwrite each other, and a file
/// whose directory does not exist would be lost after the whole run.
pub fn check_outputs<F: ValueEnum>(outputs: &[Output<F>]) -> Result<(), String> {
    let on_stdout: Vec<String> = outputs
        .iter()
        .filter(|o| o.destination == Destination::Stdout)
        .map(|o| format!("`{o}`"))
        .collect();
    if on_stdout.len() > 1 {
        return Err(format!(
            "at most one --format can write to stdout, but {} do; give the others a file with NAME=FILE",
            on_stdout.join(" and ")
        ));
    }
    let mut seen = HashSet::new();
    for output in outputs {
        let Destination::File(path) = &output.destination else {
            continue;
        };
        if !seen.insert(path) {
            return Err(format!(
                "two --format options write to `{}`",
                path.display()
            ));
        }
        if path.is_dir() {
            return Err(format!(
                "`{}` (for --format {}) is a directory, not a file",
                path.display(),
                format_name(&output.format)
            ));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(format!(
                "the directory `{}` for `{}` does not exist; create it first",
                parent.display(),
                output
            ));
        }
    }
    Ok(())
}

/// A file's path as code hosts expect it: relative to `cwd` when it lies inside it,
/// with forward slashes and without `.` segments; `None` for a path outside `cwd`.
pub fn relative_path(display: &str, cwd: Option<&Path>) -> Option<String> {
    let path = Path::new(display);
    let relative = if path.is_absolute() {
        path.strip_prefix(cwd?).ok()?
    } else {
        path
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => parts.push("..".to_string()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// Start and end (exclusive) of a span in a file, when the file's text was kept.
pub(crate) fn range_of(source: Option<&Excerpt>, span: Span) -> Option<(Position, Position)> {
    source.map(|s| s.range(span))
}

/// The start and end of a load error, when it has a place in a file that was read.
pub(crate) fn error_range(file: &FileReport, error: &FileError) -> Option<(Position, Position)> {
    range_of(file.source.as_ref(), error.span?)
}

/// How much a finding matters, most important first: the order of GitHub annotations,
/// which are cut off after ten per kind.
pub(crate) fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Note => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(spec: &str) -> Result<Output, String> {
        spec.parse()
    }

    #[test]
    fn inventory_formats_parse_with_their_own_names() {
        let parsed: Result<Output<inventory::InventoryFormat>, String> = "csv=out.csv".parse();
        assert_eq!(
            parsed,
            Ok(Output {
                format: inventory::InventoryFormat::Csv,
                destination: Destination::File(PathBuf::from("out.csv"))
            })
        );
        let unknown: Result<Output<inventory::InventoryFormat>, String> = "sarif".parse();
        assert_eq!(
            unknown,
            Err("unknown format `sarif` (possible formats: human, json, markdown, csv)".into())
        );
    }

    #[test]
    fn format_without_destination_goes_to_stdout() {
        assert_eq!(
            output("sarif"),
            Ok(Output {
                format: Format::Sarif,
                destination: Destination::Stdout
            })
        );
        assert_eq!(
            output("github=-").map(|o| o.destination),
            Ok(Destination::Stdout)
        );
    }

    #[test]
    fn format_with_destination_keeps_everything_after_the_first_equals() {
        assert_eq!(
            output("junit=out/a=b.xml").map(|o| o.destination),
            Ok(Destination::File(PathBuf::from("out/a=b.xml")))
        );
    }

    #[test]
    fn unknown_format_and_empty_destination_are_refused() {
        assert!(output("xml")
            .unwrap_err()
            .contains("possible formats: human, json, compact, github, sarif, junit, gitlab"));
        assert!(output("sarif=").unwrap_err().contains("names no file"));
    }

    #[test]
    fn two_outputs_on_stdout_are_refused() {
        let outputs = [output("github").unwrap(), output("sarif=-").unwrap()];
        let error = check_outputs(&outputs).unwrap_err();
        assert!(error.contains("`github` and `sarif`"), "{error}");
    }

    #[test]
    fn output_into_a_missing_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("missing/results.sarif");
        let outputs = [Output {
            format: Format::Sarif,
            destination: Destination::File(target),
        }];
        assert!(check_outputs(&outputs)
            .unwrap_err()
            .contains("does not exist"));
    }

    #[test]
    fn two_outputs_into_one_file_are_refused() {
        let outputs = [
            output("sarif=a.out").unwrap(),
            output("junit=a.out").unwrap(),
        ];
        assert!(check_outputs(&outputs)
            .unwrap_err()
            .contains("two --format options"));
    }

    #[test]
    fn relative_path_uses_forward_slashes_and_drops_dot_segments() {
        assert_eq!(
            relative_path("./a/./b.yaml", None).as_deref(),
            Some("a/b.yaml")
        );
        assert_eq!(
            relative_path("../x/b.yaml", None).as_deref(),
            Some("../x/b.yaml")
        );
    }

    #[test]
    fn absolute_path_is_made_relative_to_the_current_directory() {
        let cwd = std::env::temp_dir();
        let inside = cwd.join("stack").join("t.yaml");
        assert_eq!(
            relative_path(&inside.display().to_string(), Some(&cwd)).as_deref(),
            Some("stack/t.yaml")
        );
        assert_eq!(relative_path(&inside.display().to_string(), None), None);
    }
}
