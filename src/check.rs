//! The per-file pipeline and the parallel run: read, prefilter, load, build the template
//! view, run the rules, and keep only what the reports need (findings, errors, and the
//! text of files that have them). Trees are dropped as soon as their findings are out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::base_revision::{self, BaseFile, BaseFiles, BaseRevision};
use crate::discover::{Candidate, Discovery};
use crate::finding::{Finding, Severity};
use crate::load::{self, FileError, Limits};
use crate::model::nested::{self, Location};
use crate::model::Template;
use crate::prefilter::RuleFilter;
use crate::read;
use crate::report::data::{
    excerpt, failed, summarize, FileReport, Include, Report, Status, Summary,
};
use crate::rules::{self, Comparison, Head, Rule, RuleOptions};
use crate::ruleset;
use crate::source::{ContentHash, SourceText};
use crate::template_file::TemplateFile;
use crate::timings::{self, Stage};

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
    /// In a pull-request comparison, the base revision's rule selection and severities,
    /// which govern the comparison rules (DDB020-DDB023, DDB902): the change under review
    /// cannot switch off or soften the checks of itself.
    pub governing: Option<Governing>,
    /// The guardrails the checked policies must contain (DDB013; `require_guardrails`).
    pub required_guardrails: Vec<rules::iam::required_guardrail::Requirement>,
}

/// The base revision's choices for the comparison rules (see [`Settings::governing`]).
#[derive(Clone, Default)]
pub struct Governing {
    pub rules: Vec<&'static Rule>,
    pub severities: Vec<(&'static str, Severity)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: rules::default_rules(),
            options: RuleOptions::default(),
            severities: Vec::new(),
            limits: Limits::default(),
            max_file_size: 64 * 1024 * 1024,
            governing: None,
            required_guardrails: Vec::new(),
        }
    }
}

impl Settings {
    /// The comparison rules that run: the base revision's selection when it governs.
    pub fn diff_rules(&self) -> Vec<&'static Rule> {
        match &self.governing {
            Some(g) => rules::diff_rules(&g.rules),
            None => rules::diff_rules(&self.rules),
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
        let severities = match &self.governing {
            Some(g) if rules::is_comparison(code) => &g.severities,
            _ => &self.severities,
        };
        severities.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
    }
}

/// One set of [`Settings`] and the prefilter built from them (once per config file, not
/// per file), with the config file they come from.
pub struct Profile {
    pub settings: Settings,
    prefilter: RuleFilter,
    /// The config file, as reports name it (`None`: no config file).
    pub config: Option<String>,
}

impl Profile {
    pub fn new(settings: Settings, config: Option<String>) -> Profile {
        let prefilter = RuleFilter::new(&settings.rules);
        Profile {
            settings,
            prefilter,
            config,
        }
    }
}

/// The settings each file is checked with: those of its nearest `ddb-guard.toml`
/// (`config::Resolver`). A config that cannot be used is that file's error.
pub trait Profiles: Send + Sync {
    fn profile(&self, path: &Path) -> Result<Arc<Profile>, FileError>;
}

/// Checks files with the settings that apply to each (one [`Profile`] for the whole run,
/// or each file's from [`Profiles`]). The one way to check anything: the commands, the
/// fix engine's re-check, the fuzz targets and the tests all go through it.
pub struct Checker {
    /// The run's own settings: run-level choices (limits, required guardrails) and every
    /// file's when there are no per-file profiles.
    run: Arc<Profile>,
    profiles: Option<Arc<dyn Profiles>>,
    /// Keep the reports of files that passed (no finding, error or include), for reports
    /// that list passing checks (JUnit) and baselines that judge every checked file. Off,
    /// a passing file is only counted, so memory grows with what is found, not with the
    /// size of the tree.
    keep_passing: bool,
}

impl Checker {
    pub fn new(settings: Settings) -> Checker {
        Checker {
            run: Arc::new(Profile::new(settings, None)),
            profiles: None,
            keep_passing: true,
        }
    }

    /// Check each file with the profile `profiles` gives it; `run` holds the run-level
    /// settings.
    pub fn with_profiles(run: Profile, profiles: Arc<dyn Profiles>) -> Checker {
        Checker {
            run: Arc::new(run),
            profiles: Some(profiles),
            keep_passing: true,
        }
    }

