//! `ddb-guard.toml`: each file's nearest, in its directory or a parent up to the repository
//! root (as ruff finds its config per file; see [`Resolver`]), or the one named with
//! `--config`. The file is one layer of settings under the command line: every flag given
//! on the command line wins over the file.
//!
//! Unknown keys are an error naming the key, the file, its line and column, because a
//! misspelt `ignore` that silently did nothing would weaken the guard without anyone noticing.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::check::{Governing, Profile, Profiles, Settings};
use crate::cli::CheckArgs;
use crate::discover::{dir_bytes, Exclude, Listing, Scope, Scopes, WalkOptions};
use crate::file_error::FileError;
use crate::finding::Severity;
use crate::hash::HashMap;
use crate::rules::iam::required_guardrail::{self, Origin, Requirement};
use crate::rules::RuleOptions;
use crate::ruleset::select::{self, Layer};
use crate::source::{SourceText, Span};

pub use crate::cli::CONFIG_FILE_NAME as FILE_NAME;

/// The file's keys. Every key is optional; absent keys keep the defaults.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub extend_select: Vec<Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
    /// Rule code or name -> severity.
    #[serde(default)]
    pub severity: BTreeMap<Spanned<String>, SeverityName>,
    /// Gitignore-style patterns, relative to the config file's directory.
    pub exclude: Option<Vec<Spanned<String>>>,
    pub force_exclude: Option<bool>,
    pub extensions: Option<Vec<Spanned<String>>>,
    pub respect_gitignore: Option<bool>,
    pub allow_retain_except_on_create: Option<bool>,
    pub fail_on: Option<FailOnName>,
    /// Guardrails the checked policies must contain (DDB013).
    pub require_guardrails: Option<Vec<Spanned<String>>>,
}

/// The lowest severity that fails the run (`--fail-on`'s values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOnName {
    Error,
    Warning,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Error,
    Warning,
    Note,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Error => Severity::Error,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Note => Severity::Note,
        }
    }
}

/// A loaded config file.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    /// The absolute directory holding the file; `exclude` patterns are relative to it.
    pub dir: PathBuf,
    source: SourceText,
    pub file: FileConfig,
}

/// A config file or a command-line value that cannot be used; the run stops with exit 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file, or `None` for a command-line argument.
    pub path: Option<PathBuf>,
    /// 1-based line and column in the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.position) {
            (Some(path), Some((line, column))) => {
                write!(f, "{}:{line}:{column}: {}", path.display(), self.message)
            }
            (Some(path), None) => write!(f, "{}: {}", path.display(), self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The nearest `ddb-guard.toml` in `start` or its parents, up to the root of the git
/// repository holding `start` (the directory with `.git`), else the filesystem root.
pub fn find(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let error = |message: String| ConfigError {
            path: Some(path.to_path_buf()),
            position: None,
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            error(format!(
                "cannot read config file: {}",
                crate::discover::io_reason(&e)
            ))
        })?;
        Config::parse(path, text)
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.source.text
    }

    /// Parse `text` as the config file at `path`.
    pub fn parse(path: &Path, text: String) -> Result<Config, ConfigError> {
        let source = SourceText::new(text.into());
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut config = Config {
            path: path.to_path_buf(),
            dir,
            source,
            file: FileConfig::default(),
        };
        config.file = toml::from_str(&config.source.text).map_err(|e| {
            let span = e.span().map(|r| Span::new(r.start, r.end));
            config.error(span, e.message().trim_end().to_string())
        })?;
        Ok(config)
    }

    fn error(&self, span: Option<Span>, message: String) -> ConfigError {
        ConfigError {
            path: Some(self.path.clone()),
            position: span.map(|s| {
                let p = self.source.position(s.start);
                (p.line, p.column)
            }),
            message,
        }
    }

    fn spanned_error(&self, value: &Spanned<String>, message: String) -> ConfigError {
        let r = value.span();
        self.error(Some(Span::new(r.start, r.end)), message)
    }

    /// Every selector in the file must name a rule; say where one does not.
    fn check_selectors(&self) -> Result<(), ConfigError> {
        let f = &self.file;
        let all = f
            .select
            .iter()
            .flatten()
            .chain(&f.extend_select)
            .chain(&f.ignore)
            .chain(f.severity.keys());
        for selector in all {
            if let Err(e) = select::expand(selector.get_ref()) {
                return Err(self.spanned_error(selector, e.to_string()));
            }
        }
        Ok(())
    }

    fn layer(&self) -> Layer {
        let strings = |v: &[Spanned<String>]| v.iter().map(|s| s.get_ref().clone()).collect();
        Layer {
            select: self.file.select.as_deref().map(strings),
            extend_select: strings(&self.file.extend_select),
            ignore: strings(&self.file.ignore),
        }
    }

    fn exclude(&self) -> Result<Option<Exclude>, ConfigError> {
        let Some(patterns) = &self.file.exclude else {
            return Ok(None);
        };
        let mut builder = GitignoreBuilder::new(&self.dir);
        for pattern in patterns {
            builder.add_line(None, pattern.get_ref()).map_err(|e| {
                self.spanned_error(pattern, format!("invalid exclude pattern: {e}"))
            })?;
        }
        let matcher: Gitignore = builder
            .build()
            .map_err(|e| self.error(None, format!("invalid exclude patterns: {e}")))?;
        Ok(Some(Exclude::new(matcher)))
    }
}

