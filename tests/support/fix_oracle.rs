//! An oracle for `--fix`, written independently of the fix engine's own verification: the
//! fixed file must parse to the original tree where only the retention policies of table
//! resources differ, each of them now a retaining literal, and a policy under `Properties`
//! may only have left for the resource level. Shared by the property test
//! (tests/it/fix_props.rs) and the corpus script (bench/fix-corpus.sh, through
//! examples/fix-verify.rs).

use std::collections::HashSet;
use std::path::Path;

use ddb_guard::check::Settings;
use ddb_guard::fix_engine::{self, FixMode};
use ddb_guard::load::{self, Document, NodeId, NodeKind};
use ddb_guard::template_file::TemplateFile;

const POLICIES: &[&str] = &["DeletionPolicy", "UpdateReplacePolicy"];

/// What a fixed file looks like next to its original.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Policies set, replaced or moved.
    pub policies_changed: usize,
    /// DDB001/DDB002 findings left that have a safe fix (must be 0).
    pub safe_fixable_left: usize,
    /// DDB001/DDB002 findings left at all (unsafe or unfixable ones may remain).
    pub policy_findings_left: usize,
}

pub fn verify(path: &Path, original: &str, fixed: &str) -> Result<Verdict, String> {
    let limits = load::Limits::default();
    let a_file = TemplateFile::from_text(path, original, &limits)
        .map_err(|e| format!("original does not parse: {}", e.message))?;
    let b_file = TemplateFile::from_text(path, fixed, &limits)
        .map_err(|e| format!("fixed text does not parse: {}", e.message))?;
    let (a, b) = (a_file.document(), b_file.document());
    let tables: HashSet<NodeId> = match a_file.template() {
        Ok(Some(t)) => t.tables().map(|r| r.node).collect(),
        _ => HashSet::new(),
    };
    let mut verdict = Verdict::default();
    match (a.root, b.root) {
        (Some(x), Some(y)) => same(a, x, b, y, &tables, &mut verdict)?,
        (None, None) => {}
        _ => return Err("one of the two documents is empty".into()),
    }
    if original.starts_with('\u{feff}') != fixed.starts_with('\u{feff}') {
        return Err("the BOM was added or removed".into());
    }
    if original.contains("\r\n") && fixed.replace("\r\n", "").contains('\n') {
        return Err("a CRLF file gained a bare LF".into());
    }
    if original.matches('#').count() > fixed.matches('#').count() {
        return Err("a comment was lost".into());
    }
    let settings = Settings::default();
    if let Ok(Some(template)) = b_file.template() {
        for finding in
            ddb_guard::ruleset::check_template(&template, &settings.rules, &settings.options)
        {
            if finding.code == "DDB001" || finding.code == "DDB002" {
                verdict.policy_findings_left += 1;
                if finding
                    .fix
                    .as_ref()
                    .is_some_and(|f| FixMode::default().allows(finding.code, f))
                {
                    verdict.safe_fixable_left += 1;
                }
            }
        }
    }
    let again = fix_engine::fix_text(path, fixed, &settings, &FixMode::default())
        .map_err(|e| format!("second --fix failed: {}", e.message))?;
    if again.applied != 0 || again.text != fixed {
        return Err(format!(
            "second --fix is not a no-op ({} more fixes)",
            again.applied
        ));
    }
    Ok(verdict)
}