    /// Whether [`Checker::check_against`] keeps the reports of files that passed (the
    /// default) or only counts them in [`Report::unlisted`].
    pub fn keeping_passing(self, keep_passing: bool) -> Checker {
        Checker {
            keep_passing,
            ..self
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.run.settings
    }

    /// The profile that applies to `path`.
    pub fn profile(&self, path: &Path) -> Result<Arc<Profile>, FileError> {
        match &self.profiles {
            Some(profiles) => profiles.profile(path),
            None => Ok(self.run.clone()),
        }
    }

    /// Check every discovered file in parallel; the result is in path order whatever the
    /// thread count.
    pub fn check(&self, discovery: Discovery) -> Report {
        self.check_against(discovery, &BaseRevision::default(), None)
    }

    /// [`Checker::check`], and compare each file that has a base version with it (`check
    /// --base`, `diff`). Changed files the walk skipped (ignored, hidden) are checked
    /// anyway: a table removed there is still removed. Each finished file is counted in
    /// `done`, so that a progress display can poll it from another thread without being in
    /// the per-file path.
    pub fn check_against(
        &self,
        discovery: Discovery,
        baseline: &BaseRevision,
        done: Option<&AtomicUsize>,
    ) -> Report {
        self.run(Source::Listed(discovery), baseline, done, None).0
    }

    /// [`Checker::check`], handing each file's report to `emit` as soon as it and every
    /// file before it are done, in the order of the final report, instead of keeping it:
    /// memory stays bounded by the files in flight, not the size of the tree. A file
    /// that a step across files still needs (it includes nested templates, brings in
    /// Serverless fragments, or holds DDB013 guardrail facts) is kept in the returned
    /// report instead, with the files only those steps produce (included templates not
    /// walked, walk errors, DDB013's report). When such a step changes a file that was
    /// emitted (the findings of an included template name who includes it; a Serverless
    /// fragment is part of its service, not a file of its own), the file is checked
    /// again (the check is pure), kept in the report, and its path listed in the
    /// returned set: its emitted output is to be replaced by the report's (or dropped).
    /// The returned report's counts cover every file, emitted or not; emitted files are
    /// counted in [`Report::unlisted`].
    ///
    /// Only for a check without a base revision and without keeping passing files.
    ///
    /// The files come from `walk` one at a time: no list of them is kept. The steps
    /// across files that look a walked file up (is an included template one the walk
    /// found, which walked files are a service's fragments) walk again with `again`.
    pub fn check_streaming(
        &self,
        walk: crate::discover::Walk,
        again: &dyn Fn() -> crate::discover::Walk,
        done: Option<&AtomicUsize>,
        emit: &mut dyn FnMut(&FileReport),
    ) -> (Report, HashSet<String>) {
        self.run(
            Source::Walked { walk, again },
            &BaseRevision::default(),
            done,
            Some(emit),
        )
    }

    fn run(
        &self,
        source: Source,
        baseline: &BaseRevision,
        done: Option<&AtomicUsize>,
        mut emit: Option<&mut dyn FnMut(&FileReport)>,
    ) -> (Report, HashSet<String>) {
        let mut replaced: HashSet<String> = HashSet::new();
        let started = Instant::now();
        let skipped = AtomicUsize::new(0);
        let skipped_templates = AtomicUsize::new(0);
        let (mut walk, again, mut candidates, listed_errors) = match source {
            Source::Listed(discovery) => (None, None, discovery.files, discovery.errors),
            Source::Walked { walk, again } => (Some(walk), Some(again), Vec::new(), Vec::new()),
        };
        let mut keys: Vec<Option<PathBuf>> = if baseline.pairs.is_empty() {
            vec![None; candidates.len()]
        } else {
            candidates
                .par_iter()
                .map(|c| Some(base_revision::canonical(&c.path)))
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
        let mut files: Vec<FileReport> = Vec::new();
        let mut unlisted = Summary::default();
        let threads = rayon::current_num_threads();
        let items: Box<dyn Iterator<Item = (Candidate, Option<PathBuf>)> + Send + '_> = match walk
            .as_mut()
        {
            Some(walk) => Box::new(
                std::mem::replace(&mut walk.files, Box::new(std::iter::empty())).map(|c| (c, None)),
            ),
            None => Box::new(candidates.iter().cloned().zip(keys.iter().cloned())),
        };
        crate::ordered::map(
            items,
            threads,
            threads * crate::ordered::WINDOW_PER_THREAD,
            |(c, key)| {
                let c = &c;
                let base = key
                    .as_ref()
                    .and_then(|k| baseline.pairs.get(k))
                    .map(|p| &p.base);
                let mut file = self.check_candidate(c, base, &skipped_templates);
                // A Serverless service whose file did not change may still have: its
                // fragments are part of it, so it is compared with its base version. So
                // is a template with a local nested template, which may have changed: the
                // outputs it reads from that stack may have too (DDB022).
                if base.is_none() && (!file.fragments.is_empty() || !file.includes.is_empty()) {
                    if let Some(base) = baseline.base_of(c, self.settings().max_file_size) {
                        file = self.check_candidate(c, Some(&base), &skipped_templates);
                    }
                }
                if let Some(done) = done {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                file
            },
            |f| {
                if f.status == Status::Skipped && f.errors.is_empty() {
                    skipped.fetch_add(1, Ordering::Relaxed);
                } else if !self.keep_passing && only_counted(&f) {
                    unlisted.count_unlisted(f.status);
                } else if let (Some(emit), false) = (emit.as_mut(), needed_across_files(&f)) {
                    emit(&f);
                    unlisted = unlisted.plus(&summarize(std::slice::from_ref(&f)));
                } else {
                    files.push(f);
                }
            },
        );
        let walk_errors = match &walk {
            Some(walk) => walk.errors(),
            None => listed_errors,
        };
        // Every walked file again, one at a time, for the steps across files below.
        let listed = &candidates;
        let walked = |visit: &mut dyn FnMut(Candidate)| match again {
            Some(again) => again().files.for_each(visit),
            None => listed.iter().cloned().for_each(visit),
        };
        // A file a Serverless service brings in with `${file(...)}` is checked in place, as
        // part of the service (its extensions, its provider's statements): checked again on
        // its own it would be a different, partial template (`--fix` would edit it too).
        let fragments: HashSet<PathBuf> = files
            .iter()
            .flat_map(|f| f.fragments.iter().cloned())
            .collect();
        if !fragments.is_empty() {
            files.retain(|f| {
                !f.fragments.is_empty()
                    || !fragments.contains(&base_revision::canonical(Path::new(&f.path)))
            });
            // A fragment that passed on its own was only counted: take it out of the
            // counts too (checked again: fragments are few, and the check is pure).
            if !self.keep_passing {
                let streamed = emit.is_some();
                walked(&mut |c| {
                    let canonical = base_revision::canonical(&c.path);
                    if !fragments.contains(&canonical) {
                        return;
                    }
                    let base = baseline.pairs.get(&canonical).map(|p| &p.base);
                    let none = AtomicUsize::new(0);
                    let file = self.check_candidate(&c, base, &none);
                    if file.status != Status::Skipped && only_counted(&file) {
                        unlisted.uncount(file.status);
                    } else if streamed && was_emitted(&file) {
                        // Emitted on its own: its output goes, and its counts.
                        unlisted = unlisted.minus(&summarize(std::slice::from_ref(&file)));
                        replaced.insert(file.path.clone());
                    }
                });
            }
        }
        let mut recalled = emit.is_some().then_some(Recalled {
            counts: &mut unlisted,
            paths: &mut replaced,
        });
        self.follow_includes(
            &mut files,
            &walked,
            baseline,
            &skipped,
            &skipped_templates,
            recalled.as_mut(),
        );
        let deleted: Vec<(&BaseFile, FileReport)> = baseline
            .deleted
            .par_iter()
            .map(|b| (b, self.check_deleted(b)))
            .collect();
        // A deleted file that a base service brought in with `${file(...)}` was part of
        // that service, compared with it: not a template deleted on its own.
        let base_fragments: HashSet<String> = files
            .iter()
            .chain(deleted.iter().map(|(_, r)| r))
            .flat_map(|f| f.base_fragments.iter().cloned())
            .collect();
        files.extend(deleted.into_iter().filter_map(|(b, report)| {
            let path = crate::read::without_dot_segments(&b.path);
            (!base_fragments.contains(&path)).then_some(report)
        }));
        // A path named on the command line that is gone at the head but was a template at
        // the base is the deleted template just reported, not a missing path.
        let deleted: HashSet<&str> = baseline
            .deleted
            .iter()
            .map(|b| b.display.as_str())
            .collect();
        files.extend(
            walk_errors
                .into_iter()
                .filter(|e| !deleted.contains(e.display.as_str()))
                .map(|e| failed(e.display, FileError::new(e.message), None)),
        );
        files.extend(required_guardrails(&files, &self.run.settings));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let skipped = skipped.into_inner();
        unlisted.files += skipped;
        unlisted.skipped += skipped;
        let mut summary = summarize(&files).with_unlisted(&unlisted);
        summary.skipped_templates = skipped_templates.into_inner();
        let report = Report {
            files,
            summary,
            elapsed: started.elapsed(),
            stale_baseline: Vec::new(),
            unlisted,
        };
        (report, replaced)
    }

    /// [`Checker::follow_includes`] for files checked outside a walk (standard input).
    pub fn follow_nested(&self, files: &mut Vec<FileReport>) {
        let none = AtomicUsize::new(0);
        self.follow_includes(files, &|_| {}, &BaseRevision::default(), &none, &none, None);
    }

    /// Check the local templates that the checked files include (nested stacks), and the
    /// ones those include, in waves: each file once (by its canonical path), whether the
    /// walk found it or not, so a cycle ends. Then say in each included file's findings
    /// which templates include it, and report each cycle as an error of the files in it
    /// (CloudFormation cannot deploy a stack that contains itself).
    fn follow_includes(
        &self,
        files: &mut Vec<FileReport>,
        walked: &Walked,
        baseline: &BaseRevision,
        skipped: &AtomicUsize,
        skipped_templates: &AtomicUsize,
        mut recalled: Option<&mut Recalled>,
    ) {
        if files.iter().all(|f| f.includes.is_empty()) {
            return;
        }
        // Canonical path -> how the file is reported, for the files this step met (the
        // walked ones are looked up in `walked`, by wave); display -> the path to read,
        // for the files only an include named.
        let mut shown: HashMap<PathBuf, String> = HashMap::new();
        let mut paths: HashMap<String, PathBuf> = HashMap::new();
        let mut edges: Vec<(String, Include, String)> = Vec::new();
        let mut next = 0;
        loop {
            let mut wave: Vec<Candidate> = Vec::new();
            let targets: HashSet<PathBuf> = files[next..]
                .iter()
                .flat_map(|f| &f.includes)
                .map(|i| base_revision::canonical(&i.path))
                .filter(|k| !shown.contains_key(k))
                .collect();
            let found = walked_at(walked, &targets);
            for file in &files[next..] {
                for include in &file.includes {
                    let canonical = base_revision::canonical(&include.path);
                    let child = match shown.get(&canonical) {
                        Some(display) => display.clone(),
                        None => {
                            let display = match found.get(&canonical) {
                                Some(display) => display.clone(),
                                None => {
                                    wave.push(Candidate {
                                        display: include.display.clone(),
                                        path: include.path.clone(),
                                    });
                                    include.display.clone()
                                }
                            };
                            shown.insert(canonical, display.clone());
                            display
                        }
                    };
                    edges.push((file.path.clone(), include.clone(), child));
                }
            }
            next = files.len();
            if wave.is_empty() {
                break;
            }
            let checked: Vec<FileReport> = wave
                .par_iter()
                .map(|c| {
                    // A nested template is compared with its base version whether or not
                    // git listed it under the paths compared.
                    let unpaired;
                    let base = match baseline.pairs.get(&base_revision::canonical(&c.path)) {
                        Some(pair) => Some(&pair.base),
                        None => {
                            unpaired = baseline.base_of(c, self.settings().max_file_size);
                            unpaired.as_ref()
                        }
                    };
                    let mut file = self.check_candidate(c, base, skipped_templates);
                    file.included_from = Some(c.path.clone());
                    file
                })
                .collect();
            for file in checked {
                if file.status == Status::Skipped && file.errors.is_empty() {
                    skipped.fetch_add(1, Ordering::Relaxed);
                } else {
                    files.push(file);
                }
            }
            paths.extend(wave.into_iter().map(|c| (c.display, c.path)));
        }
        // A walked included file that was emitted during the run is checked again (the
        // check is pure) to name who includes it in its findings.
        if let Some(recalled) = recalled.as_mut() {
            let have: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut again: Vec<&str> = edges
                .iter()
                .map(|(_, _, child)| child.as_str())
                .filter(|child| !have.contains(child) && !paths.contains_key(*child))
                .collect();
            again.sort_unstable();
            again.dedup();
            let at = walked_paths(walked, &again);
            let again: Vec<Candidate> = again
                .into_iter()
                .filter_map(|display| {
                    at.get(display).map(|path| Candidate {
                        display: display.to_string(),
                        path: path.clone(),
                    })
                })
                .collect();
            let none = AtomicUsize::new(0);
            for c in again {
                let file = self.check_candidate(&c, None, &none);
                if was_emitted(&file) {
                    *recalled.counts = recalled
                        .counts
                        .minus(&summarize(std::slice::from_ref(&file)));
                    recalled.paths.insert(file.path.clone());
                    files.push(file);
                }
            }
        }
        let index: HashMap<String, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        // Who includes each file, in the order found.
        let mut parents: HashMap<&str, Vec<String>> = HashMap::new();
        for (parent, include, child) in &edges {
            parents.entry(child.as_str()).or_default().push(format!(
                "`{parent}` as {} `{}`",
                include.kind, include.logical_id
            ));
        }
        for (child, by) in parents {
            let Some(&i) = index.get(child) else { continue };
            let by = by.join(", ");
            let file = &mut files[i];
            let findings = file
                .findings
                .iter_mut()
                .chain(file.suppressed.iter_mut().map(|(f, _)| f));
            for finding in findings {
                finding.message = format!("(included by {by}) {}", finding.message);
            }
        }
        let cyclic = cycles(&edges);
        let mut late: Vec<(usize, FileError)> = Vec::new();
        for (parent, include, child) in edges.iter().filter(|(p, _, c)| cyclic(p, c)) {
            let Some(&i) = index.get(parent) else {
                continue;
            };
            late.push((
                i,
                FileError::at(
                    format!(
                        "{} `{}` includes `{child}`, which includes `{parent}` again: \
                         CloudFormation cannot deploy a stack that contains itself",
                        include.kind, include.logical_id
                    ),
                    include.span,
                    "nested template cycle",
                )
                .with_help("each template in the cycle is checked once; break the cycle"),
            ));
        }
        let unseen: Vec<String> = late
            .iter()
            .map(|(i, _)| files[*i].path.clone())
            .filter(|p| !paths.contains_key(p))
            .collect();
        let unseen: Vec<&str> = unseen.iter().map(String::as_str).collect();
        let walked_at_path = walked_paths(walked, &unseen);
        for (i, error) in late {
            let file = &mut files[i];
            file.errors.push(error);
            // The report keeps no text: read it again for the error's position.
            let text = paths
                .get(&file.path)
                .or_else(|| walked_at_path.get(file.path.as_str()))
                .and_then(|p| read::file(p, self.settings().max_file_size).ok())
                .and_then(|b| String::from_utf8(b).ok());
            file.source = text.map(|t| excerpt(&t, file));
        }
    }

    /// Check one file's bytes, read from `path` (which picks the format and the layout)
    /// and reported as `display`.
    pub fn check_bytes(&self, display: &str, path: &Path, bytes: &[u8]) -> FileReport {
        let profile = match self.profile(path) {
            Ok(profile) => profile,
            Err(error) => return failed(display.to_string(), error, None),
        };
        let mut report = check_prefiltered(
            display,
            path,
            bytes,
            None,
            &profile.settings,
            &profile.prefilter,
        );
        report.config = profile.config.clone();
        report
    }

    /// What a file includes (its local nested templates) and brings in (a Serverless
    /// service's fragments, canonical paths), as [`Checker::check_bytes`] finds them, without
    /// running the rules: for the read-ahead of a streamed check (`reach`). A file that does
    /// not load names the fragments its text names, as its check's report does.
    pub fn links(&self, display: &str, path: &Path, bytes: &[u8]) -> (Vec<Include>, Vec<PathBuf>) {
        let Ok(profile) = self.profile(path) else {
            return (Vec::new(), Vec::new());
        };
        let file = match TemplateFile::from_bytes(path, bytes, &profile.settings.limits) {
            Ok(file) => file,
            Err(_) => {
                return (
                    Vec::new(),
                    crate::model::serverless::named_fragments(path, bytes),
                )
            }
        };
        let fragments = file
            .fragments()
            .iter()
            .map(|f| base_revision::canonical(&f.path))
            .collect();
        let included = match file.template() {
            Ok(Some(template)) => includes(&template, path, display).0,
            _ => Vec::new(),
        };
        (included, fragments)
    }

    /// [`Checker::check_bytes`] compared with a base version, as `diff OLD NEW` compares
    /// one pair (the pull-request guard's oracle drives it in process).
    pub fn check_pair_bytes(
        &self,
        display: &str,
        path: &Path,
        bytes: &[u8],
        base: &BaseFile,
    ) -> FileReport {
        let profile = match self.profile(path) {
            Ok(profile) => profile,
            Err(error) => return failed(display.to_string(), error, None),
        };
        let mut report = check_prefiltered(
            display,
            path,
            bytes,
            Some(base),
            &profile.settings,
            &profile.prefilter,
        );
        report.config = profile.config.clone();
        report
    }

    /// Read and check one file, compared with `base` when there is one. A panic inside
    /// the pipeline (a bug) fails this file closed, as an error that makes the run exit
    /// 2, and the other files are still checked.
    fn check_candidate(
        &self,
        candidate: &Candidate,
        base: Option<&BaseFile>,
        skipped_templates: &AtomicUsize,
    ) -> FileReport {
        let profile = match self.profile(&candidate.path) {
            Ok(profile) => profile,
            Err(error) => return failed(candidate.display.clone(), error, None),
        };
        let settings = &profile.settings;
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let read = timings::time(Stage::Read, || {
                read::candidate(candidate, settings.max_file_size)
            });
            match read {
                Ok(bytes) => {
                    let file = check_prefiltered(
                        &candidate.display,
                        &candidate.path,
                        &bytes,
                        base,
                        settings,
                        &profile.prefilter,
                    );
                    if file.status == Status::Skipped
                        && timings::time(Stage::Prefilter, || looks_like_template(&bytes))
                    {
                        skipped_templates.fetch_add(1, Ordering::Relaxed);
                    }
                    if file.status == Status::Failed {
                        return how_to_leave_out(file, &candidate.display);
                    }
                    file
                }
                Err(error) => how_to_leave_out(
                    failed(candidate.display.clone(), error, None),
                    &candidate.display,
                ),
            }
        }));
        let mut file = checked.unwrap_or_else(|_| {
            failed(
                candidate.display.clone(),
                FileError::new("internal error while checking this file").with_help(
                    "this is a bug in ddb-guard; please report it with the file that triggers it",
                ),
                None,
            )
        });
        file.config = profile.config.clone();
        file
    }