/// Everything a `check` run needs, from defaults, then the config file, then the flags.
#[derive(Clone)]
pub struct Resolved {
    pub settings: Settings,
    pub walk: WalkOptions,
    /// The config file that was used, if any.
    pub config_path: Option<PathBuf>,
    /// `fail_on` from the file; `--fail-on` on the command line wins over it.
    pub fail_on: Option<FailOnName>,
}

/// The config file a run uses: `--config`, else the nearest one above `cwd` (none with
/// `--isolated`).
pub fn locate(args: &CheckArgs, cwd: &Path) -> Result<Option<Config>, ConfigError> {
    if args.config_file.isolated {
        return Ok(None);
    }
    match &args.config_file.config {
        Some(path) => Config::load(path).map(Some),
        None => find(cwd).map(|p| Config::load(&p)).transpose(),
    }
}

pub fn resolve(args: &CheckArgs, config: Option<&Config>) -> Result<Resolved, ConfigError> {
    let cli_error = |flag: &str, e: select::UnknownSelector| ConfigError {
        path: None,
        position: None,
        message: format!("{flag}: {e}"),
    };
    let cli = Layer {
        select: args.selection.select.clone(),
        extend_select: args.selection.extend_select.clone(),
        ignore: args.selection.ignore.clone(),
    };
    // Check each flag's selectors on their own, to name the flag in the error.
    for (flag, values) in [
        (
            "--select",
            args.selection.select.as_deref().unwrap_or_default(),
        ),
        ("--extend-select", &args.selection.extend_select[..]),
        ("--ignore", &args.selection.ignore[..]),
    ] {
        for value in values {
            select::expand(value).map_err(|e| cli_error(flag, e))?;
        }
    }

    let mut settings = Settings {
        max_file_size: args.input.max_file_size,
        limits: args.input.limits(),
        ..Settings::default()
    };
    let mut walk = WalkOptions {
        respect_ignore: !args.input.no_ignore,
        hidden: args.input.hidden,
        follow_links: args.input.follow,
        force_exclude: args.force_exclude,
        exclude: cli_exclude(args)?,
        ..WalkOptions::default()
    };
    let mut fail_on = None;
    settings.required_guardrails = requirements(args, config)?;
    let Some(config) = config else {
        settings.rules = select::resolve(&[&cli]).map_err(|e| cli_error("--select", e))?;
        require_rule(&mut settings);
        return Ok(Resolved {
            settings,
            walk,
            config_path: None,
            fail_on,
        });
    };

    config.check_selectors()?;
    let file = &config.file;
    settings.rules = select::resolve(&[&config.layer(), &cli]).map_err(|e| ConfigError {
        path: Some(config.path.clone()),
        position: None,
        message: e.to_string(),
    })?;
    for (selector, severity) in &file.severity {
        for rule in select::expand(selector.get_ref())
            .map_err(|e| config.spanned_error(selector, e.to_string()))?
        {
            settings.severities.retain(|(code, _)| *code != rule.code);
            settings.severities.push((rule.code, (*severity).into()));
        }
    }
    settings.options = RuleOptions {
        allow_retain_except_on_create: file.allow_retain_except_on_create.unwrap_or(true),
    };
    if let Some(extensions) = &file.extensions {
        walk.extensions = Vec::new();
        for ext in extensions {
            let clean = ext.get_ref().trim().trim_start_matches('.');
            if clean.is_empty() || clean.contains(['/', '\\']) {
                return Err(config.spanned_error(
                    ext,
                    format!(
                        "`{}` is not a file extension (write `yaml`, not `*.yaml`)",
                        ext.get_ref()
                    ),
                ));
            }
            walk.extensions.push(clean.to_string());
        }
    }
    // `--no-ignore` on the command line wins; otherwise the file decides.
    if !args.input.no_ignore {
        walk.respect_ignore = file.respect_gitignore.unwrap_or(true);
    }
    walk.force_exclude = args.force_exclude || file.force_exclude.unwrap_or(false);
    walk.exclude = match (config.exclude()?, walk.exclude.take()) {
        (Some(file), Some(cli)) => Some(file.and(&cli)),
        (file, cli) => file.or(cli),
    };
    fail_on = file.fail_on;
    require_rule(&mut settings);
    Ok(Resolved {
        settings,
        walk,
        config_path: Some(config.path.clone()),
        fail_on,
    })
}

/// The base revision's choices for the files of one directory (`check --base`): the
/// base's config file for that directory, by its path (`None`: none), and what it decides
/// for the comparison rules. Given by `guard`, which reads the base with git.
pub type GovernFn = dyn Fn(&Path) -> Result<BaseChoice, String> + Send + Sync;

/// The base revision's config file for a directory (`None`: none) and its choices.
pub type BaseChoice = (Option<PathBuf>, Governing);

/// The config files (the head's, the base's) that govern a set of files.
pub type ConfigPair = (Option<PathBuf>, Option<PathBuf>);

