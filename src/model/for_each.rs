//! The logical IDs a resource inside `Fn::ForEach` produces: one copy per item of each
//! enclosing loop's collection, its fragment key with `${Name}` (and `&{Name}`) replaced.
//! The pull-request guard compares these sets, not fragment keys, so a table moved into
//! or out of a loop under the same logical ID is the same table, and an item dropped
//! from a collection (or a collection that became a parameter) is a removed table.

use super::same::{substitute, Bound};
use super::{LoopBinding, Resource, Template};
use crate::load::NodeId;

/// More copies than this are not listed.
pub const MAX_COPIES: usize = 4096;

/// One copy of a resource: its logical ID and the item each loop variable is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy<'d> {
    pub id: String,
    pub bound: Vec<Bound<'d>>,
}

/// The copies a resource produces, or why they cannot be listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Copies<'d> {
    Known(Vec<Copy<'d>>),
    Unknown {
        why: String,
        /// The parameter the collection is, when it is `!Ref Parameter`.
        parameter: Option<&'d str>,
        /// The collection node that cannot be listed.
        collection: NodeId,
    },
}

/// What one loop's collection is.
enum Collection<'d> {
    Items(Vec<&'d str>),
    Unknown(String, Option<&'d str>),
}

fn collection<'d>(template: &Template<'d, '_>, binding: &LoopBinding<'d>) -> Collection<'d> {
    let doc = template.doc;
    if let Some(items) = doc.list(binding.collection) {
        let texts: Option<Vec<&'d str>> = items.iter().map(|i| doc.str(*i)).collect();
        return match texts {
            Some(t) => Collection::Items(t),
            None => Collection::Unknown(
                format!(
                    "the `Fn::ForEach` collection of `{}` has an item that is not a literal string",
                    binding.identifier
                ),
                None,
            ),
        };
    }
    match doc.call(binding.collection) {
        Some(call) if call.name == "Ref" => {
            let name: Option<&'d str> = doc.scalar(call.arg).map(|s| s.text.as_ref());
            match name.filter(|n| template.parameter(n).is_some()) {
                Some(p) => Collection::Unknown(
                    format!(
                        "the `Fn::ForEach` collection of `{}` is parameter `{p}`, whose list is chosen at deploy time",
                        binding.identifier
                    ),
                    Some(p),
                ),
                None => Collection::Unknown(
                    format!(
                        "the `Fn::ForEach` collection of `{}` is a `Ref` that is not a parameter",
                        binding.identifier
                    ),
                    None,
                ),
            }
        }
        Some(call) => Collection::Unknown(
            format!(
                "the `Fn::ForEach` collection of `{}` is `{}`, not a literal list",
                binding.identifier, call.name
            ),
            None,
        ),
        None => Collection::Unknown(
            format!(
                "the `Fn::ForEach` collection of `{}` is not a list",
                binding.identifier
            ),
            None,
        ),
    }
}

/// Every copy `resource` produces (one, its own logical ID, outside any loop).
/// Whether some resource of `template` produces a copy with logical ID `id` (a resource
/// whose copies cannot be listed produces none that is known). The IDs are listed once per
/// template: asking each resource for its copies per question made the pull-request guard
/// quadratic in the copies of a loop.
pub fn produces(template: &Template, id: &str) -> bool {
    template
        .copy_ids
        .get_or_init(|| {
            template
                .resources
                .iter()
                .flat_map(|r| match copies(template, r) {
                    Copies::Known(cs) => cs.into_iter().map(|c| c.id).collect(),
                    Copies::Unknown { .. } => Vec::new(),
                })
                .collect()
        })
        .contains(id)
}

pub fn copies<'d>(template: &Template<'d, '_>, resource: &Resource<'d>) -> Copies<'d> {
    let mut copies = vec![Copy {
        id: resource.logical_id.to_string(),
        bound: Vec::new(),
    }];
    for binding in &resource.loops {
        let items = match collection(template, binding) {
            Collection::Items(items) => items,
            Collection::Unknown(why, parameter) => {
                return Copies::Unknown {
                    why,
                    parameter,
                    collection: binding.collection,
                }
            }
        };
        let mut next = Vec::new();
        for copy in &copies {
            for item in &items {
                let mut bound = copy.bound.clone();
                bound.push((binding.identifier, *item));
                next.push(Copy {
                    id: String::new(),
                    bound,
                });
            }
        }
        if next.len() > MAX_COPIES {
            return Copies::Unknown {
                why: format!("the `Fn::ForEach` loops produce more than {MAX_COPIES} copies"),
                parameter: None,
                collection: binding.collection,
            };
        }
        copies = next;
    }
    for copy in &mut copies {
        // Inner loops bind last; substitute innermost first so a shadowed name reads the
        // inner item.
        let mut order = copy.bound.clone();
        order.reverse();
        copy.id = substitute(resource.logical_id, &order);
    }
    dedup_first(copies)
}

fn dedup_first(copies: Vec<Copy>) -> Copies {
    let mut seen = std::collections::HashSet::new();
    Copies::Known(
        copies
            .into_iter()
            .filter(|c| seen.insert(c.id.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, Format, Limits};

    fn ids(text: &str) -> Result<Vec<String>, String> {
        let doc = load(text, Format::Yaml, &Limits::default()).unwrap();
        let t = Template::from_document(&doc).unwrap().unwrap();
        let r = t.tables().next().unwrap();
        match copies(&t, r) {
            Copies::Known(c) => Ok(c.into_iter().map(|c| c.id).collect()),
            Copies::Unknown { why, .. } => Err(why),
        }
    }

    const LOOP: &str = "Parameters:\n  Tenants: {Type: CommaDelimitedList, Default: 'a,b'}\nResources:\n  Fn::ForEach::T:\n    - Tenant\n    - COLLECTION\n    - ${Tenant}Table:\n        Type: AWS::DynamoDB::Table\n";

    #[test]
    fn a_literal_collection_lists_its_copies() {
        assert_eq!(
            ids(&LOOP.replace("COLLECTION", "[acme, globex]")),
            Ok(vec!["acmeTable".to_string(), "globexTable".to_string()])
        );
        let amp = LOOP
            .replace("COLLECTION", "[my-co]")
            .replace("${Tenant}Table", "'&{Tenant}Table'");
        assert_eq!(ids(&amp), Ok(vec!["mycoTable".to_string()]));
    }

    #[test]
    fn a_tagged_or_parameter_collection_cannot_be_listed() {
        let split = ids(&LOOP.replace("COLLECTION", "!Split [',', 'a,b']")).unwrap_err();
        assert!(split.contains("Fn::Split"), "{split}");
        let param = ids(&LOOP.replace("COLLECTION", "!Ref Tenants")).unwrap_err();
        assert!(param.contains("parameter `Tenants`"), "{param}");
    }
}