    /// A base template whose file is gone at the head: every table in it is removed. The
    /// findings point into the base text, the only text there is.
    fn check_deleted(&self, base: &BaseFile) -> FileReport {
        let mut report = FileReport::new(base.display.clone(), Status::Deleted);
        let profile = match self.profile(Path::new(&base.display)) {
            Ok(profile) => profile,
            Err(error) => {
                report.errors.push(error);
                return report;
            }
        };
        report.config = profile.config.clone();
        let settings = &profile.settings;
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            compare(
                base,
                Head::Deleted,
                None,
                None,
                settings,
                &mut [],
                &mut report.base_fragments,
            )
        }))
        .unwrap_or_else(|_| {
            Err(
                FileError::new("internal error while comparing with this file").with_help(
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
}

/// Where the checked files come from: a list (every command but a streamed check), or a
/// walk read once, and walked again for the steps across files.
enum Source<'a> {
    Listed(Discovery),
    Walked {
        walk: crate::discover::Walk,
        again: &'a dyn Fn() -> crate::discover::Walk,
    },
}

/// Every walked file, given one at a time to the visitor, in walk order.
type Walked<'a> = dyn Fn(&mut dyn FnMut(Candidate)) + 'a;

/// How the last walked file at each of these canonical paths is reported.
fn walked_at(walked: &Walked, targets: &HashSet<PathBuf>) -> HashMap<PathBuf, String> {
    let mut found = HashMap::new();
    if targets.is_empty() {
        return found;
    }
    walked(&mut |c| {
        let canonical = base_revision::canonical(&c.path);
        if targets.contains(&canonical) {
            found.insert(canonical, c.display);
        }
    });
    found
}

/// The path to read for the last walked file reported as each of `displays`.
fn walked_paths<'d>(walked: &Walked, displays: &[&'d str]) -> HashMap<&'d str, PathBuf> {
    let mut found = HashMap::new();
    if displays.is_empty() {
        return found;
    }
    walked(&mut |c| {
        if let Some(display) = displays.iter().find(|d| **d == c.display) {
            found.insert(*display, c.path);
        }
    });
    found
}

