//! Do two template values mean the same thing? Used by the pull-request guard to compare a
//! property at the base with the same property at the head, possibly across formats.
//!
//! Text and spans do not matter, meaning does: a YAML file converted to JSON (or re-indented,
//! re-quoted, with keys reordered) must compare equal, so `!Ref X` equals `{"Ref": "X"}`,
//! `!GetAtt A.B` equals `{"Fn::GetAtt": ["A", "B"]}`, `5` equals `"5"` (CloudFormation passes
//! both as the same string), and mapping keys compare as a set. Sequences keep their order.

use crate::load::{Document, NodeId, NodeKind};

/// One side of a comparison: a document and a node in it.
#[derive(Clone, Copy)]
pub struct Side<'d, 's> {
    pub doc: &'d Document<'s>,
    pub node: NodeId,
}

impl<'d, 's> Side<'d, 's> {
    pub fn new(doc: &'d Document<'s>, node: NodeId) -> Self {
        Side { doc, node }
    }
}

/// Structural equality that ignores spans, quoting, key order and the short/long form of
/// intrinsic functions. Depth is bounded by the loader's nesting limit.
pub fn same_value(a: Side, b: Side) -> bool {
    eq(a.doc, a.node, false, b.doc, b.node, false, (&[], &[]))
}

/// One `Fn::ForEach` loop variable bound to one item: `${Tenant}` and `&{Tenant}` in the
/// copy's strings and keys stand for it.
pub type Bound<'x> = (&'x str, &'x str);

/// [`same_value`] for one copy of a `Fn::ForEach` fragment on either side: each side's
/// strings are read with its loop variables replaced by their items, so an explicit
/// `AcmeTable` with `TableName: !Sub acme-orders` is the same as the `acme` copy of
/// `${Tenant}Table` with `TableName: !Sub ${Tenant}-orders`.
pub fn same_value_bound(a: Side, a_bound: &[Bound], b: Side, b_bound: &[Bound]) -> bool {
    eq(
        a.doc,
        a.node,
        false,
        b.doc,
        b.node,
        false,
        (a_bound, b_bound),
    )
}

/// `text` with each bound variable's `${Name}` replaced by its item and `&{Name}` by the
/// item without its non-alphanumeric characters, as `Fn::ForEach` does.
pub fn substitute(text: &str, bound: &[Bound]) -> String {
    let mut out = text.to_string();
    for (name, item) in bound {
        let alnum: String = item.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        out = out
            .replace(&format!("${{{name}}}"), item)
            .replace(&format!("&{{{name}}}"), &alnum);
    }
    out
}

