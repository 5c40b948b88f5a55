//! The base side of the pull-request guard: which head file corresponds to which base
//! file, and the base bytes, from a git revision ([`from_git`]) or from an old copy on disk
//! ([`from_paths`]). The comparison itself runs in `check`, per head file, through the same
//! loader, model and rules as everything else.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::discover::{self, Candidate, Discovery, WalkError, WalkOptions};
use crate::git::{Change, GitError, Repo};
use crate::load::Limits;
use crate::template_file::TemplateFile;

/// A template as it was at the base.
#[derive(Clone, Debug)]
pub struct BaseFile {
    /// How messages name it: `main:stacks/orders.yaml`, or `old/orders.yaml`.
    pub name: String,
    /// Its path at the base; the extension picks the format.
    pub path: PathBuf,
    /// The report path when the file is gone at the head (relative to where the user is).
    pub display: String,
    /// The base text, or why it could not be read (too large): an error, never a pass.
    pub bytes: Result<Vec<u8>, String>,
    /// Where the files it names (fragments, nested templates) are read from: the same
    /// revision.
    pub files: BaseFiles,
}

/// Where the base side reads the files a base template names (a Serverless service's
/// `${file(...)}` fragments, local nested templates): never the head's version of them.
#[derive(Clone, Debug, Default)]
pub enum BaseFiles {
    /// On disk, beside the base file (`diff OLD NEW`: OLD is a directory or a file), with
    /// the working tree's rule: inside the directory ddb-guard runs in.
    #[default]
    Disk,
    /// In the base commit (`check --base`); paths are relative to the repository's root.
    Git(Arc<GitFiles>),
}

/// A commit to read base files from, and the part of the repository they may come from.
#[derive(Debug)]
pub struct GitFiles {
    repo: Repo,
    commit: String,
    /// How messages name the revision (`main`).
    label: String,
    /// The directory ddb-guard runs in, relative to the root (`/`-separated, "" for the
    /// root): as on disk, a base template names nothing outside it.
    scope: String,
}

impl GitFiles {
    /// `path` (relative to the root, `.`/`..` folded) if it is inside the scope.
    fn within(&self, path: &Path) -> Result<String, String> {
        let path = match path.strip_prefix(&self.repo.root) {
            Ok(rest) if path.is_absolute() => rest,
            _ => path,
        };
        let mut parts: Vec<String> = Vec::new();
        for c in path.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(crate::read::OUTSIDE.to_string());
                    }
                }
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(crate::read::OUTSIDE.to_string())
                }
            }
        }
        let joined = parts.join("/");
        let inside = self.scope.is_empty()
            || joined
                .strip_prefix(self.scope.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
        if !inside {
            return Err(crate::read::OUTSIDE.to_string());
        }
        Ok(joined)
    }

    /// The bytes of the regular file at `path` (root-relative, in scope) in the commit.
    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, String> {
        let at = |what: &str| format!("{what} at the base `{}`", self.label);
        match self.repo.entry(&self.commit, path) {
            Err(e) => return Err(format!("cannot be read at the base ({e})")),
            Ok(None) => return Err(at("does not exist")),
            Ok(Some((mode, kind))) if mode == "120000" => {
                let _ = kind;
                return Err(at("is a symbolic link (not followed)"));
            }
            Ok(Some((_, kind))) if kind != "blob" => return Err(at("is not a file")),
            Ok(Some(_)) => {}
        }
        match self.repo.read(&self.commit, path, max) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(at(&format!("is larger than the {max} byte limit"))),
            Err(e) => Err(format!("cannot be read at the base ({e})")),
        }
    }
}

impl crate::read::Files for BaseFiles {
    fn read(&self, path: &Path, max: u64) -> Result<Vec<u8>, String> {
        match self {
            BaseFiles::Disk => crate::read::WorkingTree.read(path, max),
            BaseFiles::Git(git) => git.read(&git.within(path)?, max),
        }
    }

    fn display(&self, path: &Path) -> String {
        match self {
            BaseFiles::Disk => crate::read::WorkingTree.display(path),
            BaseFiles::Git(git) => match git.within(path) {
                Ok(inside) => format!("{}:{inside}", git.label),
                Err(_) => format!("{}:{}", git.label, path.display()),
            },
        }
    }
}