/// What [`Checker::check_streaming`] takes back when a step across files changes a file
/// it emitted: that file's counts, and its path.
struct Recalled<'a> {
    counts: &'a mut Summary,
    paths: &'a mut HashSet<String>,
}

/// A report that a step across files reads: it is kept until the end of a streamed run.
fn needed_across_files(f: &FileReport) -> bool {
    !f.includes.is_empty()
        || !f.fragments.is_empty()
        || !f.guardrail_facts.is_empty()
        || !f.base_fragments.is_empty()
        || f.included_from.is_some()
}

/// Whether a streamed run emitted this report of a walked file (checked again): it has
/// something to show and no step across files kept it.
fn was_emitted(f: &FileReport) -> bool {
    let skipped = f.status == Status::Skipped && f.errors.is_empty();
    !(skipped || only_counted(f) || needed_across_files(f))
}

/// A file that cannot be read or loaded fails the run (fail closed, no escape hatch); its
/// errors say how to leave it out of the run when it is not a template at all.
/// A file whose report has nothing to show and nothing a later step reads (its includes,
/// fragments or guardrail facts): a template or other file that passed.
fn only_counted(f: &FileReport) -> bool {
    matches!(f.status, Status::Checked { .. } | Status::NotTemplate)
        && f.findings.is_empty()
        && f.suppressed.is_empty()
        && f.baselined.is_empty()
        && f.errors.is_empty()
        && f.includes.is_empty()
        && f.fragments.is_empty()
        && f.guardrail_facts.is_empty()
        && f.included_from.is_none()
}

