//! The fix engine: the one place that turns fixes attached to findings into new file
//! contents and writes them.
//!
//! Per file, in passes: load, run the rules, take the allowed fixes whose edits do not
//! overlap, apply them, and verify that the new text parses to the old tree plus exactly
//! the changes the fixes declare. Overlapping fixes wait for the next pass, which starts
//! from the fixed text (as ruff does). Nothing is written unless every pass verified, and
//! the file on disk is replaced only if it still holds the bytes that were checked:
//! temp file in the same directory, fsync, rename, permissions kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::check::Settings;
use crate::discover::{io_reason, Candidate};
use crate::finding::{Applicability, Change, Edit, Fix, FixValue};
use crate::load::{self, Document, FileError, NodeId, NodeKind, ScalarStyle};
use crate::report::data::Report;
use crate::ruleset;
use crate::source::{ContentHash, Span};
use crate::template_file::TemplateFile;

/// Fixes that still apply after this many passes mean a fix does not resolve its own
/// finding: refuse rather than loop.
const MAX_PASSES: usize = 8;

/// Which fixes to apply: by safety (`--unsafe-fixes`) and by rule (`--fixable`,
/// `--unfixable`, as in ruff). The rule filter only narrows what may be fixed; the
/// findings are reported whatever it says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixMode {
    pub unsafe_fixes: bool,
    /// Rule codes whose fixes may be applied; `None` is every rule.
    pub fixable: Option<Vec<&'static str>>,
    /// Rule codes whose fixes are never applied (wins over `fixable`).
    pub unfixable: Vec<&'static str>,
}

impl FixMode {
    /// Whether `fix`, attached to a finding of rule `code`, may be applied.
    pub fn allows(&self, code: &str, fix: &Fix) -> bool {
        (fix.applicability == Applicability::Safe || self.unsafe_fixes)
            && self
                .fixable
                .as_ref()
                .is_none_or(|rules| rules.contains(&code))
            && !self.unfixable.contains(&code)
    }
}

/// The fixed text of one file and how many fixes it took.
#[derive(Clone, Debug)]
pub struct Fixed {
    pub text: String,
    pub applied: usize,
}

/// The outcome for one file that had fixes to apply.
#[derive(Clone, Debug)]
pub struct FileFix {
    pub display: String,
    pub path: PathBuf,
    /// The text that was checked, as read from disk.
    pub original: Arc<str>,
    pub result: Result<Fixed, FileError>,
}

/// Compute the fixes for every file of `report` that has an allowed fix, in parallel and
/// in path order. Nothing is written.
pub fn plan(
    report: &Report,
    candidates: &[Candidate],
    checker: &crate::check::Checker,
    mode: &FixMode,
) -> Vec<FileFix> {
    let paths: HashMap<&str, &Path> = candidates
        .iter()
        .map(|c| (c.display.as_str(), c.path.as_path()))
        .collect();
    let todo: Vec<(&str, &Path, ContentHash)> = report
        .files
        .iter()
        // A file with an error beside its findings (a nested template that does not exist,
        // a fragment that cannot be read) loaded: its own tables are fixed, and the error
        // stays in the report. A file that did not load has no finding to fix.
        .filter(|f| {
            f.findings
                .iter()
                .any(|x| x.fix.as_ref().is_some_and(|fix| mode.allows(x.code, fix)))
        })
        .filter_map(|f| {
            // A nested template no walked path named was read from where its parent said.
            let path = paths
                .get(f.path.as_str())
                .copied()
                .or(f.included_from.as_deref())?;
            Some((f.path.as_str(), path, f.checked_bytes?))
        })
        .collect();
    todo.into_par_iter()
        .map(|(display, path, checked)| {
            // Each file is fixed with the settings it was checked with (its config's).
            let read = checker
                .profile(path)
                .and_then(|p| read_again(path, checked, &p.settings).map(|text| (text, p)));
            let (original, result) = match read {
                Ok((text, profile)) => {
                    let result = fix_text(path, &text, &profile.settings, mode);
                    (text, result)
                }
                Err(error) => (Arc::from(""), Err(error)),
            };
            FileFix {
                display: display.to_string(),
                path: path.to_path_buf(),
                original,
                result,
            }
        })
        .collect()
}

