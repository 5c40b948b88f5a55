//! The per-file pipeline and the parallel run: read, prefilter, load, build the template
//! view, run the rules, and keep only what the reports need (findings, errors, and the
//! text of files that have them). Trees are dropped as soon as their findings are out.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::base::{self, BaseFile, BaseRevision};
use crate::discover::{io_reason, Candidate, Discovery, Prefilter};
use crate::finding::{Finding, Severity, Suppression};
use crate::load::{self, Limits, LoadError};
use crate::model::Template;
use crate::rules::{self, Comparison, Head, Rule, RuleOptions};
use crate::source::{ContentHash, Excerpt, ExcerptBuilder, SourceText};
use crate::template_file::TemplateFile;

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
    /// The prefilter for the enabled rules; build it once per run, not per file.
    pub fn prefilter(&self) -> RuleFilter {
        let owners = self
            .rules
            .iter()
            .flat_map(|r| r.needles.iter().map(|_| r.code))
            .collect();
        RuleFilter {
            any: Prefilter::new(self.rules.iter().flat_map(|r| r.needles.iter().copied())),
            owners,
        }
    }

    fn override_severities(&self, findings: &mut [Finding]) {
        for finding in findings {
            if let Some(severity) = self.severity(finding.code) {
                finding.severity = severity;
            }
        }
    }

    fn severity(&self, code: &str) -> Option<Severity> {
        self.severities
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| *s)
    }
}

/// The enabled rules' prefilter: whether a file is parsed at all, and which rules then
/// run on it (the owners of the needle groups it holds). A rule runs only on a file that holds one of its needle
/// groups, as its documentation says, even when another rule's needles got the file
/// parsed.
pub struct RuleFilter {
    any: Prefilter,
    /// The rule that owns each of `any`'s groups, in order.
    owners: Vec<&'static str>,
}

impl RuleFilter {
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.any.may_match(bytes)
    }

    /// The codes of the rules that can fire on these bytes (all, when escapes could spell
    /// a needle).
    fn rules_for(&self, bytes: &[u8]) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = self
            .any
            .held_groups(bytes)
            .into_iter()
            .zip(&self.owners)
            .filter(|(held, _)| *held)
            .map(|(_, code)| *code)
            .collect();
        codes.dedup();
        codes
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
    pub errors: Vec<LoadError>,
    /// Every (logical ID, rule code) pair that was checked, so that reports listing checks
    /// (JUnit) show the passing ones too, not only the findings.
    pub checked: Vec<(String, &'static str)>,
    /// What the reports need of the text (positions, snippet lines), kept only when there
    /// is something to show. Never the whole file: see [`excerpt`].
    pub source: Option<Excerpt>,
    /// The bytes that were checked, for `--fix` to refuse a file changed since; set for
    /// files read from disk that have findings.
    pub checked_bytes: Option<ContentHash>,
}