fn how_to_leave_out(mut file: FileReport, display: &str) -> FileReport {
    let path = display.strip_prefix("./").unwrap_or(display);
    let plain = !path.starts_with("../")
        && !path.starts_with('/')
        && !path.contains(['*', '?', '[', ']', '!', '#', '\\', ' ']);
    let pattern = match (plain, path.contains('/')) {
        (false, _) => "PATTERN".to_string(),
        (true, true) => path.to_string(),
        // A bare name would match that name in every directory.
        (true, false) => format!("/{path}"),
    };
    let how = format!(
        "if it is not a CloudFormation template, leave it out of the run: add it to the config's `exclude`, or pass `--exclude {pattern}` (and `--force-exclude` if you name it on the command line)"
    );
    for error in &mut file.errors {
        error.help = Some(match error.help.take() {
            Some(help) => format!("{help}\n{how}"),
            None => how.clone(),
        });
    }
    file
}

/// Is `error` one of CloudFormation's own YAML restrictions, which a YAML file that is not
/// a template may break freely?
fn cloudformation_only(error: &FileError) -> bool {
    error.message.ends_with("not supported by CloudFormation")
}

/// Can these bytes not be a CloudFormation template, whatever their anchors and aliases
/// expand to? A template has a `Resources` key, and expanding an alias copies text that
/// is in the file, so without the word `Resources` (and without a backslash, which could
/// spell it in a double-quoted key) there is none. A Serverless file keeps its layout's
/// own reading (not decided here). The word anywhere, even in a comment, keeps the error:
/// failing closed costs a false error, never a missed table.
fn cannot_be_template(path: &Path, bytes: &[u8]) -> bool {
    crate::model::Layout::detect(path) == crate::model::Layout::CloudFormation
        && memchr::memmem::find(bytes, b"Resources").is_none()
        && memchr::memchr(b'\\', bytes).is_none()
}

/// See [`crate::load::alias_budget::within_budget`].
fn within_alias_budget(bytes: &[u8], max_nodes: usize) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|text| crate::load::alias_budget::within_budget(text, max_nodes))
}

/// Does a file the prefilter skipped look like a template (one without a table)? It
/// counts as checked for "a guard never passes on nothing": a resource type names its
/// service as `AWS::Service::Type`.
pub(crate) fn looks_like_template(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"AWS::").is_some()
        || memchr::memmem::find(bytes, b"AWSTemplateFormatVersion").is_some()
}

