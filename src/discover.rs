//! Stage 1: which files, in what order. Walks the given paths with gitignore semantics
//! (ripgrep's `ignore` crate), keeps template extensions, and returns a sorted list. A path
//! named on the command line is always read, whatever its extension. Reading, the
//! prefilter and parsing belong to the next stage.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

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
}

/// Gitignore-style exclude patterns, anchored at the config file's directory.
#[derive(Clone, Debug)]
pub struct Exclude {
    matcher: ignore::gitignore::Gitignore,
}

impl Exclude {
    pub fn new(matcher: ignore::gitignore::Gitignore) -> Self {
        Exclude { matcher }
    }

    /// Is `path` (or, with `parents`, any directory above it) excluded? Paths outside the
    /// patterns' directory never are.
    pub fn excludes(&self, path: &Path, is_dir: bool, parents: bool) -> bool {
        let Ok(absolute) = std::path::absolute(path) else {
            return false;
        };
        if !absolute.starts_with(self.matcher.path()) {
            return false;
        }
        let matched = if parents {
            self.matcher.matched_path_or_any_parents(&absolute, is_dir)
        } else {
            self.matcher.matched(&absolute, is_dir)
        };
        matched.is_ignore()
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
    let mut found = Discovery::default();
    let implicit = paths.is_empty();
    let default = [PathBuf::from(".")];
    let roots = if implicit { &default[..] } else { paths };
    for root in roots {
        walk_root(root, implicit, options, &mut found);
    }
    found.files.sort();
    found.files.dedup_by(|a, b| a.path == b.path);
    found.errors.sort();
    found
}

fn walk_root(root: &Path, implicit: bool, options: &WalkOptions, found: &mut Discovery) {
    let root_display = root.display().to_string();
    match std::fs::metadata(root) {
        Err(e) => {
            found.errors.push(WalkError {
                display: root_display,
                message: format!("cannot read path: {}", io_reason(&e)),
            });
            return;
        }
        Ok(meta) if meta.is_file() => {
            let excluded = options.force_exclude
                && options
                    .exclude
                    .as_ref()
                    .is_some_and(|x| x.excludes(root, false, true));
            if excluded {
                return;
            }
            found.files.push(Candidate {
                display: root_display,
                path: root.to_path_buf(),
            });
            return;
        }
        Ok(meta) if !meta.is_dir() => {
            found.errors.push(WalkError {
                display: root_display,
                message: "not a regular file or directory (a FIFO, socket or device cannot be a template)".into(),
            });
            return;
        }
        Ok(_) => {
            let excluded = options.force_exclude
                && options
                    .exclude
                    .as_ref()
                    .is_some_and(|x| x.excludes(root, true, true));
            if excluded {
                return;
            }
        }
    }
    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(options.respect_ignore)
        .hidden(!options.hidden)
        .follow_links(options.follow_links);
    if let Some(exclude) = options.exclude.clone() {
        // Prune excluded directories instead of walking them. The root itself is walked
        // when named, as ripgrep walks an ignored directory it is given.
        builder.filter_entry(move |entry| {
            entry.depth() == 0
                || !exclude.excludes(
                    entry.path(),
                    entry.file_type().is_some_and(|t| t.is_dir()),
                    false,
                )
        });
    }
    for entry in builder.build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                if let Some(mut walk_error) = walk_error(&err) {
                    if implicit {
                        if let Some(rest) = walk_error.display.strip_prefix("./") {
                            walk_error.display = rest.to_string();
                        }
                    }
                    if walk_error.display.is_empty() {
                        walk_error.display = root_display.clone();
                    }
                    found.errors.push(walk_error);
                }
                continue;
            }
        };
        // Only regular files: opening a FIFO would block, a directory named `x.yaml` is walked.
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if !has_template_extension(path, &options.extensions) {
            continue;
        }
        let display = if implicit {
            path.strip_prefix(".").unwrap_or(path).display().to_string()
        } else {
            path.display().to_string()
        };
        found.files.push(Candidate {
            display,
            path: path.to_path_buf(),
        });
    }
}

