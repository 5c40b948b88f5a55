//! Stage 1: which files, in what order. Walks the given paths with gitignore semantics
//! (ripgrep's `ignore` crate), keeps template extensions, and returns a sorted list. A path
//! named on the command line is always read, whatever its extension. Reading, the
//! prefilter and parsing belong to the next stage.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::WalkBuilder;

mod listed;
pub use listed::Listing;

/// Extensions (case-insensitive) of files that can be templates.
pub const TEMPLATE_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "template"];

#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Honour .gitignore, .ignore and git excludes (off with `--no-ignore`).
    pub respect_ignore: bool,
    /// Enter hidden files and directories.
    pub hidden: bool,
    /// Follow symbolic links while walking (loops are detected and skipped).
    pub follow_links: bool,
    pub extensions: Vec<String>,
    /// Paths not to walk (`exclude` in ddb-guard.toml).
    pub exclude: Option<Exclude>,
    /// Apply `exclude` to paths named on the command line too (pre-commit passes file names).
    pub force_exclude: bool,
    /// Where each directory's entries get their own `exclude`, `extensions` and
    /// `force_exclude` (the nearest `ddb-guard.toml` of each file); without it every entry
    /// gets the three fields above.
    pub scopes: Option<Arc<dyn Scopes>>,
}

/// The walk settings that differ by directory (see [`WalkOptions::scopes`]).
pub trait Scopes: Send + Sync + std::fmt::Debug {
    /// The settings that govern the entries of `dir` (as walked: relative or absolute).
    fn scope(&self, dir: &Path) -> Arc<Scope>;
    /// Every extension some directory walks.
    fn all_extensions(&self) -> Vec<String>;
    /// [`Scopes::scope`] of a directory whose names the walk has just read (`listing`):
    /// the same answer, which need not ask the file system whether a name is there.
    fn scope_listed(&self, dir: &Path, listing: &Listing) -> Arc<Scope> {
        let _ = listing;
        self.scope(dir)
    }
}

/// What governs the entries of one directory.
#[derive(Clone, Debug)]
pub struct Scope {
    pub exclude: Option<Exclude>,
    pub extensions: Vec<String>,
    pub force_exclude: bool,
}

impl WalkOptions {
    /// The settings that govern `path` (those of the directory holding it).
    pub fn scope_of(&self, path: &Path) -> Arc<Scope> {
        self.scope_of_listed(path, None)
    }

    /// [`WalkOptions::scope_of`] `path`, whose directory's names are `listing` when known.
    fn scope_of_listed(&self, path: &Path, listing: Option<&Listing>) -> Arc<Scope> {
        match &self.scopes {
            Some(scopes) => {
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                match listing {
                    Some(listing) => scopes.scope_listed(dir, listing),
                    None => scopes.scope(dir),
                }
            }
            None => Arc::new(Scope {
                exclude: self.exclude.clone(),
                extensions: self.extensions.clone(),
                force_exclude: self.force_exclude,
            }),
        }
    }
}

/// Gitignore-style exclude patterns: the config file's, anchored at its directory, and
/// `--exclude`'s, anchored at the current directory.
#[derive(Clone, Debug)]
pub struct Exclude {
    matchers: Vec<ignore::gitignore::Gitignore>,
}

impl Exclude {
    pub fn new(matcher: ignore::gitignore::Gitignore) -> Self {
        Exclude {
            matchers: vec![matcher],
        }
    }

    /// Both sets of patterns.
    pub fn and(mut self, other: &Exclude) -> Self {
        self.matchers.extend(other.matchers.iter().cloned());
        self
    }

    /// Is `path` (or, with `parents`, any directory above it) excluded? Paths outside the
    /// patterns' directory never are.
    pub fn excludes(&self, path: &Path, is_dir: bool, parents: bool) -> bool {
        let Ok(absolute) = std::path::absolute(path) else {
            return false;
        };
        self.matchers.iter().any(|matcher| {
            if !absolute.starts_with(matcher.path()) {
                return false;
            }
            let matched = if parents {
                matcher.matched_path_or_any_parents(&absolute, is_dir)
            } else {
                matcher.matched(&absolute, is_dir)
            };
            matched.is_ignore()
        })
    }
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            respect_ignore: true,
            hidden: false,
            follow_links: false,
            extensions: TEMPLATE_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            exclude: None,
            force_exclude: false,
            scopes: None,
        }
    }
}

/// A file to check, with the path as the user reaches it (as ripgrep prints it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub display: String,
    pub path: PathBuf,
}