/// The text of a file to fix, read again: the report keeps only excerpts of what it
/// checked. Bytes that differ from the checked ones (by length and hash) are refused, so
/// a fix is never planned from text the findings were not about.
fn read_again(
    path: &Path,
    checked: ContentHash,
    settings: &Settings,
) -> Result<Arc<str>, FileError> {
    let bytes = crate::read::file(path, settings.max_file_size)
        .map_err(|e| FileError::new(format!("{}; the file was not changed", e.message)))?;
    if ContentHash::of(&bytes) != checked {
        return Err(changed_since_checked());
    }
    String::from_utf8(bytes)
        .map(Arc::from)
        .map_err(|_| changed_since_checked())
}

fn changed_since_checked() -> FileError {
    FileError::new("the file changed on disk after it was checked; it was not fixed")
        .with_help("run `ddb-guard check --fix` again once nothing else writes the file")
}

/// YAML counts a lone CR as a line break, but edits are placed by LF-terminated lines, so
/// such a file would be edited in the wrong place (verification would refuse it anyway).
fn has_bare_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
}

/// Apply every allowed fix to `text` (the whole file, as read), verified pass by pass.
pub fn fix_text(
    path: &Path,
    text: &str,
    settings: &Settings,
    mode: &FixMode,
) -> Result<Fixed, FileError> {
    let mut current = text.to_string();
    let mut applied = 0;
    for _ in 0..MAX_PASSES {
        let file = TemplateFile::from_text(path, &current, &settings.limits)?;
        let Some(template) = file.template()? else {
            // Not a template (any more): nothing for the rules to fix.
            return Ok(Fixed {
                text: current,
                applied,
            });
        };
        let mut findings = ruleset::check_template(&template, &settings.rules, &settings.options);
        // Rule order first: keys inserted at one place come out as DeletionPolicy, then
        // UpdateReplacePolicy, whichever finding comes first in the file.
        findings.sort_by_key(|f| (f.code, f.span.start));
        let fixes: Vec<&Fix> = findings
            .iter()
            .filter_map(|f| f.fix.as_ref().filter(|fix| mode.allows(f.code, fix)))
            .collect();
        if fixes.is_empty() {
            return Ok(Fixed {
                text: current,
                applied,
            });
        }
        if has_bare_cr(&current) {
            return Err(FileError::new(
                "the file has bare CR (classic Mac) line breaks, which the fix engine does not edit; the file was not changed",
            )
            .with_help("convert the line endings to LF or CRLF, then run `ddb-guard check --fix` again"));
        }
        let chosen = choose(&fixes);
        let next = apply_verified(path, &current, file.document(), &chosen, &settings.limits)?;
        applied += chosen.len();
        current = next;
    }
    Err(FileError::new(format!(
        "fixes did not converge after {MAX_PASSES} passes; the file was not changed"
    ))
    .with_help("this is a bug in ddb-guard: please report it with the template"))
}

/// Apply non-overlapping `fixes` to `text` (whose tree is `doc`) and verify the result:
/// the fixed text, or why it was refused.
pub fn apply_verified(
    path: &Path,
    text: &str,
    doc: &Document,
    fixes: &[&Fix],
    limits: &load::Limits,
) -> Result<String, FileError> {
    let next = apply(text, fixes).ok_or_else(|| {
        FileError::new(
            "a fix was refused and the file left untouched: its edits overlap or split a character",
        )
        .with_help("this is a bug in ddb-guard: please report it with the template")
    })?;
    verify(doc, path, &next, fixes, limits)?;
    Ok(next)
}

/// The fixes of one pass: in order, each one whose edits and changes do not collide with
/// those already taken. Insertions at the same offset do not collide; they
/// are written in the order taken.
fn choose<'f>(fixes: &[&'f Fix]) -> Vec<&'f Fix> {
    let mut taken: Vec<&Fix> = Vec::new();
    for fix in fixes {
        let collides = taken.iter().any(|t| {
            t.edits
                .iter()
                .any(|a| fix.edits.iter().any(|b| overlaps(a.span, b.span)))
                || t.changes.iter().any(|a| {
                    fix.changes.iter().any(|b| {
                        // Two removals from one mapping could empty it, which each
                        // removal alone did not plan for: one per pass.
                        a.map == b.map
                            && (a.key == b.key || (a.value.is_none() && b.value.is_none()))
                    })
                })
        });
        if !collides {
            taken.push(fix);
        }
    }
    taken
}

