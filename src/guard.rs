//! The head cannot blind the pull-request guard: in `check --base REV`, the base revision's
//! `ddb-guard.toml` (rule selection, severities, `fail_on`) and `--baseline` file govern
//! the comparison rules (DDB020-DDB023, DDB902), and every change to them that makes the
//! guard see less is a finding of its own (DDB902 `guard-weakened`) at the changed line.
//! Excludes and ignore files never hide a changed template from the comparison (see
//! [`crate::base::from_git_base`]).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::base_revision::GitBase;
use crate::baseline::{Baseline, Entry};
use crate::check::Governing;
use crate::cli::CheckArgs;
use crate::config::{self, Config, FailOnName, GovernFn, Resolved};
use crate::finding::{Finding, Severity};
use crate::report::data::{excerpt, FileReport, Report, Status};
use crate::rules::{self, guard_weakened_finding as finding, Rule};
use crate::source::Span;

/// What the base revision decides for a `check --base` run.
pub struct Governed {
    /// The base's rule selection and severities, for `Settings::governing`.
    pub governing: Governing,
    /// The stricter of the base's and the head's `fail_on`.
    pub fail_on: Option<FailOnName>,
    /// DDB902 findings about the configuration and baseline files.
    pub reports: Vec<FileReport>,
    /// The base configuration's template extensions: a changed file with one of them is
    /// compared whatever the head's configuration says.
    pub extensions: Vec<String>,
    /// The base version of the `--baseline` file, whose entries alone may baseline the
    /// comparison rules' findings (`None`: the file did not exist at the base).
    pub base_baseline: Option<Baseline>,
}