impl FileReport {
    fn new(path: String, status: Status) -> Self {
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
    pub error_findings: usize,
    pub warning_findings: usize,
    /// Findings silenced by suppressions (not in `findings`).
    pub suppressed: usize,
    /// Findings recorded in the `--baseline` file (not in `findings`).
    pub baselined: usize,
    /// `--baseline` entries that no longer match a finding.
    pub stale_baseline: usize,
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
    pub stale_baseline: Vec<crate::baseline::Entry>,
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
    /// Recount the summary after findings moved (into the baseline, for instance).
    pub fn resummarize(&mut self) {
        self.summary = summarize(&self.files);
        self.summary.stale_baseline = self.stale_baseline.len();
    }

    /// 2 when anything could not be checked, 1 for an error-severity finding, else 0.
    pub fn exit_code(&self) -> i32 {
        self.exit_code_for(FailOn::Error)
    }

    /// 2 when anything could not be checked (fail closed, whatever `fail_on` says), 1 when
    /// a finding at or above `fail_on` exists, else 0.
    pub fn exit_code_for(&self, fail_on: FailOn) -> i32 {
        let s = &self.summary;
        let failing = match fail_on {
            FailOn::Error => s.error_findings,
            FailOn::Warning => s.error_findings + s.warning_findings,
            FailOn::Never => 0,
        };
        if s.errors > 0 {
            2
        } else if failing > 0 {
            1
        } else {
            0
        }
    }

    /// Attach an error found after the check (a refused fix) to its file, so that every
    /// format shows it and the exit code says something could not be done. `text` is the
    /// text the error's span points into, if it has one.
    pub fn add_error(&mut self, path: &str, error: LoadError, text: Option<&str>) {
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
        self.summary = summarize(&self.files);
    }
}

/// Check every discovered file in parallel; the result is in path order whatever the
/// thread count.
pub fn run(discovery: Discovery, settings: &Settings) -> Report {
    run_against(discovery, &BaseRevision::default(), settings)
}

/// [`run`], and compare each file that has a base version with it (`check --base`,
/// `diff`). Changed files the walk skipped (ignored, hidden) are checked anyway: a table
/// removed there is still removed.
pub fn run_against(discovery: Discovery, baseline: &BaseRevision, settings: &Settings) -> Report {
    run_against_counting(discovery, baseline, settings, &AtomicUsize::new(0))
}

/// [`run_against`], counting finished files in `done` so that a progress display can
/// poll it from another thread without being in the per-file path.
pub fn run_against_counting(
    discovery: Discovery,
    baseline: &BaseRevision,
    settings: &Settings,
    done: &AtomicUsize,
) -> Report {
    let started = Instant::now();
    let prefilter = settings.prefilter();
    let skipped = AtomicUsize::new(0);
    let mut candidates = discovery.files;
    let mut keys: Vec<Option<PathBuf>> = if baseline.pairs.is_empty() {
        vec![None; candidates.len()]
    } else {
        candidates
            .par_iter()
            .map(|c| Some(base::canonical(&c.path)))
            .collect()
    };
    let seen: HashSet<&PathBuf> = keys.iter().flatten().collect();
    let mut extra: Vec<(&PathBuf, &Candidate)> = baseline
        .pairs
        .iter()
        .filter(|(key, _)| !seen.contains(key))
        .map(|(key, pair)| (key, &pair.head))
        .collect();
    extra.sort();
    for (key, candidate) in extra {
        keys.push(Some(key.clone()));
        candidates.push(candidate.clone());
    }
    let mut files: Vec<FileReport> = candidates
        .par_iter()
        .zip(keys.par_iter())
        .map(|(c, key)| {
            let base = key
                .as_ref()
                .and_then(|k| baseline.pairs.get(k))
                .map(|p| &p.base);
            let file = check_file_against(c, base, settings, &prefilter);
            done.fetch_add(1, Ordering::Relaxed);
            file
        })
        .filter(|f| {
            let keep = f.status != Status::Skipped || !f.errors.is_empty();
            if !keep {
                skipped.fetch_add(1, Ordering::Relaxed);
            }
            keep
        })
        .collect();
    files.extend(
        baseline
            .deleted
            .par_iter()
            .map(|b| check_deleted(b, settings))
            .collect::<Vec<_>>(),
    );
    // A path named on the command line that is gone at the head but was a template at the
    // base is the deleted template just reported, not a missing path.
    let deleted: HashSet<&str> = baseline
        .deleted
        .iter()
        .map(|b| b.display.as_str())
        .collect();
    files.extend(
        discovery
            .errors
            .into_iter()
            .filter(|e| !deleted.contains(e.display.as_str()))
            .map(|e| failed(e.display, LoadError::new(e.message), None)),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut summary = summarize(&files);
    let skipped = skipped.into_inner();
    summary.files += skipped;
    summary.skipped += skipped;
    Report {
        files,
        summary,
        elapsed: started.elapsed(),
        stale_baseline: Vec::new(),
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
        s.findings += file.findings.len();
        s.suppressed += file.suppressed.len();
        s.baselined += file.baselined.len();
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
    check_file_against(candidate, None, settings, &settings.prefilter())
}

fn check_file_against(
    candidate: &Candidate,
    base: Option<&BaseFile>,
    settings: &Settings,
    prefilter: &RuleFilter,
) -> FileReport {
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match read_candidate(candidate, settings.max_file_size) {
            Ok(bytes) => check_prefiltered(
                &candidate.display,
                &candidate.path,
                &bytes,
                base,
                settings,
                prefilter,
            ),
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
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    if !std::fs::metadata(path).map_err(cannot_read)?.is_file() {
        return Err(not_regular());
    }
    read_regular_file(path, max)
}

/// [`read_file`] for a file the walk has just seen as a regular file (from its directory
/// entry, or a stat of a path given by name), which is the check `read_file` makes before
/// opening: a second stat per file was 7% of a run's CPU time. Both leave the same window
/// between the check and the open; the check on the open handle stays.
pub fn read_candidate(candidate: &Candidate, max: u64) -> Result<Vec<u8>, LoadError> {
    read_regular_file(&candidate.path, max)
}

fn cannot_read(e: std::io::Error) -> LoadError {
    LoadError::new(format!("cannot read file: {}", io_reason(&e)))
}

fn not_regular() -> LoadError {
    LoadError::new("not a regular file (a FIFO, socket or device cannot be a template)")
}

fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    let file = open_nonblocking(path).map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
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
        .map_err(cannot_read)?;
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
    check_bytes_against(display, path, bytes, None, settings)
}

/// [`check_bytes`], and compare with `base` when there is one. The head is parsed even
/// without a table in it: a table gone from the head is exactly what is looked for.
pub fn check_bytes_against(
    display: &str,
    path: &Path,
    bytes: &[u8],
    base: Option<&BaseFile>,
    settings: &Settings,
) -> FileReport {
    check_prefiltered(display, path, bytes, base, settings, &settings.prefilter())
}

fn check_prefiltered(
    display: &str,
    path: &Path,
    bytes: &[u8],
    base: Option<&BaseFile>,
    settings: &Settings,
    prefilter: &RuleFilter,
) -> FileReport {
    let mut report = FileReport::new(display.to_string(), Status::Skipped);
    let base = base.filter(|_| !rules::diff_rules(&settings.rules).is_empty());
    if base.is_none() && !prefilter.may_match(bytes) {
        return report;
    }
    let file = match TemplateFile::from_bytes(path, bytes, &settings.limits) {
        Ok(file) => file,
        // The text as far as it decodes: an error's span indexes the bytes.
        Err(error) => return failed(report.path, error, Some(&String::from_utf8_lossy(bytes))),
    };
    let text = file.text();
    let outcome = file.template().map(|template| {
        let tables = template.as_ref().map(|t| t.tables().count());
        let checked = template
            .as_ref()
            .map(|t| checks(t, settings))
            .unwrap_or_default();
        let applied = template
            .as_ref()
            .map(|t| {
                let may_fire = prefilter.rules_for(bytes);
                rules::check_resources_where(
                    t,
                    &settings.rules,
                    |r| may_fire.contains(&r.code),
                    &settings.options,
                )
            })
            .unwrap_or_default();
        let mut findings = applied.active;
        let mut suppressed = applied.suppressed;
        let mut base_error = None;
        if let Some(base) = base {
            let head = match &template {
                Some(t) => Head::Template(t),
                None => Head::NotTemplate,
            };
            match compare(base, head, settings) {
                Ok(more) if !more.is_empty() => {
                    findings.extend(more);
                    findings.sort_by_key(|f| (f.span.start, f.code));
                }
                Ok(_) => {}
                Err(error) => base_error = Some(error),
            }
        }
        settings.override_severities(&mut findings);
        for (finding, _) in &mut suppressed {
            settings.override_severities(std::slice::from_mut(finding));
        }
        (tables, checked, findings, suppressed, base_error)
    });
    match outcome {
        Ok((tables, checked, findings, suppressed, base_error)) => {
            report.status = match tables {
                Some(tables) => Status::Checked { tables },
                None => Status::NotTemplate,
            };
            report.checked = checked;
            report.findings = findings;
            report.suppressed = suppressed;
            report.errors.extend(base_error);
            if !report.findings.is_empty() || !report.suppressed.is_empty() {
                report.source = Some(excerpt(text, &report));
                report.checked_bytes = Some(ContentHash::of(bytes));
            }
        }
        Err(error) => return failed(report.path, error, Some(text)),
    }
    report
}

/// A base template whose file is gone at the head: every table in it is removed. The
/// findings point into the base text, the only text there is.
fn check_deleted(base: &BaseFile, settings: &Settings) -> FileReport {
    let mut report = FileReport::new(base.display.clone(), Status::Deleted);
    let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        compare(base, Head::Deleted, settings)
    }))
    .unwrap_or_else(|_| {
        Err(
            LoadError::new("internal error while comparing with this file").with_help(
                "this is a bug in ddb-guard; please report it with the file that triggers it",
            ),
        )
    });
    match compared {
        Ok(mut findings) => {
            settings.override_severities(&mut findings);
            report.findings = findings;
            if !report.findings.is_empty() {
                report.source = base
                    .bytes
                    .as_deref()
                    .ok()
                    .and_then(|b| load::decode(b).ok())
                    .map(|t| excerpt(t, &report));
            }
        }
        Err(error) => report.errors.push(error),
    }
    report
}

