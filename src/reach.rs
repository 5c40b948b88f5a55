//! What the steps across files of a check can reach, read ahead of a streamed check, so
//! that a file's report can go to its reader before the run ends (see `report::stream`).
//!
//! A streamed check ([`crate::check::Checker::check_streaming`]) emits a file's report when
//! it and every file before it are done, but a step across files may still change it at
//! the end: an included (nested) template's findings name who includes it, a Serverless
//! `${file(...)}` fragment is part of its service and not a file of its own; and the end
//! places files among the emitted ones in path order (the templates that include or bring
//! in others, included templates the walk did not list, the walk's errors). Any file of
//! the tree can name any other (`TemplateURL: ../../x.yaml`), so nothing is known before
//! every file has been looked at. [`scan`] walks the tree on its own, ahead of the check,
//! and reads each file once with the prefilter's cheap test for "may include other files"
//! ([`prefilter::INCLUDES`], or a Serverless service holding `${`); only such files (few)
//! are loaded here, through the same per-file path (`Checker::links`, no rules), to learn
//! exactly what they include and bring in, and so are the files they include, in turn. The answer, [`Reach`], says
//! which reports are final: those of files before the first place the end can put a file
//! at, and not named by any include or fragment.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::base_revision::canonical;
use crate::check::Checker;
use crate::discover::{Candidate, Walk};
use crate::prefilter::{Prefilter, INCLUDES};

/// What the steps across files of a check can change or place among the emitted reports.
#[derive(Debug, Default)]
pub struct Reach {
    /// The lowest path (in report order) at which the end of the run can place a file:
    /// a file that includes or brings in others (kept to the end), one it names (not
    /// walked, it is reported at that path), a path the walk could not read.
    floor: Option<String>,
    /// The canonical paths of the files some file includes or brings in: their reports
    /// change at the end, or go.
    targets: HashSet<PathBuf>,
}

impl Reach {
    /// Whether the report of the walked file reported as `path` is final: nothing can
    /// change it, nor be placed before it, once every file before it is done.
    pub fn is_final(&self, path: &str) -> bool {
        if self.floor.as_deref().is_some_and(|floor| path >= floor) {
            return false;
        }
        self.targets.is_empty() || !self.targets.contains(&canonical(Path::new(path)))
    }

    fn lower(&mut self, path: &str) {
        if self.floor.as_deref().is_none_or(|floor| path < floor) {
            self.floor = Some(path.to_string());
        }
    }

    /// Look at one file: if it may include or bring in others, check it and note what it
    /// names (queued in `todo`, to be looked at in turn).
    fn file(
        &mut self,
        checker: &Checker,
        filter: &Prefilter,
        c: &Candidate,
        walked: bool,
    ) -> Vec<Candidate> {
        let Ok(profile) = checker.profile(&c.path) else {
            // The file's report is an error of its own, which names nothing.
            return Vec::new();
        };
        let max = profile.settings.max_file_size;
        let bytes = if walked {
            crate::read::candidate(c, max)
        } else {
            crate::read::file(&c.path, max)
        };
        let Ok(bytes) = bytes else {
            return Vec::new();
        };
        if !filter.may_match(&bytes)
            && !crate::model::serverless::may_include_files(&c.path, &bytes)
        {
            return Vec::new();
        }
        self.lower(&c.display);
        let (includes, fragments) = checker.links(&c.display, &c.path, &bytes);
        self.targets.extend(fragments);
        let mut named = Vec::new();
        for include in &includes {
            self.lower(&include.display);
            self.targets.insert(canonical(&include.path));
            named.push(Candidate {
                display: include.display.clone(),
                path: include.path.clone(),
            });
        }
        named
    }
}

/// Read every file of `walk` (the same walk as the check's) and the files they include,
/// each once; `None` if `stop` was set first (the check ended: nothing is left to
/// release).
pub fn scan(checker: &Checker, mut walk: Walk, stop: &AtomicBool) -> Option<Reach> {
    let filter = Prefilter::new(INCLUDES.iter().copied());
    let mut reach = Reach::default();
    let mut todo: Vec<Candidate> = Vec::new();
    for c in walk.files.by_ref() {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        todo.extend(reach.file(checker, &filter, &c, true));
    }
    for error in walk.errors() {
        reach.lower(&error.display);
    }
    // Included templates, and what they include (a cycle ends: each file once).
    let mut seen: HashSet<PathBuf> = HashSet::new();
    while let Some(c) = todo.pop() {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        if seen.insert(canonical(&c.path)) {
            todo.extend(reach.file(checker, &filter, &c, false));
        }
    }
    Some(reach)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_or_after_the_floor_or_named_by_an_include_is_not_final() {
        let dir = tempfile::tempdir().expect("tempdir");
        let named = dir.path().join("named.yaml");
        std::fs::write(&named, "x").expect("write");
        let mut reach = Reach::default();
        assert!(reach.is_final("a.yaml"));
        reach.lower("m/x.yaml");
        reach.lower("n.yaml");
        assert!(reach.is_final("a.yaml"));
        assert!(reach.is_final("m/w.yaml"));
        assert!(!reach.is_final("m/x.yaml"));
        assert!(!reach.is_final("z.yaml"));
        reach.targets.insert(canonical(&named));
        let shown = named.display().to_string();
        // Paths under the temporary directory sort before `m/`: only the target is held.
        assert!(!reach.is_final(&shown));
        assert!(reach.is_final("a.yaml"));
    }
}
