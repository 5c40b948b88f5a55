//! Stage 5: reports. One file per output format; every format renders the same
//! [`Report`](crate::check::Report). A reporter never inspects templates: it reads
//! findings, errors, spans and, for snippets, the file text.

pub mod human;
pub mod inventory;
pub mod json;

use std::io::{self, Write};

use crate::check::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub color: bool,
    /// Terminal width for wrapping human output.
    pub width: usize,
    /// Print the elapsed time in the summary (off in snapshot tests).
    pub timing: bool,
    /// List suppressed findings too (`--show-suppressed`); they are always counted.
    pub show_suppressed: bool,
}

pub fn render(
    format: Format,
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, options, out),
        Format::Json => json::render(report, out),
    }
}
