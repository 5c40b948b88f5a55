//! A finding is plain data: rule, severity, byte span, message, help. Rendering lives in
//! `report`, which turns the same list into every output format.

use serde::Serialize;

use crate::source::Span;

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
}
