//! The one per-file path from bytes to a template: decode, detect the format, load within
//! the limits, and lay the document out (CloudFormation, Serverless Framework) by the
//! file's path. Every command that looks at a template (`check`, `--fix`/`--diff`,
//! `inventory`, the pull-request guard's base side) goes through [`TemplateFile`], so two
//! commands cannot disagree about where a file keeps its resources: the layout-blind
//! constructor of [`Template`] is not public.
//!
//! A file that is not a template may be a policy file (an IAM policy document, or an AWS
//! CLI output around one: [`crate::model::policy_file`]); its view is then one resource
//! per policy document, which the IAM rules and the inventory read like template
//! policies.

use std::path::Path;

use crate::finding::{Finding, Suppression, TemplateLocation};
use crate::load::{self, Aliases, Document, FileError, Format, Limits};
use crate::model::policy_file::{self, FilePolicy};
use crate::model::serverless::{self, Fragment};
use crate::model::{policy_strings, Layout, Template};
use crate::read::{Files, WorkingTree};
use crate::source::{LineIndex, Span};
use crate::timings::{self, Stage};

/// A file's text loaded into a document, with the layout its path gives it.
pub struct TemplateFile<'s> {
    text: &'s str,
    doc: Document<'s>,
    layout: Layout,
    /// The policy documents of a policy file; empty for a template or any other file.
    policies: Vec<FilePolicy>,
    /// The files a Serverless service's `${file(...)}` variables brought in.
    fragments: Vec<Fragment>,
}

impl<'s> TemplateFile<'s> {
    /// Decode `bytes`, then [`TemplateFile::from_text`]. An error's span indexes `bytes`
    /// (the text, when they are UTF-8; the first invalid byte when they are not).
    pub fn from_bytes(path: &Path, bytes: &'s [u8], limits: &Limits) -> Result<Self, FileError> {
        TemplateFile::from_bytes_in(path, bytes, limits, &WorkingTree)
    }

    /// [`TemplateFile::from_bytes`] for a file whose own named files (a Serverless
    /// service's `${file(...)}` fragments) are read from `files`: the base revision's, for
    /// the base side of a pull-request comparison.
    pub fn from_bytes_in(
        path: &Path,
        bytes: &'s [u8],
        limits: &Limits,
        files: &dyn Files,
    ) -> Result<Self, FileError> {
        let text = timings::time(Stage::Parse, || load::decode(bytes))?;
        TemplateFile::from_text_in(path, text, limits, files)
    }

    /// Load `text`, read from `path`: the extension (or the text) picks the format, the
    /// file name the layout.
    pub fn from_text(path: &Path, text: &'s str, limits: &Limits) -> Result<Self, FileError> {
        TemplateFile::from_text_in(path, text, limits, &WorkingTree)
    }

    fn from_text_in(
        path: &Path,
        text: &'s str,
        limits: &Limits,
        files: &dyn Files,
    ) -> Result<Self, FileError> {
        let parsing = timings::start();
        let loaded = load_document_in(path, text, limits, files);
        timings::stop(Stage::Parse, parsing);
        let (doc, fragments) = loaded?;
        let modelling = timings::start();
        let file = TemplateFile::view(path, text, doc, fragments, limits);
        timings::stop(Stage::Model, modelling);
        file
    }

    /// The layout, and the policy documents of a file that is not a template.
    fn view(
        path: &Path,
        text: &'s str,
        mut doc: Document<'s>,
        fragments: Vec<Fragment>,
        limits: &Limits,
    ) -> Result<Self, FileError> {
        let layout = Layout::detect(path);
        // One view of the document tells both whether it is a template and where its
        // policy documents written as JSON strings are (read like the others once
        // grafted). A template's error is reported by `template()` and grafts nothing;
        // only a file that is certainly not a template can be a policy file.
        let sites = match Template::with_layout(&doc, layout) {
            Ok(None) => None,
            Ok(Some(template)) => Some(policy_strings::sites(&template)),
            Err(_) => Some(policy_strings::Sites::default()),
        };
        let policies = match sites {
            None => policy_file::detect(&mut doc, path, limits)?.unwrap_or_default(),
            Some(sites) => {
                policy_strings::graft_sites(&mut doc, sites, limits)?;
                Vec::new()
            }
        };
        Ok(TemplateFile {
            text,
            doc,
            layout,
            policies,
            fragments,
        })
    }