pub fn has_template_extension(path: &Path, extensions: &[String]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// A walk error worth reporting; a symlink loop is not (its target is walked anyway).
fn walk_error(err: &ignore::Error) -> Option<WalkError> {
    match err {
        ignore::Error::Loop { .. } => None,
        ignore::Error::WithPath { path, err } => walk_error(err).map(|mut e| {
            e.display = path.display().to_string();
            // With --follow, a link whose target is missing or that points back at itself
            // fails like an unreadable directory; say what it is.
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
            if let (true, Some(io)) = (is_link, io_error(err)) {
                e.message = if io.kind() == std::io::ErrorKind::NotFound {
                    "broken symbolic link: its target does not exist, so it is not checked".into()
                } else {
                    format!(
                        "cannot follow symbolic link, so it is not checked: {}",
                        io_reason(io)
                    )
                };
            }
            e
        }),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Io(io) => Some(WalkError {
            display: String::new(),
            message: format!(
                "cannot read directory, so templates in it are not checked: {}",
                io_reason(io)
            ),
        }),
        // A malformed .gitignore line is not worth failing a run over.
        ignore::Error::Glob { .. }
        | ignore::Error::UnrecognizedFileType(_)
        | ignore::Error::InvalidDefinition => None,
        ignore::Error::Partial(errors) => errors.iter().find_map(walk_error),
    }
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

/// The cheap prefilter: can a file with these bytes fire any rule whose needles are
/// given? A rule's needles are groups of patterns ([`crate::rules::Needles`]); a file that
/// holds every pattern of no group (ASCII case-insensitive) cannot fire it, unless it holds
/// a backslash escape that could spell one after decoding (JSON `\u0044`, YAML
/// double-quoted `\x44`, `\u`, `\U`, or an escaped line break that joins two halves).
/// It must never change a result, only save the parse.
///
/// Build it once per run: it owns the patterns' SIMD searchers. It folds the haystack in
/// small chunks (`byte | 0x20`, which maps `A-Z` onto `a-z`) and runs one memmem
/// search per pattern on the folded chunk, which is several times cheaper than verifying
/// every `d`/`D` of a file by hand. Folding both sides can only add matches (bytes that
/// differ only in bit 5, such as `@` and `` ` ``), never lose one, so a skipped file is
/// always a file that no enabled rule can fire on.
///
/// The first pass looks for each group's first pattern only (its lead, the rarest by
/// convention: a resource type), so a file that holds no lead costs what a one-pattern
/// filter costs; the other patterns of the groups whose lead is present are looked for in
/// a second pass.
pub struct Prefilter {
    /// One searcher per distinct folded pattern.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// Each group as indexes into `finders`, lead first.
    groups: Vec<Vec<usize>>,
    /// The distinct leads of the groups.
    leads: Vec<usize>,
    /// The longest pattern minus one: how far consecutive chunks overlap.
    overlap: usize,
}

/// Chunk size of the folded copy; patterns longer than half of it (none are) are searched
/// without folding.
const FOLD_CHUNK: usize = 8 * 1024;

impl Prefilter {
    /// `groups`: every rule's needle groups, chained. An empty group would keep every file.
    pub fn new<'n>(groups: impl IntoIterator<Item = &'n [&'n str]>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut index_of = |pattern: &str| {
            let folded = fold(pattern.as_bytes());
            match patterns.iter().position(|p| *p == folded) {
                Some(i) => i,
                None => {
                    patterns.push(folded);
                    patterns.len() - 1
                }
            }
        };
        let groups: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|group| group.iter().map(|p| index_of(p)).collect())
            .collect();
        let mut leads: Vec<usize> = groups.iter().filter_map(|g| g.first().copied()).collect();
        leads.sort_unstable();
        leads.dedup();
        let overlap = patterns
            .iter()
            .map(|n| n.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        Prefilter {
            finders: patterns
                .iter()
                .map(|n| memchr::memmem::Finder::new(n).into_owned())
                .collect(),
            groups,
            leads,
            overlap,
        }
    }

    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.holds_a_group(bytes) || has_spelling_escape(bytes)
    }

    fn holds_a_group(&self, bytes: &[u8]) -> bool {
        if self.groups.iter().any(Vec::is_empty) {
            return true;
        }
        let mut found = vec![false; self.finders.len()];
        let complete = |found: &[bool]| self.complete(found);
        if self.search(bytes, &self.leads, &mut found, complete) {
            return true;
        }
        let mut rest: Vec<usize> = self
            .groups
            .iter()
            .filter(|g| found[g[0]])
            .flat_map(|g| g[1..].iter().copied().filter(|&i| !found[i]))
            .collect();
        rest.sort_unstable();
        rest.dedup();
        !rest.is_empty() && self.search(bytes, &rest, &mut found, complete)
    }

    /// Which of the groups given to [`Prefilter::new`] (in that order) the bytes hold, all
    /// of them when an escape could spell a pattern. One pass over the file for every
    /// pattern: for a file about to be parsed, which costs far more.
    pub fn held_groups(&self, bytes: &[u8]) -> Vec<bool> {
        if has_spelling_escape(bytes) {
            return vec![true; self.groups.len()];
        }
        let mut found = vec![false; self.finders.len()];
        let every: Vec<usize> = (0..self.finders.len()).collect();
        self.search(bytes, &every, &mut found, |found| found.iter().all(|&f| f));
        self.groups
            .iter()
            .map(|g| g.iter().all(|&i| found[i]))
            .collect()
    }

    fn complete(&self, found: &[bool]) -> bool {
        self.groups.iter().any(|g| g.iter().all(|&i| found[i]))
    }

    /// Look for the patterns `which` (marking them in `found`) until `done` says so;
    /// returns whether it did.
    fn search(
        &self,
        bytes: &[u8],
        which: &[usize],
        found: &mut [bool],
        done: impl Fn(&[bool]) -> bool,
    ) -> bool {
        let mark = |haystack: &[u8], found: &mut [bool]| {
            let mut new = false;
            for &i in which {
                if !found[i] && self.finders[i].find(haystack).is_some() {
                    found[i] = true;
                    new = true;
                }
            }
            new && done(found)
        };
        if self.overlap >= FOLD_CHUNK / 2 {
            return mark(&fold(bytes), found);
        }
        // Not a zeroed stack array: zeroing 8 KiB per file cost more than the search.
        let mut chunk = Vec::with_capacity(bytes.len().min(FOLD_CHUNK));
        let mut start = 0;
        loop {
            let end = (start + FOLD_CHUNK).min(bytes.len());
            chunk.clear();
            chunk.extend(bytes[start..end].iter().map(|b| b | 0x20));
            if mark(&chunk, found) {
                return true;
            }
            if end == bytes.len() {
                return false;
            }
            start = end - self.overlap;
        }
    }
}