type Bounds<'x> = (&'x [Bound<'x>], &'x [Bound<'x>]);

/// `bare` means "compare this node's own content, not as a tagged call": the argument of a
/// short-form call (`!Sub x`) is the tagged node itself.
fn eq(
    ad: &Document,
    a: NodeId,
    a_bare: bool,
    bd: &Document,
    b: NodeId,
    b_bare: bool,
    bounds: Bounds,
) -> bool {
    let ca = if a_bare { None } else { ad.call(a) };
    let cb = if b_bare { None } else { bd.call(b) };
    match (ca, cb) {
        (Some(x), Some(y)) => {
            if x.name != y.name {
                return false;
            }
            let a_arg_bare = x.arg == a && ad.node(a).tag.is_some();
            let b_arg_bare = y.arg == b && bd.node(b).tag.is_some();
            if x.name == "Fn::GetAtt" {
                if let (Some(p), Some(q)) = (get_att(ad, x.arg), get_att(bd, y.arg)) {
                    return p == q;
                }
            }
            eq(ad, x.arg, a_arg_bare, bd, y.arg, b_arg_bare, bounds)
        }
        // `!Ref Tenant` in a copy is its item: the same as that item written out.
        (Some(x), None) => bound_ref(ad, &x, bounds.0)
            .is_some_and(|item| bd.str(b).is_some_and(|t| substitute(t, bounds.1) == item)),
        (None, Some(y)) => bound_ref(bd, &y, bounds.1)
            .is_some_and(|item| ad.str(a).is_some_and(|t| substitute(t, bounds.0) == item)),
        (None, None) => {
            let (na, nb) = (ad.node(a), bd.node(b));
            if !a_bare
                && !b_bare
                && foreign_tag(na.tag.as_deref()) != foreign_tag(nb.tag.as_deref())
            {
                return false;
            }
            match (&na.kind, &nb.kind) {
                (NodeKind::Scalar(x), NodeKind::Scalar(y)) => {
                    (ad.is_null(a) && bd.is_null(b))
                        || x.text == y.text
                        || ((!bounds.0.is_empty() || !bounds.1.is_empty())
                            && substitute(&x.text, bounds.0) == substitute(&y.text, bounds.1))
                }
                (NodeKind::Seq(x), NodeKind::Seq(y)) => {
                    let (x, y) = (ad.items(*x), bd.items(*y));
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|(p, q)| eq(ad, *p, false, bd, *q, false, bounds))
                }
                (NodeKind::Map(x), NodeKind::Map(y)) => {
                    x.len() == y.len()
                        && ad.entries(*x).iter().all(|e| {
                            bd.get(b, ad.key(e))
                                .is_some_and(|f| eq(ad, e.value, false, bd, f.value, false, bounds))
                        })
                }
                _ => false,
            }
        }
    }
}

/// A hash that two values [`same_value`] calls the same always share, to find the values a
/// value can be the same as without comparing it with each (DDB021 matches thousands of
/// removed tables with thousands of added ones). Necessary, not sufficient: values with
/// the same fingerprint are still compared with [`same_value`]. `None` when the value holds
/// something whose sameness the hash does not follow (a mapping that repeats a key, a
/// `Fn::GetAtt` that is not `A.B` or `[A, B]`): such a value must be compared with every
/// other.
pub fn fingerprint(side: Side) -> Option<u64> {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    print(side.doc, side.node, false, &mut hasher)?;
    Some(hasher.finish())
}

/// Feeds what [`eq`] compares (without loop bindings) into `out`. Tags are left out: they
/// can only make [`eq`] say "different", and a short form's argument is compared without
/// its tag.
fn print(doc: &Document, node: NodeId, bare: bool, out: &mut impl std::hash::Hasher) -> Option<()> {
    use std::hash::Hash;
    if let Some(call) = (!bare).then(|| doc.call(node)).flatten() {
        (0u8, call.name).hash(out);
        if call.name == "Fn::GetAtt" {
            // `eq` compares two parsed `Fn::GetAtt`s by their parts, whatever their form.
            let (resource, attribute) = get_att(doc, call.arg)?;
            (resource, attribute).hash(out);
            return Some(());
        }
        let arg_bare = call.arg == node && doc.node(node).tag.is_some();
        return print(doc, call.arg, arg_bare, out);
    }
    match &doc.node(node).kind {
        NodeKind::Scalar(s) => {
            // Every null is the same as every other (and as a string spelled like one).
            if matches!(&*s.text, "" | "~" | "null" | "Null" | "NULL") {
                1u8.hash(out);
            } else {
                (2u8, &*s.text).hash(out);
            }
        }
        NodeKind::Seq(items) => {
            (3u8, items.len()).hash(out);
            for item in doc.items(*items) {
                print(doc, *item, false, out)?;
            }
        }
        NodeKind::Map(entries) => {
            // Keys compare as a set: hashed in key order.
            let mut keyed: Vec<(&str, u64)> = Vec::with_capacity(entries.len());
            for e in doc.entries(*entries) {
                let mut value = std::collections::hash_map::DefaultHasher::new();
                print(doc, e.value, false, &mut value)?;
                keyed.push((doc.key(e), std::hash::Hasher::finish(&value)));
            }
            keyed.sort_unstable();
            if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
                return None;
            }
            (4u8, keyed).hash(out);
        }
    }
    Some(())
}

/// The item a `Ref` to a bound loop variable stands for.
fn bound_ref<'x>(doc: &Document, call: &crate::load::Call, bound: &[Bound<'x>]) -> Option<&'x str> {
    if call.name != "Ref" {
        return None;
    }
    let name = doc.scalar(call.arg)?.text.as_ref();
    bound
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, item)| *item)
}