    /// The template view, laid out as the path says; for a policy file, one resource per
    /// policy document; `None` when the file is neither (no `Resources` where its layout
    /// keeps them, no policy document).
    pub fn template(&self) -> Result<Option<Template<'_, 's>>, FileError> {
        timings::time(Stage::Model, || self.template_untimed())
    }

    fn template_untimed(&self) -> Result<Option<Template<'_, 's>>, FileError> {
        if !self.policies.is_empty() {
            return Ok(Some(Template::for_policies(&self.doc, &self.policies)));
        }
        Template::with_layout(&self.doc, self.layout)
    }

    /// The policy documents, when the file is a policy file.
    pub fn policies(&self) -> &[FilePolicy] {
        &self.policies
    }

    pub fn document(&self) -> &Document<'s> {
        &self.doc
    }

    pub fn text(&self) -> &'s str {
        self.text
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Place the findings about a `${file(...)}` fragment in it: the finding's location
    /// (`Finding::template`) is the place in the fragment, with the fragment's own line
    /// and column, and its span in this file is the variable that brought the fragment
    /// in. Labels inside a fragment move to that variable too, and such a finding has no
    /// fix (the fragment is not this file's text).
    pub fn relocate(&self, finding: &mut Finding) {
        let Some((fragment, location)) = self.in_fragment(finding.span) else {
            return;
        };
        finding.template = Some(Box::new(location));
        finding.span = fragment.reference;
        for label in &mut finding.labels {
            if label.span.start > self.text.len() {
                label.span = self
                    .fragment_at(label.span.start)
                    .map_or(fragment.reference, |f| f.reference);
            }
        }
        finding.fix = None;
    }

    /// [`TemplateFile::relocate`] for the suppression entry that silenced a finding: an
    /// entry inside a fragment is placed there, and its span in this file is the variable.
    pub fn relocate_suppression(&self, suppression: &mut Suppression) {
        if let Some((fragment, location)) = self.in_fragment(suppression.span) {
            suppression.template = Some(Box::new(location));
            suppression.span = fragment.reference;
        }
    }

    /// `path:line:column` of `offset` of this document, shown as `display`: in the
    /// fragment that holds it when it lies past this file's text.
    pub fn place(&self, display: &str, offset: usize) -> String {
        if let Some((_, at)) = self.in_fragment(Span::new(offset, offset)) {
            return format!("{}:{}:{}", at.path, at.start.line, at.start.column);
        }
        let p = LineIndex::new(self.text).position(self.text, offset);
        format!("{display}:{}:{}", p.line, p.column)
    }

    /// The fragment `span` lies in, and its place there.
    fn in_fragment(&self, span: Span) -> Option<(&Fragment, TemplateLocation)> {
        if self.fragments.is_empty() || span.start <= self.text.len() {
            return None;
        }
        let fragment = self.fragment_at(span.start)?;
        let local = Span::new(
            span.start - fragment.base,
            span.end.saturating_sub(fragment.base),
        );
        let lines = LineIndex::new(&fragment.text);
        let location = TemplateLocation {
            via: "brought in by",
            path: fragment.display.clone(),
            span: local,
            start: lines.position(&fragment.text, local.start),
            end: lines.position(&fragment.text, local.end),
        };
        Some((fragment, location))
    }

    /// The bytes the rules read: this file's, and those of its fragments after them.
    pub fn all_bytes<'b>(&self, bytes: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        if self.fragments.is_empty() {
            return std::borrow::Cow::Borrowed(bytes);
        }
        let mut all = bytes.to_vec();
        for fragment in &self.fragments {
            all.push(b'\n');
            all.extend_from_slice(fragment.text.as_bytes());
        }
        std::borrow::Cow::Owned(all)
    }

    /// The files a Serverless service's `${file(...)}` variables brought in.
    pub fn fragments(&self) -> &[Fragment] {
        &self.fragments
    }

    fn fragment_at(&self, offset: usize) -> Option<&Fragment> {
        self.fragments.iter().find(|f| f.contains(offset))
    }
}