/// Each file's settings, as ruff resolves them: the nearest `ddb-guard.toml` above the
/// file (up to the repository root), else the run's own config (`--config`, or the nearest
/// above the current directory); with `--config` or `--isolated`, the run's for every file.
/// The nearest file wins entirely: two config files are never merged. Run-level keys
/// (`fail_on`, `require_guardrails`, `respect_gitignore`) come from the run's config only.
pub struct Resolver {
    args: CheckArgs,
    cwd: PathBuf,
    run: Arc<Scoped>,
    /// Every file gets the run's settings (`--config`, `--isolated`).
    fixed: bool,
    /// The run's config file, canonical, to know it when a directory finds it.
    run_config: Option<PathBuf>,
    /// Absolute directory -> the nearest config file (`None`: the run's settings), for
    /// the directories met last (see [`Recent`]). Keyed by the path's bytes: the paths
    /// are normalized, so equal paths have equal bytes, and hashing the bytes is several
    /// times cheaper than `Path`'s component-wise hash.
    dirs: Mutex<Recent<OsString, Option<PathBuf>>>,
    /// Config file -> its settings, or why it cannot be used.
    configs: Mutex<HashMap<PathBuf, Result<Arc<Scoped>, ConfigError>>>,
    /// `check --base`: the base revision's choices for each directory.
    govern: Option<Box<GovernFn>>,
    /// (head config, base config) -> the profile of the files they govern.
    profiles: Mutex<HashMap<ConfigPair, Arc<Profile>>>,
    /// Directory as the walk and the checker name it -> [`Resolver::scoped`]'s and
    /// [`Resolver::profile_of`]'s answers. Every file asks (the walk twice, the checker
    /// once): hashing the name's bytes once is several times cheaper than making it
    /// absolute and looking its ancestors up, which was 10% of a retention-only run.
    /// Only the directories met last are remembered (see [`Recent`]).
    by_dir: Mutex<Recent<OsString, ByDir>>,
    /// The directory of the file [`Profiles::profile`] answered last (the bytes of its
    /// path before the file name), and the answer: the checker asks for each file in the
    /// walk's order, so nearly every file is in the directory of the file before it, and
    /// a comparison of the bytes answers it without taking the path apart or hashing it
    /// (which cost more than the rest of the lookup).
    last_profile: Mutex<Option<(OsString, KnownProfile)>>,
}

/// A directory's profile, or why its config cannot be used (boxed: rare).
type KnownProfile = Result<Arc<Profile>, Box<FileError>>;

/// What [`Resolver::by_dir`] remembers of one directory (errors boxed: they are rare,
/// and an entry stays small).
#[derive(Default, Clone)]
struct ByDir {
    scoped: Option<Result<Arc<Scoped>, Box<ConfigError>>>,
    profile: Option<KnownProfile>,
}

/// How many directories each of the [`Resolver`]'s per-directory caches remembers per
/// generation (at most twice this in all). The walk goes one directory at a time in
/// sorted order, and the checker follows it at most a few thousand files behind, so
/// the directories asked about are nearly always among the last ones met; one that
/// is not is looked up again (a few `stat`s), with the same answer.
const RECENT_DIRECTORIES: usize = 1024;

/// A map that remembers only the entries used last: two generations, the current one
/// and the one before; when the current one is full it becomes the one before, and
/// the one before is forgotten. An entry found in the one before moves to the current
/// one. So it never holds more than `2 * limit` entries, whatever the size of the
/// tree (a map of every directory was a third of the peak RSS at corpus x10), and
/// what is forgotten is only computed again: the answers do not change.
struct Recent<K, V> {
    limit: usize,
    now: HashMap<K, V>,
    before: HashMap<K, V>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Recent<K, V> {
    fn new(limit: usize) -> Self {
        Recent {
            limit: limit.max(1),
            now: HashMap::default(),
            before: HashMap::default(),
        }
    }

    fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(v) = self.now.get(key) {
            return Some(v.clone());
        }
        let (key, value) = self.before.remove_entry(key)?;
        self.insert(key, value.clone());
        Some(value)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.now.len() >= self.limit && !self.now.contains_key(&key) {
            self.before = std::mem::take(&mut self.now);
        }
        self.now.insert(key, value);
    }

    /// Change the entry of `key` (a default one when there is none).
    fn update<Q>(&mut self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
        V: Default,
    {
        if let Some(v) = self.now.get_mut(key) {
            change(v);
            return;
        }
        let (key, mut value) = self
            .before
            .remove_entry(key)
            .unwrap_or_else(|| (key.to_owned(), V::default()));
        change(&mut value);
        self.insert(key, value);
    }

    fn clear(&mut self) {
        self.now.clear();
        self.before.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.now.len() + self.before.len()
    }
}

/// One config file's settings: what the walk and the checker need of it.
struct Scoped {
    resolved: Resolved,
    scope: Arc<Scope>,
    display: Option<String>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("cwd", &self.cwd)
            .field("fixed", &self.fixed)
            .finish_non_exhaustive()
    }
}

/// How reports name a config file: relative to `cwd` when below it.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .strip_prefix(cwd)
        .map(Path::to_path_buf)
        .unwrap_or(absolute)
        .display()
        .to_string()
}