/// The head is parsed even without a table in it when there is a base: a table gone from
/// the head is exactly what is looked for.
fn check_prefiltered(
    display: &str,
    path: &Path,
    bytes: &[u8],
    base: Option<&BaseFile>,
    settings: &Settings,
    prefilter: &RuleFilter,
) -> FileReport {
    let mut report = FileReport::new(display.to_string(), Status::Skipped);
    // DDB001/DDB002 name a Retain the base had (see `compare`), so they need the base too.
    let base = base.filter(|_| {
        !settings.diff_rules().is_empty()
            || settings
                .rules
                .iter()
                .any(|r| matches!(r.code, "DDB001" | "DDB002"))
    });
    // One scan says both whether the file is parsed and which rules run on it.
    let held = timings::time(Stage::Prefilter, || prefilter.scan(bytes));
    let skip = timings::time(Stage::Prefilter, || {
        // A template with a nested stack is read even so (the prefilter's own
        // `prefilter::INCLUDES` groups): its unchanged text may read outputs of a nested
        // template the change modifies (DDB022).
        base.is_none() && !held.any() && !crate::model::serverless::may_include_files(path, bytes)
    });
    timings::count_file(!skip);
    if skip {
        return report;
    }
    let file = match TemplateFile::from_bytes(path, bytes, &settings.limits) {
        Ok(file) => file,
        // CloudFormation's YAML restrictions (anchors, aliases, merge keys, some tags) apply
        // to templates only: a file that cannot be one (a docker-compose file with
        // `x-common: &common`) is not a template, not an error.
        Err(error)
            if cloudformation_only(&error)
                && cannot_be_template(path, bytes)
                && within_alias_budget(bytes, settings.limits.max_nodes) =>
        {
            report.status = Status::NotTemplate;
            return report;
        }
        // The text as far as it decodes: an error's span indexes the bytes. A service that
        // does not load keeps its fragments: they are not templates of their own.
        Err(error) => {
            let mut failed = failed(report.path, error, Some(&String::from_utf8_lossy(bytes)));
            failed.fragments = crate::model::serverless::named_fragments(path, bytes);
            return failed;
        }
    };
    let text = file.text();
    report.fragments = file
        .fragments()
        .iter()
        .map(|f| base_revision::canonical(&f.path))
        .collect();
    let outcome = file.template().map(|template| {
        let tables = template.as_ref().map(|t| t.tables().count());
        let checked = template
            .as_ref()
            .map(|t| checks(t, settings))
            .unwrap_or_default();
        let applied = template
            .as_ref()
            .map(|t| {
                let may_fire = timings::time(Stage::Prefilter, || {
                    // A Serverless service's fragments are read with it.
                    match file.all_bytes(bytes) {
                        std::borrow::Cow::Borrowed(all) if std::ptr::eq(all, bytes) => held.rules(),
                        all => prefilter.rules_for(&all),
                    }
                });
                ruleset::check_resources_where(
                    t,
                    &settings.rules,
                    |r| may_fire.contains(&r.code),
                    &settings.options,
                )
            })
            .unwrap_or_default();
        let mut findings = applied.active;
        let mut suppressed = applied.suppressed;
        if let Some(t) = &template {
            // A stack set's inline template is checked too, in this file.
            let body = crate::stackset::check(
                t,
                text,
                &settings.rules,
                &settings.options,
                &settings.limits,
            );
            findings.extend(body.active);
            findings.sort_by_key(|f| (f.span.start, f.code));
            suppressed.extend(body.suppressed);
            suppressed.sort_by_key(|(f, _)| (f.span.start, f.code));
        }
        let mut base_error = None;
        if let Some(base) = base {
            let head = match &template {
                Some(t) => Head::Template(t),
                None => Head::NotTemplate,
            };
            match compare(
                base,
                head,
                Some(text),
                Some(path),
                settings,
                &mut findings,
                &mut report.base_fragments,
            ) {
                Ok(more) if !more.is_empty() => {
                    findings.extend(more);
                    findings.sort_by_key(|f| (f.span.start, f.code));
                }
                Ok(_) => {}
                Err(error) => base_error = Some(error),
            }
        }
        // Stack sets' inline templates and the base version are timed by their own stages
        // (parse, model, the rules, pr_guard); what follows is timed as after the rules.
        let after_rules = timings::start();
        // Findings inside a Serverless service's `${file(...)}` fragments are placed there.
        if !file.fragments().is_empty() {
            for finding in findings
                .iter_mut()
                .chain(suppressed.iter_mut().map(|(f, _)| f))
            {
                file.relocate(finding);
            }
            for (_, suppression) in &mut suppressed {
                file.relocate_suppression(suppression);
            }
            findings.sort_by_key(|f| (f.span.start, f.code));
        }
        settings.override_severities(&mut findings);
        for (finding, _) in &mut suppressed {
            settings.override_severities(std::slice::from_mut(finding));
        }
        // `cdk synth` output: name the construct and fix the app, not the file.
        let synthesized = template
            .as_ref()
            .and_then(|t| crate::cdk::synthesized(path, t).map(|s| (t, s)));
        if let Some((t, s)) = &synthesized {
            crate::cdk::explain(&mut findings, t, s, &settings.options);
            for (finding, _) in &mut suppressed {
                crate::cdk::explain(std::slice::from_mut(finding), t, s, &settings.options);
            }
        }
        let synthesized = synthesized.is_some();
        let facts = template
            .as_ref()
            .map(|t| {
                rules::iam::required_guardrail::facts(t, &settings.required_guardrails, &|at| {
                    file.place(display, at)
                })
            })
            .unwrap_or_default();
        let (includes, missing) = template
            .as_ref()
            .map(|t| includes(t, path, display))
            .unwrap_or_default();
        timings::stop(Stage::AfterRules, after_rules);
        (
            tables,
            checked,
            findings,
            suppressed,
            base_error,
            facts,
            includes,
            missing,
            synthesized,
        )
    });
    match outcome {
        Ok((
            tables,
            checked,
            findings,
            suppressed,
            base_error,
            facts,
            includes,
            missing,
            synthesized,
        )) => {
            report.guardrail_facts = facts;
            report.includes = includes;
            report.errors.extend(missing);
            report.synthesized = synthesized;
            report.status = match tables {
                Some(tables) => Status::Checked { tables },
                None => Status::NotTemplate,
            };
            report.checked = checked;
            report.findings = findings;
            report.suppressed = suppressed;
            report.errors.extend(base_error);
            if !report.findings.is_empty()
                || !report.suppressed.is_empty()
                || !report.errors.is_empty()
            {
                timings::time(Stage::AfterRules, || {
                    report.source = Some(excerpt(text, &report));
                    report.checked_bytes = Some(ContentHash::of(bytes));
                });
            }
        }
        Err(error) => {
            let fragments = std::mem::take(&mut report.fragments);
            let mut failed = failed(report.path, error, Some(text));
            failed.fragments = fragments;
            return failed;
        }
    }
    report
}

/// The local templates `template` (read from `path`, reported as `display`) includes as
/// nested stacks, and an error at each location that names no file: a missing template
/// may hold any table, so it fails closed.
fn includes(template: &Template, path: &Path, display: &str) -> (Vec<Include>, Vec<FileError>) {
    let doc = template.doc;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for stack in nested::nested(template) {
        let Location::Local(location) = stack.location else {
            continue;
        };
        let span = doc.span(stack.node);
        let kind = nested::kind(stack.type_name);
        let (target, shown) = nested::resolve(path, display, location);
        match nested::unreadable(&target) {
            None => found.push(Include {
                logical_id: stack.logical_id.to_string(),
                kind,
                span,
                path: target,
                display: shown,
            }),
            Some(problem) => missing.push(
                FileError::at(
                    format!(
                        "the template of {kind} `{}` is the local file `{shown}`, which {problem}: \
                         the tables it deploys cannot be checked",
                        stack.logical_id
                    ),
                    span,
                    "template file not read",
                )
                .with_help(
                    "a local template path is relative to the directory of the template that \
                     names it (the `aws cloudformation package` and `sam build` convention)",
                ),
            ),
        }
    }
    (found, missing)
}

