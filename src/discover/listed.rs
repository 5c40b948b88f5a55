//! The walk of one directory by its listings: the `ignore` crate's rules, without its
//! probes.
//!
//! The `ignore` crate's sorted walk (`WalkBuilder::build`, over walkdir) asks the file
//! system, for every directory it enters, whether `.git`, `.jj`, `.ignore`, `.gitignore`
//! and `.git/info/exclude` are there: five `stat` calls per directory, nearly always
//! failing, though the directory's own listing (which the walk reads anyway) says which
//! of those names it holds. The config lookup asked twice more (`ddb-guard.toml`,
//! `.git`). Those seven calls were two thirds of the system calls of a walk.
//!
//! This walker reads each directory once, sorts its entries as [`super::discover`]
//! orders them (from the listing's file types, without a `stat`), and builds the same
//! ignore matchers (the crate's public [`Gitignore`]) as the crate's `Ignore` does, but
//! asks about a name only when the listing holds it. The matching below follows
//! `ignore::dir::Ignore::matched` (ignore 0.4.34) step by step: `.ignore` rules always
//! apply; `.gitignore`, `.git/info/exclude` and the global gitignore only inside a git
//! repository, and not from above the repository's root; the rules of the directories
//! above the walked root (`parents`) matched against the canonical path; hidden entries
//! skipped unless a rule whitelists them. It does not follow symbolic links (the caller
//! walks with the crate when asked to), and where the directories above the root cannot
//! be read as the crate reads them, it declines ([`Walker::new`] is `None`) and the
//! crate walks.
//!
//! Its oracle is the crate's own walk: `tests::the_listing_walk_gives_the_files_of_the_ignore_walk`
//! and the proptest beside it compare the two on generated trees (nested `.gitignore` and
//! `.ignore` files, whitelists, git repositories and worktree `.git` files, hidden
//! files), and on the repository's own tree.

use std::ffi::{OsStr, OsString};
use std::fs::FileType;
use std::io::BufRead;
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

/// The names a directory holds (its listing, sorted as the walk gives them): what
/// [`super::Scopes::scope_listed`] is told of the directory whose settings it is asked
/// for, so that it need not ask the file system whether a name is there.
#[derive(Debug, Default)]
pub struct Listing {
    entries: Vec<(OsString, FileType)>,
}

