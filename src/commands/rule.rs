//! `ddb-guard rule [RULE]`: the rule table, or the documentation of the named rules.

use super::{print, usage_error};
use crate::cli::{RuleArgs, RuleFormat};
use crate::report::data::ExitStatus;
use crate::rules;
use crate::ruleset::{doc, select};

pub fn run(args: &RuleArgs) -> ExitStatus {
    let found = match &args.rule {
        Some(name) => match select::expand(name) {
            Ok(found) => found,
            Err(e) => return usage_error(&e.to_string(), None),
        },
        None if args.all || args.format == RuleFormat::Json => rules::RULES.to_vec(),
        None => return print(&listing()),
    };
    match args.format {
        RuleFormat::Json => print(&doc::json(&found)),
        RuleFormat::Text => {
            let pages: Vec<String> = found.iter().map(|r| doc::page(r)).collect();
            print(&pages.join("\n"))
        }
    }
}

/// One line per rule: code, name, default severity, on by default, summary.
fn listing() -> String {
    let width = |f: fn(&rules::Rule) -> &str, title: &str| {
        rules::RULES
            .iter()
            .map(|r| f(r).len())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let name_width = width(|r| r.name, "name");
    let mut out = format!(
        "{:<6}  {:<name_width$}  {:<8}  {:<7}  summary\n",
        "code", "name", "severity", "default"
    );
    for rule in rules::RULES {
        out.push_str(&format!(
            "{:<6}  {:<name_width$}  {:<8}  {:<7}  {}\n",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            if rule.default_enabled { "on" } else { "off" },
            rule.summary
        ));
    }
    out
}