/// Load the base version and run the comparison rules against `head`. A base that does
/// not load is an error, never a pass: it may hold the table this change deletes.
fn compare(base: &BaseFile, head: Head, settings: &Settings) -> Result<Vec<Finding>, LoadError> {
    let diff_rules = rules::diff_rules(&settings.rules);
    if diff_rules.is_empty() {
        return Ok(Vec::new());
    }
    let bytes = base.bytes.as_deref().map_err(|why| {
        in_base(base, None, LoadError::new(why.clone()))
            .with_help("raise the limit with --max-file-size if the base really is a template")
    })?;
    let file = TemplateFile::from_bytes(&base.path, bytes, &settings.limits).map_err(|e| {
        let source = std::str::from_utf8(bytes).map(|text| SourceText::new(text.into()));
        in_base(base, source.as_ref().ok(), e)
    })?;
    let source = SourceText::new(file.text().into());
    let Some(template) = file
        .template()
        .map_err(|e| in_base(base, Some(&source), e))?
    else {
        return Ok(Vec::new());
    };
    let comparison = Comparison {
        base: &template,
        base_name: &base.name,
        base_source: &source,
        head,
        options: &settings.options,
    };
    Ok(rules::compare_templates(&comparison, &diff_rules))
}

/// A load error of the base version, told in the head file's report: its span indexes the
/// base text, so the position goes into the message instead.
fn in_base(base: &BaseFile, source: Option<&SourceText>, error: LoadError) -> LoadError {
    let at = match (source, error.span) {
        (Some(source), Some(span)) => {
            let p = source.position(span.start);
            format!(" (line {}, column {})", p.line, p.column)
        }
        _ => String::new(),
    };
    LoadError::new(format!(
        "cannot compare with the base version `{}`: {}{at}",
        base.name, error.message
    ))
    .with_help(
        "the base version must load to prove that no table is removed or replaced; compare with another base, or fix the file at the base",
    )
}

