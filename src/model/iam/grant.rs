//! The grant question: can a document allow a guarded action on an ARN of a guarded
//! shape, with no `Deny` in the same document that certainly takes it back?

use super::statement::{
    Actions, Effect, PolicyDocument, PolicyKind, ResourceItem, Resources, Statement,
};
use super::wildcard::{
    action_matches, display_glob, glob_can_match_shape, glob_covers, shape_glob, Glob,
};
use super::Guarded;
use crate::model::eval::Assumption;
use crate::model::expand::combine;
use crate::source::Span;

/// Why a statement's action list grants the guarded action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// An `Action` pattern matches it; the pattern text.
    Pattern(String),
    /// An `Action` value that cannot be resolved; why.
    Unresolved(String),
    /// `NotAction` does not list it.
    NotAction,
}

/// An `Allow` that grants a guarded action on a resource that can be a guarded ARN.
#[derive(Clone, Debug)]
pub struct Grant {
    pub action: &'static str,
    pub via: Via,
    /// The action value (or the `NotAction` key) that grants it.
    pub action_span: Span,
    /// The resource value (or `NotResource` key) that can be a guarded ARN.
    pub resource_span: Span,
    /// Its glob, as people read it; `None` for `NotResource`.
    pub resource: Option<String>,
    /// The parameter whose value decides (part of) that resource.
    pub chosen_by: Option<String>,
    pub when: Vec<Assumption>,
}

/// Every grant of `guarded` in one document's statements, except those a `Deny` of the
/// same document takes back. `Allow`s of a service control policy never grant.
pub fn grants(
    document: &PolicyDocument,
    statements: &[Statement],
    guarded: &Guarded,
) -> Vec<Grant> {
    if document.kind == PolicyKind::ServiceControl {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in statements {
        // A `Deny` grants nothing, nor does an invalid effect (IAM refuses the policy).
        if matches!(s.effect, Effect::Deny | Effect::Invalid { .. }) {
            continue;
        }
        let Some((resource_span, resource, chosen_by, allowed)) = reachable(&s.resources, guarded)
        else {
            continue;
        };
        for (via, action_span, item_when) in granting(&s.actions, guarded.action) {
            let Some(when) = combine(&s.when, &item_when) else {
                continue;
            };
            if statements
                .iter()
                .any(|d| denies(d, guarded, &allowed, &when))
            {
                continue;
            }
            out.push(Grant {
                action: guarded.action,
                via,
                action_span,
                resource_span,
                resource: resource.clone(),
                chosen_by: chosen_by.clone(),
                when,
            });
        }
    }
    out
}

/// The first resource value that can be a guarded ARN (its span, glob and the parameter
/// that chooses it), and every glob that can (which a `Deny` must cover).
type Reachable = (Span, Option<String>, Option<String>, Vec<Glob>);

fn reachable(resources: &Resources, guarded: &Guarded) -> Option<Reachable> {
    match resources {
        Resources::Resource(items) => {
            let hits: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| {
                    guarded
                        .shapes
                        .iter()
                        .any(|s| glob_can_match_shape(&r.glob, s))
                })
                .collect();
            let first = hits.first()?;
            Some((
                first.span,
                Some(display_glob(&first.glob)),
                first.chosen_by.clone(),
                hits.iter().map(|r| r.glob.clone()).collect(),
            ))
        }
        Resources::NotResource { key, items } => {
            let excluded = |shape: &&str| {
                items.iter().any(|r| {
                    r.exact && r.when.is_empty() && glob_covers(&r.glob, &shape_glob(shape))
                })
            };
            if guarded.shapes.iter().all(excluded) {
                return None;
            }
            let allowed = guarded.shapes.iter().map(|s| shape_glob(s)).collect();
            Some((*key, None, None, allowed))
        }
        Resources::Missing => None,
    }
}

fn granting(actions: &Actions, action: &str) -> Vec<(Via, Span, Vec<Assumption>)> {
    match actions {
        Actions::Action(items) => items
            .iter()
            .filter_map(|i| match &i.pattern {
                Ok(p) if action_matches(p, action) => {
                    Some((Via::Pattern(p.clone()), i.span, i.when.clone()))
                }
                Ok(_) => None,
                // Only when the known parts of the value let it match.
                Err(why) if action_matches(&i.can_match, action) => {
                    Some((Via::Unresolved(why.clone()), i.span, i.when.clone()))
                }
                Err(_) => None,
            })
            .collect(),
        Actions::NotAction { key, items } => {
            let listed = items.iter().any(|i| {
                i.when.is_empty() && i.pattern.as_ref().is_ok_and(|p| action_matches(p, action))
            });
            if listed {
                Vec::new()
            } else {
                vec![(Via::NotAction, *key, Vec::new())]
            }
        }
        Actions::Missing => Vec::new(),
    }
}