/// A path that could not be walked: it may hide templates, so it is an error.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalkError {
    pub display: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<Candidate>,
    pub errors: Vec<WalkError>,
}

pub fn discover(paths: &[PathBuf], options: &WalkOptions) -> Discovery {
    crate::timings::time(crate::timings::Stage::Walk, || {
        discover_untimed(paths, options)
    })
}

fn discover_untimed(paths: &[PathBuf], options: &WalkOptions) -> Discovery {
    discover_by(paths, options, By::Listing)
}

/// Which walk [`walk_root`] takes: by listings ([`listed`], unless links are followed),
/// or the `ignore` crate's (the oracle of the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Listing,
    #[cfg_attr(not(test), allow(dead_code))]
    Crate,
}

fn discover_by(paths: &[PathBuf], options: &WalkOptions, by: By) -> Discovery {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let implicit = paths.is_empty();
    let default = [PathBuf::from(".")];
    let roots = if implicit { &default[..] } else { paths };
    for root in roots {
        let _ = walk_root(root, implicit, options, by, &mut errors, &mut |c| {
            files.push(c);
            ControlFlow::Continue(())
        });
    }
    // Each root's files are in order already; roots are merged, and a file under two
    // roots is checked once.
    files.sort();
    files.dedup_by(|a, b| a.path == b.path);
    files.shrink_to_fit();
    errors.sort();
    Discovery { files, errors }
}

/// Walk one root, giving each file to check to `sink` in [`discover`]'s order and each
/// error to `errors`; `sink` ends the walk early by breaking. A file named is itself,
/// whatever its extension; a directory is walked with gitignore semantics, each
/// directory's entries sorted as it is read (ripgrep's `--sort path`: a directory's files
/// placed where its name and a `/` sort, see [`in_sorted_order`]), so that no list of
/// the whole tree is needed to give its files in order.
fn walk_root(
    root: &Path,
    implicit: bool,
    options: &WalkOptions,
    by: By,
    errors: &mut Vec<WalkError>,
    sink: &mut dyn FnMut(Candidate) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let root_display = root.display().to_string();
    let is_dir = match std::fs::metadata(root) {
        Err(e) => {
            errors.push(WalkError {
                display: root_display,
                message: format!("cannot read path: {}", io_reason(&e)),
            });
            return ControlFlow::Continue(());
        }
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            errors.push(WalkError {
                display: root_display,
                message: "not a regular file or directory (a FIFO, socket or device cannot be a template)".into(),
            });
            return ControlFlow::Continue(());
        }
        Ok(meta) => meta.is_dir(),
    };
    let scope = options.scope_of(root);
    let excluded = scope.force_exclude
        && scope
            .exclude
            .as_ref()
            .is_some_and(|x| x.excludes(root, is_dir, true));
    if excluded {
        return ControlFlow::Continue(());
    }
    if !is_dir {
        return sink(Candidate {
            display: root_display,
            path: root.to_path_buf(),
        });
    }
    // A directory named on the command line whose every file is ignored by rules above it
    // (`cdk.out` itself, `cdk.out/*` or `*.template.json` in the repository's .gitignore)
    // is what the user asked for: walk it again without the ignore files above it, so
    // that a path the user names is never skipped by ignore rules. A directory in which
    // the walk found files (or errors) keeps them (`check services/` still skips
    // `node_modules/`).
    let passes: &[bool] = if !implicit && options.respect_ignore {
        &[true, false]
    } else {
        &[true]
    };
    let errors_before = errors.len();
    let mut any = false;
    for &parents in passes {
        if any || errors.len() > errors_before {
            break;
        }
        let scopes = Arc::new(std::sync::Mutex::new(DirScopes::default()));
        let flags = listed::Flags {
            respect_ignore: options.respect_ignore,
            skip_hidden: !options.hidden,
            parents,
        };
        // The walk by listings does not follow links; where it declines, the crate walks.
        let walker = (by == By::Listing && !options.follow_links)
            .then(|| listed::Walker::new(root, flags))
            .flatten();
        let Some(walker) = walker else {
            let mut builder = walk_builder(root, parents, options, &scopes);
            let follow = options.follow_links;
            builder.sort_by_file_path(move |a, b| in_sorted_order(a, b, follow));
            for entry in builder.build() {
                if let Some(c) = candidate(entry, &root_display, implicit, options, &scopes, errors)
                {
                    any = true;
                    sink(c)?;
                }
            }
            continue;
        };
        let filtered = options.exclude.is_some() || options.scopes.is_some();
        walker.walk(&mut |visit| match visit {
            listed::Visit::Error { path, error } => {
                let path = (!path.as_os_str().is_empty()).then_some(path);
                push_error(unreadable(path, &error), &root_display, implicit, errors);
                ControlFlow::Continue(false)
            }
            listed::Visit::Entry {
                path,
                depth,
                file_type,
                listing,
            } => {
                let is_dir = file_type.is_dir();
                if filtered && excluded_entry(&scopes, options, path, depth, is_dir, Some(listing))
                {
                    return ControlFlow::Continue(false);
                }
                if !file_type.is_file() {
                    return ControlFlow::Continue(true);
                }
                let scope = DirScopes::scope_of(&scopes, options, path, depth, Some(listing));
                match file_candidate(path, &scope, implicit) {
                    Some(c) => {
                        any = true;
                        sink(c)?;
                        ControlFlow::Continue(false)
                    }
                    None => ControlFlow::Continue(false),
                }
            }
        })?;
    }
    ControlFlow::Continue(())
}

