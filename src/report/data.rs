//! The report of a run, as data: what every format renders and what the exit status is
//! computed from. Reporters import this module, never the checker that fills it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity, Suppression};
use crate::load::FileError;
use crate::model::backup::GuardrailKind;
use crate::report::excerpt::{Excerpt, ExcerptBuilder};
use crate::rules::layers::Layers;
use crate::source::{ContentHash, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The prefilter proved no enabled rule can fire; not parsed.
    Skipped,
    /// Parsed, but not a CloudFormation template (no top-level `Resources`).
    NotTemplate,
    Checked {
        tables: usize,
    },
    /// Gone at the head, present at the base (`check --base`, `diff`): its findings point
    /// into the base text.
    Deleted,
    Failed,
}

#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: String,
    pub status: Status,
    /// The findings that count: not suppressed, not in the `--baseline` file.
    pub findings: Vec<Finding>,
    /// Findings silenced by a `Metadata.ddb-guard.ignore` entry, with its reason.
    pub suppressed: Vec<(Finding, Suppression)>,
    /// Findings recorded in the `--baseline` file (counted, not shown, never failing).
    pub baselined: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// Every (logical ID, rule code) pair that was checked, so that reports listing checks
    /// (JUnit) show the passing ones too, not only the findings.
    pub checked: Vec<(String, &'static str)>,
    /// What the reports need of the text (positions, snippet lines), kept only when there
    /// is something to show. Never the whole file: see `excerpt` in this module.
    pub source: Option<Excerpt>,
    /// The bytes that were checked, for `--fix` to refuse a file changed since; set for
    /// files read from disk that have findings.
    pub checked_bytes: Option<ContentHash>,
    /// What the file's policies say about the required guardrails (DDB013), decided for
    /// the whole run once every file is in.
    pub guardrail_facts: Vec<crate::rules::iam::required_guardrail::Fact>,
    /// The local templates this file includes (nested stacks), which the checker checks
    /// too, each once.
    pub includes: Vec<Include>,
    /// Where a file that only an include named (no walked path) was read from, for
    /// `--fix` to read and write it again.
    pub included_from: Option<std::path::PathBuf>,
    /// The `ddb-guard.toml` the file was checked with (its nearest, or `--config`), as
    /// reports name it; `None` for no config file.
    pub config: Option<String>,
    /// The template is `cdk synth` output: `--fix` leaves it to the CDK app.
    pub synthesized: bool,
    /// The files a Serverless service's `${file(...)}` variables brought in (canonical
    /// paths): checked in place as part of the service, so never also on their own.
    pub fragments: Vec<std::path::PathBuf>,
    /// The fragments the base version of this file brought in (their paths at the base,
    /// `.` and `..` folded): a deleted one is part of the service, not a template deleted.
    pub base_fragments: Vec<String>,
}

/// A local template that a file includes: a nested stack whose `TemplateURL` (or a nested
/// application whose `Location`) is a path, resolved from the including file's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub logical_id: String,
    /// "nested stack", "nested application".
    pub kind: &'static str,
    /// The location's value in the including file.
    pub span: Span,
    /// The path to read.
    pub path: std::path::PathBuf,
    /// How reports name the included file: its path from the including file's display
    /// path, normalized.
    pub display: String,
}

impl FileReport {
    pub(crate) fn new(path: String, status: Status) -> Self {
        FileReport {
            path,
            status,
            findings: Vec::new(),
            suppressed: Vec::new(),
            baselined: Vec::new(),
            errors: Vec::new(),
            checked: Vec::new(),
            source: None,
            checked_bytes: None,
            guardrail_facts: Vec::new(),
            includes: Vec::new(),
            included_from: None,
            config: None,
            synthesized: false,
            fragments: Vec::new(),
            base_fragments: Vec::new(),
        }
    }
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
    /// Skipped files (in `skipped`) that look like templates without a table: they count
    /// as checked when deciding whether a run checked nothing.
    pub skipped_templates: usize,
    pub error_findings: usize,
    pub warning_findings: usize,
    pub note_findings: usize,
    /// Findings silenced by suppressions (not in `findings`).
    pub suppressed: usize,
    /// Findings recorded in the `--baseline` file (not in `findings`).
    pub baselined: usize,
    /// `--baseline` entries that no longer match a finding.
    pub stale_baseline: usize,
    /// Files with at least one error (one file may have several).
    pub failed_files: usize,
}

