//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning ingests it.
//!
//! Hand-written serde structs (serde-sarif 0.8 does not build without extra features and
//! pulls a code generator). Every rule is described in `tool.driver.rules` from its own doc
//! comment, so the help shown in code scanning is the text of `ddb-guard rule`. Locations
//! are relative, percent-encoded URIs with 1-based, code-point columns and byte offsets.
//! `partialFingerprints` hash rule, path and logical ID, never line numbers, so an alert
//! survives edits above it ([`super::fingerprint`], shared with `--format gitlab`). Files that could not be checked are tool execution
//! notifications and make the invocation unsuccessful: code scanning must not read a
//! failed run as a clean one.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::report::data::{FileReport, Report};
use crate::rules::{self, Rule};
use crate::ruleset::doc;
use crate::source::{Position, Span};

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Our key in `partialFingerprints`; bump the version if the hashed fields change.
pub const FINGERPRINT_KEY: &str = "ddbGuard/v1";

/// GitHub truncates longer rule descriptions.
const MAX_DESCRIPTION: usize = 1024;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: Vec<Invocation<'a>>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Message<'a>,
    descriptor: DescriptorReference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location<'a>>,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message<'a>,
    locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression<'a>>,
    /// The finding's automatic fix (the edits `--fix` would make), for viewers that offer it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Message<'a>,
    artifact_changes: Vec<ArtifactChange<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    inserted_content: Message<'a>,
}