/// Is the entry `path` (at `depth`) excluded by the `exclude` of its directory? Its
/// directory's settings are asked with `listing`, the directory's names.
fn excluded_entry(
    scopes: &std::sync::Mutex<DirScopes>,
    options: &WalkOptions,
    path: &Path,
    depth: usize,
    is_dir: bool,
    listing: Option<&listed::Listing>,
) -> bool {
    depth > 0
        && DirScopes::scope_of(scopes, options, path, depth, listing)
            .exclude
            .as_ref()
            .is_some_and(|exclude| exclude.excludes(path, is_dir, false))
}

fn walk_builder(
    root: &Path,
    parents: bool,
    options: &WalkOptions,
    scopes: &Arc<std::sync::Mutex<DirScopes>>,
) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(options.respect_ignore)
        .hidden(!options.hidden)
        .follow_links(options.follow_links)
        .parents(parents);
    if options.exclude.is_some() || options.scopes.is_some() {
        // Prune excluded directories instead of walking them. The root itself is walked
        // when named, as ripgrep walks an ignored directory it is given.
        let options = options.clone();
        let scopes = scopes.clone();
        builder.filter_entry(move |entry| {
            !excluded_entry(
                &scopes,
                &options,
                entry.path(),
                entry.depth(),
                entry.file_type().is_some_and(|t| t.is_dir()),
                None,
            )
        });
    }
    builder
}

/// The settings of the directories the walk is in, one per depth: every entry of a
/// directory asks for them (to prune excluded ones, then for the extensions of a file),
/// and the entries of one directory come together (those of its subdirectories between
/// them, one depth further down). Asking [`WalkOptions::scope_of`] for every entry cost
/// a hash of the directory's path and a lock of the resolver's map each time (a third of
/// the walker thread); here an entry compares its directory's bytes with those of the
/// last entry at its depth, and the resolver is asked once per directory. The answer is
/// the same: the settings of a directory depend on that directory only.
#[derive(Default)]
struct DirScopes {
    /// By depth of the entry: the bytes of its directory, and that directory's settings.
    slots: Vec<Option<(Vec<u8>, Arc<Scope>)>>,
}

impl DirScopes {
    /// [`WalkOptions::scope_of`] `path`, an entry of the walk at `depth`.
    fn scope_of(
        this: &std::sync::Mutex<DirScopes>,
        options: &WalkOptions,
        path: &Path,
        depth: usize,
        listing: Option<&listed::Listing>,
    ) -> Arc<Scope> {
        let Some(dir) = dir_bytes(path) else {
            return options.scope_of_listed(path, listing);
        };
        // Only the walker thread uses it: the lock is never contended; a panic while it
        // was held left whole slots (each is set in one assignment).
        let mut cache = this
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(Some((known, scope))) = cache.slots.get(depth) {
            if known.as_slice() == dir {
                return scope.clone();
            }
        }
        let scope = options.scope_of_listed(path, listing);
        if cache.slots.len() <= depth {
            cache.slots.resize(depth + 1, None);
        }
        cache.slots[depth] = Some((dir.to_vec(), scope.clone()));
        scope
    }
}

/// The bytes of `path` before its last `/`, when what follows is a plain name: then two
/// paths with the same such bytes have the same `parent()`. `None` otherwise (no `/`, or
/// a name that is empty, `.` or `..`).
pub fn dir_bytes(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let slash = memchr::memrchr(b'/', bytes)?;
    let name = &bytes[slash + 1..];
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    Some(&bytes[..slash])
}