fn same(
    a: &Document,
    x: NodeId,
    b: &Document,
    y: NodeId,
    tables: &HashSet<NodeId>,
    verdict: &mut Verdict,
) -> Result<(), String> {
    let (nx, ny) = (a.node(x), b.node(y));
    let at = |what: &str| format!("{what} at byte {} of the original", nx.span.start);
    if nx.tag != ny.tag {
        return Err(at("tag differs"));
    }
    match (&nx.kind, &ny.kind) {
        (NodeKind::Scalar(s), NodeKind::Scalar(t)) if s.text == t.text && s.style == t.style => {
            Ok(())
        }
        (NodeKind::Seq(p), NodeKind::Seq(q)) if p.len() == q.len() => a
            .items(*p)
            .iter()
            .zip(b.items(*q))
            .try_for_each(|(i, j)| same(a, *i, b, *j, tables, verdict)),
        (NodeKind::Map(_), NodeKind::Map(_)) if tables.contains(&x) => {
            table(a, x, b, y, tables, verdict)
        }
        (NodeKind::Map(p), NodeKind::Map(q)) if p.len() == q.len() => {
            for (e, f) in a.entries(*p).iter().zip(b.entries(*q)) {
                if a.key(e) != b.key(f) {
                    return Err(at("keys differ"));
                }
                same(a, e.value, b, f.value, tables, verdict)?;
            }
            Ok(())
        }
        _ => Err(at("node differs")),
    }
}

/// A table resource: other keys unchanged and in order; policies either unchanged or now
/// a retaining literal; `Properties` may only have lost a policy that now sits beside
/// `Type`.
fn table(
    a: &Document,
    x: NodeId,
    b: &Document,
    y: NodeId,
    tables: &HashSet<NodeId>,
    verdict: &mut Verdict,
) -> Result<(), String> {
    let at = |what: String| format!("{what} in the table at byte {}", a.span(x).start);
    let others = |doc: &Document, id: NodeId| -> Vec<ddb_guard::load::Entry> {
        doc.map(id)
            .unwrap_or(&[])
            .iter()
            .filter(|e| !POLICIES.contains(&doc.key(e)))
            .copied()
            .collect()
    };
    let (p, q) = (others(a, x), others(b, y));
    if p.len() != q.len() {
        return Err(at("a key other than a policy was added or removed".into()));
    }
    for (e, f) in p.iter().zip(&q) {
        if a.key(e) != b.key(f) {
            return Err(at(format!("key `{}` moved or renamed", a.key(e))));
        }
        if a.key(e) == "Properties" {
            properties(a, e.value, b, f.value, y, tables, verdict)?;
        } else {
            same(a, e.value, b, f.value, tables, verdict)?;
        }
    }
    for policy in POLICIES {
        let before = a.get_value(x, policy);
        let after = b.get_value(y, policy);
        match (before, after) {
            (None, None) => {}
            (_, None) => return Err(at(format!("`{policy}` was removed"))),
            (before, Some(v)) => {
                let unchanged = before
                    .is_some_and(|u| same(a, u, b, v, tables, &mut Verdict::default()).is_ok());
                if !unchanged {
                    let ok = match b.str(v) {
                        Some("Retain") => true,
                        Some("RetainExceptOnCreate") => *policy == "DeletionPolicy",
                        _ => false,
                    };
                    if !ok {
                        return Err(at(format!("`{policy}` became something other than Retain")));
                    }
                    verdict.policies_changed += 1;
                }
            }
        }
    }
    Ok(())
}

fn properties(
    a: &Document,
    x: NodeId,
    b: &Document,
    y: NodeId,
    resource: NodeId,
    tables: &HashSet<NodeId>,
    verdict: &mut Verdict,
) -> Result<(), String> {
    let (Some(p), Some(q)) = (a.map(x), b.map(y)) else {
        return same(a, x, b, y, tables, verdict);
    };
    let mut q = q.iter().peekable();
    for e in p {
        match q.peek() {
            Some(f) if a.key(e) == b.key(f) => {
                same(a, e.value, b, f.value, tables, verdict)?;
                q.next();
            }
            _ if POLICIES.contains(&a.key(e)) && b.get(resource, a.key(e)).is_some() => {}
            _ => {
                return Err(format!(
                    "`Properties.{}` changed at byte {} of the original",
                    a.key(e),
                    a.span(e.key).start
                ))
            }
        }
    }
    if q.next().is_some() {
        return Err("a key was added to `Properties`".into());
    }
    Ok(())
}