impl Summary {
    /// The counts of files that are only counted (see [`Report::unlisted`]) added to
    /// these.
    pub fn with_unlisted(self, unlisted: &Summary) -> Summary {
        self.plus(unlisted)
    }

    /// Both counts added (not `skipped_templates` and `stale_baseline`, which are the
    /// run's, not files').
    pub(crate) fn plus(self, other: &Summary) -> Summary {
        Summary {
            files: self.files + other.files,
            templates: self.templates + other.templates,
            tables: self.tables + other.tables,
            findings: self.findings + other.findings,
            errors: self.errors + other.errors,
            skipped: self.skipped + other.skipped,
            not_templates: self.not_templates + other.not_templates,
            error_findings: self.error_findings + other.error_findings,
            warning_findings: self.warning_findings + other.warning_findings,
            note_findings: self.note_findings + other.note_findings,
            suppressed: self.suppressed + other.suppressed,
            baselined: self.baselined + other.baselined,
            failed_files: self.failed_files + other.failed_files,
            ..self
        }
    }

    /// `other` taken back out of these counts (a file counted, then replaced).
    pub(crate) fn minus(self, other: &Summary) -> Summary {
        Summary {
            files: self.files.saturating_sub(other.files),
            templates: self.templates.saturating_sub(other.templates),
            tables: self.tables.saturating_sub(other.tables),
            findings: self.findings.saturating_sub(other.findings),
            errors: self.errors.saturating_sub(other.errors),
            skipped: self.skipped.saturating_sub(other.skipped),
            not_templates: self.not_templates.saturating_sub(other.not_templates),
            error_findings: self.error_findings.saturating_sub(other.error_findings),
            warning_findings: self.warning_findings.saturating_sub(other.warning_findings),
            note_findings: self.note_findings.saturating_sub(other.note_findings),
            suppressed: self.suppressed.saturating_sub(other.suppressed),
            baselined: self.baselined.saturating_sub(other.baselined),
            failed_files: self.failed_files.saturating_sub(other.failed_files),
            ..self
        }
    }

    /// Take back [`Summary::count_unlisted`] (a file counted twice).
    pub(crate) fn uncount(&mut self, status: Status) {
        let mut one = Summary::default();
        one.count_unlisted(status);
        self.files = self.files.saturating_sub(one.files);
        self.skipped = self.skipped.saturating_sub(one.skipped);
        self.not_templates = self.not_templates.saturating_sub(one.not_templates);
        self.templates = self.templates.saturating_sub(one.templates);
        self.tables = self.tables.saturating_sub(one.tables);
    }

    /// Count a file that is not kept in the report: skipped, or passing.
    pub(crate) fn count_unlisted(&mut self, status: Status) {
        self.files += 1;
        match status {
            Status::Skipped => self.skipped += 1,
            Status::NotTemplate => self.not_templates += 1,
            Status::Checked { tables } => {
                self.templates += 1;
                self.tables += tables;
            }
            Status::Deleted | Status::Failed => {}
        }
    }
}

#[derive(Clone, Debug)]
pub struct Report {
    /// Every file with something to show or count beyond "skipped": files the prefilter
    /// skipped are only counted in `summary` (`files`, `skipped`), so that memory does not
    /// grow with the size of the repository, only with what is found in it.
    pub files: Vec<FileReport>,
    pub summary: Summary,
    pub elapsed: Duration,
    /// Entries of the `--baseline` file that match no finding in the files checked.
    pub stale_baseline: Vec<BaselineEntry>,
    /// The files counted in `summary` but not kept in `files`: those the prefilter
    /// skipped and, unless a report lists passing files, those that passed. Only their
    /// counts (`files`, `skipped`, `templates`, `tables`, `not_templates`) are set.
    pub unlisted: Summary,
}