/// One-off form of [`Prefilter::may_match`], for callers that check a single buffer.
pub fn may_match(bytes: &[u8], groups: &[&[&str]]) -> bool {
    Prefilter::new(groups.iter().copied()).may_match(bytes)
}

fn fold(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b | 0x20).collect()
}

fn has_spelling_escape(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', bytes)
        .any(|i| matches!(bytes.get(i + 1), Some(b'u' | b'U' | b'x' | b'\n' | b'\r')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEEDLES: &[&[&str]] = &[&["dynamodb"], &["simpletable"]];
    /// Groups of several patterns, as the IAM rules declare them.
    const GROUPS: &[&[&str]] = &[&["dynamodb"], &["aws::iam::", "policies", "statement"]];

    #[test]
    fn prefilter_matches_any_case() {
        assert!(may_match(b"Type: AWS::DynamoDB::Table", NEEDLES));
        assert!(may_match(b"Type: AWS::Serverless::SimpleTable", NEEDLES));
        assert!(may_match(b"arn:aws:DYNAMODB:", NEEDLES));
        assert!(!may_match(b"Type: AWS::S3::Bucket", NEEDLES));
    }

    #[test]
    fn prefilter_keeps_files_with_escapes_that_could_spell_a_table() {
        assert!(may_match(
            br#"{"Type": "AWS::Dynamo\u0044B::Table"}"#,
            NEEDLES
        ));
        assert!(may_match(b"Type: \"AWS::Dynamo\\x44B::Table\"", NEEDLES));
        assert!(may_match(b"Type: \"AWS::Dyna\\\n  moDB::Table\"", NEEDLES));
        assert!(!may_match(b"Name: \"a\\tb\"", NEEDLES));
    }

    #[test]
    fn prefilter_finds_a_needle_that_straddles_two_fold_chunks() {
        let prefilter = Prefilter::new(NEEDLES.iter().copied());
        for cut in 1.."dynamodb".len() {
            let mut text = vec![b' '; FOLD_CHUNK - cut];
            text.extend_from_slice(b"DynamoDB");
            text.extend_from_slice(&[b' '; 100]);
            assert!(prefilter.may_match(&text), "needle cut at {cut}");
        }
        let mut long = vec![b'x'; 5 * FOLD_CHUNK];
        assert!(!prefilter.may_match(&long));
        long.extend_from_slice(b"SimpleTable");
        assert!(prefilter.may_match(&long));
    }

    #[test]
    fn prefilter_with_no_needles_only_keeps_escapes() {
        let prefilter = Prefilter::new([]);
        assert!(!prefilter.may_match(b"AWS::DynamoDB::Table"));
        assert!(prefilter.may_match(b"\\u0044ynamoDB"));
    }

    fn naive_contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }

    proptest::proptest! {
        /// The prefilter agrees with the definition: some group has every pattern in the
        /// text, in any case (there are no escapes in this alphabet).
        #[test]
        fn groups_agree_with_a_naive_search(
            words in proptest::collection::vec(
                proptest::sample::select(vec!["DynamoDB", "aws::IAM::", "Policies", "STATEMENT", "x", "aws::iam:", "polici"]),
                0..12,
            ),
            pad in 0usize..(2 * FOLD_CHUNK),
        ) {
            let mut text = vec![b' '; pad];
            for w in &words {
                text.extend_from_slice(w.as_bytes());
                text.push(b' ');
            }
            let naive = GROUPS
                .iter()
                .any(|g| g.iter().all(|p| naive_contains(&text, p.as_bytes())));
            let prefilter = Prefilter::new(GROUPS.iter().copied());
            proptest::prop_assert_eq!(prefilter.may_match(&text), naive);
            let each: Vec<bool> = GROUPS
                .iter()
                .map(|g| g.iter().all(|p| naive_contains(&text, p.as_bytes())))
                .collect();
            proptest::prop_assert_eq!(prefilter.held_groups(&text), each);
        }

        /// Skipping is only sound if every file that holds a needle in any case is kept.
        #[test]
        fn prefilter_keeps_every_file_that_holds_a_needle(
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..20_000),
            suffix in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            upper in proptest::collection::vec(proptest::bool::ANY, 11),
            which in 0usize..2,
        ) {
            let needle: Vec<u8> = NEEDLES[which][0]
                .bytes()
                .zip(&upper)
                .map(|(b, &u)| if u { b.to_ascii_uppercase() } else { b })
                .collect();
            let mut text = prefix.clone();
            text.extend_from_slice(&needle);
            text.extend_from_slice(&suffix);
            let prefilter = Prefilter::new(NEEDLES.iter().copied());
            proptest::prop_assert!(prefilter.may_match(&text));
            let naive = NEEDLES.iter().any(|g| naive_contains(&prefix, g[0].as_bytes()));
            proptest::prop_assert!(!naive || prefilter.may_match(&prefix));
        }
    }

    #[test]
    fn a_group_needs_every_pattern_in_any_order() {
        let prefilter = Prefilter::new(GROUPS.iter().copied());
        let role = b"Type: AWS::IAM::Role\nAssumeRolePolicyDocument:\n  Statement: []\n";
        assert!(
            !prefilter.may_match(role),
            "no `Policies`: no group complete"
        );
        let inline = b"Policies:\n  - PolicyDocument:\n      Statement: []\nType: AWS::IAM::Role\n";
        assert!(prefilter.may_match(inline), "the lead may come last");
        assert!(prefilter.may_match(b"Type: AWS::DynamoDB::Table"));
        assert!(!prefilter.may_match(b"Policies: Statement"));
    }

    #[test]
    fn a_group_pattern_far_from_its_lead_is_found_across_chunks() {
        let prefilter = Prefilter::new(GROUPS.iter().copied());
        for cut in 1.."statement".len() {
            let mut text = b"AWS::IAM::Role Policies".to_vec();
            text.resize(3 * FOLD_CHUNK - cut, b' ');
            text.extend_from_slice(b"STATEMENT");
            assert!(prefilter.may_match(&text), "pattern cut at {cut}");
            text.truncate(text.len() - 1);
            assert!(!prefilter.may_match(&text), "one byte short at {cut}");
        }
    }

    #[test]
    fn an_empty_group_keeps_every_file() {
        let empty: &[&str] = &[];
        assert!(Prefilter::new([empty]).may_match(b"anything"));
    }

    #[test]
    fn prefilter_needle_at_end_of_input() {
        assert!(may_match(b"xx dynamodb", NEEDLES));
        assert!(!may_match(b"xx dynamod", NEEDLES));
    }
}