impl Resolver {
    /// The run's config (`--config`, else the nearest above `cwd`, none with
    /// `--isolated`) resolved with the flags; each file's own nearest config is found and
    /// resolved when the walk or the checker first asks for it.
    pub fn new(args: &CheckArgs, cwd: &Path) -> Result<Resolver, ConfigError> {
        let config = locate(args, cwd)?;
        let resolved = resolve(args, config.as_ref())?;
        let display = config.as_ref().map(|c| display_path(&c.path, cwd));
        let run = Arc::new(Scoped::new(resolved, display));
        Ok(Resolver {
            args: args.clone(),
            cwd: cwd.to_path_buf(),
            run,
            fixed: args.config_file.isolated || args.config_file.config.is_some(),
            run_config: config.as_ref().map(|c| canonical(&c.path)),
            dirs: Mutex::new(Recent::new(RECENT_DIRECTORIES)),
            configs: Mutex::new(HashMap::default()),
            govern: None,
            profiles: Mutex::new(HashMap::default()),
            by_dir: Mutex::new(Recent::new(RECENT_DIRECTORIES)),
            last_profile: Mutex::new(None),
        })
    }

    /// The run's settings (from the run's config and the flags).
    pub fn run(&self) -> &Resolved {
        &self.run.resolved
    }

    /// The run's config file as reports name it.
    pub fn run_config(&self) -> Option<&str> {
        self.run.display.as_deref()
    }

    /// Let the base revision govern the comparison rules of each file (`check --base`).
    pub fn set_govern(&mut self, govern: Box<GovernFn>) {
        self.govern = Some(govern);
        self.forget_dirs();
    }

    /// Change the run's resolved settings (the pull-request guard's `fail_on`).
    pub fn run_mut(&mut self) -> Option<&mut Resolved> {
        // The remembered answers hold the run's settings too.
        self.forget_dirs();
        Arc::get_mut(&mut self.run).map(|s| &mut s.resolved)
    }

    /// The walk options: the run's, with each directory's `exclude`, `extensions` and
    /// `force_exclude` from its nearest config.
    pub fn walk(self: &Arc<Self>) -> WalkOptions {
        let mut walk = self.run.resolved.walk.clone();
        if !self.fixed {
            walk.scopes = Some(self.clone());
        }
        walk
    }

    /// The config file nearest to the files of `dir`; `None` when that is the run's.
    /// `listing`, the names in `dir` when the walk has just read them, spares asking the
    /// file system about a name `dir` does not hold.
    fn nearest(&self, dir: &Path, listing: Option<&Listing>) -> Option<PathBuf> {
        if self.fixed {
            return None;
        }
        let absolute = absolute_normalized(&self.cwd, dir);
        // The listing is of `dir` as the walk names it, which is `absolute` unless
        // normalizing took a `..` away (`link/..` is not where the link is).
        let mut listing = listing.filter(|_| {
            !(has_parent_component(dir) || dir.is_relative() && has_parent_component(&self.cwd))
        });
        // Each directory is looked at once: going up, the first one already known answers
        // for the ones below it (a deep tree costs one stat per directory, not per level).
        let mut unknown = Vec::new();
        let mut found = None;
        for d in absolute.ancestors() {
            if let Some(known) = lock(&self.dirs).get(d.as_os_str()) {
                found = known;
                break;
            }
            unknown.push(d.as_os_str().to_owned());
            // Only the first directory (`dir` itself) is the listing's.
            let listed = listing.take();
            let holds = |name: &str| listed.is_none_or(|l| l.holds(name));
            if holds(FILE_NAME) {
                let candidate = d.join(FILE_NAME);
                if candidate.is_file() {
                    found = Some(candidate);
                    break;
                }
            }
            if holds(".git") && d.join(".git").exists() {
                break;
            }
        }
        let mut dirs = lock(&self.dirs);
        for d in unknown {
            dirs.insert(d, found.clone());
        }
        found
    }

    /// The settings of the config file at `path`, loaded once.
    fn load(&self, path: &Path) -> Result<Arc<Scoped>, ConfigError> {
        if let Some(known) = lock(&self.configs).get(path) {
            return known.clone();
        }
        let loaded = Config::load(path).and_then(|config| {
            let mut resolved = resolve(&self.args, Some(&config))?;
            // Run-level keys are the run's config's.
            let run = &self.run.resolved;
            resolved.settings.required_guardrails = run.settings.required_guardrails.clone();
            require_rule(&mut resolved.settings);
            resolved.fail_on = run.fail_on;
            resolved.walk.respect_ignore = run.walk.respect_ignore;
            let display = display_path(path, &self.cwd);
            Ok(Arc::new(Scoped::new(resolved, Some(display))))
        });
        lock(&self.configs).insert(path.to_path_buf(), loaded.clone());
        loaded
    }