/// One entry of a `--baseline` file, an accepted finding: never a line or a message, so
/// that editing a template elsewhere or improving a message keeps it matching (see
/// [`baseline`](crate::baseline)).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    // Field order is the sort order: grouped by file, then by table.
    pub path: String,
    pub resource: String,
    pub rule: String,
}

/// How a command ends. Every command returns one, and `main` turns it into the process
/// exit code: this is the only place the numbers are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit 0: everything was checked and nothing fails the run.
    Success,
    /// Exit 1: a finding at or above `--fail-on`.
    Failure,
    /// Exit 2: something could not be checked, read, written or understood (bad
    /// arguments, a file that does not load, a refused fix). Wins over findings.
    Error,
}

impl ExitStatus {
    /// The status of a run that `could_not_check` something or found `failing` findings.
    pub fn of(could_not_check: bool, failing: bool) -> ExitStatus {
        if could_not_check {
            ExitStatus::Error
        } else if failing {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }

    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

/// Which findings make the run fail (exit 1); `--fail-on`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Error-severity findings fail the run.
    #[default]
    Error,
    /// Warnings fail the run too.
    Warning,
    /// Findings never fail the run; files that cannot be checked still do (exit 2).
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Never => false,
        }
    }
}

impl Report {
    /// [`ExitStatus::Error`] when anything could not be checked (fail closed, whatever
    /// `fail_on` says), [`ExitStatus::Failure`] when a finding at or above `fail_on`
    /// exists, else success.
    pub fn exit_status(&self, fail_on: FailOn) -> ExitStatus {
        let s = &self.summary;
        let failing = match fail_on {
            FailOn::Error => s.error_findings,
            FailOn::Warning => s.error_findings + s.warning_findings,
            FailOn::Never => 0,
        };
        ExitStatus::of(s.errors > 0, failing > 0)
    }

    /// Attach an error found after the check (a refused fix) to its file, so that every
    /// format shows it and the exit code says something could not be done. `text` is the
    /// text the error's span points into, if it has one.
    pub fn add_error(&mut self, path: &str, error: FileError, text: Option<&str>) {
        match self.files.iter_mut().find(|f| f.path == path) {
            Some(file) => {
                if let Some(text) = text {
                    let mut builder = ExcerptBuilder::new(text);
                    error_spans(&mut builder, &error);
                    let more = builder.finish();
                    match &mut file.source {
                        Some(source) => source.merge(&more),
                        None => file.source = Some(more),
                    }
                }
                file.errors.push(error)
            }
            None => {
                self.files.push(failed(path.to_string(), error, text));
                self.files.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
        self.resummarize();
    }

    /// Recount the summary after findings moved (into the baseline, for instance) or an
    /// error was added, keeping the files that are counted but not kept.
    pub fn resummarize(&mut self) {
        let old = self.summary;
        self.summary = summarize(&self.files).with_unlisted(&self.unlisted);
        self.summary.skipped_templates = old.skipped_templates;
        self.summary.stale_baseline = self.stale_baseline.len();
    }

    /// Did the run check nothing: no template (with or without tables), no finding, no
    /// error? A guard never passes on nothing.
    pub fn checked_nothing(&self) -> bool {
        let s = &self.summary;
        s.templates == 0
            && s.skipped_templates == 0
            && s.errors == 0
            && s.findings == 0
            && s.suppressed == 0
            && s.baselined == 0
            && !self.files.iter().any(|f| f.status == Status::Deleted)
    }
}

/// The counts over a set of file reports (also for building a [`Report`] in tests).
pub fn summarize(files: &[FileReport]) -> Summary {
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
            Status::Deleted | Status::Failed => {}
        }
        s.errors += file.errors.len();
        s.failed_files += usize::from(!file.errors.is_empty());
        s.findings += file.findings.len();
        s.suppressed += file.suppressed.len();
        s.baselined += file.baselined.len();
        for f in &file.findings {
            match f.severity {
                Severity::Error => s.error_findings += 1,
                Severity::Warning => s.warning_findings += 1,
                Severity::Note => s.note_findings += 1,
            }
        }
    }
    s
}