/// A head file and the base version it is compared with.
#[derive(Clone, Debug)]
pub struct Pair {
    pub head: Candidate,
    pub base: BaseFile,
}

#[derive(Clone, Debug, Default)]
pub struct BaseRevision {
    /// Pairs by canonical head path, so that they meet the walk's candidates however the
    /// paths were spelled.
    pub pairs: HashMap<PathBuf, Pair>,
    /// Base templates with tables whose file is gone at the head.
    pub deleted: Vec<BaseFile>,
    /// Things the user should know about how the base was chosen (printed on stderr).
    pub warnings: Vec<String>,
    /// Where the base versions of files that are not in `pairs` are read from, when the
    /// head needs them: a service whose fragments changed, a nested template outside the
    /// paths compared (see [`BaseRevision::base_of`]).
    pub files: BaseFiles,
}

impl BaseRevision {
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.deleted.is_empty()
    }

    /// The base version of the head file `head` when it has no pair (git did not list it
    /// as changed, or it lies outside the paths compared), read from the base commit at
    /// the same path: `None` when there is none (the file is new, or the base is not a
    /// git revision, where OLD's files are all paired already).
    pub fn base_of(&self, head: &Candidate, max: u64) -> Option<BaseFile> {
        let BaseFiles::Git(git) = &self.files else {
            return None;
        };
        let real = std::fs::canonicalize(&head.path).ok()?;
        let root = std::fs::canonicalize(&git.repo.root).ok()?;
        let rel = slash_path(real.strip_prefix(&root).ok()?);
        if !git.repo.has_file(&git.commit, &rel).unwrap_or(true) {
            return None;
        }
        Some(BaseFile {
            name: format!("{}:{rel}", git.label),
            path: PathBuf::from(&rel),
            display: head.display.clone(),
            bytes: git.read(&rel, max),
            files: self.files.clone(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{0}")]
    Usage(String),
}

impl BaseError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            BaseError::Git(e) => e.help(),
            BaseError::Usage(_) => None,
        }
    }
}

/// Limits for reading files while pairing.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    pub max_file_size: u64,
    pub limits: Limits,
}

/// The repository and the base commit of a `check --base REV` run.
pub struct GitBase {
    pub repo: Repo,
    /// The full id of the commit compared with (the merge base, usually).
    pub commit: String,
    /// How messages name it: what the user typed, or the short id of the merge base.
    pub label: String,
    pub cwd: PathBuf,
    pub warnings: Vec<String>,
}

/// Find the repository around the current directory and the merge base of `rev` and HEAD.
pub fn open_git(rev: &str) -> Result<GitBase, BaseError> {
    let cwd = std::env::current_dir()
        .map_err(|e| BaseError::Usage(format!("cannot read the current directory: {e}")))?;
    let repo = Repo::discover(&cwd)?;
    let commit = repo.resolve(rev)?;
    let mut warnings = Vec::new();
    let base = match repo.merge_base(rev, &commit) {
        Ok(base) => base,
        // A shallow CI clone that fetched the base commit alone: on a pull request's merge
        // commit, the base itself is the right comparison; elsewhere, changes made on the
        // base branch after the fork show up too (as removals: the safe direction).
        Err(GitError::NoMergeBase { .. }) if repo.is_shallow() => {
            warnings.push(format!(
                "this shallow clone has no merge base of `{rev}` and HEAD; comparing with `{rev}` itself, so tables added on its branch after the fork would show as removed (fetch more history, e.g. actions/checkout `fetch-depth: 0`, to compare with the merge base)"
            ));
            commit.clone()
        }
        Err(e) => return Err(e.into()),
    };
    // Name the base as the user did, unless the merge base is another commit.
    let label = if base == commit && !is_full_id(rev) {
        rev.to_string()
    } else {
        base.chars().take(12).collect()
    };
    Ok(GitBase {
        repo,
        commit: base,
        label,
        cwd,
        warnings,
    })
}