/// The checks a template got, for reports that list passing checks too: each per-table
/// rule on each table, and each other rule (IAM policies, untyped resources) once for the
/// whole template, as `("", code)`. Comparison rules (DDB020-022) are about the base's
/// tables, so they are not checks of this template.
fn checks(template: &Template, settings: &Settings) -> Vec<(String, &'static str)> {
    let compares: Vec<&str> = rules::diff_rules(&settings.rules)
        .iter()
        .map(|d| d.rule.code)
        .collect();
    let (per_table, whole): (Vec<&Rule>, Vec<&Rule>) = settings
        .rules
        .iter()
        .copied()
        .filter(|r| !compares.contains(&r.code) && !rules::changeset::is_changeset_rule(r.code))
        .partition(|r| r.per_table);
    let mut checked: Vec<(String, &'static str)> = template
        .tables()
        .flat_map(|t| per_table.iter().map(|r| (t.logical_id.to_string(), r.code)))
        .collect();
    checked.extend(whole.iter().map(|r| (String::new(), r.code)));
    checked
}

/// A file that could not be checked; `text` is what the error's span points into.
fn failed(path: String, error: LoadError, text: Option<&str>) -> FileReport {
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
fn excerpt(text: &str, report: &FileReport) -> Excerpt {
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

fn error_spans(builder: &mut ExcerptBuilder, error: &LoadError) {
    let labels = error.labels.iter().map(|l| l.span);
    match error.span {
        Some(span) => builder.diagnostic(&std::iter::once(span).chain(labels).collect::<Vec<_>>()),
        None => labels.for_each(|span| builder.point(span)),
    }
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
        }
    }

    #[test]
    fn fail_on_sets_the_lowest_severity_that_fails_the_run() {
        let warnings = report(Summary {
            findings: 1,
            warning_findings: 1,
            ..Summary::default()
        });
        assert_eq!(warnings.exit_code_for(FailOn::Error), 0);
        assert_eq!(warnings.exit_code_for(FailOn::Warning), 1);
        assert_eq!(warnings.exit_code_for(FailOn::Never), 0);
        let errors = report(Summary {
            findings: 1,
            error_findings: 1,
            ..Summary::default()
        });
        assert_eq!(errors.exit_code_for(FailOn::Error), 1);
        assert_eq!(errors.exit_code_for(FailOn::Warning), 1);
        assert_eq!(errors.exit_code_for(FailOn::Never), 0);
        assert_eq!(errors.exit_code(), 1);
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
            assert_eq!(failed.exit_code_for(fail_on), 2);
        }
    }

    #[test]
    fn skipped_files_are_counted_but_not_kept() {
        use crate::discover::{discover, WalkOptions};
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("table.yaml"),
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
        )
        .unwrap();
        for i in 0..3 {
            std::fs::write(
                dir.path().join(format!("bucket{i}.yaml")),
                "Resources:\n  B:\n    Type: AWS::S3::Bucket\n",
            )
            .unwrap();
        }
        let discovery = discover(&[dir.path().to_path_buf()], &WalkOptions::default());
        let report = run(discovery, &Settings::default());
        assert_eq!(report.summary.files, 4);
        assert_eq!(report.summary.skipped, 3);
        assert_eq!(report.summary.templates, 1);
        let kept: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].ends_with("table.yaml"), "{kept:?}");
        assert!(!report.files[0].findings.is_empty());
    }
}
