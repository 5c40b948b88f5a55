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

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The cheap prefilter: can a file with these bytes fire any rule whose needles are
/// given? A file that contains none of the needles (ASCII case-insensitive) cannot, unless
/// it holds a backslash escape that could spell one after decoding (JSON `\u0044`, YAML
/// double-quoted `\x44`, `\u`, `\U`, or an escaped line break that joins two halves).
/// It must never change a result, only save the parse.
///
/// Build it once per run: it owns the needles' SIMD searchers. It folds the haystack in
/// small chunks (`byte | 0x20`, which maps `A-Z` onto `a-z`) and runs one memmem
/// search per needle on the folded chunk, which is several times cheaper than verifying
/// every `d`/`D` of a file by hand. Folding both sides can only add matches (bytes that
/// differ only in bit 5, such as `@` and `` ` ``), never lose one, so a skipped file is
/// always a file that no enabled rule can fire on.
pub struct Prefilter {
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// The longest needle minus one: how far consecutive chunks overlap.
    overlap: usize,
}

/// Chunk size of the folded copy; needles longer than half of it (none are) are searched
/// without folding.
const FOLD_CHUNK: usize = 8 * 1024;

impl Prefilter {
    pub fn new<'n>(needles: impl IntoIterator<Item = &'n str>) -> Self {
        let mut folded: Vec<Vec<u8>> = needles.into_iter().map(|n| fold(n.as_bytes())).collect();
        folded.sort_unstable();
        folded.dedup();
        let overlap = folded
            .iter()
            .map(|n| n.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        Prefilter {
            finders: folded
                .iter()
                .map(|n| memchr::memmem::Finder::new(n).into_owned())
                .collect(),
            overlap,
        }
    }

    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.contains_a_needle(bytes) || has_spelling_escape(bytes)
    }

    fn contains_a_needle(&self, bytes: &[u8]) -> bool {
        if self.finders.is_empty() {
            return false;
        }
        if self.overlap >= FOLD_CHUNK / 2 {
            let folded = fold(bytes);
            return self.finders.iter().any(|f| f.find(&folded).is_some());
        }
        // Not a zeroed stack array: zeroing 8 KiB per file cost more than the search.
        let mut chunk = Vec::with_capacity(bytes.len().min(FOLD_CHUNK));
        let mut start = 0;
        loop {
            let end = (start + FOLD_CHUNK).min(bytes.len());
            chunk.clear();
            chunk.extend(bytes[start..end].iter().map(|b| b | 0x20));
            if self.finders.iter().any(|f| f.find(&chunk).is_some()) {
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
pub fn may_match(bytes: &[u8], needles: &[&str]) -> bool {
    Prefilter::new(needles.iter().copied()).may_match(bytes)
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

    const NEEDLES: &[&str] = &["dynamodb", "simpletable"];

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
        /// Skipping is only sound if every file that holds a needle in any case is kept.
        #[test]
        fn prefilter_keeps_every_file_that_holds_a_needle(
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..20_000),
            suffix in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            upper in proptest::collection::vec(proptest::bool::ANY, 11),
            which in 0usize..2,
        ) {
            let needle: Vec<u8> = NEEDLES[which]
                .bytes()
                .zip(&upper)
                .map(|(b, &u)| if u { b.to_ascii_uppercase() } else { b })
                .collect();
            let mut text = prefix.clone();
            text.extend_from_slice(&needle);
            text.extend_from_slice(&suffix);
            let prefilter = Prefilter::new(NEEDLES.iter().copied());
            proptest::prop_assert!(prefilter.may_match(&text));
            let naive = NEEDLES.iter().any(|n| naive_contains(&prefix, n.as_bytes()));
            proptest::prop_assert!(!naive || prefilter.may_match(&prefix));
        }
    }

    #[test]
    fn prefilter_needle_at_end_of_input() {
        assert!(may_match(b"xx dynamodb", NEEDLES));
        assert!(!may_match(b"xx dynamod", NEEDLES));
    }
}