fn overlaps(a: Span, b: Span) -> bool {
    let inside = |point: usize, range: Span| range.start < point && point < range.end;
    match (a.is_empty(), b.is_empty()) {
        (true, true) => false,
        (true, false) => inside(a.start, b),
        (false, true) => inside(b.start, a),
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// The text with every edit applied, or `None` if two edits overlap or an edit does not
/// fall on character boundaries (a bug in a rule's fix; never a panic).
fn apply(text: &str, fixes: &[&Fix]) -> Option<String> {
    let mut edits: Vec<&Edit> = fixes.iter().flat_map(|f| &f.edits).collect();
    // Stable: insertions at one offset keep the order of their fixes.
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 64 * edits.len());
    let mut at = 0;
    for edit in edits {
        out.push_str(text.get(at..edit.span.start)?);
        out.push_str(&edit.replacement);
        at = edit.span.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// The fixed text must parse, and to the original tree with exactly the declared changes:
/// same keys in the same order, same scalars with the same style and tags, everywhere
/// except the changed keys.
fn verify(
    before: &Document,
    path: &Path,
    fixed: &str,
    fixes: &[&Fix],
    limits: &load::Limits,
) -> Result<(), FileError> {
    let refuse = |why: String| {
        FileError::new(format!(
            "a fix was refused and the file left untouched: {why}"
        ))
        .with_help("this is a bug in ddb-guard: please report it with the template")
    };
    let mut changes: HashMap<Span, Vec<&Change>> = HashMap::new();
    // Only a Serverless service's extensions write a resource's entries elsewhere; the
    // search is a scan of the tree, not paid for any other file.
    let extended = crate::model::Layout::detect(path) == crate::model::Layout::Serverless;
    for change in fixes.iter().flat_map(|f| &f.changes) {
        changes.entry(change.map).or_default().push(change);
        if extended {
            for elsewhere in written_elsewhere(before, change) {
                changes.entry(elsewhere).or_default().push(change);
            }
        }
    }
    // Only the libyaml fallback could read the original, and the fix replaced what
    // saphyr rejected, so the fixed text reads with saphyr: where the two parsers read
    // other parts differently (`{?a}` is the key `?a` to saphyr, `a` to libyaml), the
    // file would change meaning outside the fix, or the loader refuses it for that
    // difference. Refused, and not a bug of the fix when the fallback reads the fixed
    // text exactly as intended. Found by the fix_roundtrip fuzz target.
    let switches_parser = || {
        before.lenient
            && load::load_lenient_yaml(fixed, limits)
                .is_ok_and(|lenient| compare_trees(before, &lenient, &changes).is_ok())
    };
    let switch_refusal = || {
        FileError::new(
            "a fix was refused and the file left untouched: only the lenient YAML parser reads this file, the fixed text would be read by the strict one, and the two read it differently",
        )
        .with_help("fix the part of the file that strict YAML 1.2 rejects (often a flow collection's continuation line indented less than its key), then run `ddb-guard check --fix` again")
    };
    // Read through the same per-file path as the original (a Serverless file's aliases
    // and extensions, policies written as JSON strings), so like is compared with like.
    let after = match TemplateFile::from_text(path, fixed, limits) {
        Ok(after) => after,
        Err(_) if switches_parser() => return Err(switch_refusal()),
        Err(e) => {
            return Err(refuse(format!(
                "the fixed text would not parse ({})",
                e.message
            )))
        }
    };
    let after = after.document();
    let mismatch = match compare_trees(before, after, &changes) {
        Ok(()) => return Ok(()),
        Err(mismatch) => mismatch,
    };
    if !after.lenient && switches_parser() {
        return Err(switch_refusal());
    }
    Err(match mismatch {
        Mismatch::Documents => {
            refuse("the fixed text would have another number of YAML documents".into())
        }
        Mismatch::Differs(span) => FileError {
            span: Some(span),
            label: Some("the fix would change this".to_string()),
            ..refuse("the fixed text would change more than the intended keys".to_string())
        },
        Mismatch::Missing { missing, expected } => refuse(format!(
            "{missing} of {expected} intended changes were not found in the fixed text"
        )),
    })
}

/// The other mappings a change shows in: the entry a change replaces may be written
/// outside the mapping it belongs to (a Serverless `resources.extensions` attribute, see
/// `model::serverless`), and the mapping it is written in changes as well.
fn written_elsewhere(doc: &Document, change: &Change) -> Vec<Span> {
    let owners = doc
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.span == change.map);
    let entries: Vec<load::Entry> = owners
        .filter_map(|(id, _)| doc.get(id as NodeId, &change.key))
        .filter(|e| {
            let key = doc.span(e.key);
            key.start < change.map.start || change.map.end < key.end
        })
        .collect();
    if entries.is_empty() {
        return Vec::new();
    }
    doc.nodes
        .iter()
        .filter(|n| n.span != change.map)
        .filter(|n| {
            matches!(&n.kind, NodeKind::Map(m) if doc.entries(*m).iter().any(|e| entries.contains(e)))
        })
        .map(|n| n.span)
        .collect()
}

/// How a fixed tree differs from the original plus the declared changes.
enum Mismatch {
    Documents,
    Differs(Span),
    Missing { missing: usize, expected: usize },
}

fn compare_trees(
    before: &Document,
    after: &Document,
    changes: &HashMap<Span, Vec<&Change>>,
) -> Result<(), Mismatch> {
    if after.more_documents.len() != before.more_documents.len() {
        return Err(Mismatch::Documents);
    }
    let mut compare = Compare {
        a: before,
        b: after,
        changes,
        applied: 0,
    };
    match (before.root, after.root) {
        (Some(x), Some(y)) => compare.same(x, y),
        (None, None) => Ok(()),
        _ => Err(before.root.map(|r| before.span(r)).unwrap_or_default()),
    }
    .map_err(Mismatch::Differs)?;
    let expected = changes.values().map(Vec::len).sum::<usize>();
    if compare.applied != expected {
        return Err(Mismatch::Missing {
            missing: expected - compare.applied,
            expected,
        });
    }
    Ok(())
}

/// Structural equality of two trees modulo declared changes; the error is the span (in
/// the original) where they first differ.
struct Compare<'a, 's, 't> {
    a: &'a Document<'s>,
    b: &'a Document<'t>,
    changes: &'a HashMap<Span, Vec<&'a Change>>,
    applied: usize,
}

impl Compare<'_, '_, '_> {
    fn same(&mut self, x: NodeId, y: NodeId) -> Result<(), Span> {
        let (nx, ny) = (self.a.node(x), self.b.node(y));
        let here = nx.span;
        if nx.tag != ny.tag {
            return Err(here);
        }
        match (&nx.kind, &ny.kind) {
            (NodeKind::Scalar(s), NodeKind::Scalar(t)) => {
                if s.text == t.text && s.style == t.style {
                    Ok(())
                } else {
                    Err(here)
                }
            }
            (NodeKind::Seq(p), NodeKind::Seq(q)) => {
                let (p, q) = (self.a.items(*p), self.b.items(*q));
                if p.len() != q.len() {
                    return Err(here);
                }
                p.iter().zip(q).try_for_each(|(i, j)| self.same(*i, *j))
            }
            (NodeKind::Map(p), NodeKind::Map(q)) => {
                let all = self.changes;
                let changes = all.get(&here).map(Vec::as_slice).unwrap_or(&[]);
                for change in changes {
                    let found = self.b.get_value(y, &change.key);
                    let ok = match (&change.value, found) {
                        (None, None) => true,
                        (Some(value), Some(node)) => matches(self.b, node, value),
                        _ => false,
                    };
                    if !ok {
                        return Err(here);
                    }
                    self.applied += 1;
                }
                let untouched = |doc: &Document, entries: &[load::Entry]| -> Vec<load::Entry> {
                    entries
                        .iter()
                        .filter(|e| !changes.iter().any(|c| c.key == doc.key(e)))
                        .copied()
                        .collect()
                };
                let (p, q) = (
                    untouched(self.a, self.a.entries(*p)),
                    untouched(self.b, self.b.entries(*q)),
                );
                if p.len() != q.len() {
                    return Err(here);
                }
                for (e, f) in p.iter().zip(&q) {
                    self.same(e.key, f.key)?;
                    self.same(e.value, f.value)?;
                }
                Ok(())
            }
            _ => Err(here),
        }
    }
}