/// A tag that changes meaning: not a YAML core-schema tag (`!!str`, `!!int`: the value is
/// passed on as the same text either way).
fn foreign_tag(tag: Option<&str>) -> Option<&str> {
    tag.filter(|t| !t.starts_with("!!"))
}

/// `Fn::GetAtt` as (resource, attribute), from `A.B` or `[A, B]`, when both are literal.
fn get_att<'d>(doc: &'d Document, arg: NodeId) -> Option<(&'d str, &'d str)> {
    if let Some(items) = doc.seq(arg) {
        return match items {
            [r, a] => Some((doc.scalar(*r)?.text.as_ref(), doc.scalar(*a)?.text.as_ref())),
            _ => None,
        };
    }
    doc.scalar(arg)?.text.split_once('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, Format, Limits};

    fn same(a: &str, fa: Format, b: &str, fb: Format) -> bool {
        let limits = Limits::default();
        let (Ok(x), Ok(y)) = (load(a, fa, &limits), load(b, fb, &limits)) else {
            panic!("test input does not load");
        };
        let (Some(rx), Some(ry)) = (x.root, y.root) else {
            panic!("test input is empty");
        };
        same_value(Side::new(&x, rx), Side::new(&y, ry))
    }

    #[test]
    fn short_form_tag_equals_long_form_call() {
        assert!(same(
            "!Ref Env",
            Format::Yaml,
            r#"{"Ref": "Env"}"#,
            Format::Json
        ));
        assert!(same(
            "!Sub '${Env}-orders'",
            Format::Yaml,
            r#"{"Fn::Sub": "${Env}-orders"}"#,
            Format::Json
        ));
        assert!(same(
            "!If [IsProd, a, !Ref B]",
            Format::Yaml,
            r#"{"Fn::If": ["IsProd", "a", {"Ref": "B"}]}"#,
            Format::Json
        ));
    }

    #[test]
    fn get_att_dotted_equals_list_form() {
        assert!(same(
            "!GetAtt Stream.Arn",
            Format::Yaml,
            r#"{"Fn::GetAtt": ["Stream", "Arn"]}"#,
            Format::Json
        ));
        assert!(!same(
            "!GetAtt Stream.Arn",
            Format::Yaml,
            r#"{"Fn::GetAtt": ["Stream", "Name"]}"#,
            Format::Json
        ));
    }

    #[test]
    fn key_order_and_quoting_do_not_matter() {
        assert!(same(
            "{AttributeName: id, KeyType: HASH}",
            Format::Yaml,
            r#"{"KeyType": "HASH", "AttributeName": "id"}"#,
            Format::Json
        ));
        assert!(same("5", Format::Yaml, r#""5""#, Format::Json));
    }

    #[test]
    fn different_calls_values_and_orders_differ() {
        assert!(!same("!Ref A", Format::Yaml, "!Sub A", Format::Yaml));
        assert!(!same("!Ref A", Format::Yaml, "A", Format::Yaml));
        assert!(!same("[a, b]", Format::Yaml, "[b, a]", Format::Yaml));
        assert!(!same("{a: 1}", Format::Yaml, "{a: 1, b: 2}", Format::Yaml));
        assert!(!same("{a: 1}", Format::Yaml, "{b: 1}", Format::Yaml));
    }

    #[test]
    fn nulls_compare_equal_whatever_their_spelling() {
        assert!(same("~", Format::Yaml, "null", Format::Json));
    }

    mod prop {
        use super::same;
        use crate::load::Format;
        use crate::model::same::{fingerprint, same_value, Side};
        use proptest::prelude::*;

        /// A template value: text, a list, a mapping (distinct keys) or an intrinsic call.
        #[derive(Clone, Debug)]
        enum V {
            Text(String),
            Seq(Vec<V>),
            Map(Vec<(String, V)>),
            Call(&'static str, Box<V>),
        }

        const CALLS: &[&str] = &["Ref", "Sub", "If", "Join", "Select", "FindInMap", "Base64"];

        fn value() -> impl Strategy<Value = V> {
            let leaf = "[a-z0-9]{0,6}".prop_map(V::Text);
            leaf.prop_recursive(4, 32, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(V::Seq),
                    prop::collection::btree_map("[a-z]{1,4}", inner.clone(), 0..4)
                        .prop_map(|m| V::Map(m.into_iter().collect())),
                    (prop::sample::select(CALLS), inner)
                        .prop_map(|(name, arg)| V::Call(name, Box::new(arg))),
                ]
            })
        }

        /// Flow YAML with short-form tags.
        fn yaml(v: &V) -> String {
            match v {
                V::Text(t) => format!("\"{t}\""),
                V::Seq(items) => {
                    format!(
                        "[{}]",
                        items.iter().map(yaml).collect::<Vec<_>>().join(", ")
                    )
                }
                V::Map(entries) => format!(
                    "{{{}}}",
                    entries
                        .iter()
                        .map(|(k, v)| format!("\"{k}\": {}", yaml(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                // A YAML node has one tag: a call of a call takes the long form outside.
                V::Call(name, arg) if matches!(**arg, V::Call(..)) => {
                    format!("{{\"{}\": {}}}", long_form(name), yaml(arg))
                }
                V::Call(name, arg) => format!("!{name} {}", yaml(arg)),
            }
        }

        fn long_form(name: &str) -> String {
            if name == "Ref" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            }
        }

        /// JSON with long-form calls and every mapping's keys in reverse order.
        fn json(v: &V) -> String {
            match v {
                V::Text(t) => format!("\"{t}\""),
                V::Seq(items) => {
                    format!(
                        "[{}]",
                        items.iter().map(json).collect::<Vec<_>>().join(", ")
                    )
                }
                V::Map(entries) => format!(
                    "{{{}}}",
                    entries
                        .iter()
                        .rev()
                        .map(|(k, v)| format!("\"{k}\": {}", json(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                V::Call(name, arg) => format!("{{\"{}\": {}}}", long_form(name), json(arg)),
            }
        }

        /// The value with its first text leaf changed, if it has one.
        fn mutate(v: &V) -> Option<V> {
            match v {
                V::Text(t) => Some(V::Text(format!("{t}z"))),
                V::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
                    let changed = mutate(item)?;
                    let mut items = items.clone();
                    items[i] = changed;
                    Some(V::Seq(items))
                }),
                V::Map(entries) => entries.iter().enumerate().find_map(|(i, (k, item))| {
                    let changed = mutate(item)?;
                    let mut entries = entries.clone();
                    entries[i] = (k.clone(), changed);
                    Some(V::Map(entries))
                }),
                V::Call(name, arg) => Some(V::Call(name, Box::new(mutate(arg)?))),
            }
        }

        proptest! {
            #[test]
            fn yaml_short_form_equals_its_json_long_form(v in value()) {
                prop_assert!(same(&yaml(&v), Format::Yaml, &json(&v), Format::Json),
                    "{} vs {}", yaml(&v), json(&v));
            }

            #[test]
            fn values_that_are_the_same_have_the_same_fingerprint(v in value()) {
                let limits = crate::load::Limits::default();
                let (a, b) = (yaml(&v), json(&v));
                let (x, y) = (crate::load::load(&a, Format::Yaml, &limits),
                    crate::load::load(&b, Format::Json, &limits));
                let (Ok(x), Ok(y)) = (x, y) else { panic!("test input does not load") };
                let (Some(rx), Some(ry)) = (x.root, y.root) else { panic!("empty input") };
                let (a, b) = (Side::new(&x, rx), Side::new(&y, ry));
                prop_assert!(same_value(a, b));
                prop_assert_eq!(fingerprint(a), fingerprint(b), "{} vs {}", yaml(&v), json(&v));
                prop_assert!(fingerprint(a).is_some());
            }

            #[test]
            fn changing_one_text_leaf_is_a_difference(v in value()) {
                let Some(changed) = mutate(&v) else { return Ok(()); };
                prop_assert!(!same(&yaml(&v), Format::Yaml, &json(&changed), Format::Json),
                    "{} vs {}", yaml(&v), json(&changed));
            }
        }
    }
}