/// Compare the working tree under `paths` (default: the current directory) with the merge
/// base of `rev` and HEAD.
pub fn from_git(
    rev: &str,
    paths: &[PathBuf],
    walk: &WalkOptions,
    read: &ReadLimits,
) -> Result<BaseRevision, BaseError> {
    from_git_base(&open_git(rev)?, paths, walk, read)
}

/// [`from_git`] for an opened base. Every changed file git tracks at the base or the head
/// is a candidate when its extension is a template extension (the defaults or `walk`'s)
/// and its base text may hold a table, whatever `.gitignore`, `.ignore` or an `exclude`
/// says: the head must not be able to hide a template from its own comparison.
pub fn from_git_base(
    git: &GitBase,
    paths: &[PathBuf],
    walk: &WalkOptions,
    read: &ReadLimits,
) -> Result<BaseRevision, BaseError> {
    let (repo, cwd, base, base_label) = (&git.repo, &git.cwd, &git.commit, &git.label);
    let mut walk = walk.clone();
    for ext in discover::TEMPLATE_EXTENSIONS {
        if !walk.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
            walk.extensions.push(ext.to_string());
        }
    }
    let walk = &walk;
    let warnings = git.warnings.clone();
    let default = [PathBuf::from(".")];
    let args = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let scopes = Scopes::new(&repo.root, cwd, args, paths.is_empty());

    let mut baseline = BaseRevision::default();
    let scope = normalize(cwd)
        .strip_prefix(normalize(&repo.root))
        .map(slash_path)
        .unwrap_or_default();
    let files = BaseFiles::Git(Arc::new(GitFiles {
        repo: repo.clone(),
        commit: base.clone(),
        label: base_label.clone(),
        scope,
    }));
    baseline.files = files.clone();
    let mut deleted = Vec::new();
    let mut added = Vec::new();
    let mut changed: Vec<(String, Option<String>)> = Vec::new();
    for change in repo.changes(base, args)? {
        let (from, to) = match change {
            Change::Modified(p) => (p.clone(), Some(p)),
            Change::Renamed { from, to } => (from, Some(to)),
            Change::Deleted(p) => (p, None),
            Change::Added(p) => {
                if scopes.wanted(&p, walk) {
                    added.push((PathBuf::from(&p), scopes.candidate(&repo.root, &p)));
                }
                continue;
            }
        };
        if scopes.wanted(&from, walk) {
            changed.push((from, to));
        }
    }
    let paths: Vec<&str> = changed.iter().map(|(from, _)| from.as_str()).collect();
    let blobs = repo.read_all(base, &paths, read.max_file_size)?;
    for ((from, to), blob) in changed.into_iter().zip(blobs) {
        let bytes = match blob {
            Some(bytes) if !may_hold_tables(Path::new(&from), &bytes) => continue,
            Some(bytes) => Ok(bytes),
            None => Err(format!(
                "the base version is larger than the {} byte limit",
                read.max_file_size
            )),
        };
        let file = BaseFile {
            name: format!("{base_label}:{from}"),
            path: PathBuf::from(&from),
            display: scopes.display(&from),
            bytes,
            files: files.clone(),
        };
        match to {
            Some(to) => baseline.insert(Pair {
                head: scopes.candidate(&repo.root, &to),
                base: file,
            }),
            None => deleted.push((PathBuf::from(&from), file)),
        }
    }
    pair_moved(&mut baseline, deleted, added, read);
    baseline.warnings = warnings;
    Ok(baseline)
}

