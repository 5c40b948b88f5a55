//! A finding is plain data: rule, severity, byte span, message, help. Rendering lives in
//! `report`, which turns the same list into every output format.

use serde::Serialize;

use crate::source::{Position, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary place worth pointing at, with a short text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable rule code, e.g. `DDB001`.
    pub code: &'static str,
    /// Rule slug, e.g. `deletion-policy`.
    pub name: &'static str,
    pub severity: Severity,
    /// Logical ID of the resource (the fragment key inside `Fn::ForEach`).
    pub resource: String,
    pub resource_type: String,
    pub message: String,
    /// Where the finding points: the offending value, or the logical-ID key.
    pub span: Span,
    /// The text of the label on `span`.
    pub label: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// How to resolve the finding automatically, when the text allows it.
    pub fix: Option<Fix>,
    /// Where the resource is declared in another file: the template a change set was made
    /// from (`changeset --template`), so that annotations land on a line of the pull
    /// request. `None` for findings about the checked file alone.
    pub template: Option<Box<TemplateLocation>>,
    /// The CDK construct the resource was synthesized from, when the template is `cdk
    /// synth` output (see [`crate::cdk`]).
    pub cdk: Option<Box<CdkOrigin>>,
}

/// Where a finding in a CDK-synthesized template comes from in the CDK app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdkOrigin {
    /// The construct's path (`AppStack/CartTable`), from the resource's `aws:cdk:path`;
    /// `None` when the app synthesized without path metadata.
    pub construct_path: Option<String>,
    /// The stack's name, from the cloud assembly's `manifest.json`.
    pub stack: Option<String>,
}

/// A resource's logical-ID key in a template other than the file the finding is in, with
/// its positions computed from that template's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateLocation {
    /// What the checked file's place is, said where the finding is shown in the other
    /// file: "change set" (a change set made from this template), "the variable" (the
    /// Serverless `${file(...)}` that brings this fragment into the service).
    pub via: &'static str,
    pub path: String,
    pub span: Span,
    pub start: Position,
    pub end: Position,
}

/// Whether a fix keeps the template's intended behaviour (ruff's applicability). `--fix`
/// applies only safe fixes; unsafe ones also need `--unsafe-fixes`, because they overrule
/// something the author wrote on purpose (a condition, a parameter) or change cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Unsafe,
    Safe,
}

/// Replace the bytes of `span` (empty for an insertion) by `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            span: Span::new(at, at),
            replacement: text.into(),
        }
    }

    pub fn delete(span: Span) -> Self {
        Edit {
            span,
            replacement: String::new(),
        }
    }

    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Edit {
            span,
            replacement: text.into(),
        }
    }
}

/// A value a fix writes. Kept structural (not text) so that the same value can be rendered
/// in YAML or JSON style and checked against the re-parsed tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixValue {
    Str(String),
    Bool(bool),
    Map(Vec<(String, FixValue)>),
}

/// One structural effect a fix must have on the parse tree: key `key` of the mapping whose
/// span is `map` is set to `value`, or removed when `value` is `None`. The fix engine
/// verifies that the fixed text parses to the original tree plus exactly these changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub map: Span,
    pub key: String,
    pub value: Option<FixValue>,
}

/// Byte edits that resolve a finding, plus what they must do to the tree. Rules attach
/// fixes; only the engine in `crate::fix_engine` applies them, so a rule never writes files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, in the imperative ("insert `DeletionPolicy: Retain`").
    pub description: String,
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
}

/// Why a finding is silenced: the reason from the resource's `Metadata.ddb-guard.ignore`
/// entry, and that entry's span (SARIF `suppressions[].justification` and location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    pub span: Span,
    /// The entry's place when it is in another file than the finding's report (a
    /// Serverless `${file(...)}` fragment); `span` is then the variable that brings it in.
    pub template: Option<Box<TemplateLocation>>,
}