/// Whether an edge `parent -> child` of the include graph is on a cycle: both ends in one
/// strongly connected component (Kosaraju's, iterative: the graph comes from files).
fn cycles(edges: &[(String, Include, String)]) -> impl Fn(&str, &str) -> bool {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut id = |name: &str| {
        let next = ids.len();
        *ids.entry(name.to_string()).or_insert(next)
    };
    let pairs: Vec<(usize, usize)> = edges.iter().map(|(p, _, c)| (id(p), id(c))).collect();
    let n = ids.len();
    let mut out = vec![Vec::new(); n];
    let mut into = vec![Vec::new(); n];
    for &(p, c) in &pairs {
        out[p].push(c);
        into[c].push(p);
    }
    // First pass: finishing order on the graph.
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![(start, 0)];
        while let Some((node, k)) = stack.pop() {
            if let Some(&next) = out[node].get(k) {
                stack.push((node, k + 1));
                if !seen[next] {
                    seen[next] = true;
                    stack.push((next, 0));
                }
            } else {
                order.push(node);
            }
        }
    }
    // Second pass: components on the reversed graph, in reverse finishing order.
    let mut component = vec![usize::MAX; n];
    for &start in order.iter().rev() {
        if component[start] != usize::MAX {
            continue;
        }
        component[start] = start;
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for &prev in &into[node] {
                if component[prev] == usize::MAX {
                    component[prev] = start;
                    stack.push(prev);
                }
            }
        }
    }
    move |parent: &str, child: &str| match (ids.get(parent), ids.get(child)) {
        (Some(&p), Some(&c)) => component[p] == component[c],
        _ => false,
    }
}

/// DDB013's findings, once every file's facts are in: one report per text that asks for
/// guardrails (the config file, the command line), holding a finding at each entry whose
/// guardrail is missing or too narrow.
pub(crate) fn required_guardrails(files: &[FileReport], settings: &Settings) -> Vec<FileReport> {
    let requirements = &settings.required_guardrails;
    if requirements.is_empty() {
        return Vec::new();
    }
    let facts: Vec<rules::iam::required_guardrail::Fact> = files
        .iter()
        .flat_map(|f| f.guardrail_facts.iter().cloned())
        .collect();
    let mut reports: Vec<FileReport> = Vec::new();
    for (index, mut finding) in rules::iam::required_guardrail::evaluate(requirements, &facts) {
        settings.override_severities(std::slice::from_mut(&mut finding));
        let origin = &requirements[index].origin;
        let position = reports.iter().position(|r| r.path == origin.path);
        let report = match position {
            Some(i) => &mut reports[i],
            None => {
                reports.push(FileReport::new(origin.path.clone(), Status::NotTemplate));
                let last = reports.len() - 1;
                &mut reports[last]
            }
        };
        report.findings.push(finding);
    }
    for report in &mut reports {
        if let Some(origin) = requirements.iter().find(|r| r.origin.path == report.path) {
            report.source = Some(excerpt(&origin.origin.text, report));
        }
    }
    reports
}

/// Load the base version and run the comparison rules against `head`. A base that does
/// not load is an error, never a pass: it may hold the table this change deletes.
/// The head's own DDB001/DDB002 findings on a table whose base policy was provably
/// `Retain` say so, with the base line (the change drops the policy).
fn compare(
    base: &BaseFile,
    head: Head,
    head_text: Option<&str>,
    head_path: Option<&Path>,
    settings: &Settings,
    head_findings: &mut [Finding],
    base_fragments: &mut Vec<String>,
) -> Result<Vec<Finding>, FileError> {
    let diff_rules = settings.diff_rules();
    let bytes = base.bytes.as_deref().map_err(|why| {
        in_base(base, None, FileError::new(why.clone()))
            .with_help("raise the limit with --max-file-size if the base really is a template")
    })?;
    let file = TemplateFile::from_bytes_in(&base.path, bytes, &settings.limits, &base.files)
        .map_err(|e| {
            let source = std::str::from_utf8(bytes).map(|text| SourceText::new(text.into()));
            in_base(base, source.as_ref().ok(), e)
        })?;
    base_fragments.extend(
        file.fragments()
            .iter()
            .map(|f| crate::read::without_dot_segments(&f.path)),
    );
    let source = SourceText::new(file.text().into());
    let Some(template) = file
        .template()
        .map_err(|e| in_base(base, Some(&source), e))?
    else {
        return Ok(Vec::new());
    };
    let nested_same = match (&head, head_path) {
        (Head::Template(h), Some(head_path)) => {
            nested_same(&template, base, h, head_path, settings)
        }
        _ => std::collections::BTreeSet::new(),
    };
    let comparison = Comparison {
        base: &template,
        base_name: &base.name,
        base_source: &source,
        base_fragments: file.fragments(),
        head,
        options: &settings.options,
        anchors: Default::default(),
        nested_same: &nested_same,
        pr_guard: Default::default(),
    };
    let deleted = matches!(comparison.head, Head::Deleted);
    crate::rules::note_base_retain(&comparison, head_findings);
    let mut findings = ruleset::compare_templates(&comparison, &diff_rules);
    if diff_rules
        .iter()
        .any(|r| r.code == rules::pr_guard::table_removed::RULE.code)
    {
        let gone = nested_gone(&template, &comparison.head, base, settings);
        findings.extend(rules::pr_guard::table_removed::nested_stacks_removed(
            &comparison,
            &gone,
        ));
    }
    // The tables inside stack sets' inline templates, by stack set and logical ID.
    findings.extend(crate::stackset::compare(
        &template,
        file.text(),
        &base.name,
        &comparison.head,
        head_text,
        &diff_rules,
        &settings.options,
        &settings.limits,
    ));
    // A deleted file's findings point into the base text: those in its fragments are
    // placed there.
    if deleted {
        for finding in &mut findings {
            file.relocate(finding);
        }
    }
    Ok(findings)
}

