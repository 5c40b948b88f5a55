//! [`FileError`]: the error attached to one file in a report.

use crate::finding::Label;
use crate::source::Span;

/// Why a file could not be checked, read, loaded, compared or fixed: what went wrong,
/// where in the file (when a place is known), and what to do. The one error type for a
/// file, from the reader (I/O, size limit), the loader, the model, the base side of the
/// pull-request guard and the fix engine (a refused fix); reports show it as they show a
/// finding.
#[derive(Clone, Debug, PartialEq)]
pub struct FileError {
    pub message: String,
    pub span: Option<Span>,
    /// The label on `span`.
    pub label: Option<String>,
    /// Further places worth showing (the first of two duplicate keys).
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl FileError {
    pub fn new(message: impl Into<String>) -> Self {
        FileError {
            message: message.into(),
            span: None,
            label: None,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn at(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        FileError {
            span: Some(span),
            label: Some(label.into()),
            ..FileError::new(message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }
}
