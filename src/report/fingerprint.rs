//! Stable fingerprints of findings, one definition for every format a code host tracks
//! findings by (SARIF `partialFingerprints`, GitLab Code Quality `fingerprint`), so that a
//! finding keeps its identity across runs and across formats.
//!
//! A fingerprint hashes rule, file and logical ID, never line numbers, so it survives edits
//! above the finding. Several findings of one rule on one resource are told apart by their
//! order, as CodeQL's `hash:occurrence` does.

use std::collections::HashMap;

use crate::finding::{Finding, Suppression};
use crate::report::data::FileReport;

/// One finding a code host tracks, with its fingerprint.
pub struct Tracked<'a> {
    pub finding: &'a Finding,
    /// The `Metadata.ddb-guard.ignore` entry that silences it, if any.
    pub suppression: Option<&'a Suppression>,
    pub fingerprint: String,
}

/// The findings of `file` that count, then the suppressed ones, each with its fingerprint.
/// Suppressed findings are numbered in the same occurrence sequence, so that a fingerprint
/// does not depend on which findings are silenced. `uri` is the file's name as the report
/// writes it (SARIF's artifact URI): the same string for every format, so that the
/// fingerprints agree.
pub fn tracked<'a>(file: &'a FileReport, uri: &str) -> Vec<Tracked<'a>> {
    let mut occurrences: HashMap<(&str, &str), usize> = HashMap::new();
    let silenced = file.suppressed.iter().map(|(f, s)| (f, Some(s)));
    file.findings
        .iter()
        .map(|f| (f, None))
        .chain(silenced)
        .map(|(finding, suppression)| {
            let occurrence = occurrences
                .entry((finding.code, finding.resource.as_str()))
                .or_default();
            *occurrence += 1;
            Tracked {
                finding,
                suppression,
                fingerprint: fingerprint(finding.code, uri, &finding.resource, *occurrence),
            }
        })
        .collect()
}

/// A stable fingerprint of rule, file and logical ID: FNV-1a (64-bit), whose output is
/// fixed by its definition, not by a library version.
pub fn fingerprint(code: &str, uri: &str, resource: &str, occurrence: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [code, uri, resource] {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}:{occurrence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_pinned_and_change_with_every_hashed_field() {
        // Pinned (computed independently with a Python FNV-1a): a change here re-opens
        // every alert users have already triaged.
        let base = fingerprint("DDB001", "t.yaml", "Orders", 1);
        assert_eq!(base, "b939f185fb3b3606:1");
        assert_ne!(base, fingerprint("DDB002", "t.yaml", "Orders", 1));
        assert_ne!(base, fingerprint("DDB001", "u.yaml", "Orders", 1));
        assert_ne!(base, fingerprint("DDB001", "t.yaml", "Order", 1));
        assert_ne!(base, fingerprint("DDB001", "t.yaml", "Orders", 2));
        // Field boundaries count: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            fingerprint("DDB001", "ab", "c", 1),
            fingerprint("DDB001", "a", "bc", 1)
        );
    }
}
