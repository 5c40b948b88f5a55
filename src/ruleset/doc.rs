//! Rule documentation comes from each rule file's own `//!` doc comment (as in ruff), so the
//! text of `ddb-guard rule`, SARIF help and `docs/rules/` cannot drift from the code.

use crate::rules::{Rule, RULES};

/// The project's repository: the one place its URL is spelled (Cargo.toml `repository`).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// Where a rule's generated page lives (`docs/rules/<CODE>.md` in the repository), for
/// SARIF `helpUri` and links in other reports.
pub fn url(code: &str) -> String {
    format!("{REPOSITORY}/blob/main/docs/rules/{code}.md")
}

/// The Markdown body of a rule's doc comment, without its `CODE name` title line.
pub fn markdown(rule: &Rule) -> String {
    let mut lines = rule
        .source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .skip(1) // the title line: `DDB001 deletion-policy`
        .skip_while(|l| l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    lines.truncate(lines.trim_end().len());
    lines
}

/// The text of one `## Heading` section of a rule's doc comment.
pub fn section(rule: &Rule, heading: &str) -> Option<String> {
    let body = markdown(rule);
    let start = body.find(&format!("## {heading}\n"))? + heading.len() + 4;
    let rest = &body[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

/// A rule's full page: what `ddb-guard rule CODE` prints and `docs/rules/CODE.md` holds.
pub fn page(rule: &Rule) -> String {
    format!(
        "# {code} {name}\n\n{summary}.\n\n- Default severity: {severity}\n- Enabled by default: {enabled}\n\n{body}\n",
        code = rule.code,
        name = rule.name,
        summary = rule.summary,
        severity = rule.severity.as_str(),
        enabled = if rule.default_enabled {
            "yes"
        } else {
            "no (turn it on with `--select` or `select` in ddb-guard.toml)"
        },
        body = markdown(rule),
    )
}

/// One rule as `ddb-guard rule --format json` writes it, for tools that render rule docs.
#[derive(serde::Serialize)]
pub struct RuleJson {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    /// `error`, `warning` or `note`.
    pub severity: &'static str,
    pub enabled_by_default: bool,
    /// The generated page in the repository (`docs/rules/CODE.md`).
    pub url: String,
    /// The rule's documentation, Markdown: the body of [`page`], from the rule's doc comment.
    pub explanation: String,
}

/// `ddb-guard rule --format json`: always an array, in code order, whether one rule or all
/// were asked for, so that a tool reads every answer the same way.
pub fn json(rules: &[&Rule]) -> String {
    let entries: Vec<RuleJson> = rules
        .iter()
        .map(|rule| RuleJson {
            code: rule.code,
            name: rule.name,
            summary: rule.summary,
            severity: rule.severity.as_str(),
            enabled_by_default: rule.default_enabled,
            url: url(rule.code),
            explanation: markdown(rule),
        })
        .collect();
    // Serializing plain strings and booleans cannot fail; an empty array is still JSON.
    let mut text = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

/// The Markdown table of every rule, linking each to `link(rule)`.
pub fn table(link: impl Fn(&Rule) -> String) -> String {
    let mut out = String::from(
        "| code | name | severity | on by default | summary |\n| --- | --- | --- | --- | --- |\n",
    );
    for rule in RULES {
        out.push_str(&format!(
            "| [{code}]({link}) | `{name}` | {severity} | {enabled} | {summary} |\n",
            code = rule.code,
            link = link(rule),
            name = rule.name,
            severity = rule.severity.as_str(),
            enabled = if rule.default_enabled { "yes" } else { "no" },
            summary = rule.summary,
        ));
    }
    out
}

/// `docs/rules/README.md`: the index of the rule pages.
pub fn index() -> String {
    format!(
        "# Rules\n\n<!-- Generated from the rule sources (src/rules/); regenerate with `UPDATE_DOCS=1 cargo test --test it docs::`. -->\n\n{}",
        table(|r| format!("{}.md", r.code))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;

    #[test]
    fn every_rule_documents_itself_under_the_fixed_headings() {
        for rule in RULES {
            let title = rule.source.lines().next().unwrap_or_default();
            assert_eq!(
                title,
                format!("//! {} {}", rule.code, rule.name),
                "title of {}",
                rule.code
            );
            for heading in [
                "What it checks",
                "Why it matters",
                "Example",
                "Use instead",
                "Fix safety",
            ] {
                let text = section(rule, heading).unwrap_or_default();
                assert!(
                    !text.is_empty(),
                    "{} lacks a `## {heading}` section",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn section_stops_at_the_next_heading() {
        let rule = crate::rules::find("DDB001").expect("DDB001 exists");
        let what = section(rule, "What it checks").unwrap_or_default();
        assert!(what.starts_with("Every DynamoDB table"));
        assert!(!what.contains("## "));
    }
}
