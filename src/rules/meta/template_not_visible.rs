//! DDB006 template-not-visible
//!
//! ## What it checks
//! A template can deploy other templates it does not hold: a nested stack
//! (`AWS::CloudFormation::Stack` `TemplateURL`), a nested application
//! (`AWS::Serverless::Application` `Location`) or a stack set
//! (`AWS::CloudFormation::StackSet` `TemplateURL`). When that location is a local path
//! (the `aws cloudformation package` / `sam build` convention, relative to the directory
//! of the template that names it), ddb-guard follows it and checks that file as a
//! template, reporting its findings in it and naming the parent. Any other location is
//! reported here, once per template, naming every such resource: an `https://` or `s3://`
//! URL, a location built with an intrinsic function (`!Sub`, `!Ref`, ...), a Serverless
//! Application Repository application, a nested stack without a literal `TemplateURL`.
//! `ddb-guard inventory` lists these resources as "not visible".
//!
//! ## Why it matters
//! Deleting or replacing a nested stack deletes every table in its template, and
//! updating it can change their `DeletionPolicy`. A template ddb-guard cannot read is a
//! template it proves nothing about: the tables in it are unchecked.
//!
//! ## Example
//! ```yaml
//! Resources:
//!   Storage:
//!     Type: AWS::CloudFormation::Stack
//!     Properties:
//!       TemplateURL: https://my-bucket.s3.amazonaws.com/storage.yaml
//! ```
//!
//! ## Use instead
//! Keep the nested template in the repository and name it by its local path; `aws
//! cloudformation package` uploads it and rewrites the URL at deploy time:
//! ```yaml
//! Resources:
//!   Storage:
//!     Type: AWS::CloudFormation::Stack
//!     Properties:
//!       TemplateURL: ./storage.yaml
//! ```
//! Otherwise check that template separately, and gate the deployment on its change set
//! (`ddb-guard changeset`, which follows nested change sets).
//!
//! ## Fix safety
//! No fix: where the template lives is the author's choice.

use crate::finding::{Finding, Label, Severity};
use crate::model::nested::{self, Location};
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB006",
    name: "template-not-visible",
    severity: Severity::Note,
    summary: "A nested stack's or stack set's template is not in a local file: its tables are not checked",
    needles: &[&["aws::cloudformation::stack"], &["aws::serverless::application"]],
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("template_not_visible.rs"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    // A property of the template, reported once: with the first resource that has one.
    let hidden: Vec<(nested::Nested, &str)> = nested::nested(view.template)
        .into_iter()
        .filter_map(|n| match n.location {
            Location::NotVisible(why) => Some((n, why)),
            Location::Local(_) => None,
        })
        .collect();
    let Some((first, _)) = hidden.first() else {
        return Vec::new();
    };
    if first.logical_id != view.resource.logical_id {
        return Vec::new();
    }
    let doc = view.doc();
    let named: Vec<String> = hidden
        .iter()
        .map(|(n, why)| format!("{} `{}` ({why})", nested::kind(n.type_name), n.logical_id))
        .collect();
    let message = if named.len() == 1 {
        format!(
            "the template of {} is not visible to ddb-guard: the tables it deploys are not \
             checked",
            named[0]
        )
    } else {
        format!(
            "the templates of {} are not visible to ddb-guard: the tables they deploy are not \
             checked",
            named.join(", ")
        )
    };
    let mut f = view.finding(
        &RULE,
        doc.span(first.node),
        message,
        "template not visible".to_string(),
    );
    f.resource_type = first.type_name.to_string();
    f.labels = hidden[1..]
        .iter()
        .map(|(n, _)| Label {
            span: doc.span(n.node),
            text: format!("template of `{}` not visible", n.logical_id),
        })
        .collect();
    f.help = Some(
        "name a local template file (the `aws cloudformation package` convention), or check \
         that template separately and gate the deployment on its change set \
         (`ddb-guard changeset`)"
            .to_string(),
    );
    vec![f]
}

#[cfg(test)]
mod tests {
    use crate::load::{self, Format, Limits};
    use crate::model::Template;
    use crate::rules::RuleOptions;
    use crate::ruleset::check_template;

    #[test]
    fn one_note_per_template_names_every_hidden_template() {
        let text = "Resources:
  Local: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: ./a.yaml}}
  Remote: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: 'https://b/t.yaml'}}
  Sar: {Type: AWS::Serverless::Application, Properties: {Location: {ApplicationId: a, SemanticVersion: 1}}}
";
        let doc = load::load(text, Format::Yaml, &Limits::default()).expect("loads");
        let template = Template::from_document(&doc)
            .expect("valid")
            .expect("template");
        let found = check_template(&template, &[&super::RULE], &RuleOptions::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert!(f.message.contains("`Remote` (at a URL)"), "{}", f.message);
        assert!(f.message.contains("`Sar`"), "{}", f.message);
        assert!(!f.message.contains("`Local`"), "{}", f.message);
        assert_eq!(&text[f.span.start..f.span.end], "'https://b/t.yaml'");
        assert_eq!(f.labels.len(), 1);
    }
}