/// Does `deny` take back `action` on every glob in `allowed` whenever `when` holds?
fn denies(deny: &Statement, guarded: &Guarded, allowed: &[Glob], when: &[Assumption]) -> bool {
    if deny.effect != Effect::Deny || deny.has_condition {
        return false;
    }
    let applies = |w: &[Assumption]| w.iter().all(|a| when.contains(a));
    if !applies(&deny.when) {
        return false;
    }
    let action_denied = match &deny.actions {
        Actions::Action(items) => items.iter().any(|i| {
            applies(&i.when)
                && i.pattern
                    .as_ref()
                    .is_ok_and(|p| action_matches(p, guarded.action))
        }),
        Actions::NotAction { items, .. } => items.iter().all(|i| {
            i.pattern
                .as_ref()
                .is_ok_and(|p| !action_matches(p, guarded.action))
        }),
        Actions::Missing => false,
    };
    if !action_denied {
        return false;
    }
    match &deny.resources {
        Resources::Resource(items) => {
            let usable: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| r.exact && applies(&r.when))
                .collect();
            let covers_shapes = guarded
                .shapes
                .iter()
                .all(|s| usable.iter().any(|r| glob_covers(&r.glob, &shape_glob(s))));
            covers_shapes
                || allowed
                    .iter()
                    .all(|a| usable.iter().any(|r| glob_covers(&r.glob, a)))
        }
        Resources::NotResource { items, .. } => items.iter().all(|r| {
            r.exact
                && guarded
                    .shapes
                    .iter()
                    .all(|s| !glob_can_match_shape(&r.glob, s))
        }),
        Resources::Missing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};
    use crate::model::iam::{documents, statements, RECOVERY_POINT_ARN, TABLE_ARN};
    use crate::model::Template;

    const DELETE_TABLE: Guarded = Guarded {
        action: "dynamodb:DeleteTable",
        shapes: &[TABLE_ARN],
    };
    const DELETE_RECOVERY_POINT: Guarded = Guarded {
        action: "backup:DeleteRecoveryPoint",
        shapes: &[RECOVERY_POINT_ARN],
    };

    /// The grants of `guarded` by a policy whose one statement is `statement`.
    fn grants_of(statement: &str, guarded: &Guarded) -> Vec<Grant> {
        let text = format!("Parameters:\n  A: {{Type: String}}\n  R: {{Type: String}}\nResources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: p\n      PolicyDocument:\n        Statement:\n          - {statement}\n");
        let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let resource = &template.resources[0];
        let mut out = Vec::new();
        for document in documents(&template, resource) {
            let s = statements(&template, resource, &document);
            out.extend(grants(&document, &s, guarded));
        }
        out
    }

    #[test]
    fn the_known_prefix_of_an_action_decides_what_it_can_match() {
        let elb = "{Effect: Allow, Action: !Sub 'elasticloadbalancing:${A}', Resource: '*'}";
        assert!(grants_of(elb, &DELETE_TABLE).is_empty());
        let dynamo = "{Effect: Allow, Action: !Sub 'dynamodb:${A}', Resource: '*'}";
        let g = grants_of(dynamo, &DELETE_TABLE);
        assert_eq!(g.len(), 1);
        assert!(matches!(&g[0].via, Via::Unresolved(why) if why.contains("`A`")));
        assert!(grants_of(dynamo, &DELETE_RECOVERY_POINT).is_empty());
        let suffix = "{Effect: Allow, Action: !Join ['', [!Ref A, ':DeleteTable']], Resource: '*'}";
        assert_eq!(grants_of(suffix, &DELETE_TABLE).len(), 1);
        let other = "{Effect: Allow, Action: !Join ['', [!Ref A, ':GetItem']], Resource: '*'}";
        assert!(grants_of(other, &DELETE_TABLE).is_empty());
    }

    #[test]
    fn a_resource_from_a_parameter_names_it() {
        let g = grants_of(
            "{Effect: Allow, Action: dynamodb:DeleteTable, Resource: !Ref R}",
            &DELETE_TABLE,
        );
        assert_eq!(g[0].chosen_by.as_deref(), Some("R"));
        assert_eq!(g[0].resource.as_deref(), Some("*"));
    }

    #[test]
    fn an_effect_other_than_allow_or_deny_never_grants() {
        for effect in ["allow", "ALLOW", "Allow ", "Permit"] {
            let s = format!("{{Effect: '{effect}', Action: '*', Resource: '*'}}");
            assert!(grants_of(&s, &DELETE_TABLE).is_empty(), "{effect}");
        }
        // An effect that cannot be known may be `Allow`.
        let s = "{Effect: !Ref A, Action: '*', Resource: '*'}";
        assert_eq!(grants_of(s, &DELETE_TABLE).len(), 1);
    }
}