/// Does `node` hold `value`, whatever quoting it was written with?
fn matches(doc: &Document, node: NodeId, value: &FixValue) -> bool {
    let n = doc.node(node);
    match (value, &n.kind) {
        (_, _) if n.tag.is_some() => false,
        (FixValue::Str(s), NodeKind::Scalar(t)) => t.style != ScalarStyle::Block && t.text == *s,
        (FixValue::Bool(v), NodeKind::Scalar(t)) => {
            t.style == ScalarStyle::Plain && t.text == v.to_string()
        }
        (FixValue::Map(entries), NodeKind::Map(found)) => {
            let found = doc.entries(*found);
            entries.len() == found.len()
                && entries
                    .iter()
                    .zip(found)
                    .all(|((k, v), e)| doc.key(e) == k && matches(doc, e.value, v))
        }
        _ => false,
    }
}

/// Replace `path` by `fixed`, if it still holds `expected`, atomically and with its
/// permissions ([`atomic_write`](crate::atomic_write)). A symbolic link is followed, so
/// the link keeps pointing at the (fixed) target.
pub fn write(path: &Path, expected: &[u8], fixed: &[u8]) -> Result<(), FileError> {
    let io = |what: &str, e: std::io::Error| {
        FileError::new(format!(
            "{what}: {}; the file was not changed",
            io_reason(&e)
        ))
    };
    let target = std::fs::canonicalize(path).map_err(|e| io("cannot resolve the path", e))?;
    let current = std::fs::read(&target).map_err(|e| io("cannot read the file again", e))?;
    if current != expected {
        return Err(changed_since_checked());
    }
    crate::atomic_write::write(&target, fixed).map_err(|e| io(e.step, e.source))
}