impl Listing {
    /// The listing of `dir` as the walk reads it (for tests elsewhere).
    #[cfg(test)]
    pub fn of(dir: &Path) -> Listing {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map(|read| {
                read.flatten()
                    .filter_map(|e| Some((e.file_name(), e.file_type().ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        entries.sort_by(|(a, x), (b, y)| {
            listed_order(a.as_bytes(), x.is_dir(), b.as_bytes(), y.is_dir())
        });
        Listing { entries }
    }

    /// Does the directory hold an entry of this name (of any type)?
    pub fn holds(&self, name: &str) -> bool {
        let name = name.as_bytes();
        self.entries.iter().any(|(n, _)| n.as_bytes() == name)
    }
}

/// How a walk filters (the flags of [`super::WalkOptions`] that the crate's walk takes).
#[derive(Clone, Copy, Debug)]
pub struct Flags {
    /// `.gitignore`, `.ignore`, git excludes and the global gitignore (the crate's
    /// `standard_filters`).
    pub respect_ignore: bool,
    /// Skip hidden entries.
    pub skip_hidden: bool,
    /// Apply the ignore files of the directories above the root.
    pub parents: bool,
}

/// What the walk tells its caller.
pub enum Visit<'a> {
    /// An entry that no ignore rule or hidden-file rule leaves out, with the listing of
    /// its directory. For a directory, the caller's `Continue(true)` enters it.
    Entry {
        path: &'a Path,
        depth: usize,
        file_type: FileType,
        listing: &'a Listing,
    },
    /// A directory (or an entry) that could not be read: the path, empty for an error
    /// of the listing itself, and the error.
    Error {
        path: &'a Path,
        error: std::io::Error,
    },
}

/// The ignore rules of one directory that has some (or is a git repository).
struct Node {
    ignore: Gitignore,
    git_ignore: Gitignore,
    git_exclude: Gitignore,
    has_git: bool,
    parent: Option<Arc<Node>>,
}

impl Node {
    fn chain(node: &Option<Arc<Node>>) -> impl Iterator<Item = &Node> {
        std::iter::successors(node.as_deref(), |n| n.parent.as_deref())
    }
}

/// The rules of the directories above the root, as the crate's `add_parents` builds them.
struct Above {
    /// The canonical root, which the paths matched against these rules are rewritten to.
    base: PathBuf,
    /// Innermost first; only those with rules or a repository.
    chain: Option<Arc<Node>>,
    /// Some of them has rules.
    has_rules: bool,
}

/// One walk of one root.
pub struct Walker {
    root: PathBuf,
    flags: Flags,
    global: Gitignore,
    above: Option<Above>,
}

/// A directory being walked: its path, depth, rules and the entries not given out yet.
struct Frame {
    dir: PathBuf,
    depth: usize,
    rules: Option<Arc<Node>>,
    listing: Listing,
    next: usize,
}

impl Walker {
    /// The walk of the directory `root`, or `None` where it would not give what the
    /// crate's walk gives: the ignore files above the root could not be read as the crate
    /// reads them (the crate reports that as an error of the walk).
    pub fn new(root: &Path, flags: Flags) -> Option<Walker> {
        let mut walker = Walker {
            root: root.to_path_buf(),
            flags,
            global: Gitignore::empty(),
            above: None,
        };
        if !flags.respect_ignore {
            return Some(walker);
        }
        // The crate reads the global gitignore relative to the current directory, and
        // none when that is unknown.
        if let Ok(cwd) = std::env::current_dir() {
            let (global, _) = GitignoreBuilder::new(cwd).build_global();
            walker.global = global;
        }
        // `add_parents`: the directories above the canonical root, outermost first.
        let Ok(base) = root.canonicalize() else {
            return Some(walker);
        };
        let mut parents: Vec<&Path> = base.ancestors().skip(1).collect();
        parents.reverse();
        let mut chain = None;
        let mut has_rules = false;
        for parent in parents {
            let node = walker.rules_of(parent, None, &chain)?;
            has_rules |= !(node.ignore.is_empty()
                && node.git_ignore.is_empty()
                && node.git_exclude.is_empty());
            if node.has_git || !is_plain(&node) {
                chain = Some(Arc::new(node));
            }
        }
        walker.above = Some(Above {
            chain,
            has_rules,
            base: base.clone(),
        });
        Some(walker)
    }

    /// The rules `dir` adds, as the crate's `add_child_path` reads them: a name is
    /// looked for only when `listing` holds it (without a listing, always). `None` when a
    /// worktree's `.git` file cannot be read (the crate reports it).
    fn rules_of(
        &self,
        dir: &Path,
        listing: Option<&Listing>,
        parent: &Option<Arc<Node>>,
    ) -> Option<Node> {
        let holds = |name: &str| listing.is_none_or(|l| l.holds(name));
        let respect = self.flags.respect_ignore;
        // The crate's `require_git && (git_ignore || git_exclude)`, and `git_exclude`.
        let git_type = if respect && holds(".git") {
            dir.join(".git").metadata().ok().map(|m| m.file_type())
        } else {
            None
        };
        let has_jj = respect && holds(".jj") && dir.join(".jj").exists();
        let has_git = respect && (git_type.is_some() || has_jj);
        let from = |name: &str, in_dir: &Path| {
            if respect && holds(name) {
                read_ignore_file(dir, &in_dir.join(name))
            } else {
                Gitignore::empty()
            }
        };
        let ignore = from(".ignore", dir);
        let git_ignore = from(".gitignore", dir);
        let git_exclude = if respect && holds(".git") {
            match git_common_dir(dir, git_type) {
                Ok(git_dir) => read_ignore_file(dir, &git_dir.join("info/exclude")),
                Err(None) => Gitignore::empty(),
                Err(Some(_)) if listing.is_some() => Gitignore::empty(),
                Err(Some(_)) => return None,
            }
        } else {
            Gitignore::empty()
        };
        Some(Node {
            ignore,
            git_ignore,
            git_exclude,
            has_git,
            parent: parent.clone(),
        })
    }

    /// The rules in force in `dir` (whose parent's are `parent`): the parent's, with a
    /// node for `dir` only when it adds rules or is a repository (a node that adds
    /// neither changes no match).
    fn enter(
        &self,
        dir: &Path,
        listing: &Listing,
        parent: &Option<Arc<Node>>,
    ) -> Option<Arc<Node>> {
        match self.rules_of(dir, Some(listing), parent) {
            Some(node) if node.has_git || !is_plain(&node) => Some(Arc::new(node)),
            _ => parent.clone(),
        }
    }

    /// Is `path` (an entry of the directory whose rules are `rules`) left out by an
    /// ignore rule? What the crate's `Ignore::matched` answers (no overrides, types,
    /// custom or explicit ignore files are set).
    fn matched(&self, rules: &Option<Arc<Node>>, path: &Path, is_dir: bool) -> Match<()> {
        if !self.flags.respect_ignore {
            return Match::None;
        }
        let path = strip_prefix(b"./", path).unwrap_or(path);
        let above = self.above.as_ref();
        let any_git = Node::chain(rules).any(|n| n.has_git)
            || above.is_some_and(|a| Node::chain(&a.chain).any(|n| n.has_git));
        let (mut m_ignore, mut m_gi, mut m_exclude) = (Match::None, Match::None, Match::None);
        let mut saw_git = false;
        let mut apply = |node: &Node, path: &Path, saw_git: &mut bool| {
            if m_ignore.is_none() {
                m_ignore = node.ignore.matched(path, is_dir).map(|_| ());
            }
            if any_git && !*saw_git && m_gi.is_none() {
                m_gi = node.git_ignore.matched(path, is_dir).map(|_| ());
            }
            if any_git && !*saw_git && m_exclude.is_none() {
                m_exclude = node.git_exclude.matched(path, is_dir).map(|_| ());
            }
            *saw_git = *saw_git || node.has_git;
        };
        for node in Node::chain(rules) {
            apply(node, path, &mut saw_git);
        }
        if let Some(above) = above.filter(|a| self.flags.parents && a.has_rules) {
            // The crate's rewriting of the path onto the canonical root (a prefix of the
            // path's bytes, not of its components).
            let relative = if self.root.as_path() == Path::new(".") {
                path
            } else {
                let root = strip_prefix(b"./", &self.root).unwrap_or(&self.root);
                let rest = strip_prefix(root.as_os_str().as_bytes(), path).unwrap_or(path);
                strip_prefix(b"/", rest).unwrap_or(rest)
            };
            let rewritten = above.base.join(relative);
            for node in Node::chain(&above.chain) {
                apply(node, &rewritten, &mut saw_git);
            }
        }
        let m_global = if any_git {
            self.global.matched(path, is_dir).map(|_| ())
        } else {
            Match::None
        };
        m_ignore.or(m_gi).or(m_exclude).or(m_global)
    }

    /// Walk: every entry no rule leaves out, each directory's sorted as [`super::discover`]
    /// orders them, a directory's before the entries of the next one; the root's own
    /// entry is not given. `visit` enters a directory by `Continue(true)` and ends the
    /// walk by `Break`.
    pub fn walk(
        &self,
        visit: &mut dyn FnMut(Visit<'_>) -> ControlFlow<(), bool>,
    ) -> ControlFlow<()> {
        let mut stack: Vec<Frame> = Vec::new();
        // The rules above the root are matched apart (see `matched`): the chain of the
        // walked directories starts empty.
        self.open(&self.root, 0, &None, &mut stack, visit)?;
        while let Some(frame) = stack.last_mut() {
            let Some((name, file_type)) = frame.listing.entries.get(frame.next) else {
                stack.pop();
                continue;
            };
            frame.next += 1;
            let file_type = *file_type;
            let path = frame.dir.join(name);
            let depth = frame.depth + 1;
            let is_dir = file_type.is_dir();
            let m = self.matched(&frame.rules, &path, is_dir);
            let hidden = name.as_bytes().starts_with(b".");
            if m.is_ignore() || (m.is_none() && self.flags.skip_hidden && hidden) {
                continue;
            }
            let enter = visit(Visit::Entry {
                path: &path,
                depth,
                file_type,
                listing: &frame.listing,
            })?;
            if is_dir && enter {
                let rules = frame.rules.clone();
                self.open(&path, depth, &rules, &mut stack, visit)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Read the directory `dir` and push it on the stack (or report why it cannot be read).
    fn open(
        &self,
        dir: &Path,
        depth: usize,
        parent: &Option<Arc<Node>>,
        stack: &mut Vec<Frame>,
        visit: &mut dyn FnMut(Visit<'_>) -> ControlFlow<(), bool>,
    ) -> ControlFlow<()> {
        let read = match std::fs::read_dir(dir) {
            Ok(read) => read,
            Err(error) => {
                visit(Visit::Error { path: dir, error })?;
                return ControlFlow::Continue(());
            }
        };
        let mut entries = Vec::new();
        for entry in read {
            match entry {
                Ok(entry) => match entry.file_type() {
                    Ok(t) => entries.push((entry.file_name(), t)),
                    Err(error) => {
                        visit(Visit::Error {
                            path: &entry.path(),
                            error,
                        })?;
                    }
                },
                Err(error) => {
                    visit(Visit::Error {
                        path: Path::new(""),
                        error,
                    })?;
                }
            }
        }
        entries.sort_by(|(a, x), (b, y)| {
            listed_order(a.as_bytes(), x.is_dir(), b.as_bytes(), y.is_dir())
        });
        let listing = Listing { entries };
        let rules = self.enter(dir, &listing, parent);
        stack.push(Frame {
            dir: dir.to_path_buf(),
            depth,
            rules,
            listing,
            next: 0,
        });
        ControlFlow::Continue(())
    }
}

/// Adds a node no rule and no repository?
fn is_plain(node: &Node) -> bool {
    node.ignore.is_empty() && node.git_ignore.is_empty() && node.git_exclude.is_empty()
}

/// Two names of one directory in [`super::discover`]'s order: by bytes, a directory's
/// name read as if followed by `/` (what `in_sorted_order` answers, from the listing's
/// file types instead of a `stat`).
pub fn listed_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> std::cmp::Ordering {
    // The common length compares as bytes (one `memcmp`); what is left of either name
    // is empty or decides at its first byte, before a directory's `/`.
    let common = a.len().min(b.len());
    a[..common].cmp(&b[..common]).then_with(|| {
        let slash: &[u8] = b"/";
        let x = a[common..].iter().chain(if a_dir { slash } else { &[] });
        let y = b[common..].iter().chain(if b_dir { slash } else { &[] });
        x.cmp(y)
    })
}

/// The crate's `create_gitignore` for one file: read when it exists; its I/O errors and
/// bad lines are dropped as the crate drops them from a walk's results.
fn read_ignore_file(dir: &Path, file: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    if file.exists() {
        let _ = builder.add(file);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The crate's `resolve_git_commondir`: where a repository's `info/exclude` is (the
/// common directory of a worktree whose `.git` is a file). `Err(Some)` where the crate
/// reports an error, `Err(None)` where it quietly reads none.
fn git_common_dir(
    dir: &Path,
    git_type: Option<FileType>,
) -> Result<PathBuf, Option<std::io::Error>> {
    let git_dir = dir.join(".git");
    if !git_type.is_some_and(|t| t.is_file()) {
        return Ok(git_dir);
    }
    let first_line = |path: &Path| -> Result<Option<String>, std::io::Error> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        file.lines().next().transpose()
    };
    let line = match first_line(&git_dir) {
        Ok(Some(line)) => line,
        Ok(None) => return Err(None),
        Err(e) => return Err(Some(e)),
    };
    let Some(real) = line.strip_prefix("gitdir: ") else {
        return Err(None);
    };
    let real = PathBuf::from(real);
    let common = match std::fs::File::open(real.join("commondir")) {
        Ok(file) => match std::io::BufReader::new(file).lines().next() {
            Some(Ok(line)) => line,
            Some(Err(e)) => return Err(Some(e)),
            None => return Err(None),
        },
        Err(_) => return Err(None),
    };
    Ok(if common.starts_with('.') {
        real.join(common)
    } else {
        PathBuf::from(common)
    })
}

/// `path` without the byte prefix `prefix` (the crate's `pathutil::strip_prefix`).
fn strip_prefix<'a>(prefix: &[u8], path: &'a Path) -> Option<&'a Path> {
    path.as_os_str()
        .as_bytes()
        .strip_prefix(prefix)
        .map(|rest| Path::new(OsStr::from_bytes(rest)))
}

#[cfg(test)]
mod tests {
    use super::super::{discover_by, By, WalkOptions};
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    /// Both walks of `roots` with `options` (files in order, errors): equal.
    fn assert_same_walk(roots: &[PathBuf], options: &WalkOptions) {
        let listed = discover_by(roots, options, By::Listing);
        let oracle = discover_by(roots, options, By::Crate);
        assert_eq!(listed.files, oracle.files, "{roots:?} {options:?}");
        assert_eq!(listed.errors, oracle.errors, "{roots:?} {options:?}");
    }

    /// The flag combinations the command line gives (`--no-ignore`, `--hidden`).
    fn each_option() -> Vec<WalkOptions> {
        let mut all = Vec::new();
        for respect_ignore in [true, false] {
            for hidden in [false, true] {
                all.push(WalkOptions {
                    respect_ignore,
                    hidden,
                    ..WalkOptions::default()
                });
            }
        }
        all
    }

    /// A generated tree: each entry a path relative to the root and what it is.
    #[derive(Clone, Debug)]
    enum Item {
        File(String),
        /// An ignore file (`.gitignore`, `.ignore`, `.git/info/exclude`) with these lines.
        Rules(String, Vec<&'static str>),
        /// A directory (possibly empty).
        Dir(String),
        /// A worktree's `.git` file pointing at a common directory whose `info/exclude`
        /// holds these lines.
        Worktree(String, Vec<&'static str>),
        /// A symbolic link to this target (not followed).
        Link(String, &'static str),
    }

    const DIRS: &[&str] = &["a", "b", ".h", "node_modules", "a.b", "ab", "a b"];
    const FILES: &[&str] = &[
        "x.yaml",
        "y.json",
        ".z.yaml",
        "t.template",
        "w.txt",
        "a.yml",
        "ab.yaml",
        "b",
        "X.YAML",
    ];
    const PATTERNS: &[&str] = &[
        "*.json",
        "a/",
        "/b",
        "!x.yaml",
        "*.yaml",
        "!ab.yaml",
        "**/y.json",
        "node_modules",
        ".h",
        "!.h",
        "!.z.yaml",
        "a*",
        "b/",
        "x.*",
        "# c",
        "",
        "[",
        "\\!x",
        "a/**",
        "!/a",
        "*.t*",
        "/a/x.yaml",
        "ab",
        "!*.yml",
        "*",
        "!a/",
        ".*",
        "h/",
    ];

    fn dir_path() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(DIRS), 0..3).prop_map(|parts| parts.join("/"))
    }

    fn join(dir: &str, name: &str) -> String {
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    }

    fn rules() -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(prop::sample::select(PATTERNS), 0..4)
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            4 => (dir_path(), prop::sample::select(FILES)).prop_map(|(d, f)| Item::File(join(&d, f))),
            2 => (dir_path(), prop::sample::select(&[".gitignore", ".ignore", ".git/info/exclude"][..]), rules())
                .prop_map(|(d, f, r)| Item::Rules(join(&d, f), r)),
            1 => dir_path().prop_map(|d| Item::Dir(join(&d, ".git"))),
            1 => dir_path().prop_map(|d| Item::Dir(join(&d, ".jj"))),
            1 => dir_path().prop_map(Item::Dir),
            1 => (dir_path(), rules()).prop_map(|(d, r)| Item::Worktree(d, r)),
            1 => (dir_path(), prop::sample::select(&["x.yaml", "a", "../a", "missing"][..]))
                .prop_map(|(d, t)| Item::Link(join(&d, "l.yaml"), t)),
        ]
    }

    fn make(root: &Path, items: &[Item]) {
        std::fs::create_dir_all(root).unwrap();
        let parent = |p: &Path| std::fs::create_dir_all(p.parent().unwrap_or(p));
        for (i, item) in items.iter().enumerate() {
            // A later item may find a file where it wants a directory: it is skipped.
            let _ = (|| -> std::io::Result<()> {
                match item {
                    Item::File(p) => {
                        parent(&root.join(p))?;
                        std::fs::write(root.join(p), "Resources: {}\n")
                    }
                    Item::Rules(p, lines) => {
                        parent(&root.join(p))?;
                        std::fs::write(root.join(p), lines.join("\n"))
                    }
                    Item::Dir(p) => std::fs::create_dir_all(root.join(p)),
                    Item::Worktree(d, lines) => {
                        let common = root.join(format!(".common{i}"));
                        let private = common.join("worktrees/w");
                        std::fs::create_dir_all(&private)?;
                        std::fs::create_dir_all(common.join("info"))?;
                        std::fs::write(common.join("info/exclude"), lines.join("\n"))?;
                        std::fs::write(private.join("commondir"), "../..\n")?;
                        std::fs::create_dir_all(root.join(d))?;
                        std::fs::write(
                            root.join(d).join(".git"),
                            format!("gitdir: {}\n", private.display()),
                        )
                    }
                    Item::Link(p, target) => {
                        parent(&root.join(p))?;
                        std::os::unix::fs::symlink(target, root.join(p))
                    }
                }
            })();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The walk by listings gives the files (in order) and errors of the `ignore`
        /// crate's walk: the tree's root, each directory of it (the ignore files above
        /// it then apply as parents' rules), named absolute and relative, whatever the
        /// flags.
        #[test]
        fn the_listing_walk_gives_the_files_of_the_ignore_walk(
            items in prop::collection::vec(item(), 1..24),
            top_git in any::<bool>(),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let top = tmp.path().join("t");
            make(&top, &items);
            if top_git {
                let _ = std::fs::create_dir_all(top.join(".git"));
            }
            let mut roots = vec![top.clone()];
            for d in walkdir_dirs(&top) {
                roots.push(d);
            }
            let cwd = std::env::current_dir().unwrap();
            for options in each_option() {
                for root in &roots {
                    assert_same_walk(std::slice::from_ref(root), &options);
                }
                // Relative, through `..`, and with a leading `./`.
                if let Some(relative) = relative_to(&cwd, &top) {
                    assert_same_walk(std::slice::from_ref(&relative), &options);
                    assert_same_walk(&[Path::new(".").join(&relative)], &options);
                    assert_same_walk(&[relative.join("a")], &options);
                }
            }
        }
    }

    /// Every directory under `top` (not itself).
    fn walkdir_dirs(top: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![top.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(read) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in read.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    out.push(e.path());
                    stack.push(e.path());
                }
            }
        }
        out.sort();
        out
    }

    /// `path` relative to `from` (both absolute), through `..`.
    fn relative_to(from: &Path, path: &Path) -> Option<PathBuf> {
        let from: Vec<_> = from.components().collect();
        let to: Vec<_> = path.components().collect();
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        if common == 0 {
            return None;
        }
        let mut out = PathBuf::new();
        for _ in common..from.len() {
            out.push("..");
        }
        for c in &to[common..] {
            out.push(c);
        }
        Some(out)
    }

    /// The repository's own tree (its `.gitignore`, `target/` and all), walked both ways
    /// from its root and from a few directories inside it.
    #[test]
    fn the_listing_walk_agrees_on_the_repository() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for options in each_option() {
            for sub in ["", "src", "tests", "tests/it", "templates-examples"] {
                let root = repo.join(sub);
                if root.is_dir() {
                    assert_same_walk(&[root], &options);
                }
            }
        }
    }

    /// Names that sort around a directory's `/`: by the listing's file types, the order
    /// `in_sorted_order` gives by asking the file system.
    #[test]
    fn listed_order_is_the_walk_order() {
        let tmp = tempfile::tempdir().unwrap();
        let names = [
            "a", "a.b", "a-b", "a b", "a0", "ab", "a/", "Z", "é", "a.", "a\u{1}",
        ];
        for n in names {
            let n = n.trim_end_matches('/');
            if n.ends_with('b') || n == "a" {
                std::fs::create_dir_all(tmp.path().join(n)).unwrap();
            } else {
                std::fs::write(tmp.path().join(n), "").unwrap();
            }
        }
        let entries: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        for a in &entries {
            for b in &entries {
                let by_stat = super::super::in_sorted_order(&a.path(), &b.path(), false);
                let by_type = super::listed_order(
                    std::os::unix::ffi::OsStrExt::as_bytes(a.file_name().as_os_str()),
                    a.file_type().unwrap().is_dir(),
                    std::os::unix::ffi::OsStrExt::as_bytes(b.file_name().as_os_str()),
                    b.file_type().unwrap().is_dir(),
                );
                assert_eq!(by_stat, by_type, "{:?} {:?}", a.path(), b.path());
            }
        }
    }
}