/// The nested stacks (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`) whose
/// template is provably the same at both revisions, by logical ID: a local path at both,
/// the base's file (read from the base revision, beside the base file) and the head's
/// (from the working tree, beside the head file) have the same bytes, and that template
/// nests no stack of its own (whose outputs could change unseen). Any other nested stack's
/// outputs cannot be proven unchanged (see [`Comparison::nested_same`]).
fn nested_same(
    base: &Template,
    base_file: &BaseFile,
    head: &Template,
    head_path: &Path,
    settings: &Settings,
) -> std::collections::BTreeSet<String> {
    use crate::read::Files;
    let mut out = std::collections::BTreeSet::new();
    let head_nested = nested::nested(head);
    for stack in nested::nested(base) {
        if stack.type_name == nested::STACK_SET {
            continue;
        }
        let Location::Local(was) = stack.location else {
            continue;
        };
        let now = head_nested.iter().find_map(|h| match h.location {
            Location::Local(now)
                if h.logical_id == stack.logical_id && h.type_name == stack.type_name =>
            {
                Some(now)
            }
            _ => None,
        });
        let Some(now) = now else { continue };
        let (base_target, _) = nested::resolve(&base_file.path, "", was);
        let (head_target, _) = nested::resolve(head_path, "", now);
        let max = settings.max_file_size;
        let (Ok(before), Ok(after)) = (
            base_file.files.read(&base_target, max),
            read::WorkingTree.read(&head_target, max),
        ) else {
            continue;
        };
        if before != after {
            continue;
        }
        let nests_nothing =
            TemplateFile::from_bytes_in(&head_target, &after, &settings.limits, &read::WorkingTree)
                .ok()
                .and_then(|file| {
                    file.template().ok().map(|t| {
                        t.is_none_or(|t| {
                            t.resources.iter().all(|r| {
                                !matches!(
                                    r.type_name,
                                    Some(nested::STACK | nested::APPLICATION | nested::STACK_SET)
                                )
                            })
                        })
                    })
                })
                .unwrap_or(false);
        if nests_nothing {
            out.insert(stack.logical_id.to_string());
        }
    }
    out
}

/// The base's nested stacks (and stack sets by `TemplateURL`) that the head no longer
/// has, with what each one's template deploys: a local template is read from the base
/// revision, beside the base file, for its tables that are not provably retained; one
/// that cannot be read there is unknown (reported, never a pass).
fn nested_gone(
    base: &Template,
    head: &Head,
    base_file: &BaseFile,
    settings: &Settings,
) -> Vec<(String, rules::pr_guard::table_removed::NestedTables)> {
    use rules::pr_guard::table_removed::NestedTables;
    let at_head = |id: &str, type_name: &str| match head {
        Head::Template(h) => h
            .resource(id)
            .is_some_and(|r| r.type_name == Some(type_name)),
        _ => false,
    };
    let mut out = Vec::new();
    for stack in nested::nested(base) {
        if at_head(stack.logical_id, stack.type_name) {
            continue;
        }
        let tables = match stack.location {
            Location::NotVisible(why) => NestedTables::Unknown(why.to_string()),
            Location::Local(location) => {
                // Beside the base file, in the base revision (a git base's path is
                // relative to the repository's root; OLD's is on disk).
                let (path, _) = nested::resolve(&base_file.path, "", location);
                read_nested(&path, location.to_string(), settings, &base_file.files)
            }
        };
        out.push((stack.logical_id.to_string(), tables));
    }
    // A stack set removed from a template that is still one: the tables of its body.
    if let Head::Template(_) = head {
        crate::stackset::for_each_body(base, &settings.limits, |id, inner| {
            if at_head(id, nested::STACK_SET) {
                return;
            }
            let tables = match inner {
                Ok(inner) => NestedTables::Read {
                    file: "TemplateBody".to_string(),
                    unretained: unretained(inner, settings),
                    includes: !nested::nested(inner).is_empty(),
                },
                Err(why) => NestedTables::Unknown(why),
            };
            out.push((id.to_string(), tables));
        });
    }
    out
}

/// The tables of `template` whose `DeletionPolicy` is not provably `Retain`.
fn unretained(template: &Template, settings: &Settings) -> Vec<String> {
    template
        .tables()
        .filter(|resource| {
            let view = rules::ResourceView {
                template,
                resource,
                options: &settings.options,
            };
            !rules::layers::retained_on_delete(&view).holds()
        })
        .map(|r| r.logical_id.to_string())
        .collect()
}

/// The tables of a local nested template that are not provably retained.
fn read_nested(
    path: &Path,
    shown: String,
    settings: &Settings,
    files: &BaseFiles,
) -> rules::pr_guard::table_removed::NestedTables {
    use crate::read::Files;
    use rules::pr_guard::table_removed::NestedTables;
    let bytes = match files.read(path, settings.max_file_size) {
        Ok(bytes) => bytes,
        Err(why) => return NestedTables::Unknown(format!("`{shown}` {why}")),
    };
    let file = match TemplateFile::from_bytes_in(path, &bytes, &settings.limits, files) {
        Ok(file) => file,
        Err(e) => return NestedTables::Unknown(format!("`{shown}`: {}", e.message)),
    };
    match file.template() {
        Ok(Some(template)) => NestedTables::Read {
            file: shown,
            unretained: unretained(&template, settings),
            includes: !nested::nested(&template).is_empty()
                || template
                    .resources
                    .iter()
                    .any(|r| r.type_name == Some(nested::STACK_SET)),
        },
        Ok(None) => NestedTables::Read {
            file: shown,
            unretained: Vec::new(),
            includes: false,
        },
        Err(e) => NestedTables::Unknown(format!("`{shown}`: {}", e.message)),
    }
}

/// A load error of the base version, told in the head file's report: its span indexes the
/// base text, so the position goes into the message instead.
fn in_base(base: &BaseFile, source: Option<&SourceText>, error: FileError) -> FileError {
    let at = match (source, error.span) {
        (Some(source), Some(span)) => {
            let p = source.position(span.start);
            format!(" (line {}, column {})", p.line, p.column)
        }
        _ => String::new(),
    };
    FileError::new(format!(
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
    // The rule's own kind, not `rules::is_comparison(code)`, which looks the code up in
    // every rule: per rule and parsed file, those lookups were 2% of a run.
    let (per_table, whole): (Vec<&Rule>, Vec<&Rule>) = settings
        .rules
        .iter()
        .copied()
        .filter(|r| {
            !matches!(
                r.check,
                rules::Check::Versions(_) | rules::Check::ChangeSet(_)
            )
        })
        .partition(|r| r.per_table);
    let mut checked: Vec<(String, &'static str)> = template
        .tables()
        .flat_map(|t| per_table.iter().map(|r| (t.logical_id.to_string(), r.code)))
        .collect();
    checked.extend(whole.iter().map(|r| (String::new(), r.code)));
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let report = Checker::new(Settings::default()).check(discovery);
        assert_eq!(report.summary.files, 4);
        assert_eq!(report.summary.skipped, 3);
        assert_eq!(report.summary.templates, 1);
        let kept: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].ends_with("table.yaml"), "{kept:?}");
        assert!(!report.files[0].findings.is_empty());
    }
}