/// A file that could not be checked; `text` is what the error's span points into.
pub(crate) fn failed(path: String, error: FileError, text: Option<&str>) -> FileReport {
    let mut report = FileReport {
        errors: vec![error],
        ..FileReport::new(path, Status::Failed)
    };
    report.source = text.map(|text| excerpt(text, &report));
    report
}

/// What the reports of `report` need of `text`: every span a format may place, and the
/// lines the human report shows around the spans of each diagnostic. Baselining later
/// only moves findings between lists, so everything it may show is here already.
pub(crate) fn excerpt(text: &str, report: &FileReport) -> Excerpt {
    let mut builder = ExcerptBuilder::new(text);
    for finding in &report.findings {
        finding_spans(&mut builder, finding, None);
    }
    for (finding, suppression) in &report.suppressed {
        finding_spans(&mut builder, finding, Some(suppression));
    }
    for error in &report.errors {
        error_spans(&mut builder, error);
    }
    builder.finish()
}

fn finding_spans(
    builder: &mut ExcerptBuilder,
    finding: &Finding,
    suppression: Option<&Suppression>,
) {
    let spans: Vec<_> = std::iter::once(finding.span)
        .chain(finding.labels.iter().map(|l| l.span))
        .chain(suppression.map(|s| s.span))
        .collect();
    builder.diagnostic(&spans);
    for edit in finding.fix.iter().flat_map(|f| &f.edits) {
        builder.point(edit.span);
    }
}

fn error_spans(builder: &mut ExcerptBuilder, error: &FileError) {
    let labels = error.labels.iter().map(|l| l.span);
    match error.span {
        Some(span) => builder.diagnostic(&std::iter::once(span).chain(labels).collect::<Vec<_>>()),
        None => labels.for_each(|span| builder.point(span)),
    }
}

// ------------------------------------------------------------------ inventory

/// What `ddb-guard inventory` found: every table with its layers, the guardrails, and
/// the files that could not be read.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub tables: Vec<TableRow>,
    pub guardrails: Vec<GuardrailRow>,
    /// Templates a template deploys that ddb-guard cannot read (nested stacks and stack
    /// sets at a URL, ...): their tables are not in `tables`.
    pub not_visible: Vec<NotVisibleRow>,
    pub errors: Vec<InventoryError>,
    /// Files read (including those the prefilter skipped and those that failed).
    pub files: usize,
    /// Files that are templates.
    pub templates: usize,
}

impl Inventory {
    /// An error when some file could not be read, else success: an inventory has no
    /// findings.
    pub fn exit_status(&self) -> ExitStatus {
        ExitStatus::of(!self.errors.is_empty(), false)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    pub path: String,
    pub resource: String,
    pub resource_type: String,
    pub layers: Layers,
    /// The stack set whose inline `TemplateBody` declares the table (`resource` is then
    /// `StackSet/Table`): it is deployed to every target account.
    pub stack_set: Option<String>,
    /// What `audit` read of the live table; `None` in the inventory of templates.
    pub live: Option<Box<LiveFacts>>,
}

/// A live table's protection beyond its template layers (`ddb-guard audit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveFacts {
    pub region: String,
    pub arn: String,
    /// The stack and logical ID that manage the table, or why none does.
    pub managed_by: Managed,
    pub resource_policy_deny: LiveState,
    pub scp_deny: LiveState,
    pub termination_protection: LiveState,
    pub stack_policy: LiveState,
    /// The principals (`role/Name`, `user/Name`, `group/Name`) whose policies allow
    /// `dynamodb:DeleteTable` on this table.
    pub deleters: LiveList,
    /// The other Regions of a global table.
    pub replicas: Vec<String>,
    /// Where the deployed intent and the live table disagree.
    pub drift: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Managed {
    Stack {
        name: String,
        logical_id: String,
    },
    /// Not in any active stack; the stack named by its `aws:cloudformation:stack-name`
    /// tag, when it has one (a stack deleted with `Retain` leaves the table behind).
    Unmanaged {
        former_stack: Option<String>,
    },
}

impl Managed {
    pub fn describe(&self) -> String {
        match self {
            Managed::Stack { name, logical_id } => format!("stack `{name}` ({logical_id})"),
            Managed::Unmanaged { former_stack: None } => "not managed by CloudFormation".into(),
            Managed::Unmanaged {
                former_stack: Some(stack),
            } => format!(
                "not managed by CloudFormation (stack `{stack}` is gone; the table was retained)"
            ),
        }
    }
}

/// A live fact: holds, does not, only in some cases, not applicable, or not known (and
/// why: a call that was denied, an organization the credentials cannot read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveState {
    Yes,
    No,
    Conditional(String),
    NotApplicable,
    Unknown(String),
}