/// A full commit id (what CI passes as the base SHA): shown abbreviated, as git does.
fn is_full_id(rev: &str) -> bool {
    rev.len() >= 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compare NEW with OLD: two files, or two directories matched by relative path. Returns
/// the baseline and the walk of NEW (the files to check).
pub fn from_paths(
    old: &Path,
    new: &Path,
    walk: &WalkOptions,
    read: &ReadLimits,
) -> Result<(BaseRevision, Discovery), BaseError> {
    let kind = |p: &Path| match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(m) if m.is_dir() => Ok(false),
        Ok(_) => Err(BaseError::Usage(format!(
            "{}: not a regular file or directory",
            p.display()
        ))),
        Err(e) => Err(BaseError::Usage(format!(
            "{}: {}",
            p.display(),
            discover::io_reason(&e)
        ))),
    };
    let (old_is_file, new_is_file) = (kind(old)?, kind(new)?);
    if old_is_file != new_is_file {
        return Err(BaseError::Usage(format!(
            "OLD and NEW must both be files or both be directories: {} is a {}, {} is a {}",
            old.display(),
            if old_is_file { "file" } else { "directory" },
            new.display(),
            if new_is_file { "file" } else { "directory" },
        )));
    }
    let mut discovery = discover::discover(&[new.to_path_buf()], walk);
    let mut baseline = BaseRevision::default();
    if old_is_file {
        if let Some(file) = read_old(old, read, &mut discovery.errors) {
            baseline.insert(Pair {
                head: Candidate {
                    display: new.display().to_string(),
                    path: new.to_path_buf(),
                },
                base: file,
            });
        }
        return Ok((baseline, discovery));
    }

    let old_walk = discover::discover(&[old.to_path_buf()], walk);
    discovery.errors.extend(old_walk.errors);
    let relative = |root: &Path, c: &Candidate| -> Option<PathBuf> {
        c.path.strip_prefix(root).ok().map(Path::to_path_buf)
    };
    let mut heads: HashMap<PathBuf, Candidate> = discovery
        .files
        .iter()
        .filter_map(|c| Some((relative(new, c)?, c.clone())))
        .collect();
    let mut deleted = Vec::new();
    for c in &old_walk.files {
        let Some(rel) = relative(old, c) else {
            continue;
        };
        let Some(file) = read_old(&c.path, read, &mut discovery.errors) else {
            continue;
        };
        // The NEW side's ignore files and excludes do not hide a file OLD has: it is
        // compared wherever NEW still has it.
        let head = heads.remove(&rel).or_else(|| {
            let path = new.join(&rel);
            std::fs::metadata(&path)
                .is_ok_and(|m| m.is_file())
                .then(|| Candidate {
                    display: path.display().to_string(),
                    path,
                })
        });
        match head {
            Some(head) => baseline.insert(Pair { head, base: file }),
            None => deleted.push((rel, file)),
        }
    }
    let mut added: Vec<(PathBuf, Candidate)> = heads.into_iter().collect();
    added.sort();
    pair_moved(&mut baseline, deleted, added, read);
    Ok((baseline, discovery))
}

impl BaseRevision {
    fn insert(&mut self, pair: Pair) {
        let key = canonical(&pair.head.path);
        self.pairs.insert(key, pair);
    }
}

/// The key under which a head file meets the walk's candidates.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Without one of these, a file cannot declare a table (the rules' prefilter), nor deploy
/// a template that does (a nested stack, a stack set: removing one deletes its tables),
/// nor hold a `Deny` guardrail whose removal DDB023 reports (a deny of `*` or of a
/// `backup:` action need not name DynamoDB).
fn may_hold_tables(path: &Path, bytes: &[u8]) -> bool {
    // A Serverless service may keep every table in `${file(...)}` fragments.
    // Built once per run, not per old file: the searcher costs more to build than to run.
    static TABLES: std::sync::OnceLock<crate::prefilter::Prefilter> = std::sync::OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        crate::prefilter::Prefilter::new(
            [&["dynamodb"][..], &["simpletable"], &["deny", "statement"]]
                .into_iter()
                .chain(crate::prefilter::INCLUDES.iter().copied()),
        )
    });
    crate::model::serverless::may_include_files(path, bytes) || tables.may_match(bytes)
}

/// An old file, if it may hold tables; an unreadable one is an error, never a pass.
fn read_old(path: &Path, read: &ReadLimits, errors: &mut Vec<WalkError>) -> Option<BaseFile> {
    let display = path.display().to_string();
    match read_limited(path, read.max_file_size) {
        Ok(bytes) if may_hold_tables(path, &bytes) => Some(BaseFile {
            name: display.clone(),
            path: path.to_path_buf(),
            display,
            bytes: Ok(bytes),
            files: BaseFiles::Disk,
        }),
        Ok(_) => None,
        Err(message) => {
            errors.push(WalkError { display, message });
            None
        }
    }
}