/// The document of a file as its layout reads it, before the template view: a Serverless
/// service's YAML may use anchors, aliases and merge keys (the Framework's js-yaml expands
/// them; their expanded size is bounded as for any YAML file, so an alias bomb is still
/// refused), its `${file(...)}` fragments are grafted in place
/// ([`serverless::resolve_files`]), and its `resources.extensions` are applied to the resources they extend
/// ([`serverless::apply_extensions`]). The fix engine re-reads a fixed text through this
/// too, so that it compares like with like.
pub fn load_document<'s>(
    path: &Path,
    text: &'s str,
    limits: &Limits,
) -> Result<(Document<'s>, Vec<Fragment>), FileError> {
    load_document_in(path, text, limits, &WorkingTree)
}

fn load_document_in<'s>(
    path: &Path,
    text: &'s str,
    limits: &Limits,
    files: &dyn Files,
) -> Result<(Document<'s>, Vec<Fragment>), FileError> {
    let format = Format::detect(path, text);
    let layout = Layout::detect(path);
    let aliases = match layout {
        Layout::Serverless => Aliases::Expand,
        Layout::CloudFormation => Aliases::Refuse,
    };
    let mut doc = load::load_with(text, format, limits, aliases)?;
    if let Some(first) = doc.aliases {
        if !load::alias_budget::within_budget(text, limits.max_nodes) {
            return Err(FileError::at(
                "YAML aliases expand to far more nodes than the file holds (an alias bomb)",
                first,
                "first alias or merge key",
            )
            .with_help("write the repeated values out, or use fewer levels of aliases; if this file is genuine, raise --max-nodes"));
        }
    }
    let mut fragments = Vec::new();
    if layout == Layout::Serverless {
        fragments = serverless::resolve_files(&mut doc, path, limits, files)?;
        serverless::apply_extensions(&mut doc)?;
    }
    Ok((doc, fragments))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVERLESS: &str =
        "service: s\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n";

    fn tables(path: &str, text: &str) -> Option<Vec<String>> {
        let file = TemplateFile::from_bytes(Path::new(path), text.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{}", e.message));
        let template = file.template().unwrap_or_else(|e| panic!("{}", e.message));
        template.map(|t| t.tables().map(|r| r.logical_id.to_string()).collect())
    }

    #[test]
    fn the_file_name_lays_out_a_serverless_service() {
        assert_eq!(
            tables("a/serverless.yml", SERVERLESS),
            Some(vec!["T".into()])
        );
        assert_eq!(
            tables("a/SERVERLESS.YAML", SERVERLESS),
            Some(vec!["T".into()])
        );
        let json = r#"{"service": "s", "resources": {"Resources": {"T": {"Type": "AWS::DynamoDB::Table"}}}}"#;
        assert_eq!(tables("a/serverless.json", json), Some(vec!["T".into()]));
        assert_eq!(tables("a/template.json", json), None);
        // The same text under another name is not a CloudFormation template.
        assert_eq!(tables("a/template.yml", SERVERLESS), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_at_the_first_invalid_byte() {
        let bytes = b"Resources: \xff\n";
        let failed = TemplateFile::from_bytes(Path::new("t.yaml"), bytes, &Limits::default())
            .err()
            .expect("invalid UTF-8 is refused");
        assert_eq!(failed.span.map(|s| s.start), Some(11));
    }
}