impl LiveState {
    pub fn word(&self) -> &'static str {
        match self {
            LiveState::Yes => "yes",
            LiveState::No => "no",
            LiveState::Conditional(_) => "conditional",
            LiveState::NotApplicable => "n/a",
            LiveState::Unknown(_) => "unknown",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            LiveState::Conditional(why) | LiveState::Unknown(why) => Some(why),
            _ => None,
        }
    }
}

/// A list that was read, or why it is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveList {
    Known(Vec<String>),
    Unknown(String),
}

/// A nested stack, nested application or stack set whose template is not visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotVisibleRow {
    pub path: String,
    pub resource: String,
    pub resource_type: String,
    /// Why: "at a URL", "computed at deploy time (not a literal string)", ...
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardrailRow {
    pub path: String,
    pub resource: String,
    pub kind: GuardrailKind,
    pub denies: Vec<&'static str>,
    /// Set when the guardrail holds only in some cases: which.
    pub conditional: Option<String>,
    pub note: Option<String>,
    /// The ARNs the denies apply to (SCPs, identity policies); empty for vaults.
    pub scope: Vec<String>,
}

/// A file that could not be read or loaded, with its position resolved (the text is not
/// kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryError {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(summary: Summary) -> Report {
        Report {
            files: Vec::new(),
            summary,
            elapsed: Duration::ZERO,
            stale_baseline: Vec::new(),
            unlisted: Summary::default(),
        }
    }

    #[test]
    fn fail_on_sets_the_lowest_severity_that_fails_the_run() {
        let warnings = report(Summary {
            findings: 1,
            warning_findings: 1,
            ..Summary::default()
        });
        assert_eq!(warnings.exit_status(FailOn::Error), ExitStatus::Success);
        assert_eq!(warnings.exit_status(FailOn::Warning), ExitStatus::Failure);
        assert_eq!(warnings.exit_status(FailOn::Never), ExitStatus::Success);
        let errors = report(Summary {
            findings: 1,
            error_findings: 1,
            ..Summary::default()
        });
        assert_eq!(errors.exit_status(FailOn::Error), ExitStatus::Failure);
        assert_eq!(errors.exit_status(FailOn::Warning), ExitStatus::Failure);
        assert_eq!(errors.exit_status(FailOn::Never), ExitStatus::Success);
    }

    #[test]
    fn fails_agrees_with_the_exit_code_per_severity() {
        assert!(FailOn::Error.fails(Severity::Error));
        assert!(!FailOn::Error.fails(Severity::Warning));
        assert!(FailOn::Warning.fails(Severity::Warning));
        assert!(!FailOn::Warning.fails(Severity::Note));
        assert!(!FailOn::Never.fails(Severity::Error));
    }

    #[test]
    fn a_file_that_could_not_be_checked_exits_2_whatever_fail_on_says() {
        let failed = report(Summary {
            errors: 1,
            ..Summary::default()
        });
        for fail_on in [FailOn::Error, FailOn::Warning, FailOn::Never] {
            assert_eq!(failed.exit_status(fail_on), ExitStatus::Error);
        }
    }
}