/// The same read as `check` (never opens a FIFO or device, size limit included).
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    crate::read::file(path, max).map_err(|e| e.message)
}

/// A deleted template whose tables reappear in an added file was moved, not deleted:
/// git's rename detection misses a move that also rewrote the text (YAML converted to
/// JSON). An added file pairs with the deleted one when it has the same directory and
/// name apart from the extension, or else when it declares the most tables with the same
/// logical ID and type (at least one). Each added file pairs at most once. Paths are
/// relative to the repository root (git) or to OLD and NEW (directories).
fn pair_moved(
    baseline: &mut BaseRevision,
    deleted: Vec<(PathBuf, BaseFile)>,
    added: Vec<(PathBuf, Candidate)>,
    read: &ReadLimits,
) {
    let mut taken: HashSet<usize> = HashSet::new();
    let mut added_tables: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    for (rel, file) in deleted {
        let same_stem = added.iter().enumerate().position(|(i, (other, _))| {
            !taken.contains(&i)
                && other.parent() == rel.parent()
                && other.file_stem() == rel.file_stem()
        });
        let chosen = same_stem.or_else(|| {
            let tables = file
                .bytes
                .as_ref()
                .map(|b| tables_of(b, &file.path, &read.limits))
                .unwrap_or_default();
            if tables.is_empty() {
                return None;
            }
            let mut best: Option<(usize, usize)> = None;
            for (i, (_, c)) in added.iter().enumerate() {
                if taken.contains(&i) {
                    continue;
                }
                let theirs = added_tables.entry(i).or_insert_with(|| {
                    read_limited(&c.path, read.max_file_size)
                        .map(|b| tables_of(&b, &c.path, &read.limits))
                        .unwrap_or_default()
                });
                let shared = tables.iter().filter(|t| theirs.contains(t)).count();
                if shared > 0 && best.is_none_or(|(_, n)| shared > n) {
                    best = Some((i, shared));
                }
            }
            best.map(|(i, _)| i)
        });
        match chosen {
            Some(i) => {
                taken.insert(i);
                baseline.insert(Pair {
                    head: added[i].1.clone(),
                    base: file,
                });
            }
            None => baseline.deleted.push(file),
        }
    }
}

