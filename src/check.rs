//! The per-file pipeline and the parallel run: read, prefilter, load, build the template
//! view, run the rules, and keep only what the reports need (findings, errors, and the
//! text of files that have them). Trees are dropped as soon as their findings are out.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::discover::{self, io_reason, Candidate, Discovery};
use crate::finding::{Finding, Severity};
use crate::load::{self, Format, Limits, LoadError};
use crate::model::Template;
use crate::rules::{self, Rule, RuleOptions};
use crate::source::SourceText;

#[derive(Clone)]
pub struct Settings {
    /// The enabled rules; their needles are the prefilter, so fewer rules scan faster.
    pub rules: Vec<&'static Rule>,
    pub options: RuleOptions,
    /// Per-rule severities that replace the rules' defaults (`[severity]` in the config).
    pub severities: Vec<(&'static str, Severity)>,
    pub limits: Limits,
    /// Larger files are an error, never silently skipped.
    pub max_file_size: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: rules::default_rules(),
            options: RuleOptions::default(),
            severities: Vec::new(),
            limits: Limits::default(),
            max_file_size: 64 * 1024 * 1024,
        }
    }
}

impl Settings {
    fn needles(&self) -> Vec<&'static str> {
        let mut needles: Vec<&'static str> = self
            .rules
            .iter()
            .flat_map(|r| r.needles.iter().copied())
            .collect();
        needles.sort_unstable();
        needles.dedup();
        needles
    }

    fn severity(&self, code: &str) -> Option<Severity> {
        self.severities
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| *s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The prefilter proved no enabled rule can fire; not parsed.
    Skipped,
    /// Parsed, but not a CloudFormation template (no top-level `Resources`).
    NotTemplate,
    Checked {
        tables: usize,
    },
    Failed,
}

#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: String,
    pub status: Status,
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    /// Kept only when there is something to show.
    pub source: Option<SourceText>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub templates: usize,
    pub tables: usize,
    pub findings: usize,
    pub errors: usize,
    pub skipped: usize,
    pub not_templates: usize,
    pub error_findings: usize,
    pub warning_findings: usize,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub summary: Summary,
    pub elapsed: Duration,
}

impl Report {
    /// 2 when anything could not be checked, 1 for an error-severity finding, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.summary.errors > 0 {
            2
        } else if self.summary.error_findings > 0 {
            1
        } else {
            0
        }
    }
}

/// Check every discovered file in parallel; the result is in path order whatever the
/// thread count.
pub fn run(discovery: Discovery, settings: &Settings) -> Report {
    let started = Instant::now();
    let mut files: Vec<FileReport> = discovery
        .files
        .par_iter()
        .map(|c| check_file(c, settings))
        .collect();
    files.extend(
        discovery
            .errors
            .into_iter()
            .map(|e| failed(e.display, LoadError::new(e.message), None)),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = summarize(&files);
    Report {
        files,
        summary,
        elapsed: started.elapsed(),
    }
}

fn summarize(files: &[FileReport]) -> Summary {
    let mut s = Summary {
        files: files.len(),
        ..Summary::default()
    };
    for file in files {
        match file.status {
            Status::Skipped => s.skipped += 1,
            Status::NotTemplate => s.not_templates += 1,
            Status::Checked { tables } => {
                s.templates += 1;
                s.tables += tables;
            }
            Status::Failed => {}
        }
        s.errors += file.errors.len();
        s.findings += file.findings.len();
        for f in &file.findings {
            match f.severity {
                Severity::Error => s.error_findings += 1,
                Severity::Warning => s.warning_findings += 1,
                Severity::Note => {}
            }
        }
    }
    s
}

/// Check one file. A panic inside the pipeline (a bug) fails this file closed, as an
/// error that makes the run exit 2, and the other files are still checked.
pub fn check_file(candidate: &Candidate, settings: &Settings) -> FileReport {
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match read(&candidate.path, settings.max_file_size) {
            Ok(bytes) => check_bytes(&candidate.display, &candidate.path, &bytes, settings),
            Err(error) => failed(candidate.display.clone(), error, None),
        }
    }));
    checked.unwrap_or_else(|_| {
        failed(
            candidate.display.clone(),
            LoadError::new("internal error while checking this file").with_help(
                "this is a bug in ddb-guard; please report it with the file that triggers it",
            ),
            None,
        )
    })
}

/// Read a whole file, refusing anything that is not a regular file without opening it: a
/// FIFO would block the run forever and a device has no end. The file may change between
/// the walk and this read (deleted, swapped for a FIFO, grown), so the type is checked
/// again on the open handle, and the read stops one byte past the limit.
fn read(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    let describe =
        |e: std::io::Error| LoadError::new(format!("cannot read file: {}", io_reason(&e)));
    let not_regular =
        || LoadError::new("not a regular file (a FIFO, socket or device cannot be a template)");
    if !std::fs::metadata(path).map_err(describe)?.is_file() {
        return Err(not_regular());
    }
    let file = open_nonblocking(path).map_err(describe)?;
    let meta = file.metadata().map_err(describe)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > max {
        return Err(LoadError::new(format!(
            "file is {} bytes, larger than the {} byte limit",
            meta.len(),
            max
        ))
        .with_help("raise the limit with --max-file-size if this really is a template"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut bytes)
        .map_err(describe)?;
    if bytes.len() as u64 > max {
        return Err(LoadError::new(format!(
            "file grew past the {max} byte limit while it was read"
        ))
        .with_help("raise the limit with --max-file-size if this really is a template"));
    }
    Ok(bytes)
}

/// Open for reading without blocking: if a FIFO was swapped in after the type check, the
/// open returns at once and the check on the handle rejects it. Regular files ignore the
/// flag.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Check one file's bytes. `path` picks the format by extension.
pub fn check_bytes(display: &str, path: &Path, bytes: &[u8], settings: &Settings) -> FileReport {
    let mut report = FileReport {
        path: display.to_string(),
        status: Status::Skipped,
        findings: Vec::new(),
        errors: Vec::new(),
        source: None,
    };
    if !discover::may_match(bytes, &settings.needles()) {
        return report;
    }
    let text = match load::decode(bytes) {
        Ok(text) => text,
        Err(error) => {
            let lossy: Arc<str> = String::from_utf8_lossy(bytes).into();
            return failed(report.path, error, Some(SourceText::new(lossy)));
        }
    };
    let outcome = load::load(text, Format::detect(path, text), &settings.limits).and_then(|doc| {
        let Some(template) = Template::from_document(&doc)? else {
            return Ok(None);
        };
        let tables = template.tables().count();
        let mut findings = rules::check_template(&template, &settings.rules, &settings.options);
        for finding in &mut findings {
            if let Some(severity) = settings.severity(finding.code) {
                finding.severity = severity;
            }
        }
        Ok(Some((tables, findings)))
    });
    match outcome {
        Ok(None) => report.status = Status::NotTemplate,
        Ok(Some((tables, findings))) => {
            report.status = Status::Checked { tables };
            if !findings.is_empty() {
                report.source = Some(SourceText::new(text.into()));
            }
            report.findings = findings;
        }
        Err(error) => return failed(report.path, error, Some(SourceText::new(text.into()))),
    }
    report
}

fn failed(path: String, error: LoadError, source: Option<SourceText>) -> FileReport {
    FileReport {
        path,
        status: Status::Failed,
        findings: Vec::new(),
        errors: vec![error],
        source,
    }
}