/// The file an entry of the walk is, if it is one to check; a walk error worth reporting
/// goes to `errors`.
fn candidate(
    entry: Result<ignore::DirEntry, ignore::Error>,
    root_display: &str,
    implicit: bool,
    options: &WalkOptions,
    scopes: &std::sync::Mutex<DirScopes>,
    errors: &mut Vec<WalkError>,
) -> Option<Candidate> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => {
            if let Some(walk_error) = walk_error(&err) {
                push_error(walk_error, root_display, implicit, errors);
            }
            return None;
        }
    };
    // Only regular files: opening a FIFO would block, a directory named `x.yaml` is walked.
    if !entry.file_type().is_some_and(|t| t.is_file()) {
        return None;
    }
    let path = entry.path();
    let scope = DirScopes::scope_of(scopes, options, path, entry.depth(), None);
    file_candidate(path, &scope, implicit)
}

/// The regular file `path` of the walk, if its directory's settings (`scope`) check it.
fn file_candidate(path: &Path, scope: &Scope, implicit: bool) -> Option<Candidate> {
    if !has_template_extension(path, &scope.extensions) {
        return None;
    }
    let shown = if implicit {
        path.strip_prefix(".").unwrap_or(path)
    } else {
        path
    };
    // What `Display` writes, without the formatter for the usual UTF-8 path.
    let mut display = match shown.to_str() {
        Some(text) => text.to_string(),
        None => shown.display().to_string(),
    };
    // Kept for the whole run, one per file: no spare capacity.
    display.shrink_to_fit();
    Some(Candidate {
        display,
        path: path.to_path_buf(),
    })
}

/// Keep a walk error, named as the user reaches the path (the root's name for an error
/// without a path).
fn push_error(
    mut walk_error: WalkError,
    root_display: &str,
    implicit: bool,
    errors: &mut Vec<WalkError>,
) {
    if implicit {
        if let Some(rest) = walk_error.display.strip_prefix("./") {
            walk_error.display = rest.to_string();
        }
    }
    if walk_error.display.is_empty() {
        walk_error.display = root_display.to_string();
    }
    errors.push(walk_error);
}

/// The files [`discover`] finds, one at a time and in its order, without a list of them
/// all: a large tree is never held whole. A thread walks ahead of the reader by at most
/// a bounded channel. The walk's errors are in [`Walk::errors`] once the last file is
/// out. Several roots, or a root that is not a directory, are walked and sorted whole as
/// `discover` does (the list must be merged, or is one file).
pub fn discover_sorted(paths: &[PathBuf], options: &WalkOptions) -> Walk {
    let (root, implicit) = match paths {
        [] => (PathBuf::from("."), true),
        [one] if one.is_dir() => (one.clone(), false),
        _ => return Walk::listed(discover_untimed(paths, options)),
    };
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    // Files go over in batches: one send per file woke the reader or the walker at
    // nearly every file (a futex call each, the system time of a run doubled).
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Candidate>>(1024 / BATCH);
    let options = options.clone();
    let walk_errors = errors.clone();
    std::thread::spawn(move || {
        // A walk that ends early by a bug must not look like a tree with fewer files: it
        // is an error of the root (exit 2), never a shorter pass.
        let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut errors = Vec::new();
            let mut batch = Vec::with_capacity(BATCH);
            let sent = walk_root(
                &root,
                implicit,
                &options,
                By::Listing,
                &mut errors,
                &mut |c| {
                    batch.push(c);
                    if batch.len() < BATCH {
                        return ControlFlow::Continue(());
                    }
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    // An error means the reader stopped (its run ended early): nothing to
                    // report.
                    match send.send(full) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                },
            );
            if sent.is_continue() && !batch.is_empty() {
                let _ = send.send(batch);
            }
            errors
        }));
        let mut errors = walked.unwrap_or_else(|_| {
            vec![WalkError {
                display: root.display().to_string(),
                message: "internal error while walking this directory, so templates in it may not be checked".into(),
            }]
        });
        errors.sort();
        if let Ok(mut e) = walk_errors.lock() {
            *e = errors;
        }
    });
    Walk {
        files: Box::new(receive.into_iter().flatten()),
        errors,
    }
}

/// How many files the walker thread sends at once (see [`discover_sorted`]).
const BATCH: usize = 64;

/// The files of a walk as they come (see [`discover_sorted`]).
pub struct Walk {
    pub files: Box<dyn Iterator<Item = Candidate> + Send>,
    errors: Arc<std::sync::Mutex<Vec<WalkError>>>,
}

