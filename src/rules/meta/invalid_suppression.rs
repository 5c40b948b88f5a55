//! DDB900 invalid-suppression
//!
//! ## What it checks
//! Every suppression in a resource's `Metadata.ddb-guard.ignore` list must name a rule and
//! give a `reason`, and must have no other keys. `ignore` itself must be a list. A reason is
//! text with at least one visible letter or digit: a `reason` that is null, empty, blank,
//! only invisible characters (zero-width spaces, a BOM, bidirectional marks), a boolean or
//! a number (`false`, `0`, quoted or not) is no reason.
//!
//! Types are read as the template's loader reads them, not from the text: an unquoted YAML
//! `1`, `true`, `~`, `0x1F`, `0o17`, `1_000`, `1:20`, `.inf` or `yes`, and a bare JSON
//! number, `true`, `false` or `null`, is a number, a boolean or null. Such a `rule` names
//! no rule and the entry is invalid here (a quoted `"1"` is a string: it is checked as a
//! rule name, and DDB901 reports that no rule has it). An intrinsic function (`!Ref`,
//! `!Sub`, `Fn::If`...), a list or a mapping is never a `rule` or a `reason`: a suppression
//! is read before deployment and must be literal.
//!
//! ## Why it matters
//! A suppression switches the guard off for one table or policy. Without a reason, nobody
//! reviewing the template can tell whether losing the table's data on deletion was
//! intended, and nobody can tell later whether the reason still holds. An invalid
//! suppression (no reason, or a malformed entry: an unknown key, a `rule` that is not a
//! string) silences nothing: the finding it names is still reported, beside this error.
//!
//! ## Example
//! ```yaml
//! ScratchTable:
//!   Type: AWS::DynamoDB::Table
//!   Metadata:
//!     ddb-guard:
//!       ignore:
//!         - rule: DDB001
//! ```
//!
//! ## Use instead
//! ```yaml
//! ScratchTable:
//!   Type: AWS::DynamoDB::Table
//!   Metadata:
//!     ddb-guard:
//!       ignore:
//!         - rule: DDB001
//!           reason: "CI scratch data, rebuilt from S3 on every deploy"
//! ```
//!
//! ## Fix safety
//! No automatic fix: only a person can say why the guard may be switched off.

use super::directive::directives;
use crate::finding::{Finding, Severity};
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB900",
    name: "invalid-suppression",
    severity: Severity::Error,
    summary: "A suppression must name a rule and give a reason",
    needles: &[&[super::directive::METADATA_KEY]],
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("invalid_suppression.rs"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    let (list, problem) = directives(view.doc(), view.resource.node);
    let mut findings = Vec::new();
    if let Some((span, message)) = problem {
        findings.push(view.finding(&RULE, span, message, "not a list".into()));
    }
    for directive in list {
        if let Some((span, message)) = directive.problem {
            let mut finding = view.finding(&RULE, span, message, "invalid suppression".into());
            finding.help = Some("write `- {rule: DDB001, reason: \"why this is safe\"}`".into());
            findings.push(finding);
        } else if directive.reason.is_none() {
            let rule = directive.rule.as_deref().unwrap_or_default();
            let (span, message, label) = match &directive.reason_problem {
                Some((span, problem)) => (
                    *span,
                    format!(
                        "suppression of `{rule}` on `{}` gives no reason ({problem}): it silences nothing",
                        view.resource.logical_id
                    ),
                    "not a reason".to_string(),
                ),
                None => (
                    directive.span,
                    format!(
                        "suppression of `{rule}` on `{}` gives no reason: it silences nothing",
                        view.resource.logical_id
                    ),
                    "no `reason`".to_string(),
                ),
            };
            let mut finding = view.finding(&RULE, span, message, label);
            finding.help = Some(format!(
                "say why the guard may be off here: `{{rule: {rule}, reason: \"...\"}}`"
            ));
            findings.push(finding);
        }
    }
    findings
}