    fn forget_dirs(&mut self) {
        self.by_dir
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        *self
            .last_profile
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The settings that apply to the files of `dir`.
    fn scoped(&self, dir: &Path) -> Result<Arc<Scoped>, ConfigError> {
        self.scoped_listed(dir, None)
    }

    /// [`Resolver::scoped`], told the names in `dir` when the walk has just read them.
    fn scoped_listed(
        &self,
        dir: &Path,
        listing: Option<&Listing>,
    ) -> Result<Arc<Scoped>, ConfigError> {
        if let Some(known) = lock(&self.by_dir)
            .get(dir.as_os_str())
            .and_then(|d| d.scoped)
        {
            return known.map_err(|e| *e);
        }
        let scoped = self.scoped_uncached(dir, listing);
        let kept = scoped.clone().map_err(Box::new);
        lock(&self.by_dir).update(dir.as_os_str(), |d| d.scoped = Some(kept));
        scoped
    }

    fn scoped_uncached(
        &self,
        dir: &Path,
        listing: Option<&Listing>,
    ) -> Result<Arc<Scoped>, ConfigError> {
        match self.nearest(dir, listing) {
            None => Ok(self.run.clone()),
            Some(path) if self.run_config.as_ref() == Some(&canonical(&path)) => {
                Ok(self.run.clone())
            }
            Some(path) => self.load(&path),
        }
    }

    /// The first config file that could not be used, if any was met.
    pub fn error(&self) -> Option<ConfigError> {
        let configs = lock(&self.configs);
        let mut errors: Vec<&ConfigError> =
            configs.values().filter_map(|r| r.as_ref().err()).collect();
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        errors.first().map(|e| (*e).clone())
    }

    /// Every (head config, base config) pair that governed a file, with the base's
    /// choices: the pull-request guard compares each pair (DDB902).
    pub fn pairs(&self) -> Vec<ConfigPair> {
        let mut pairs: Vec<_> = lock(&self.profiles).keys().cloned().collect();
        pairs.sort();
        pairs
    }

    /// The profile of the files in `dir`.
    fn profile_of(&self, dir: &Path) -> Result<Arc<Profile>, FileError> {
        if let Some(known) = lock(&self.by_dir)
            .get(dir.as_os_str())
            .and_then(|d| d.profile)
        {
            return known.map_err(|e| *e);
        }
        let profile = self.profile_uncached(dir);
        let kept = profile.clone().map_err(Box::new);
        lock(&self.by_dir).update(dir.as_os_str(), |d| d.profile = Some(kept));
        profile
    }

    fn profile_uncached(&self, dir: &Path) -> Result<Arc<Profile>, FileError> {
        let scoped = self.scoped(dir).map_err(|e| {
            FileError::new(format!("the config file that applies cannot be used: {e}"))
        })?;
        let governed = match &self.govern {
            Some(govern) => {
                let absolute =
                    std::path::absolute(self.cwd.join(dir)).unwrap_or_else(|_| dir.into());
                Some(govern(&normalize(&absolute)).map_err(FileError::new)?)
            }
            None => None,
        };
        let key = (
            scoped.resolved.config_path.clone(),
            governed.as_ref().and_then(|(p, _)| p.clone()),
        );
        if let Some(known) = lock(&self.profiles).get(&key) {
            return Ok(known.clone());
        }
        let mut settings = scoped.resolved.settings.clone();
        if let Some((_, governing)) = governed {
            settings.governing = Some(governing);
        }
        let profile = Arc::new(Profile::new(settings, scoped.display.clone()));
        Ok(lock(&self.profiles).entry(key).or_insert(profile).clone())
    }

    /// The run's own profile (run-level settings; files that no config governs).
    pub fn run_profile(&self) -> Profile {
        Profile::new(self.run.resolved.settings.clone(), self.run.display.clone())
    }

    /// The config file that applies to `path`, as reports name it.
    pub fn config_of(&self, path: &Path) -> Result<Option<String>, ConfigError> {
        let dir = parent_dir(path);
        self.scoped(dir).map(|s| s.display.clone())
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl Resolver {
    fn scope_listed_or_not(&self, dir: &Path, listing: Option<&Listing>) -> Arc<Scope> {
        // A config that cannot be used is remembered (`Resolver::error` stops the run);
        // meanwhile the walk goes on with the run's settings.
        match self.scoped_listed(dir, listing) {
            Ok(scoped) => scoped.scope.clone(),
            Err(_) => self.run.scope.clone(),
        }
    }
}

impl Scoped {
    fn new(resolved: Resolved, display: Option<String>) -> Scoped {
        let scope = Arc::new(Scope {
            exclude: resolved.walk.exclude.clone(),
            extensions: resolved.walk.extensions.clone(),
            force_exclude: resolved.walk.force_exclude,
        });
        Scoped {
            resolved,
            scope,
            display,
        }
    }
}

impl Scopes for Resolver {
    fn scope(&self, dir: &Path) -> Arc<Scope> {
        self.scope_listed_or_not(dir, None)
    }

    fn scope_listed(&self, dir: &Path, listing: &Listing) -> Arc<Scope> {
        self.scope_listed_or_not(dir, Some(listing))
    }

    fn all_extensions(&self) -> Vec<String> {
        let mut all = self.run.resolved.walk.extensions.clone();
        for scoped in lock(&self.configs).values().flatten() {
            for ext in &scoped.resolved.walk.extensions {
                if !all.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
                    all.push(ext.clone());
                }
            }
        }
        all
    }
}

impl Profiles for Resolver {
    fn profile(&self, path: &Path) -> Result<Arc<Profile>, FileError> {
        // The files of one directory come one after the other: the bytes of the path
        // before its name are compared with the last file's before the directory is
        // even taken apart (see `last_profile`).
        let Some(dir) = dir_bytes(path) else {
            return self.profile_of(parent_dir(path));
        };
        if let Some((last, known)) = &*lock(&self.last_profile) {
            if last.as_bytes() == dir {
                return known.clone().map_err(|e| *e);
            }
        }
        let profile = self.profile_of(parent_dir(path));
        *lock(&self.last_profile) = Some((
            OsStr::from_bytes(dir).to_owned(),
            profile.clone().map_err(Box::new),
        ));
        profile
    }
}

/// `dir` (relative to `cwd`) made absolute, with `.` and `..` resolved lexically. A path
/// the walk gives under an absolute root is absolute and has none of them already: then
/// it is taken as it is (making it absolute and normalizing it parse every component,
/// twice, which cost more than the rest of looking a new directory up).
fn absolute_normalized(cwd: &Path, dir: &Path) -> PathBuf {
    let joined = cwd.join(dir);
    if is_plain_absolute(&joined) {
        return joined;
    }
    normalize(&std::path::absolute(&joined).unwrap_or_else(|_| dir.into()))
}

/// Is `path` absolute, without `.` or `..` components, repeated `/` or a trailing `/`:
/// a path that [`std::path::absolute`] and [`normalize`] give back unchanged?
fn is_plain_absolute(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    bytes.len() > 1
        && bytes[0] == b'/'
        && bytes[1..]
            .split(|&b| b == b'/')
            .all(|part| !part.is_empty() && part != b"." && part != b"..")
}

/// Does `path` have a `..` component (read from its bytes, without taking it apart)?
fn has_parent_component(path: &Path) -> bool {
    path.as_os_str()
        .as_bytes()
        .split(|&b| b == b'/')
        .any(|part| part == b"..")
}

/// The path with `.` and `..` components resolved lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A poisoned lock only means another thread panicked while holding it; the map is
/// still whole (every insert is one call).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `--exclude`: gitignore-style patterns relative to the current directory.
fn cli_exclude(args: &CheckArgs) -> Result<Option<Exclude>, ConfigError> {
    if args.input.exclude.is_empty() {
        return Ok(None);
    }
    let error = |message: String| ConfigError {
        path: None,
        position: None,
        message,
    };
    let cwd = std::env::current_dir()
        .map_err(|e| error(format!("cannot read the current directory: {e}")))?;
    let mut builder = GitignoreBuilder::new(cwd);
    for pattern in &args.input.exclude {
        builder
            .add_line(None, pattern)
            .map_err(|e| error(format!("--exclude: invalid pattern `{pattern}`: {e}")))?;
    }
    let matcher = builder
        .build()
        .map_err(|e| error(format!("--exclude: {e}")))?;
    Ok(Some(Exclude::new(matcher)))
}

/// The required guardrails (DDB013): `--require-guardrail` when given, else
/// `require_guardrails` of the file; each with the text and span that ask for it, where
/// its finding will point.
fn requirements(
    args: &CheckArgs,
    config: Option<&Config>,
) -> Result<Vec<Requirement>, ConfigError> {
    let mut out = Vec::new();
    if !args.require_guardrails.is_empty() {
        let mut text = String::new();
        let mut spans = Vec::new();
        for value in &args.require_guardrails {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str("--require-guardrail=");
            spans.push(Span::new(text.len(), text.len() + value.len()));
            text.push_str(value);
        }
        let text: std::sync::Arc<str> = text.into();
        for (value, span) in args.require_guardrails.iter().zip(spans) {
            let (name, scope) =
                required_guardrail::parse(value.trim()).map_err(|message| ConfigError {
                    path: None,
                    position: None,
                    message: format!("--require-guardrail: {message}"),
                })?;
            out.push(Requirement {
                name,
                scope,
                origin: Origin {
                    path: "(command line)".to_string(),
                    text: text.clone(),
                    span,
                },
            });
        }
        return Ok(out);
    }
    let Some(config) = config else {
        return Ok(out);
    };
    let Some(entries) = &config.file.require_guardrails else {
        return Ok(out);
    };
    // Shown as given, relative to the current directory when it is below it.
    let display = std::env::current_dir()
        .ok()
        .and_then(|cwd| config.path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| config.path.clone())
        .display()
        .to_string();
    for entry in entries {
        let (name, scope) = required_guardrail::parse(entry.get_ref())
            .map_err(|message| config.spanned_error(entry, message))?;
        let r = entry.span();
        out.push(Requirement {
            name,
            scope,
            origin: Origin {
                path: display.clone(),
                text: config.source.text.clone(),
                span: Span::new(r.start, r.end),
            },
        });
    }
    Ok(out)
}

/// DDB013 runs (its needles keep policy files) when guardrails are required.
fn require_rule(settings: &mut Settings) {
    let rule = &required_guardrail::RULE;
    if !settings.required_guardrails.is_empty()
        && !settings.rules.iter().any(|r| r.code == rule.code)
    {
        settings.rules.push(rule);
    }
}

/// What `ddb-guard init` writes: every key at its default, commented out, with why.
pub const DEFAULT_FILE: &str = r#"# ddb-guard configuration. Command-line flags override every key here.
# Each file is checked with the nearest ddb-guard.toml in its directory or a parent (up
# to the repository root), or with the file given with --config. The nearest file wins
# whole: keys are not merged with a ddb-guard.toml further up. `ddb-guard rule` lists the
# rules.

# Rules to run: codes (DDB001), names (deletion-policy), code prefixes (DDB01) or "ALL".
# The default is every rule that is on by default.
# select = ["ALL"]

# Rules to run on top of `select`, such as the off-by-default DDB012.
# extend_select = ["DDB012"]

# Rules not to run.
# ignore = []

# Gitignore-style patterns, relative to this file's directory, of paths not to walk.
# Files named on the command line are still checked unless force_exclude is true.
# exclude = ["cdk.out/", "node_modules/"]
# force_exclude = false

# File extensions to walk (case-insensitive).
# extensions = ["yaml", "yml", "json", "template"]

# Honour .gitignore, .ignore and git excludes while walking.
# respect_gitignore = true

# Whether DeletionPolicy: RetainExceptOnCreate proves DDB001. It deletes the table only
# when the stack's own creation fails; set false to accept only Retain.
# allow_retain_except_on_create = true

# The lowest finding severity that fails the run (exit 1): "error", "warning" or "never".
# Read from the config of the current directory only (as are require_guardrails and
# respect_gitignore).
# fail_on = "error"

# Guardrails the checked policy files and templates must contain (DDB013, errors):
# "deny-delete-table", "deny-delete-backup", "deny-delete-backup-selection",
# "deny-update-table"; prefix with "scp:" to accept only a service control policy.
# require_guardrails = ["deny-delete-table", "scp:deny-delete-backup"]

# Per-rule severity: "error", "warning" or "note".
# [severity]
# DDB003 = "error"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("ddb-guard.toml"), text.to_string())
    }