impl Walk {
    /// The files of a list walked whole.
    pub fn listed(discovery: Discovery) -> Walk {
        Walk {
            files: Box::new(discovery.files.into_iter()),
            errors: Arc::new(std::sync::Mutex::new(discovery.errors)),
        }
    }

    /// The walk's errors, sorted: complete once `files` has ended.
    pub fn errors(&self) -> Vec<WalkError> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// Two entries of one directory in the order [`discover`]'s sort puts the paths under
/// them: by name, a directory's name followed by `/` (so `a.yaml` comes before the files
/// of a directory `a`, which come before `ab.yaml`). Whether an entry is a directory is
/// asked only when it decides the order.
fn in_sorted_order(a: &Path, b: &Path, follow_links: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let is_dir = |p: &Path| {
        let meta = if follow_links {
            std::fs::metadata(p)
        } else {
            std::fs::symlink_metadata(p)
        };
        meta.is_ok_and(|m| m.is_dir())
    };
    let x = name_bytes(a);
    let y = name_bytes(b);
    let common = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    match (x.get(common), y.get(common)) {
        (Some(p), Some(q)) => p.cmp(q),
        (None, None) => Ordering::Equal,
        // `x` is a prefix of `y`: as a directory it reads `x/`.
        (None, Some(&q)) => {
            if q < b'/' && is_dir(a) {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(&p), None) => {
            if p < b'/' && is_dir(b) {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
    }
}

/// `path.file_name()` as bytes (empty when it has none). The walk's entries are a
/// directory joined with a name read from it, so the bytes after the last `/` are the
/// name; `Path::file_name` parses every component from the end, which cost more than
/// the rest of the sort (it runs on both sides of every comparison). Anything else (a
/// trailing `/`, `.` or `..`) goes through `file_name`.
fn name_bytes(path: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let name = match memchr::memrchr(b'/', bytes) {
        Some(i) => &bytes[i + 1..],
        None => bytes,
    };
    if name.is_empty() || name == b"." || name == b".." {
        return path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    }
    name
}

pub fn has_template_extension(path: &Path, extensions: &[String]) -> bool {
    // The bytes equal an extension's but for ASCII case only if they are UTF-8 too.
    extension_bytes(path).is_some_and(|e| {
        extensions
            .iter()
            .any(|x| x.as_bytes().eq_ignore_ascii_case(e))
    })
}

/// `path.extension()` as bytes, from the bytes after the last `/` when they are a plain
/// name (as every path of the walk ends): `Path::extension` takes the path apart from its
/// end, which cost as much as the rest of keeping a file.
fn extension_bytes(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let name = match memchr::memrchr(b'/', bytes) {
        Some(i) => &bytes[i + 1..],
        None => bytes,
    };
    if name.is_empty() || name == b"." || name == b".." {
        return path.extension().map(|e| e.as_bytes());
    }
    // `Path::extension`: after the last dot, unless that dot starts the name.
    match memchr::memrchr(b'.', name) {
        Some(0) | None => None,
        Some(dot) => Some(&name[dot + 1..]),
    }
}

/// A walk error worth reporting; a symlink loop is not (its target is walked anyway).
fn walk_error(err: &ignore::Error) -> Option<WalkError> {
    match err {
        ignore::Error::Loop { .. } => None,
        ignore::Error::WithPath { path, err } => walk_error(err).map(|mut e| {
            e.display = path.display().to_string();
            if let Some(message) = io_error(err).and_then(|io| link_message(path, io)) {
                e.message = message;
            }
            e
        }),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Io(io) => Some(unreadable(None, io)),
        // A malformed .gitignore line is not worth failing a run over.
        ignore::Error::Glob { .. }
        | ignore::Error::UnrecognizedFileType(_)
        | ignore::Error::InvalidDefinition => None,
        ignore::Error::Partial(errors) => errors.iter().find_map(walk_error),
    }
}

/// The error of a directory (`path`, or none known) that could not be read.
fn unreadable(path: Option<&Path>, io: &std::io::Error) -> WalkError {
    let message = path.and_then(|p| link_message(p, io)).unwrap_or_else(|| {
        format!(
            "cannot read directory, so templates in it are not checked: {}",
            io_reason(io)
        )
    });
    WalkError {
        display: path.map(|p| p.display().to_string()).unwrap_or_default(),
        message,
    }
}

/// With --follow, a link whose target is missing or that points back at itself fails
/// like an unreadable directory: what to say instead, when `path` is a link.
fn link_message(path: &Path, io: &std::io::Error) -> Option<String> {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) {
        return None;
    }
    Some(if io.kind() == std::io::ErrorKind::NotFound {
        "broken symbolic link: its target does not exist, so it is not checked".into()
    } else {
        format!(
            "cannot follow symbolic link, so it is not checked: {}",
            io_reason(io)
        )
    })
}

/// The I/O error inside a walk error's wrappers.
fn io_error(err: &ignore::Error) -> Option<&std::io::Error> {
    match err {
        ignore::Error::Io(io) => Some(io),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => io_error(err),
        _ => None,
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        // A walk error (walkdir's, inside `ignore`'s) repeats the path, which the report
        // prints already: say only the I/O error it wraps.
        _ => e
            .get_ref()
            .and_then(|inner| inner.source())
            .and_then(|source| source.downcast_ref::<std::io::Error>())
            .unwrap_or(e)
            .to_string(),
    }
}

/// Why a file that may be a template was not walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// A .gitignore, .ignore or git exclude rule (`--no-ignore` walks it).
    Ignored,
    /// A hidden file or directory (`--hidden` walks it).
    Hidden,
    /// The config's `exclude`.
    Excluded,
}

impl SkipReason {
    /// Why, and what walks it.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            SkipReason::Ignored => (
                "ignored by .gitignore, .ignore or git exclude rules",
                "pass `--no-ignore`",
            ),
            SkipReason::Hidden => ("hidden", "pass `--hidden`"),
            SkipReason::Excluded => (
                "excluded by `exclude` (the config's or `--exclude`)",
                "remove it from `exclude`",
            ),
        }
    }
}

