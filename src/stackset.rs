//! `AWS::CloudFormation::StackSet`: a template inside a template. CloudFormation deploys
//! the `TemplateBody` (a YAML or JSON string) to every target account and Region of the
//! stack set, so its tables are checked like the outer file's: the string is loaded as a
//! document of its own, the same rules run on it, and each finding is reported in the
//! outer file, at the place inside the string where a block scalar spells it line by line
//! (otherwise at the whole `TemplateBody`), saying that the table is in every target
//! account. A body that cannot be read before deployment (`Ref`, `Fn::Join`, an `Fn::Sub`
//! with placeholders other than pseudo parameters) fails closed: DDB007
//! (`rules::meta::template_not_checked`), which also reports a literal body that does not load
//! (from here, since only this module loads it). A `TemplateURL` is DDB006's: that template
//! is not visible here.

use std::path::Path;

use crate::finding::Finding;
use crate::load::{self, Document, Format, NodeId, ScalarStyle};
use crate::model::nested::{self, STACK_SET as TYPE};
use crate::model::{policy_strings, Layout, Template};
use crate::rules::meta::template_not_checked;
use crate::rules::{self, Head, RuleOptions};
use crate::ruleset::{self, suppression::Applied};
use crate::source::{SourceText, Span};

/// The findings of every stack set's inner template, and DDB007's findings for the literal
/// bodies that do not load. `rules` are the enabled rules; only those run.
pub fn check(
    template: &Template,
    text: &str,
    rules_enabled: &[&'static rules::Rule],
    options: &RuleOptions,
    limits: &load::Limits,
) -> Applied {
    let doc = template.doc;
    let mut out = Applied::default();
    let report_unreadable = rules_enabled
        .iter()
        .any(|r| r.code == template_not_checked::RULE.code);
    for resource in &template.resources {
        if resource.type_name != Some(TYPE) {
            continue;
        }
        let Some(props) = doc.get_value(resource.node, "Properties") else {
            continue;
        };
        let id = resource.logical_id;
        let Some(body) = doc.get_value(props, "TemplateBody") else {
            continue;
        };
        // A body that is not a literal is DDB007's own check.
        if let Some(inner) = nested::literal_body(doc, body) {
            let applied = check_body(doc, text, body, id, &inner, rules_enabled, options, limits);
            out.active.extend(
                applied
                    .active
                    .into_iter()
                    .filter(|f| report_unreadable || f.code != template_not_checked::RULE.code),
            );
            out.suppressed.extend(applied.suppressed);
        }
    }
    out
}

/// Each stack set's inline template, for the commands that read tables rather than run
/// the rules (`inventory`): `visit(id, Ok(template))` for a body that loads, `visit(id,
/// Err(why))` for one that cannot be read (DDB007's cases).
pub fn for_each_body(
    template: &Template,
    limits: &load::Limits,
    mut visit: impl FnMut(&str, Result<&Template, String>),
) {
    let doc = template.doc;
    for resource in &template.resources {
        if resource.type_name != Some(TYPE) {
            continue;
        }
        let Some(body) = doc
            .get_value(resource.node, "Properties")
            .and_then(|props| doc.get_value(props, "TemplateBody"))
        else {
            continue;
        };
        let id = resource.logical_id;
        let Some(inner) = nested::literal_body(doc, body) else {
            visit(
                id,
                Err("its `TemplateBody` is not a literal string".to_string()),
            );
            continue;
        };
        let loaded = match load_body(&inner, limits) {
            Ok(loaded) => loaded,
            Err(error) => {
                visit(id, Err(error.message));
                continue;
            }
        };
        match Template::with_layout(&loaded, Layout::CloudFormation) {
            Ok(Some(inner)) => visit(id, Ok(&inner)),
            Ok(None) => {}
            Err(error) => visit(
                id,
                Err(format!(
                    "its `TemplateBody` is not a readable template ({})",
                    error.message
                )),
            ),
        }
    }
}

/// The pull-request guard inside stack sets: the tables of each base stack set's inline
/// template are compared with those of the head's stack set of the same logical ID, by
/// the comparison rules, so a table is matched by stack set ID and its own logical ID.
/// `head_text` is the head file's text (for spans inside its bodies); for a deleted file
/// the findings point into the base text, `base_text`. A head stack set whose body cannot
/// be read is DDB007's (fail closed there); a stack set gone from the head removes its
/// tables (`Head::NotTemplate`: the findings point at the head file's start).
#[allow(clippy::too_many_arguments)]
pub fn compare(
    base: &Template,
    base_text: &str,
    base_name: &str,
    head: &Head,
    head_text: Option<&str>,
    diff_rules: &[&'static rules::Rule],
    options: &RuleOptions,
    limits: &load::Limits,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let bdoc = base.doc;
    for resource in &base.resources {
        if resource.type_name != Some(TYPE) {
            continue;
        }
        let id = resource.logical_id;
        let Some((base_body, base_node)) = body_of(base, id) else {
            continue;
        };
        // A base policy string that cannot be read still leaves the tables to compare.
        let base_inner_doc = match load_body(&base_body, limits) {
            Ok(doc) => doc,
            Err(_) => match load::load(
                base_body.text,
                Format::detect(Path::new(""), base_body.text),
                limits,
            ) {
                Ok(doc) => doc,
                Err(_) => continue,
            },
        };
        let Ok(Some(base_inner)) = Template::with_layout(&base_inner_doc, Layout::CloudFormation)
        else {
            continue;
        };
        if base_inner.tables().next().is_none() {
            continue;
        }
        let base_source = SourceText::new(base_body.text.into());
        let name = format!("{base_name}, TemplateBody of {id}");
        // A stack set gone from a head that is still a template is reported where it was,
        // as a nested stack removed (DDB020 through the checker's `nested_gone`).
        if let Head::Template(h) = head {
            if !h.has_resource(id) {
                continue;
            }
        }
        // The head's side, and how its spans reach the file.
        let head_body = match head {
            Head::Template(h) => body_of(h, id),
            _ => None,
        };
        let head_doc = head_body.as_ref().map(|(body, _)| load_body(body, limits));
        if matches!(head_doc, Some(Err(_))) {
            continue;
        }
        let head_inner = match (&head_doc, head) {
            (Some(Ok(doc)), _) => match Template::with_layout(doc, Layout::CloudFormation) {
                Ok(Some(t)) => Some(t),
                Ok(None) => None,
                Err(_) => continue,
            },
            _ => None,
        };
        let inner_head = match (&head_inner, head) {
            (Some(t), _) => Head::Template(t),
            (None, Head::Deleted) => Head::Deleted,
            (None, _) => Head::NotTemplate,
        };
        let comparison = rules::Comparison {
            base: &base_inner,
            base_name: &name,
            base_source: &base_source,
            base_fragments: &[],
            head: inner_head,
            options,
            anchors: Default::default(),
            pr_guard: Default::default(),
            // A stack set's body has no directory to read nested templates from.
            nested_same: &std::collections::BTreeSet::new(),
        };
        let found = ruleset::compare_templates(&comparison, diff_rules);
        if found.is_empty() {
            continue;
        }
        // Spans into the head body, or (a deleted file) into the base body.
        let map: Box<dyn Fn(Span) -> Span> = match (head, &head_body, head_text) {
            (Head::Deleted, _, _) => {
                let whole = bdoc.span(base_node);
                let lines = base_body
                    .mappable
                    .then(|| LineMap::new(bdoc, base_text, base_body.node, base_body.text))
                    .flatten();
                Box::new(move |span| lines.as_ref().and_then(|m| m.map(span)).unwrap_or(whole))
            }
            (Head::Template(h), Some((body, node)), Some(text)) => {
                let whole = h.doc.span(*node);
                let lines = body
                    .mappable
                    .then(|| LineMap::new(h.doc, text, body.node, body.text))
                    .flatten();
                Box::new(move |span| lines.as_ref().and_then(|m| m.map(span)).unwrap_or(whole))
            }
            _ => Box::new(|span| span),
        };
        out.extend(found.into_iter().map(|f| placed_in_file(f, id, &map)));
    }
    out
}

/// The literal body of stack set `id` in `template`, and its `TemplateBody` node.
fn body_of<'d>(template: &Template<'d, '_>, id: &str) -> Option<(nested::Body<'d>, NodeId)> {
    let doc = template.doc;
    let resource = template
        .resource(id)
        .filter(|r| r.type_name == Some(TYPE))?;
    let node = doc
        .get_value(resource.node, "Properties")
        .and_then(|props| doc.get_value(props, "TemplateBody"))?;
    Some((nested::literal_body(doc, node)?, node))
}

/// A stack set's body as the rules read it: loaded as YAML or JSON, with its policy
/// documents written as JSON strings read as in a top-level template
/// ([`policy_strings::graft`]). An error says why, in words that end "its `TemplateBody`
/// ..." (DDB007's message); its span indexes the body's text.
fn load_body<'d>(
    body: &nested::Body<'d>,
    limits: &load::Limits,
) -> Result<Document<'d>, load::FileError> {
    let mut doc =
        load::load(body.text, Format::detect(Path::new(""), body.text), limits).map_err(|e| {
            load::FileError {
                message: format!("its `TemplateBody` does not load ({})", e.message),
                ..e
            }
        })?;
    policy_strings::graft(&mut doc, Layout::CloudFormation, limits).map_err(|e| {
        load::FileError {
            message: format!(
                "a policy document in its `TemplateBody` is written as a string that cannot be read ({})",
                e.message
            ),
            ..e
        }
    })?;
    Ok(doc)
}

