//! The prefilter's search as it was before the one-pass search (f90a483): one memmem
//! search per pattern over folded 8 KiB chunks, leads first. Kept for the tests only, as
//! the oracle the one-pass search must agree with on every text.

use super::{fold, with_escapes_decoded, FOLD_CHUNK};

pub struct OldPrefilter {
    /// One searcher per distinct folded pattern.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// Each group as indexes into `finders`, lead first.
    groups: Vec<Vec<usize>>,
    /// The distinct leads of the groups.
    leads: Vec<usize>,
    /// For each pattern, the other patterns it contains (`aws::iam::` holds `iam`): a
    /// text without one of those cannot hold it, so [`OldPrefilter::held_groups`] looks for
    /// it only once they are all found.
    inside: Vec<Vec<usize>>,
    /// The longest pattern minus one: how far consecutive chunks overlap.
    overlap: usize,
    /// Every pattern, shortest first: a pattern's `inside` ones come before it.
    by_length: Vec<usize>,
}

impl OldPrefilter {
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
        let inside = patterns
            .iter()
            .enumerate()
            .map(|(i, outer)| {
                (0..patterns.len())
                    .filter(|&j| {
                        j != i
                            && memchr::memmem::find(outer, &patterns[j]).is_some()
                            // Two equal patterns are one (deduplicated above); keep the
                            // relation acyclic all the same.
                            && patterns[j].len() < outer.len()
                    })
                    .collect()
            })
            .collect();
        let mut by_length: Vec<usize> = (0..patterns.len()).collect();
        by_length.sort_by_key(|&i| patterns[i].len());
        OldPrefilter {
            by_length,
            finders: patterns
                .iter()
                .map(|n| memchr::memmem::Finder::new(n).into_owned())
                .collect(),
            groups,
            leads,
            inside,
            overlap,
        }
    }

    /// (Escapes are read as the new one reads them, [`with_escapes_decoded`]: what is
    /// compared is the search.)
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        let both = with_escapes_decoded(bytes);
        self.holds_a_group(both.as_deref().unwrap_or(bytes))
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

    /// Which of the groups given to [`OldPrefilter::new`] (in that order) the bytes hold,
    /// read as written or with their escapes decoded. One pass over the file for every
    /// pattern: for a file about to be parsed, which costs far more.
    ///
    /// The file is folded chunk by chunk (as [`OldPrefilter::may_match`] does), each chunk
    /// searched for every pattern not found yet while it is in the cache: folding the whole
    /// file first wrote a copy as large as the file and read it again once per pattern.
    /// A pattern that contains another (`aws::iam::policy` holds `aws::iam::`, which holds
    /// `iam`) is looked for in a chunk only once the ones inside it are found: a text
    /// without `iam` holds none of them, so most files are scanned for fewer patterns.
    /// (The shorter patterns are searched first in each chunk, and an occurrence of a
    /// pattern lies whole in some chunk, with the ones inside it: so a pattern is found
    /// exactly when the file holds it.)
    pub fn held_groups(&self, bytes: &[u8]) -> Vec<bool> {
        let both = with_escapes_decoded(bytes);
        let found = self.patterns_in(both.as_deref().unwrap_or(bytes));
        self.groups
            .iter()
            .map(|g| g.iter().all(|&i| found[i]))
            .collect()
    }

    /// Which patterns the folded bytes hold (see [`OldPrefilter::held_groups`]).
    fn patterns_in(&self, bytes: &[u8]) -> Vec<bool> {
        let mut found = vec![false; self.finders.len()];
        // Searches `haystack` for the patterns not found yet; whether all are found.
        let mark = |haystack: &[u8], found: &mut [bool]| {
            let mut all = true;
            for &i in &self.by_length {
                if found[i] {
                    continue;
                }
                if self.inside[i].iter().all(|&j| found[j])
                    && self.finders[i].find(haystack).is_some()
                {
                    found[i] = true;
                } else {
                    all = false;
                }
            }
            all
        };
        self.folded_chunks_until(bytes, |chunk| mark(chunk, &mut found));
        found
    }

    /// Calls `stop` on the bytes folded to lower case, chunk by chunk (overlapping by the
    /// longest pattern's length less one, so an occurrence lies whole in some chunk), until
    /// it returns true; returns whether it did. The chunks stay in the cache while every
    /// pattern is looked for in them.
    fn folded_chunks_until(&self, bytes: &[u8], mut stop: impl FnMut(&[u8]) -> bool) -> bool {
        if self.overlap >= FOLD_CHUNK / 2 {
            return stop(&fold(bytes));
        }
        // Not a zeroed stack array: zeroing 8 KiB per file cost more than the search.
        let mut chunk = Vec::with_capacity(bytes.len().min(FOLD_CHUNK));
        let mut start = 0;
        loop {
            let end = (start + FOLD_CHUNK).min(bytes.len());
            chunk.clear();
            chunk.extend(bytes[start..end].iter().map(|b| b | 0x20));
            if stop(&chunk) {
                return true;
            }
            if end == bytes.len() {
                return false;
            }
            start = end - self.overlap;
        }
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
        self.folded_chunks_until(bytes, |chunk| mark(chunk, found))
    }
}