/// Files with a template extension that the walk left out, grouped by the outermost
/// directory (or the file) that was left out: what a run that checked nothing tells the
/// user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedGroup {
    /// The directory (with a trailing `/`) or file, as the user reaches it.
    pub display: String,
    pub reason: SkipReason,
    pub files: usize,
}

/// Walk `paths` again without ignore rules and with hidden files, and group the
/// template-extension files that the first walk (`found`) did not keep. Only a run that
/// checked nothing pays for this second walk. The config's `exclude` still applies: a
/// file the config excludes is named as such.
pub fn skipped_by_walk(
    paths: &[PathBuf],
    options: &WalkOptions,
    found: &[Candidate],
) -> Vec<SkippedGroup> {
    let skipped = skipped_files(paths, options, found);
    // Every directory holding a kept file: an ignored directory holds none.
    let mut walked_dirs: std::collections::HashSet<PathBuf> =
        paths.iter().filter(|p| p.is_dir()).cloned().collect();
    for c in found {
        let mut dir = c.path.parent();
        while let Some(d) = dir {
            if !walked_dirs.insert(d.to_path_buf()) {
                break;
            }
            dir = d.parent();
        }
    }
    let mut groups: std::collections::BTreeMap<(String, SkipReason), usize> =
        std::collections::BTreeMap::new();
    for (c, reason) in &skipped {
        let reason = *reason;
        // The outermost ancestor directory the first walk never entered, else the file.
        let mut key = c.display.clone();
        let mut prefix = PathBuf::new();
        let mut display_prefix = String::new();
        let display_parts: Vec<&str> = c.display.split('/').collect();
        let path_parts: Vec<_> = c.path.components().collect();
        let offset = path_parts.len().saturating_sub(display_parts.len());
        for (i, part) in path_parts.iter().enumerate() {
            prefix.push(part);
            if i + 1 == path_parts.len() {
                break;
            }
            if i >= offset {
                if let Some(d) = display_parts.get(i - offset) {
                    display_prefix.push_str(d);
                    display_prefix.push('/');
                }
            }
            if matches!(part, std::path::Component::Normal(_))
                && i >= offset
                && !walked_dirs.contains(&prefix)
            {
                key = display_prefix.clone();
                break;
            }
        }
        *groups.entry((key, reason)).or_default() += 1;
    }
    groups
        .into_iter()
        .map(|((display, reason), files)| SkippedGroup {
            display,
            reason,
            files,
        })
        .collect()
}