/// A `Metadata.ddb-guard.ignore` entry: the reason is the justification, the entry itself
/// the location, so an auditor can jump from the silenced result to the line that silenced it.
#[derive(Serialize)]
struct SarifSuppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: &'a str,
    location: Location<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    resource: &'a str,
    resource_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    /// The CDK construct the resource was synthesized from (`AppStack/CartTable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    cdk_construct_path: Option<&'a str>,
    /// The CDK stack, from the cloud assembly's `manifest.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cdk_stack: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    byte_offset: usize,
    byte_length: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    kind: &'static str,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir().ok();
    let log = build(report, cwd.as_deref());
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn build<'a>(report: &'a Report, cwd: Option<&Path>) -> Log<'a> {
    let mut descriptors: Vec<Descriptor> = rules::RULES.iter().map(|r| describe(r)).collect();
    let mut index: HashMap<&str, usize> = rules::RULES
        .iter()
        .enumerate()
        .map(|(i, r)| (r.code, i))
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for file in &report.files {
        let uri = artifact_uri(&file.path, cwd);
        for error in &file.errors {
            let region = error.span.and_then(|span| region(file, span));
            notifications.push(Notification {
                level: "error",
                message: Message {
                    text: &error.message,
                },
                descriptor: DescriptorReference { id: "load-error" },
                locations: vec![Location {
                    id: None,
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri: uri.clone() },
                        region,
                    },
                    message: None,
                    logical_locations: Vec::new(),
                }],
            });
        }
        // Suppressed findings are results too (with `suppressions`). Baselined findings are
        // left out: see the SARIF section of docs/output-formats.md.
        for tracked in super::fingerprint::tracked(file, &uri) {
            let finding = tracked.finding;
            let rule_index = *index.entry(finding.code).or_insert_with(|| {
                // A finding from a rule outside the registry still gets a descriptor, so
                // that every ruleId resolves.
                descriptors.push(describe_unregistered(finding));
                descriptors.len() - 1
            });
            let mut result = result(file, finding, &uri, rule_index, tracked.fingerprint);
            if let Some(template) = &finding.template {
                in_template(&mut result, template, artifact_uri(&template.path, cwd));
            }
            let suppression = tracked.suppression;
            if let Some(suppression) = suppression {
                result.suppressions.push(SarifSuppression {
                    kind: "inSource",
                    status: "accepted",
                    justification: &suppression.reason,
                    location: match suppression.template.as_deref() {
                        // An entry in a Serverless fragment: its own file and place.
                        Some(t) => Location {
                            id: None,
                            physical_location: PhysicalLocation {
                                artifact_location: ArtifactLocation {
                                    uri: artifact_uri(&t.path, cwd),
                                },
                                region: Some(template_region(t)),
                            },
                            message: None,
                            logical_locations: Vec::new(),
                        },
                        None => Location {
                            id: None,
                            physical_location: PhysicalLocation {
                                artifact_location: ArtifactLocation { uri: uri.clone() },
                                region: region(file, suppression.span),
                            },
                            message: None,
                            logical_locations: Vec::new(),
                        },
                    },
                });
            }
            results.push(result);
        }
    }
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: doc::REPOSITORY,
                    rules: descriptors,
                },
            },
            invocations: vec![Invocation {
                execution_successful: notifications.is_empty(),
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

fn result<'a>(
    file: &'a FileReport,
    finding: &'a Finding,
    uri: &str,
    rule_index: usize,
    fingerprint: String,
) -> SarifResult<'a> {
    let location = |span: Span, id: Option<usize>, text: Option<&'a str>| Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri.to_string(),
            },
            region: region(file, span),
        },
        message: text.map(|text| Message { text }),
        logical_locations: Vec::new(),
    };
    let mut primary = location(finding.span, None, None);
    if !finding.resource.is_empty() {
        primary.logical_locations.push(LogicalLocation {
            name: &finding.resource,
            kind: "resource",
        });
    }
    let related = finding
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| location(label.span, Some(i + 1), Some(&label.text)))
        .collect();
    SarifResult {
        rule_id: finding.code,
        rule_index: Some(rule_index),
        level: level(finding.severity),
        message: Message {
            text: &finding.message,
        },
        locations: vec![primary],
        related_locations: related,
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        suppressions: Vec::new(),
        fixes: finding
            .fix
            .iter()
            .filter_map(|fix| {
                let replacements = fix
                    .edits
                    .iter()
                    .map(|edit| {
                        Some(Replacement {
                            deleted_region: region(file, edit.span)?,
                            inserted_content: Message {
                                text: &edit.replacement,
                            },
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(SarifFix {
                    description: Message {
                        text: &fix.description,
                    },
                    artifact_changes: vec![ArtifactChange {
                        artifact_location: ArtifactLocation {
                            uri: uri.to_string(),
                        },
                        replacements,
                    }],
                })
            })
            .collect(),
        properties: ResultProperties {
            resource: &finding.resource,
            resource_type: &finding.resource_type,
            help: finding.help.as_deref(),
            cdk_construct_path: finding
                .cdk
                .as_ref()
                .and_then(|c| c.construct_path.as_deref()),
            cdk_stack: finding.cdk.as_ref().and_then(|c| c.stack.as_deref()),
        },
    }
}

/// A finding whose resource is declared in a template (`changeset --template`): the
/// template's logical-ID key becomes the primary location, where code scanning can show it
/// on a line of the pull request, and the change set's place becomes a related location.
fn in_template<'a>(
    result: &mut SarifResult<'a>,
    template: &'a crate::finding::TemplateLocation,
    uri: String,
) {
    let Some(mut checked) = result.locations.pop() else {
        return;
    };
    let logical = std::mem::take(&mut checked.logical_locations);
    checked.id = Some(result.related_locations.len() + 1);
    checked.message = Some(Message {
        text: match template.via {
            "change set" => "the change in the change set",
            _ => "the variable that brings this file in",
        },
    });
    result.related_locations.push(checked);
    result.locations.push(Location {
        id: None,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri },
            region: Some(template_region(template)),
        },
        message: None,
        logical_locations: logical,
    });
}

/// The region of a place in another file, with its positions computed there.
fn template_region(template: &crate::finding::TemplateLocation) -> Region {
    Region {
        start_line: Some(template.start.line),
        start_column: Some(template.start.column),
        end_line: Some(template.end.line),
        end_column: Some(template.end.column),
        byte_offset: template.span.start,
        byte_length: template.span.len(),
    }
}

fn region(file: &FileReport, span: Span) -> Option<Region> {
    let source = file.source.as_ref()?;
    let (start, end): (Position, Position) = source.range(span);
    Some(Region {
        start_line: Some(start.line),
        start_column: Some(start.column),
        end_line: Some(end.line),
        end_column: Some(end.column),
        byte_offset: span.start,
        byte_length: span.len(),
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub's scale: 7.0-8.9 is "high", 4.0-6.9 "medium", below "low". Losing a table's
/// data is high; a warning-level rule is a weaker guarantee, not a smaller loss.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "8.0",
        Severity::Warning => "5.0",
        Severity::Note => "2.0",
    }
}

fn problem_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "recommendation",
    }
}