/// Read the base revision's configuration and baseline and compare them with the head's.
/// `head` is the run's resolved settings (command line over the head's config file).
pub fn govern(git: &GitBase, args: &CheckArgs, head: &Resolved) -> Result<Governed, String> {
    let max = head.settings.max_file_size;
    let head_config = config::locate(args, &git.cwd).map_err(|e| e.to_string())?;
    let head_config = head_config.as_ref();
    let base_config = base_config(git, args, head_config, max)?;
    let base = config::resolve(args, base_config.as_ref())
        .map_err(|e| format!("the base revision's configuration: {e}"))?;
    let mut reports = Vec::new();
    let weakened = compare_configs(base_config.as_ref(), head_config, &base, head);
    let enabled = base
        .settings
        .rules
        .iter()
        .any(|r| r.code == rules::GUARD_WEAKENED.code);
    let governing = Governing {
        rules: base.settings.rules.clone(),
        severities: base.settings.severities.clone(),
    };
    let severity = |mut f: Finding| {
        if let Some((_, s)) = governing.severities.iter().find(|(c, _)| *c == f.code) {
            f.severity = *s;
        }
        f
    };
    if enabled && !weakened.is_empty() {
        // Point into the head's file; a deleted file has only its base text.
        let (path, text) = match (head_config, &base_config) {
            (Some(h), _) => (h.path.clone(), h.text().to_string()),
            (None, Some(b)) => (b.path.clone(), b.text().to_string()),
            (None, None) => (PathBuf::from(config::FILE_NAME), String::new()),
        };
        reports.push(of_findings(
            display(&path, &git.cwd),
            &text,
            weakened.into_iter().map(severity).collect(),
        ));
    }
    let mut base_baseline = None;
    if let Some(path) = &args.baseline {
        let base_text = read_at_base(git, path, max)?;
        base_baseline = match &base_text {
            Some(text) => Some(
                serde_json::from_str::<Baseline>(text)
                    .map_err(|e| format!("the base version of {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let head_text = std::fs::read_to_string(path).unwrap_or_default();
        let added = added_entries(base_baseline.as_ref(), &head_text);
        if enabled && !added.is_empty() {
            let findings = added
                .into_iter()
                .map(|(entry, span)| {
                    severity(finding(
                        &entry.resource,
                        span,
                        format!(
                            "this change adds a baseline entry for {} on `{}` in `{}`: that finding would no longer fail the run",
                            entry.rule, entry.resource, entry.path
                        ),
                        "new baseline entry",
                    ))
                })
                .collect();
            reports.push(of_findings(
                path.display().to_string(),
                &head_text,
                findings,
            ));
        }
    }
    let (b, h) = (
        base.fail_on.unwrap_or(FailOnName::Error),
        head.fail_on.unwrap_or(FailOnName::Error),
    );
    let fail_on = Some(if leniency(b) <= leniency(h) { b } else { h });
    Ok(Governed {
        extensions: base.walk.extensions.clone(),
        governing,
        fail_on,
        reports,
        base_baseline,
    })
}

/// 0 for the strictest `fail_on`.
fn leniency(f: FailOnName) -> u8 {
    match f {
        FailOnName::Warning => 0,
        FailOnName::Error => 1,
        FailOnName::Never => 2,
    }
}

impl Governed {
    /// Add the configuration and baseline findings to a finished run's report.
    pub fn add_to(&self, report: &mut Report) {
        report.files.extend(self.reports.iter().cloned());
        report.files.sort_by(|a, b| a.path.cmp(&b.path));
        report.resummarize();
    }

    /// The baseline the run applies: the head's entries for every rule but the comparison
    /// rules, whose entries come from the base version of the file only.
    pub fn baseline(&self, head: Baseline) -> Baseline {
        let mut findings: Vec<Entry> = head
            .findings
            .into_iter()
            .filter(|e| !rules::is_comparison(&e.rule))
            .collect();
        findings.extend(
            self.base_baseline
                .iter()
                .flat_map(|b| b.findings.iter())
                .filter(|e| rules::is_comparison(&e.rule))
                .cloned(),
        );
        Baseline {
            version: head.version,
            findings,
        }
    }
}

/// How a report names `path`: relative to the current directory when below it.
fn display(path: &Path, cwd: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .strip_prefix(cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// The root-relative, `/`-separated path of `path` in the repository, if it is in it.
fn in_repo(git: &GitBase, path: &Path) -> Option<String> {
    let absolute = std::path::absolute(git.cwd.join(path)).ok()?;
    let root = std::fs::canonicalize(&git.repo.root).unwrap_or(git.repo.root.clone());
    let parent = absolute.parent()?;
    let parent = std::fs::canonicalize(parent).unwrap_or(parent.to_path_buf());
    let rel = parent.strip_prefix(&root).ok()?.join(absolute.file_name()?);
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// The text of `path` at the base commit; `None` when the base has no such file. A file
/// outside the repository is the same on both sides.
fn read_at_base(git: &GitBase, path: &Path, max: u64) -> Result<Option<String>, String> {
    let Some(rel) = in_repo(git, path) else {
        return Ok(std::fs::read_to_string(path).ok());
    };
    if !git
        .repo
        .has_file(&git.commit, &rel)
        .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    match git
        .repo
        .read(&git.commit, &rel, max)
        .map_err(|e| e.to_string())?
    {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("the base version of `{rel}` is not UTF-8")),
        None => Err(format!(
            "the base version of `{rel}` is larger than the {max} byte limit"
        )),
    }
}

/// The configuration file the base revision had where the head looks for one: `--config`,
/// else the nearest `ddb-guard.toml` at the base above the current directory.
fn base_config(
    git: &GitBase,
    args: &CheckArgs,
    head: Option<&Config>,
    max: u64,
) -> Result<Option<Config>, String> {
    if args.config_file.isolated {
        return Ok(None);
    }
    let parse = |path: &Path, text: String| {
        Config::parse(path, text)
            .map(Some)
            .map_err(|e| format!("the base revision's configuration: {e}"))
    };
    if let Some(path) = &args.config_file.config {
        return match read_at_base(git, path, max)? {
            Some(text) => parse(path, text),
            None => Ok(None),
        };
    }
    let root = std::fs::canonicalize(&git.repo.root).unwrap_or(git.repo.root.clone());
    let cwd = std::fs::canonicalize(&git.cwd).unwrap_or(git.cwd.clone());
    for dir in cwd.ancestors() {
        if !dir.starts_with(&root) {
            // Above the repository: the same file on both sides.
            return match head {
                Some(h) if !h.path.starts_with(&root) => {
                    Config::load(&h.path).map(Some).map_err(|e| e.to_string())
                }
                _ => Ok(config::find(dir)
                    .map(|p| Config::load(&p))
                    .transpose()
                    .map_err(|e| e.to_string())?),
            };
        }
        let path = dir.join(config::FILE_NAME);
        if let Some(text) = read_at_base(git, &path, max)? {
            return parse(&path, text);
        }
    }
    Ok(None)
}

/// The base revision's choices for the files of each directory (`Resolver::set_govern`):
/// the nearest `ddb-guard.toml` the base revision had above the directory (up to the
/// repository root; above it, the file on disk, the same on both sides), or the base
/// version of `--config`, or none with `--isolated`. So a pull request that adds or edits
/// a service's own config cannot switch off the comparison rules for that service.
pub fn per_directory(git: &GitBase, args: &CheckArgs, max: u64) -> Result<Box<GovernFn>, String> {
    let root = std::fs::canonicalize(&git.repo.root).unwrap_or(git.repo.root.clone());
    let at_base: BTreeSet<String> =
        if args.config_file.isolated || args.config_file.config.is_some() {
            BTreeSet::new()
        } else {
            git.repo
                .files_named(&git.commit, config::FILE_NAME)
                .map_err(|e| e.to_string())?
                .into_iter()
                .collect()
        };
    let fixed = match (&args.config_file.config, args.config_file.isolated) {
        (_, true) => Some(None),
        (Some(_), false) => Some(base_config(git, args, None, max)?),
        (None, false) => None,
    };
    let fixed = fixed.map(Arc::new);
    let git = BaseReader {
        repo: git.repo.clone(),
        commit: git.commit.clone(),
    };
    let args = args.clone();
    let cache: Mutex<HashMap<PathBuf, Result<config::BaseChoice, String>>> =
        Mutex::new(HashMap::new());
    Ok(Box::new(move |dir: &Path| {
        if let Some(hit) = lock(&cache).get(dir) {
            return hit.clone();
        }
        let found: Result<Option<Config>, String> = match &fixed {
            Some(fixed) => Ok(fixed.as_ref().clone()),
            None => {
                let canonical = canonical_dir(dir);
                match canonical.strip_prefix(&root) {
                    Ok(rel) => {
                        let nearest = rel
                            .ancestors()
                            .map(|d| {
                                let mut parts: Vec<String> = d
                                    .components()
                                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                                    .collect();
                                parts.push(config::FILE_NAME.to_string());
                                parts.join("/")
                            })
                            .find(|p| at_base.contains(p));
                        match nearest {
                            Some(rel) => git.read(&rel, max).and_then(|text| {
                                let path = root.join(&rel);
                                Config::parse(&path, text)
                                    .map(Some)
                                    .map_err(|e| format!("the base revision's configuration: {e}"))
                            }),
                            // Above the repository: the same file on both sides.
                            None => root
                                .parent()
                                .and_then(config::find)
                                .map(|p| Config::load(&p))
                                .transpose()
                                .map_err(|e| e.to_string()),
                        }
                    }
                    Err(_) => config::find(&canonical)
                        .map(|p| Config::load(&p))
                        .transpose()
                        .map_err(|e| e.to_string()),
                }
            }
        };
        let result = found.and_then(|config| {
            let resolved = config::resolve(&args, config.as_ref())
                .map_err(|e| format!("the base revision's configuration: {e}"))?;
            Ok((
                config.map(|c| c.path),
                Governing {
                    rules: resolved.settings.rules,
                    severities: resolved.settings.severities,
                },
            ))
        });
        lock(&cache).insert(dir.to_path_buf(), result.clone());
        result
    }))
}

/// DDB902 for every pair of config files (the head's, the base's) that governed a
/// checked file: a change to a service's own config that makes the guard see less is a
/// finding as much as one to the config of the current directory. Reports already made
/// (`known`, the run's own pair) are not repeated.
pub fn weakened_per_directory(
    git: &GitBase,
    args: &CheckArgs,
    pairs: &[config::ConfigPair],
    known: &[FileReport],
    max: u64,
) -> Result<Vec<FileReport>, String> {
    let mut out: Vec<FileReport> = Vec::new();
    for (head_path, base_path) in pairs {
        let head_config = head_path
            .as_deref()
            .map(Config::load)
            .transpose()
            .map_err(|e| e.to_string())?;
        let base_config = match base_path {
            Some(path) => match read_at_base(git, path, max)? {
                Some(text) => Some(
                    Config::parse(path, text)
                        .map_err(|e| format!("the base revision's configuration: {e}"))?,
                ),
                None => None,
            },
            None => None,
        };
        let head = config::resolve(args, head_config.as_ref()).map_err(|e| e.to_string())?;
        let base = config::resolve(args, base_config.as_ref())
            .map_err(|e| format!("the base revision's configuration: {e}"))?;
        if !base
            .settings
            .rules
            .iter()
            .any(|r| r.code == rules::GUARD_WEAKENED.code)
        {
            continue;
        }
        let weakened = compare_configs(base_config.as_ref(), head_config.as_ref(), &base, &head);
        if weakened.is_empty() {
            continue;
        }
        let severity = |mut f: Finding| {
            if let Some((_, s)) = base.settings.severities.iter().find(|(c, _)| *c == f.code) {
                f.severity = *s;
            }
            f
        };
        let (path, text) = match (&head_config, &base_config) {
            (Some(h), _) => (h.path.clone(), h.text().to_string()),
            (None, Some(b)) => (b.path.clone(), b.text().to_string()),
            (None, None) => continue,
        };
        let display = display(&path, &git.cwd);
        let seen = |f: &Finding| {
            known.iter().chain(out.iter()).any(|r| {
                r.path == display
                    && r.findings
                        .iter()
                        .any(|k| k.span == f.span && k.message == f.message)
            })
        };
        let findings: Vec<Finding> = weakened
            .into_iter()
            .map(severity)
            .filter(|f| !seen(f))
            .collect();
        if findings.is_empty() {
            continue;
        }
        match out.iter_mut().find(|r| r.path == display) {
            Some(report) => {
                report.findings.extend(findings);
                report.findings.sort_by_key(|f| f.span.start);
                report.source = Some(excerpt(&text, report));
            }
            None => out.push(of_findings(display, &text, findings)),
        }
    }
    Ok(out)
}

/// What reading a base file needs, owned (the closure above outlives the run's setup).
struct BaseReader {
    repo: crate::git::Repo,
    commit: String,
}

impl BaseReader {
    fn read(&self, rel: &str, max: u64) -> Result<String, String> {
        match self
            .repo
            .read(&self.commit, rel, max)
            .map_err(|e| e.to_string())?
        {
            Some(bytes) => String::from_utf8(bytes)
                .map_err(|_| format!("the base version of `{rel}` is not UTF-8")),
            None => Err(format!(
                "the base version of `{rel}` is larger than the {max} byte limit"
            )),
        }
    }
}

fn canonical_dir(dir: &Path) -> PathBuf {
    // The directory may be gone at the head (a deleted template's); its nearest existing
    // ancestor is canonicalized and the rest kept.
    let mut rest = Vec::new();
    let mut at = dir;
    loop {
        if let Ok(c) = std::fs::canonicalize(at) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (at.file_name(), at.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return dir.to_path_buf(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every change from `base` to `head` that makes the guard see less, at the head's line.
fn compare_configs(
    base_file: Option<&Config>,
    head_file: Option<&Config>,
    base: &Resolved,
    head: &Resolved,
) -> Vec<Finding> {
    let text = head_file.map(|c| c.text()).unwrap_or_default();
    let whole = Span::new(0, 0);
    let key = |name: &str| key_span(text, name).unwrap_or(whole);
    let spanned = |r: std::ops::Range<usize>| Span::new(r.start, r.end);
    let mut findings = Vec::new();
    let gone = head_file.is_none() && base_file.is_some();
    let what = if gone {
        "this change deletes the configuration file, and"
    } else {
        "this change"
    };

    // Rules enabled at the base and not at the head.
    for rule in &base.settings.rules {
        if head.settings.rules.iter().any(|r| r.code == rule.code) {
            continue;
        }
        let at = head_file
            .and_then(|c| {
                c.file
                    .ignore
                    .iter()
                    .find(|s| names(s.get_ref(), rule))
                    .map(|s| spanned(s.span()))
            })
            .unwrap_or_else(|| {
                if head_file.is_some_and(|c| c.file.select.is_some()) {
                    key("select")
                } else {
                    key("extend_select")
                }
            });
        findings.push(finding(
            rule.code,
            at,
            format!(
                "{what} turns off {} ({}), which the base revision runs",
                rule.code, rule.name
            ),
            "rule turned off",
        ));
    }
    // Severities lowered.
    let severity_of = |r: &Resolved, rule: &Rule| -> Severity {
        r.settings
            .severities
            .iter()
            .find(|(c, _)| *c == rule.code)
            .map(|(_, s)| *s)
            .unwrap_or(rule.severity)
    };
    for rule in &base.settings.rules {
        if !head.settings.rules.iter().any(|r| r.code == rule.code) {
            continue;
        }
        let (b, h) = (severity_of(base, rule), severity_of(head, rule));
        if h >= b {
            continue;
        }
        let at = head_file
            .and_then(|c| {
                c.file
                    .severity
                    .keys()
                    .find(|s| names(s.get_ref(), rule))
                    .map(|s| spanned(s.span()))
            })
            .unwrap_or_else(|| key("severity"));
        findings.push(finding(
            rule.code,
            at,
            format!(
                "{what} lowers the severity of {} ({}) from {} to {}",
                rule.code,
                rule.name,
                b.as_str(),
                h.as_str()
            ),
            "severity lowered",
        ));
    }
    // New exclude patterns.
    let base_excludes: BTreeSet<&str> = base_file
        .and_then(|c| c.file.exclude.as_ref())
        .into_iter()
        .flatten()
        .map(|s| s.get_ref().as_str())
        .collect();
    for pattern in head_file
        .and_then(|c| c.file.exclude.as_ref())
        .into_iter()
        .flatten()
    {
        if !base_excludes.contains(pattern.get_ref().as_str()) {
            findings.push(finding(
                "exclude",
                spanned(pattern.span()),
                format!(
                    "this change adds the exclude pattern `{}`: the files it matches are no longer checked",
                    pattern.get_ref()
                ),
                "new exclude",
            ));
        }
    }
    // Extensions dropped.
    for ext in &base.walk.extensions {
        if !head
            .walk
            .extensions
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext))
        {
            findings.push(finding(
                "extensions",
                key("extensions"),
                format!("{what} stops checking files with the extension `{ext}`"),
                "extension dropped",
            ));
        }
    }
    let flags = [
        (
            "force_exclude",
            base.walk.force_exclude,
            head.walk.force_exclude,
            true,
            "applies `exclude` to files named on the command line too",
        ),
        (
            "respect_gitignore",
            base.walk.respect_ignore,
            head.walk.respect_ignore,
            true,
            "skips files that .gitignore and .ignore list",
        ),
        (
            "allow_retain_except_on_create",
            base.settings.options.allow_retain_except_on_create,
            head.settings.options.allow_retain_except_on_create,
            true,
            "accepts `RetainExceptOnCreate` as retaining a table",
        ),
    ];
    for (name, b, h, weaker, says) in flags {
        if b != h && h == weaker {
            findings.push(finding(
                name,
                key(name),
                format!("{what} turns on `{name}`, which {says}"),
                "guard narrowed",
            ));
        }
    }
    let fail_on = |c: Option<&Config>| c.and_then(|c| c.file.fail_on).unwrap_or(FailOnName::Error);
    let (b, h) = (fail_on(base_file), fail_on(head_file));
    if leniency(h) > leniency(b) {
        findings.push(finding(
            "fail_on",
            key("fail_on"),
            format!(
                "{what} makes `fail_on` more lenient ({} to {}): findings that failed the run no longer do",
                fail_on_name(b),
                fail_on_name(h)
            ),
            "fail_on relaxed",
        ));
    }
    findings.sort_by_key(|f| f.span.start);
    findings
}

fn fail_on_name(f: FailOnName) -> &'static str {
    match f {
        FailOnName::Warning => "warning",
        FailOnName::Error => "error",
        FailOnName::Never => "never",
    }
}

/// Does `selector` (a code, a name, a prefix or `ALL`) cover `rule`?
fn names(selector: &str, rule: &Rule) -> bool {
    crate::ruleset::select::expand(selector).is_ok_and(|rs| rs.iter().any(|r| r.code == rule.code))
}

/// The span of the first line that sets `name` (`name = ...` or a `[name]` table).
fn key_span(text: &str, name: &str) -> Option<Span> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let sets = trimmed
            .strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
            || trimmed
                .strip_prefix('[')
                .and_then(|r| r.trim_start().strip_prefix(name))
                .is_some_and(|rest| rest.trim_start().starts_with(']'));
        if sets {
            let end = line.trim_end().len();
            return Some(Span::new(offset + indent, offset + end));
        }
        offset += line.len();
    }
    None
}

/// The entries of the head's baseline file that the base's does not have, each with the
/// span of its object in `head_text`.
fn added_entries(base: Option<&Baseline>, head_text: &str) -> Vec<(Entry, Span)> {
    let Ok(head) = serde_json::from_str::<Baseline>(head_text) else {
        return Vec::new();
    };
    let known: BTreeSet<&Entry> = base.iter().flat_map(|b| b.findings.iter()).collect();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    head.findings
        .iter()
        .filter(|e| !known.contains(e))
        .map(|e| (e.clone(), entry_span(head_text, e, &mut used)))
        .collect()
}

/// The `{...}` object holding `entry` in the baseline text (the first not yet used).
fn entry_span(text: &str, entry: &Entry, used: &mut BTreeSet<usize>) -> Span {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let (rule, path, resource) = (
        quoted(&entry.rule),
        quoted(&entry.path),
        quoted(&entry.resource),
    );
    let mut from = 0;
    while let Some(i) = text[from..].find(&rule) {
        let at = from + i;
        from = at + rule.len();
        let start = text[..at].rfind('{').unwrap_or(0);
        let end = text[at..].find('}').map_or(text.len(), |j| at + j + 1);
        let object = &text[start..end];
        if object.contains(&path) && object.contains(&resource) && used.insert(start) {
            return Span::new(start, end);
        }
    }
    Span::new(0, 0)
}

/// The report of a file that is not a template but holds findings (a configuration or
/// baseline file weakened in a pull request), with what the reports need of `text`.
fn of_findings(path: String, text: &str, findings: Vec<Finding>) -> FileReport {
    let mut report = FileReport::new(path, Status::NotTemplate);
    report.findings = findings;
    report.source = Some(excerpt(text, &report));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_spans_find_assignments_and_tables() {
        let text = "# fail_on = never\nselect = [\"ALL\"]\n  fail_on  = \"never\"\n[severity]\n";
        let at = key_span(text, "fail_on").map(|s| &text[s.start..s.end]);
        assert_eq!(at, Some("fail_on  = \"never\""));
        let at = key_span(text, "severity").map(|s| &text[s.start..s.end]);
        assert_eq!(at, Some("[severity]"));
        assert_eq!(key_span(text, "exclude"), None);
    }

    #[test]
    fn added_baseline_entries_point_at_their_objects() {
        let base: Baseline = serde_json::from_str(
            r#"{"version":1,"findings":[{"path":"a.yaml","resource":"T","rule":"DDB003"}]}"#,
        )
        .unwrap_or_else(|_| Baseline {
            version: 1,
            findings: Vec::new(),
        });
        let head = "{\n  \"version\": 1,\n  \"findings\": [\n    {\"path\": \"a.yaml\", \"resource\": \"T\", \"rule\": \"DDB003\"},\n    {\"path\": \"a.yaml\", \"resource\": \"T\", \"rule\": \"DDB020\"}\n  ]\n}\n";
        let added = added_entries(Some(&base), head);
        assert_eq!(added.len(), 1);
        let (entry, span) = &added[0];
        assert_eq!(entry.rule, "DDB020");
        assert!(head[span.start..span.end].contains("DDB020"));
        assert!(!head[span.start..span.end].contains("DDB003"));
    }
}