/// The unified diff of one file's fix, headed by its path, as ruff prints it.
pub fn unified_diff(display: &str, original: &str, fixed: &str) -> String {
    similar::TextDiff::from_lines(original, fixed)
        .unified_diff()
        .context_radius(3)
        .header(display, display)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Format;

    /// Fix with the retention rules only (DDB003/DDB004 have unsafe fixes of their own,
    /// tested in tests/it/guardrails.rs).
    fn fix(text: &str, name: &str, unsafe_fixes: bool) -> Result<Fixed, FileError> {
        fix_with(&["DDB001", "DDB002"], text, name, unsafe_fixes)
    }

    fn fix_with(
        rules: &[&str],
        text: &str,
        name: &str,
        unsafe_fixes: bool,
    ) -> Result<Fixed, FileError> {
        let settings = Settings {
            rules: rules.iter().filter_map(|c| crate::rules::find(c)).collect(),
            ..Settings::default()
        };
        fix_text(
            Path::new(name),
            text,
            &settings,
            &FixMode {
                unsafe_fixes,
                ..FixMode::default()
            },
        )
    }

    #[test]
    fn missing_policies_are_inserted_in_rule_order_after_type() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n";
        let fixed = fix(text, "t.yaml", false).unwrap();
        assert_eq!(fixed.applied, 2);
        assert_eq!(
            fixed.text,
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties: {}\n"
        );
    }

    #[test]
    fn fixable_and_unfixable_choose_fixes_by_rule() {
        let fix = Fix {
            applicability: Applicability::Safe,
            description: String::new(),
            edits: Vec::new(),
            changes: Vec::new(),
        };
        let only = |fixable: Option<Vec<&'static str>>, unfixable: Vec<&'static str>| FixMode {
            unsafe_fixes: false,
            fixable,
            unfixable,
        };
        assert!(only(None, vec![]).allows("DDB001", &fix));
        assert!(!only(Some(vec!["DDB002"]), vec![]).allows("DDB001", &fix));
        assert!(only(Some(vec!["DDB001"]), vec![]).allows("DDB001", &fix));
        assert!(!only(Some(vec!["DDB001"]), vec!["DDB001"]).allows("DDB001", &fix));
        let unsafe_fix = Fix {
            applicability: Applicability::Unsafe,
            ..fix.clone()
        };
        assert!(!only(Some(vec!["DDB003"]), vec![]).allows("DDB003", &unsafe_fix));
    }

    #[test]
    fn conditional_policy_is_replaced_only_with_unsafe_fixes() {
        let text = "Conditions:\n  C: !Equals [a, b]\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [C, Retain, Delete]\n    UpdateReplacePolicy: Retain\n";
        let safe = fix(text, "t.yaml", false).unwrap();
        assert_eq!((safe.applied, safe.text.as_str()), (0, text));
        let forced = fix(text, "t.yaml", true).unwrap();
        assert_eq!(forced.applied, 1);
        assert!(forced.text.contains("    DeletionPolicy: Retain\n"));
    }

    #[test]
    fn a_fix_that_would_switch_a_lenient_only_file_to_the_strict_parser_is_refused_not_a_bug() {
        // Found by the fix_roundtrip fuzz target: only libyaml reads the original (the
        // under-indented `x]`), the fix replaces that value, and saphyr reads the result,
        // where `{?ee}` is the key `?ee` instead of libyaml's `ee`.
        let text = "P:\n {?ee}\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: [Po,\n x]\n    UpdateReplacePolicy: Retain\n";
        assert!(
            load::load(text, Format::Yaml, &load::Limits::default())
                .unwrap()
                .lenient
        );
        let error = fix(text, "t.yaml", true).unwrap_err();
        assert!(error
            .message
            .contains("only the lenient YAML parser reads this file"));
        assert!(!error.help.unwrap_or_default().contains("bug"));
    }

    #[test]
    fn a_policy_whose_value_is_a_block_mapping_ending_in_a_null_is_replaced_whole() {
        // Found by the fix_roundtrip fuzz target: the replacement stopped before `ies`'s
        // colon, and the fixed text did not parse.
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: !Sub\n      ies:\n";
        let fixed = fix(text, "t.yaml", true).unwrap();
        assert_eq!(fixed.applied, 1);
        assert_eq!(
            fixed.text,
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"
        );
    }

    #[test]
    fn a_lenient_only_file_that_stays_lenient_is_fixed() {
        let text = "P: {?ee}\nL: [a,\nb]\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n";
        assert!(
            load::load(text, Format::Yaml, &load::Limits::default())
                .unwrap()
                .lenient
        );
        let fixed = fix(text, "t.yaml", false).unwrap();
        assert_eq!(fixed.applied, 1);
        assert_eq!(fixed.text, text.replace("Delete", "Retain"));
    }

    #[test]
    fn a_lenient_only_file_with_a_bare_tag_in_flow_is_fixed_not_refused_as_a_bug() {
        // Only libyaml reads this file (the quoted continuation at its key's indentation),
        // and libyaml cannot read a tag right before a comma: the insertion after `!Ref`
        // keeps a blank before its comma.
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties: {TableName: !Ref }\n    Metadata: 'a\n    b'\n";
        assert!(
            load::load(text, Format::Yaml, &load::Limits::default())
                .unwrap()
                .lenient
        );
        let fixed = fix_with(&["DDB003", "DDB004"], text, "t.yaml", true).unwrap();
        assert_eq!(fixed.applied, 2);
        assert!(fixed
            .text
            .contains("{TableName: !Ref , DeletionProtectionEnabled: true"));
    }

    #[test]
    fn insertions_at_one_offset_do_not_collide_but_overlaps_do() {
        assert!(!overlaps(Span::new(4, 4), Span::new(4, 4)));
        assert!(!overlaps(Span::new(4, 4), Span::new(4, 9)));
        assert!(overlaps(Span::new(5, 5), Span::new(4, 9)));
        assert!(overlaps(Span::new(4, 6), Span::new(5, 9)));
        assert!(!overlaps(Span::new(4, 5), Span::new(5, 9)));
    }

    #[test]
    fn a_fix_that_changes_more_than_it_declares_is_refused() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
        let doc = load::load(text, Format::Yaml, &load::Limits::default()).unwrap();
        let bad = Fix {
            applicability: Applicability::Safe,
            description: "sneaky".into(),
            edits: vec![Edit::replace(Span::new(2, 3), "U")],
            changes: Vec::new(),
        };
        let next = apply(text, &[&bad]).unwrap();
        let err = verify(
            &doc,
            Path::new("t.yaml"),
            &next,
            &[&bad],
            &load::Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.message.contains("more than the intended keys"),
            "{err:?}"
        );
    }

    #[test]
    fn a_fix_that_does_not_do_what_it_declares_is_refused() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
        let doc = load::load(text, Format::Yaml, &load::Limits::default()).unwrap();
        let t = doc.get_value(doc.root.unwrap(), "Resources").unwrap();
        let t = doc.get_value(t, "T").unwrap();
        let lazy = Fix {
            applicability: Applicability::Safe,
            description: "lazy".into(),
            edits: Vec::new(),
            changes: vec![Change {
                map: doc.span(t),
                key: "DeletionPolicy".into(),
                value: Some(FixValue::Str("Retain".into())),
            }],
        };
        let err = verify(
            &doc,
            Path::new("t.yaml"),
            text,
            &[&lazy],
            &load::Limits::default(),
        )
        .unwrap_err();
        assert!(err.message.contains("refused"), "{err:?}");
    }

    #[test]
    fn write_refuses_a_file_that_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, "changed by someone else\n").unwrap();
        let err = write(&path, b"what was checked\n", b"fixed\n").unwrap_err();
        assert!(err.message.contains("changed on disk"), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "changed by someone else\n"
        );
    }

    /// The report keeps no text, so fixes are planned from the file read again; the same
    /// length with other bytes is a change too.
    #[test]
    fn plan_refuses_a_file_that_changed_after_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        let checked = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
        std::fs::write(&path, checked).unwrap();
        let candidates = vec![Candidate {
            display: "t.yaml".to_string(),
            path: path.clone(),
        }];
        let checker = crate::check::Checker::new(Settings::default());
        let file = checker.check_bytes("t.yaml", &path, checked.as_bytes());
        assert!(file.findings.iter().any(|f| f.fix.is_some()), "{file:?}");
        let report = Report {
            files: vec![file],
            summary: Default::default(),
            elapsed: Default::default(),
            stale_baseline: Vec::new(),
            unlisted: Default::default(),
        };
        let mode = FixMode::default();
        let unchanged = plan(&report, &candidates, &checker, &mode);
        assert_eq!(unchanged.len(), 1);
        assert_eq!(&*unchanged[0].original, checked);
        assert!(unchanged[0].result.as_ref().is_ok_and(|f| f.applied > 0));

        let same_length = checked.replace("T:", "U:");
        std::fs::write(&path, &same_length).unwrap();
        let plans = plan(&report, &candidates, &checker, &mode);
        assert_eq!(plans.len(), 1);
        let err = plans[0].result.as_ref().unwrap_err();
        assert!(
            err.message
                .contains("the file changed on disk after it was checked"),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), same_length);
    }

    #[test]
    fn write_replaces_the_file_when_it_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, "old\n").unwrap();
        write(&path, b"old\n", b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[test]
    fn edits_that_overlap_or_split_a_character_are_refused_not_a_panic() {
        let text = "é: x\n";
        let split = Fix {
            applicability: Applicability::Safe,
            description: "split".into(),
            edits: vec![Edit::insert(1, "y")],
            changes: Vec::new(),
        };
        assert_eq!(apply(text, &[&split]), None);
        let overlapping = Fix {
            edits: vec![
                Edit::replace(Span::new(0, 4), "a"),
                Edit::replace(Span::new(2, 5), "b"),
            ],
            ..split
        };
        assert_eq!(apply(text, &[&overlapping]), None);
    }
}