#[allow(clippy::too_many_arguments)]
fn check_body(
    doc: &Document,
    text: &str,
    body_value: NodeId,
    id: &str,
    body: &nested::Body,
    rules_enabled: &[&'static rules::Rule],
    options: &RuleOptions,
    limits: &load::Limits,
) -> Applied {
    let whole = doc.span(body_value);
    let inner_text = body.text;
    let map = if body.mappable {
        LineMap::new(doc, text, body.node, inner_text)
    } else {
        None
    };
    let at = |span: Span| match &map {
        Some(map) => map.map(span).unwrap_or(whole),
        None => whole,
    };
    let inner = match load_body(body, limits) {
        Ok(inner) => inner,
        Err(error) => {
            return Applied {
                active: vec![unreadable(id, error.span.map_or(whole, at), error.message)],
                suppressed: Vec::new(),
            }
        }
    };
    let template = match Template::with_layout(&inner, Layout::CloudFormation) {
        Ok(Some(template)) => template,
        Ok(None) => return Applied::default(),
        Err(error) => {
            return Applied {
                active: vec![unreadable(
                    id,
                    error.span.map_or(whole, at),
                    format!(
                        "its `TemplateBody` is not a readable template ({})",
                        error.message
                    ),
                )],
                suppressed: Vec::new(),
            }
        }
    };
    let applied = ruleset::check_resources_where(&template, rules_enabled, |_| true, options);
    // Findings in the body are placed in the file's text, as are the suppressions that
    // silenced some (counted and listed like any other file's).
    let place = |f: Finding| placed_in_file(f, id, &at);
    Applied {
        active: applied.active.into_iter().map(place).collect(),
        suppressed: applied
            .suppressed
            .into_iter()
            .map(|(f, mut s)| {
                s.span = at(s.span);
                (place(f), s)
            })
            .collect(),
    }
}

/// A finding in stack set `id`'s body, placed in the file's text (`at` maps a span in the
/// body to one in the file) and named as the body's.
fn placed_in_file(mut f: Finding, id: &str, at: &dyn Fn(Span) -> Span) -> Finding {
    f.span = at(f.span);
    for label in &mut f.labels {
        label.span = at(label.span);
    }
    // No fix inside a body: its edits index the inner text, and the fix engine verifies a
    // fix by comparing the re-parsed file's tree, in which the body is one string
    // (docs/autofix.md).
    f.fix = None;
    f.message = format!(
        "in the template of stack set `{id}` (deployed to every target account): {}",
        f.message
    );
    f.resource = format!("{id}/{}", f.resource);
    f
}

/// Offsets in a block scalar's value to offsets in the file: line `k` of the value is
/// line `k` after the header, less the block's indentation. Only built when every line
/// matches (a literal block with no folding).
struct LineMap {
    /// The file offset of each value line's first byte.
    starts: Vec<usize>,
    lines: Vec<usize>,
}

impl LineMap {
    fn new(doc: &Document, text: &str, node: NodeId, value: &str) -> Option<LineMap> {
        let scalar = doc.scalar(node)?;
        let span = doc.span(node);
        let source = text.get(span.start..span.end)?;
        if scalar.style == ScalarStyle::Quoted {
            // One quoted line without escapes: the value is the text between the quotes.
            let inner = source.get(1..source.len().checked_sub(1)?)?;
            return (inner == value).then(|| LineMap {
                starts: vec![span.start + 1],
                lines: vec![0],
            });
        }
        if scalar.style != ScalarStyle::Block {
            return None;
        }
        // The span starts at the header (`|`) or at the first line of content.
        let mut offset = if source.starts_with(['|', '>']) {
            span.start + source.find('\n')? + 1
        } else {
            text.get(..span.start)?.rfind('\n').map_or(0, |at| at + 1)
        };
        let mut starts = Vec::new();
        let mut lines = Vec::new();
        let mut source_lines = text.get(offset..)?.split_inclusive('\n');
        let mut value_start = 0;
        let mut indent = None;
        for line in value.split_inclusive('\n') {
            let src = source_lines.next()?;
            let content = line.trim_end_matches('\n');
            if content.is_empty() {
                starts.push(offset);
            } else {
                let ind = *indent.get_or_insert(src.len() - src.trim_start_matches(' ').len());
                if src.get(ind..)?.trim_end_matches(['\n', '\r']) != content {
                    return None;
                }
                starts.push(offset + ind);
            }
            lines.push(value_start);
            value_start += line.len();
            offset += src.len();
        }
        Some(LineMap { starts, lines })
    }

    fn point(&self, at: usize) -> Option<usize> {
        let k = match self.lines.binary_search(&at) {
            Ok(k) => k,
            Err(k) => k.checked_sub(1)?,
        };
        Some(self.starts.get(k)? + (at - self.lines.get(k)?))
    }

    fn map(&self, span: Span) -> Option<Span> {
        let start = self.point(span.start)?;
        let end = self.point(span.end)?.max(start);
        Some(Span { start, end })
    }
}

fn unreadable(id: &str, span: Span, why: String) -> Finding {
    template_not_checked::unreadable(id, span, &why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pseudo_parameters_and_literals_keep_a_sub_body_readable() {
        assert!(nested::pseudo_only("Name: t-${AWS::Region} ${!Literal}"));
        assert!(!nested::pseudo_only("Resources:\n  ${Block}"));
        assert!(!nested::pseudo_only("x ${AWS::Region} ${Other}"));
    }

    fn map_of(text: &str) -> (Document<'_>, Option<LineMap>, String) {
        let doc = load::load(text, Format::Yaml, &load::Limits::default()).expect("loads");
        let root = doc.root.expect("root");
        let body = doc.get_value(root, "Body").expect("Body");
        let value = doc.scalar(body).expect("scalar").text.to_string();
        let map = LineMap::new(&doc, text, body, &value);
        (doc, map, value)
    }

    #[test]
    fn a_literal_block_maps_each_value_offset_into_the_file() {
        let text = "Body: |\n  a: 1\n\n  bb: 2\n";
        let (_, map, value) = map_of(text);
        let map = map.expect("literal block maps");
        let at = value.find("bb").expect("bb");
        let span = map
            .map(Span {
                start: at,
                end: at + 2,
            })
            .expect("maps");
        assert_eq!(&text[span.start..span.end], "bb");
    }

    #[test]
    fn a_folded_block_does_not_map_line_by_line() {
        let (_, map, _) = map_of("Body: >\n  a: 1\n  b: 2\n");
        assert!(map.is_none());
    }
}