/// Every file with a template extension under `paths` that the walk with `options` did
/// not keep (`found`), with the reason: the walk again without ignore rules, hidden-file
/// filtering and `exclude`.
pub fn skipped_files(
    paths: &[PathBuf],
    options: &WalkOptions,
    found: &[Candidate],
) -> Vec<(Candidate, SkipReason)> {
    let wide = WalkOptions {
        respect_ignore: false,
        hidden: true,
        exclude: None,
        scopes: None,
        // Every extension any directory walks.
        extensions: options
            .scopes
            .as_ref()
            .map(|s| s.all_extensions())
            .unwrap_or_else(|| options.extensions.clone()),
        ..options.clone()
    };
    let all = discover(paths, &wide);
    let kept: std::collections::HashSet<&Path> = found.iter().map(|c| c.path.as_path()).collect();
    let mut skipped = Vec::new();
    for c in all.files {
        if kept.contains(c.path.as_path())
            || !has_template_extension(&c.path, &options.scope_of(&c.path).extensions)
        {
            continue;
        }
        let hidden_part = c
            .path
            .components()
            .filter_map(|p| match p {
                std::path::Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .any(|s| s.starts_with('.') && s.len() > 1);
        let excluded = options
            .scope_of(&c.path)
            .exclude
            .as_ref()
            .is_some_and(|x| x.excludes(&c.path, false, true));
        let reason = if excluded {
            SkipReason::Excluded
        } else if hidden_part && !options.hidden {
            SkipReason::Hidden
        } else if options.respect_ignore {
            SkipReason::Ignored
        } else {
            continue;
        };
        skipped.push((c, reason));
    }
    skipped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, files: &[&str]) {
        for f in files {
            let path = root.join(f);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(path, "Resources: {}\n").unwrap();
        }
    }

    fn sorted_walk(paths: &[PathBuf], options: &WalkOptions) -> (Vec<Candidate>, Vec<WalkError>) {
        let mut walk = discover_sorted(paths, options);
        let files = walk.files.by_ref().collect::<Vec<_>>();
        (files, walk.errors())
    }

    /// The streamed walk and the whole one give the same files in the same order: names
    /// that sort around a directory's `/`, a named directory whose files the ignore rules
    /// above it all leave out (walked again without them), a file named on its own.
    #[test]
    fn the_sorted_walk_gives_the_files_of_the_whole_walk_in_its_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("r");
        write(
            &root,
            &[
                "a.yaml",
                "a/x.yaml",
                "a/b/y.yml",
                "a-b.json",
                "a b.yaml",
                "ab.yaml",
                "a.b/z.yaml",
                "Z.template",
                "skip.txt",
                "node_modules/n.yaml",
                ".hidden/h.yaml",
            ],
        );
        std::fs::write(root.join(".ignore"), "node_modules/\n").unwrap();
        let options = WalkOptions::default();
        let whole = discover(std::slice::from_ref(&root), &options);
        let (files, errors) = sorted_walk(std::slice::from_ref(&root), &options);
        assert_eq!(files, whole.files);
        assert_eq!(errors, whole.errors);
        let names: Vec<&str> = files
            .iter()
            .filter_map(|c| c.display.strip_prefix(&format!("{}/", root.display())))
            .collect();
        assert_eq!(
            names,
            [
                "Z.template",
                "a b.yaml",
                "a-b.json",
                "a.b/z.yaml",
                "a.yaml",
                "a/b/y.yml",
                "a/x.yaml",
                "ab.yaml"
            ]
        );

        // Every file of `ignored` is left out by the ignore file above it: named, it is
        // walked without that file.
        write(&tmp.path().join("ignored"), &["t.yaml", "d/u.json"]);
        std::fs::write(tmp.path().join(".ignore"), "*.yaml\n*.json\n").unwrap();
        let ignored = [tmp.path().join("ignored")];
        let whole = discover(&ignored, &options);
        assert_eq!(whole.files.len(), 2, "{whole:?}");
        assert_eq!(sorted_walk(&ignored, &options).0, whole.files);

        // Several roots, or a file: as the whole walk.
        let several = [root.join("a"), root.join("ab.yaml"), root.join("a/x.yaml")];
        let whole = discover(&several, &options);
        assert_eq!(whole.files.len(), 3, "{whole:?}");
        assert_eq!(sorted_walk(&several, &options).0, whole.files);
    }

    /// Each directory's own extensions and exclusions, counting the questions.
    #[derive(Debug, Default)]
    struct ByName {
        asked: std::sync::Mutex<Vec<PathBuf>>,
    }

    impl Scopes for ByName {
        fn scope(&self, dir: &Path) -> Arc<Scope> {
            self.asked.lock().unwrap().push(dir.to_path_buf());
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // `json` directories check JSON only; `ex` directories exclude `skip*`.
            let extensions = if name.starts_with("json") {
                vec!["json".to_string()]
            } else {
                vec!["yaml".to_string(), "json".to_string()]
            };
            let exclude = name.starts_with("ex").then(|| {
                let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
                builder.add_line(None, "skip*").unwrap();
                Exclude::new(builder.build().unwrap())
            });
            Arc::new(Scope {
                exclude,
                extensions,
                force_exclude: false,
            })
        }
        fn all_extensions(&self) -> Vec<String> {
            vec!["yaml".into(), "json".into()]
        }
    }

    /// The settings of each directory govern its own entries, also where the entries of
    /// a subdirectory come between those of its parent, and each directory is asked about
    /// once per walk.
    #[test]
    fn each_directory_s_settings_govern_its_entries_and_are_asked_once() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("r");
        write(
            &root,
            &[
                "a.yaml",
                "a.json",
                "json/b.yaml",
                "json/b.json",
                "json/ex/c.json",
                "json/ex/skip.json",
                "json/ex/d/e.yaml",
                "json/ex/skipped/f.json",
                "json/z.json",
                "json/z.yaml",
                "ex/skip.yaml",
                "ex/g.yaml",
                "m.yaml",
            ],
        );
        let scopes = Arc::new(ByName::default());
        let options = WalkOptions {
            scopes: Some(scopes.clone()),
            ..WalkOptions::default()
        };
        let (files, errors) = sorted_walk(std::slice::from_ref(&root), &options);
        assert_eq!(errors, []);
        let names: Vec<&str> = files
            .iter()
            .filter_map(|c| c.display.strip_prefix(&format!("{}/", root.display())))
            .collect();
        assert_eq!(
            names,
            [
                "a.json",
                "a.yaml",
                "ex/g.yaml",
                "json/b.json",
                "json/ex/c.json",
                "json/ex/d/e.yaml",
                "json/z.json",
                "m.yaml"
            ]
        );
        let mut asked = scopes.asked.lock().unwrap().clone();
        let all = asked.len();
        asked.sort();
        asked.dedup();
        assert_eq!(all, asked.len(), "a directory asked twice: {asked:?}");
    }

    /// The extension read from a path's bytes is `Path::extension`'s.
    #[test]
    fn the_extension_from_bytes_is_the_paths() {
        use std::os::unix::ffi::OsStrExt;
        for path in [
            "a.yaml",
            "dir/a.yaml",
            "/abs/dir/b.JSON",
            "a",
            ".yaml",
            "dir/.yaml",
            "..yaml",
            "a.",
            "a.b.c",
            ".a.b",
            "dir/",
            "dir/.",
            "dir/..",
            "..",
            ".",
            "",
            "/",
            "a/b.yaml/",
            "a/b.yaml/.",
            "a.d/b",
            "./x.yml",
            "x/./y.template",
            "a//b.json",
            "...",
        ] {
            let path = Path::new(path);
            assert_eq!(
                extension_bytes(path),
                path.extension().map(|e| e.as_bytes()),
                "{}",
                path.display()
            );
        }
        let yaml = ["yaml".to_string()];
        assert!(has_template_extension(Path::new("d/t.YAML"), &yaml));
        assert!(!has_template_extension(Path::new("d/.yaml"), &yaml));
        assert!(!has_template_extension(Path::new("d/t.yaml.txt"), &yaml));
    }

    /// Panics while walking any directory under the root.
    #[derive(Debug)]
    struct PanicsUnder(PathBuf);

    impl Scopes for PanicsUnder {
        fn scope(&self, dir: &Path) -> Arc<Scope> {
            assert!(!dir.starts_with(&self.0), "a bug while walking");
            Arc::new(Scope {
                exclude: None,
                extensions: vec!["yaml".into()],
                force_exclude: false,
            })
        }
        fn all_extensions(&self) -> Vec<String> {
            vec!["yaml".into()]
        }
    }

    /// A walk that a bug ends early is an error of its root, never a shorter list.
    #[test]
    fn a_panic_while_walking_is_an_error_of_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("r");
        write(&root, &["a.yaml", "d/b.yaml"]);
        let options = WalkOptions {
            scopes: Some(Arc::new(PanicsUnder(root.join("d")))),
            ..WalkOptions::default()
        };
        let (_, errors) = sorted_walk(std::slice::from_ref(&root), &options);
        assert_eq!(
            errors,
            [WalkError {
                display: root.display().to_string(),
                message: "internal error while walking this directory, so templates in it may not be checked".into(),
            }]
        );
    }
}