    #[test]
    fn the_default_file_parses_and_changes_nothing() {
        let config = parse(DEFAULT_FILE).expect("default file is valid");
        assert!(config.file.select.is_none());
        assert!(config.file.severity.is_empty());
    }

    #[test]
    fn the_default_file_parses_with_every_key_uncommented() {
        let uncommented: String = DEFAULT_FILE
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = parse(&uncommented).expect("every documented key is valid");
        assert!(
            config.check_selectors().is_ok(),
            "every documented rule exists"
        );
        assert_eq!(config.file.allow_retain_except_on_create, Some(true));
    }

    #[test]
    fn an_unknown_key_names_the_key_and_its_line() {
        let err = parse("select = [\"DDB001\"]\nignroe = [\"DDB002\"]\n").expect_err("unknown key");
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.message.contains("ignroe"), "{}", err.message);
    }

    #[test]
    fn an_unknown_rule_points_at_the_selector() {
        let config = parse("ignore = [\"DDB002\", \"DDB0001\"]\n").expect("valid TOML");
        let err = config.check_selectors().expect_err("unknown rule");
        assert_eq!(err.position, Some((1, 21)));
        assert!(
            err.message.contains("did you mean `DDB001`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn fail_on_takes_the_values_of_the_flag() {
        let config = parse("fail_on = \"warning\"\n").expect("valid");
        assert_eq!(config.file.fail_on, Some(FailOnName::Warning));
        let err = parse("fail_on = \"note\"\n").expect_err("not a --fail-on value");
        assert_eq!(err.position, Some((1, 11)));
    }

    #[test]
    fn a_recent_map_keeps_at_most_two_generations_and_the_entries_used_last() {
        let mut recent: Recent<u32, u32> = Recent::new(4);
        for k in 0..100 {
            recent.insert(k, k * 2);
            // Entry 0 is used all along: it is never forgotten.
            assert_eq!(recent.get(&0), Some(0));
            assert!(recent.len() <= 8, "{} entries after {k}", recent.len());
        }
        assert_eq!(recent.get(&99), Some(198));
        assert_eq!(
            recent.get(&1),
            None,
            "an entry not used for long is forgotten"
        );
        recent.update(&1, |v| *v += 5);
        assert_eq!(recent.get(&1), Some(5));
        recent.update(&1, |v| *v += 5);
        assert_eq!(recent.get(&1), Some(10));
        recent.clear();
        assert_eq!(recent.len(), 0);
    }

    /// The shortcut for a path the walk gives under an absolute root answers what making
    /// it absolute and normalizing it answers, and is taken only where that changes nothing.
    #[test]
    fn a_plain_absolute_directory_is_taken_as_normalizing_would_give_it() {
        let cwd = Path::new("/work/repo");
        for dir in [
            "/a/b/c",
            "/a",
            "/",
            "//a/b",
            "/a//b",
            "/a/./b",
            "/a/../b",
            "/a/b/",
            "/a/b/.",
            "/a/b/..",
            "/a/.hidden/..x/...",
            "a/b",
            "./a/b",
            ".",
            "../x",
            "",
        ] {
            let dir = Path::new(dir);
            let slow =
                normalize(&std::path::absolute(cwd.join(dir)).unwrap_or_else(|_| dir.into()));
            assert_eq!(absolute_normalized(cwd, dir), slow, "{}", dir.display());
        }
        assert!(is_plain_absolute(Path::new("/a/.hidden/..x/...")));
        for taken_apart in ["/", "//a", "/a//b", "/a/./b", "/a/../b", "/a/", "a/b"] {
            assert!(!is_plain_absolute(Path::new(taken_apart)), "{taken_apart}");
        }
    }

    /// Told the names of the directory it is asked about (the walk's listing), the
    /// lookup of the nearest config finds what it finds by asking the file system: a
    /// config file, a directory named like one, a repository's root, and a listing read
    /// through `link/..` (another directory than `..` taken away by normalizing names).
    #[test]
    fn the_nearest_config_is_the_same_with_the_walks_listing() {
        use clap::{Args, FromArgMatches};
        let tree = tempfile::tempdir().expect("temporary directory");
        let root = tree.path();
        for dir in [
            "own/sub",
            "plain/.git",
            "plain/sub",
            "odd/ddb-guard.toml",
            "odd/in",
        ] {
            std::fs::create_dir_all(root.join(dir)).expect("mkdir");
        }
        std::fs::create_dir(root.join(".git")).expect("a repository root");
        std::fs::write(root.join("own").join(FILE_NAME), "fail_on = \"warning\"\n")
            .expect("config");
        std::fs::write(root.join(FILE_NAME), "fail_on = \"error\"\n").expect("config");
        std::os::unix::fs::symlink(root.join("plain/sub"), root.join("link")).expect("link");
        let matches = CheckArgs::augment_args(clap::Command::new("check"))
            .try_get_matches_from(["check"])
            .expect("default arguments");
        let args = CheckArgs::from_arg_matches(&matches).expect("default arguments");
        let dirs = [
            "",
            "own",
            "own/sub",
            "plain",
            "plain/sub",
            "odd",
            "odd/in",
            "link",
            "link/..",
            "own/../plain",
            "link/../sub",
        ];
        for dir in dirs {
            for absolute in [true, false] {
                let asked = if absolute {
                    root.join(dir)
                } else {
                    PathBuf::from(dir)
                };
                let by_stat = Resolver::new(&args, root).expect("resolver");
                let by_listing = Resolver::new(&args, root).expect("resolver");
                let listing = crate::discover::Listing::of(&root.join(dir));
                assert_eq!(
                    by_listing.nearest(&asked, Some(&listing)),
                    by_stat.nearest(&asked, None),
                    "{}",
                    asked.display()
                );
            }
        }
    }

    /// The per-directory caches of a run stay bounded however many directories the tree
    /// has, and what they forget is found again the same.
    #[test]
    fn the_resolvers_directory_caches_stay_bounded_and_answer_the_same() {
        use clap::{Args, FromArgMatches};
        let tree = tempfile::tempdir().expect("temporary directory");
        let root = tree.path();
        std::fs::create_dir(root.join(".git")).expect("a repository root");
        std::fs::create_dir(root.join("own")).expect("mkdir");
        std::fs::write(root.join("own").join(FILE_NAME), "fail_on = \"warning\"\n")
            .expect("config");
        let n = 3 * RECENT_DIRECTORIES;
        for i in 0..n {
            let parent = if i.is_multiple_of(2) { "own" } else { "plain" };
            std::fs::create_dir_all(root.join(parent).join(format!("d{i:05}"))).expect("mkdir");
        }
        let matches = CheckArgs::augment_args(clap::Command::new("check"))
            .try_get_matches_from(["check"])
            .expect("default arguments");
        let args = CheckArgs::from_arg_matches(&matches).expect("default arguments");
        let resolver = Resolver::new(&args, root).expect("resolver");
        let config_of = |i: usize| {
            let parent = if i.is_multiple_of(2) { "own" } else { "plain" };
            let file = root.join(parent).join(format!("d{i:05}")).join("t.yaml");
            let profile = Profiles::profile(&resolver, &file).expect("profile");
            let config = resolver.config_of(&file).expect("config");
            (profile.config.clone(), config)
        };
        let first: Vec<_> = (0..n).map(config_of).collect();
        assert!(lock(&resolver.by_dir).len() <= 2 * RECENT_DIRECTORIES);
        assert!(lock(&resolver.dirs).len() <= 2 * RECENT_DIRECTORIES);
        for (i, (profile, config)) in first.iter().enumerate() {
            assert_eq!(
                config.is_some(),
                i.is_multiple_of(2),
                "directory {i}: {config:?}"
            );
            assert_eq!(profile, config, "directory {i}");
        }
        // Asked again in another order, after the first answers were forgotten.
        for i in (0..n).rev() {
            assert_eq!(config_of(i), first[i], "directory {i} asked again");
        }
        assert!(lock(&resolver.by_dir).len() <= 2 * RECENT_DIRECTORIES);
        assert!(lock(&resolver.dirs).len() <= 2 * RECENT_DIRECTORIES);
    }

    #[test]
    fn a_bad_severity_lists_the_valid_ones() {
        let err = parse("[severity]\nDDB001 = \"fatal\"\n").expect_err("bad severity");
        assert_eq!(err.position.map(|p| p.0), Some(2));
        assert!(err.message.contains("error"), "{}", err.message);
    }
}