fn describe(rule: &Rule) -> Descriptor {
    let markdown = doc::markdown(rule);
    let what = doc::section(rule, "What it checks").unwrap_or_else(|| rule.summary.to_string());
    Descriptor {
        id: rule.code.to_string(),
        name: rule.name.to_string(),
        short_description: Text {
            text: rule.summary.to_string(),
        },
        full_description: Text {
            text: clip(&what, MAX_DESCRIPTION),
        },
        help: Help {
            text: markdown.clone(),
            markdown,
        },
        help_uri: Some(doc::url(rule.code)),
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        properties: RuleProperties {
            tags: vec!["security", "data-loss", "cloudformation", "dynamodb"],
            precision: "very-high",
            problem_severity: problem_severity(rule.severity),
            security_severity: security_severity(rule.severity),
        },
    }
}

fn describe_unregistered(finding: &Finding) -> Descriptor {
    let text = format!("{} {}", finding.code, finding.name);
    Descriptor {
        id: finding.code.to_string(),
        name: finding.name.to_string(),
        short_description: Text { text: text.clone() },
        full_description: Text { text: text.clone() },
        help: Help {
            text: text.clone(),
            markdown: text,
        },
        help_uri: None,
        default_configuration: Configuration {
            level: level(finding.severity),
        },
        properties: RuleProperties {
            tags: vec!["security", "data-loss", "cloudformation", "dynamodb"],
            precision: "high",
            problem_severity: problem_severity(finding.severity),
            security_severity: security_severity(finding.severity),
        },
    }
}

/// At most `max` bytes, cut at a character boundary, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The artifact URI: relative to the current directory (as code scanning resolves it
/// against the checkout), forward slashes, percent-encoded; an absolute `file://` URI for a
/// file outside the current directory.
pub fn artifact_uri(display: &str, cwd: Option<&Path>) -> String {
    if let Some(relative) = super::relative_path(display, cwd) {
        return percent_encode(&relative);
    }
    let absolute = super::relative_path(display, Some(Path::new("/")))
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| display.replace('\\', "/"));
    let absolute = if absolute.starts_with('/') {
        absolute
    } else {
        format!("/{absolute}")
    };
    format!("file://{}", percent_encode(&absolute))
}

/// Percent-encode everything except RFC 3986 unreserved characters and `/`. A `:` is
/// encoded too, so that a first segment like `c:` cannot be read as a URI scheme.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_percent_encoded_with_forward_slashes() {
        assert_eq!(
            artifact_uri("./stacks/my stack/ä.yaml", None),
            "stacks/my%20stack/%C3%A4.yaml"
        );
        assert_eq!(artifact_uri("c:odd#name.json", None), "c%3Aodd%23name.json");
    }

    #[test]
    fn absolute_paths_inside_the_current_directory_become_relative() {
        let cwd = std::env::temp_dir();
        let path = cwd.join("a").join("t.yaml");
        assert_eq!(
            artifact_uri(&path.display().to_string(), Some(&cwd)),
            "a/t.yaml"
        );
    }

    #[cfg(unix)]
    #[test]
    fn absolute_paths_outside_the_current_directory_become_file_uris() {
        assert_eq!(
            artifact_uri("/elsewhere/x y.yaml", Some(Path::new("/work/repo"))),
            "file:///elsewhere/x%20y.yaml"
        );
    }

    #[test]
    fn long_descriptions_are_clipped_at_a_character_boundary() {
        let text = "é".repeat(600);
        let clipped = clip(&text, MAX_DESCRIPTION);
        assert!(clipped.len() <= MAX_DESCRIPTION);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip("short", MAX_DESCRIPTION), "short");
    }

    #[test]
    fn every_rule_descriptor_comes_from_the_rule_doc() {
        for rule in rules::RULES {
            let d = describe(rule);
            assert_eq!(d.help.markdown, doc::markdown(rule));
            assert_eq!(
                Some(d.full_description.text),
                doc::section(rule, "What it checks").map(|t| clip(&t, MAX_DESCRIPTION))
            );
            assert!(d
                .help_uri
                .unwrap_or_default()
                .ends_with(&format!("/docs/rules/{}.md", rule.code)));
        }
    }
}