/// (logical ID, type) of every table, or nothing when the file does not load.
fn tables_of(bytes: &[u8], path: &Path, limits: &Limits) -> Vec<(String, String)> {
    let Ok(file) = TemplateFile::from_bytes(path, bytes, limits) else {
        return Vec::new();
    };
    let Ok(Some(template)) = file.template() else {
        return Vec::new();
    };
    template
        .tables()
        .map(|t| {
            (
                t.logical_id.to_string(),
                t.type_name.unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The PATHS arguments, as root-relative prefixes, for filtering git's output and for
/// spelling report paths the way the walk does (`./stacks/a.yaml` if the user typed
/// `./stacks`).
struct Scopes {
    /// (argument as typed, root-relative prefix with `/` separators; "" for the root).
    args: Vec<(PathBuf, String)>,
    implicit: bool,
    root: PathBuf,
    cwd: PathBuf,
}

impl Scopes {
    fn new(root: &Path, cwd: &Path, args: &[PathBuf], implicit: bool) -> Self {
        let args = args
            .iter()
            .filter_map(|a| {
                let abs = normalize(&cwd.join(a));
                let rel = abs.strip_prefix(normalize(root)).ok()?;
                Some((a.clone(), slash_path(rel)))
            })
            .collect();
        Scopes {
            args,
            implicit,
            root: normalize(root),
            cwd: normalize(cwd),
        }
    }

    /// The argument that covers `path` (root-relative), if any.
    fn scope(&self, path: &str) -> Option<&(PathBuf, String)> {
        self.args.iter().find(|(_, prefix)| {
            prefix.is_empty()
                || path == prefix
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// What the walk would check: a file named on the command line (always), or one with
    /// a template extension and, unless hidden files are walked, no hidden component below
    /// the argument that covers it (an argument typed as `.github/cfn` is walked anyway).
    fn wanted(&self, path: &str, walk: &WalkOptions) -> bool {
        if self.args.iter().any(|(_, prefix)| prefix == path) {
            return true;
        }
        if !discover::has_template_extension(Path::new(path), &walk.extensions) {
            return false;
        }
        if walk.hidden {
            return true;
        }
        let visible_below = |prefix: &str| {
            let below = if prefix.is_empty() {
                path
            } else {
                match path.strip_prefix(prefix) {
                    Some(rest) if rest.starts_with('/') => &rest[1..],
                    _ => return false,
                }
            };
            !below.split('/').any(|c| c.starts_with('.'))
        };
        // git lists only paths under the arguments; should one not be recognised here (a
        // symbolic link in an argument), judge the whole path rather than drop the file.
        self.scope(path).is_none() && visible_below("")
            || self.args.iter().any(|(_, prefix)| visible_below(prefix))
    }

    /// How the walk would spell `path` (root-relative) in a report.
    fn display(&self, path: &str) -> String {
        match self.scope(path) {
            Some((arg, prefix)) => {
                let rest = if prefix.is_empty() {
                    path
                } else {
                    path[prefix.len()..].trim_start_matches('/')
                };
                if self.implicit {
                    // The walk of an implicit `.` prints paths without the `./`.
                    let full = self.root.join(path);
                    return slash_path(&relative(&full, &self.cwd));
                }
                if rest.is_empty() {
                    arg.display().to_string()
                } else {
                    arg.join(rest).display().to_string()
                }
            }
            None => slash_path(&relative(&self.root.join(path), &self.cwd)),
        }
    }

    fn candidate(&self, root: &Path, path: &str) -> Candidate {
        Candidate {
            display: self.display(path),
            path: root.join(path),
        }
    }
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `.` and `..` resolved without touching the file system (a deleted file has no
/// canonical path).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `from` (both absolute and normalized), with `..` where needed.
fn relative(path: &Path, from: &Path) -> PathBuf {
    let a: Vec<Component> = path.components().collect();
    let b: Vec<Component> = from.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_current_directory() {
        assert_eq!(
            relative(Path::new("/r/a/b.yaml"), Path::new("/r/c")),
            PathBuf::from("../a/b.yaml")
        );
        assert_eq!(
            relative(Path::new("/r/a/b.yaml"), Path::new("/r")),
            PathBuf::from("a/b.yaml")
        );
    }

    #[test]
    fn report_paths_are_spelled_as_the_walk_spells_them() {
        let root = Path::new("/repo");
        let explicit = Scopes::new(
            root,
            Path::new("/repo"),
            &[PathBuf::from("./stacks")],
            false,
        );
        assert_eq!(explicit.display("stacks/a.yaml"), "./stacks/a.yaml");
        assert!(explicit.scope("stacksx/a.yaml").is_none());
        let implicit = Scopes::new(root, Path::new("/repo/stacks"), &[PathBuf::from(".")], true);
        assert_eq!(implicit.display("stacks/a.yaml"), "a.yaml");
    }

    #[test]
    fn any_extension_is_wanted_when_the_file_is_named() {
        let scopes = Scopes::new(
            Path::new("/repo"),
            Path::new("/repo"),
            &[PathBuf::from("stack.cfn")],
            false,
        );
        let walk = WalkOptions::default();
        assert!(scopes.wanted("stack.cfn", &walk));
        assert!(scopes.wanted("x/other.yaml", &walk));
        assert!(!scopes.wanted("x/other.cfn", &walk));
    }

    #[test]
    fn hidden_files_are_wanted_only_as_the_walk_wants_them() {
        let scopes = Scopes::new(
            Path::new("/repo"),
            Path::new("/repo"),
            &[PathBuf::from("."), PathBuf::from(".github/cfn")],
            false,
        );
        let walk = WalkOptions::default();
        assert!(!scopes.wanted(".aws-sam/build/template.yaml", &walk));
        assert!(scopes.wanted(".github/cfn/stack.yaml", &walk));
        let hidden = WalkOptions {
            hidden: true,
            ..WalkOptions::default()
        };
        assert!(scopes.wanted(".aws-sam/build/template.yaml", &hidden));
    }
}
