//! The deploy-time gate (`ddb-guard changeset`): read the JSON that `aws cloudformation
//! describe-change-set` prints (one or more files, or standard input), put pages and
//! nested change sets together, run the change-set rules, and hand back the same
//! [`Report`] that `check` makes, so that every format and the exit code work unchanged.
//!
//! Fail closed: a file that is not a change set, a page or nested change set that is
//! missing, an enum value AWS added after this version, or a change set that is not
//! complete is an error (exit 2), never a pass.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use crate::check::Settings;
use crate::finding::{Finding, TemplateLocation};
use crate::load::{self, FileError, Format};
use crate::model::changeset::{self, ChangeSetPage, ResourceChange, Status as SetStatus};
use crate::report::data::{summarize, FileReport, Report, Status};
use crate::report::excerpt::ExcerptBuilder;
use crate::rules::changeset::{changeset_rules, check_page, PageView};
use crate::rules::Rule;
use crate::source::{LineIndex, Span};
use crate::template_file::TemplateFile;

/// One input: its name in reports, and its bytes (or why they could not be read).
pub struct Input {
    pub display: String,
    pub bytes: Result<Vec<u8>, FileError>,
}

impl Input {
    /// Read a file argument; `-` is standard input.
    pub fn read(arg: &Path, max_file_size: u64) -> Input {
        if arg.as_os_str() == "-" {
            let mut bytes = Vec::new();
            let read = std::io::Read::read_to_end(
                &mut std::io::Read::take(std::io::stdin().lock(), max_file_size + 1),
                &mut bytes,
            );
            let bytes = match read {
                Err(e) => Err(FileError::new(format!("cannot read standard input: {e}"))),
                Ok(_) if bytes.len() as u64 > max_file_size => Err(FileError::new(format!(
                    "standard input is larger than the {max_file_size} byte limit"
                ))
                .with_help("raise the limit with --max-file-size")),
                Ok(_) => Ok(bytes),
            };
            return Input {
                display: "<stdin>".into(),
                bytes,
            };
        }
        Input {
            display: arg.display().to_string(),
            bytes: crate::read::file(arg, max_file_size),
        }
    }
}

/// A loaded page and what the reports need of its file.
struct Loaded {
    /// Index into the inputs (and the file reports).
    file: usize,
    page: ChangeSetPage,
}

/// Check the change sets in `inputs`; files are reported in argument order.
pub fn run(inputs: Vec<Input>, settings: &Settings) -> Report {
    run_with_template(inputs, None, settings)
}

/// [`run`], and give every finding about a resource of the root change set the place the
/// `template` (the one the change set was made from) declares it: its logical-ID key, or
/// for a resource the change removes (no longer in the template), its `Resources` key. A
/// template that does not load is an error of its own.
pub fn run_with_template(
    inputs: Vec<Input>,
    template: Option<(&Path, Input)>,
    settings: &Settings,
) -> Report {
    let (mut report, nested) = run_sets(inputs, settings);
    if let Some((path, input)) = template {
        if let Err(failed) = locate_in_template(&mut report, &nested, path, &input, settings) {
            let (error, text) = *failed;
            let mut file = empty(input.display);
            file.errors.push(error);
            if let Some(text) = text {
                file.source = Some(excerpt(&text, &file));
            }
            report.files.push(file);
            report.summary = summarize(&report.files);
        }
    }
    report
}

fn locate_in_template(
    report: &mut Report,
    nested: &[bool],
    path: &Path,
    input: &Input,
    settings: &Settings,
) -> Result<(), Box<(FileError, Option<String>)>> {
    let bytes = input
        .bytes
        .as_ref()
        .map_err(|e| Box::new((e.clone(), None)))?;
    let text = std::str::from_utf8(bytes).map_err(|e| Box::new((utf8_error(e), None)))?;
    let with_text = |e: FileError| Box::new((e, Some(text.to_string())));
    let file = TemplateFile::from_text(path, text, &settings.limits).map_err(with_text)?;
    let Some(template) = file.template().map_err(with_text)? else {
        return Err(Box::new((
            FileError::new("`--template` is not a CloudFormation template (it has no `Resources`)"),
            None,
        )));
    };
    let doc = file.document();
    let lines = LineIndex::new(text);
    let located = |span: Span| {
        Box::new(TemplateLocation {
            via: "change set",
            path: input.display.clone(),
            span,
            start: lines.position(text, span.start),
            end: lines.position(text, span.end),
        })
    };
    let resources_key = doc
        .root
        .and_then(|root| doc.get(root, "Resources"))
        .map(|e| doc.span(e.key));
    // The template is the root stack's: nested change sets describe other templates.
    let root_files = report
        .files
        .iter_mut()
        .zip(nested)
        .filter(|(_, nested)| !**nested);
    for (file, _) in root_files {
        // DDB036 is about the change set itself, not a resource of the template.
        for finding in file.findings.iter_mut().filter(|f| f.code != "DDB036") {
            let declared = template
                .resource(&finding.resource)
                .map(|r| doc.span(r.key));
            if let Some(span) = declared.or(resources_key) {
                finding.template = Some(located(span));
            }
        }
    }
    Ok(())
}

/// The report, and for each of its files whether it holds a nested change set.
fn run_sets(inputs: Vec<Input>, settings: &Settings) -> (Report, Vec<bool>) {
    let started = Instant::now();
    let rules = changeset_rules(&settings.rules);
    let mut files: Vec<FileReport> = Vec::new();
    let mut texts: Vec<Option<String>> = Vec::new();
    let mut loaded: Vec<Loaded> = Vec::new();
    for (file, input) in inputs.into_iter().enumerate() {
        let mut report = empty(input.display);
        let text = match input
            .bytes
            .and_then(|b| String::from_utf8(b).map_err(|e| utf8_error(e.utf8_error())))
        {
            Ok(text) => text,
            Err(error) => {
                report.errors.push(error);
                files.push(report);
                texts.push(None);
                continue;
            }
        };
        match read(&text, settings) {
            Ok(page) => {
                if let Some(error) = status_error(&page) {
                    report.errors.push(error);
                }
                loaded.push(Loaded { file, page });
            }
            Err(error) => report.errors.push(error),
        }
        files.push(report);
        texts.push(Some(text));
    }

    // Pages of one change set, in argument order.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        let key = l.page.key();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, pages)) => pages.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    for (key, pages) in &groups {
        for (n, pair) in pages.windows(2).enumerate() {
            let (this, next) = (&loaded[pair[0]], &loaded[pair[1]]);
            if this.page.next_token.is_none() {
                let error = FileError::at(
                    format!(
                        "another page of change set `{key}` follows its last page (page {} of this change set has no `NextToken`): a page given twice, or pages out of order",
                        n + 1
                    ),
                    head(next.page.span),
                    "unexpected page",
                )
                .with_help("give each page once, in the order `NextToken` links them");
                files[next.file].errors.push(error);
            }
        }
        if let Some(&last) = pages.last() {
            let l = &loaded[last];
            if let Some(token) = &l.page.next_token {
                let error = FileError::at(
                    format!(
                        "change set `{key}` has more pages: the page after this one (page {}) is missing",
                        pages.len()
                    ),
                    token.span,
                    "more pages follow",
                )
                .with_help(format!(
                    "fetch it with `aws cloudformation describe-change-set --change-set-name {} --starting-token {} --output json` and give it after this file (without `--no-paginate` and `--max-items`, the aws CLI fetches every page itself)",
                    shell_word(key),
                    shell_word(&token.value)
                ));
                files[l.file].errors.push(error);
            }
        }
    }

    // Every change set's changes, by key, for nested stacks to find theirs.
    let mut sets: HashMap<String, Vec<&ResourceChange>> = HashMap::new();
    for (key, pages) in &groups {
        sets.insert(
            key.clone(),
            pages
                .iter()
                .flat_map(|&i| loaded[i].page.changes.iter())
                .collect(),
        );
    }
    // The parent stack change of each nested change set that was given.
    let mut parents: HashMap<&str, &ResourceChange> = HashMap::new();
    let mut parent_set: HashMap<&str, String> = HashMap::new();
    for (key, pages) in &groups {
        for &i in pages {
            for change in &loaded[i].page.changes {
                let Some(id) = &change.change_set_id else {
                    continue;
                };
                if sets.contains_key(&id.value) {
                    parents.entry(id.value.as_str()).or_insert(change);
                    parent_set.entry(id.value.as_str()).or_insert(key.clone());
                } else {
                    let error = FileError::at(
                        format!(
                            "the nested change set of stack `{}` is not given: `{}`",
                            change.logical_id.value, id.value
                        ),
                        id.span,
                        "nested change set missing",
                    )
                    .with_help(format!(
                        "fetch it with `aws cloudformation describe-change-set --change-set-name {} --output json > nested.json` and give that file too: the tables inside the nested stack cannot be checked without it",
                        shell_word(&id.value)
                    ));
                    files[loaded[i].file].errors.push(error);
                }
            }
        }
    }

    let mut nested = vec![false; files.len()];
    for (key, pages) in &groups {
        let nested_in = chain(key, &parents, &parent_set);
        for &i in pages {
            nested[loaded[i].file] = !nested_in.is_empty();
        }
        for (n, &i) in pages.iter().enumerate() {
            let l = &loaded[i];
            let view = PageView {
                page: &l.page,
                first: n == 0,
                nested_in: &nested_in,
                parent: parents.get(key.as_str()).copied(),
                sets: &sets,
            };
            let report = &mut files[l.file];
            let mut findings = check_page(&view, &rules);
            override_severities(settings, &mut findings);
            report.findings = findings;
            report.checked = checked(&l.page, &rules);
            if report.errors.is_empty() {
                report.status = Status::Checked {
                    tables: l.page.changes.iter().filter(|c| c.is_table()).count(),
                };
            }
        }
    }

    for (report, text) in files.iter_mut().zip(&texts) {
        if let Some(text) = text {
            if !report.findings.is_empty() || !report.errors.is_empty() {
                report.source = Some(excerpt(text, report));
            }
        }
    }
    let summary = summarize(&files);
    let report = Report {
        files,
        summary,
        elapsed: started.elapsed(),
        stale_baseline: Vec::new(),
        unlisted: Default::default(),
    };
    (report, nested)
}

fn empty(path: String) -> FileReport {
    FileReport {
        path,
        status: Status::Failed,
        findings: Vec::new(),
        suppressed: Vec::new(),
        baselined: Vec::new(),
        errors: Vec::new(),
        checked: Vec::new(),
        source: None,
        checked_bytes: None,
        guardrail_facts: Vec::new(),
        includes: Vec::new(),
        included_from: None,
        config: None,
        synthesized: false,
        fragments: Vec::new(),
        base_fragments: Vec::new(),
    }
}

fn utf8_error(e: std::str::Utf8Error) -> FileError {
    let at = e.valid_up_to();
    FileError::at(
        "file is not valid UTF-8",
        Span::new(at, at + e.error_len().unwrap_or(1)),
        "invalid byte here",
    )
    .with_help("`aws cloudformation describe-change-set --output json` prints UTF-8 JSON")
}

/// The first character of a span: where an error about a whole object points.
fn head(span: Span) -> Span {
    Span::new(span.start, span.start + 1)
}

/// Load one input as a change set page. Text that is not JSON at all gets an error that
/// says which `aws` output it looks like.
fn read(text: &str, settings: &Settings) -> Result<ChangeSetPage, FileError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offset = text.len() - body.len();
    let trimmed = body.trim_start();
    let at = offset + body.len() - trimmed.len();
    let first_line = trimmed.lines().next().unwrap_or("");
    let first = Span::new(at, at + first_line.len().max(1).min(trimmed.len().max(1)));
    if trimmed.is_empty() {
        return Err(
            FileError::new("the file is empty, not a change set").with_help(
                "give the JSON that `aws cloudformation describe-change-set --output json` prints",
            ),
        );
    }
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        let looks = if trimmed.starts_with('-') || trimmed.starts_with('|') {
            "this looks like the `aws` CLI's table output"
        } else if first_line.contains('\t') || first_line.starts_with("CHANGES") {
            "this looks like the `aws` CLI's text output"
        } else if first_line.contains(": ") || first_line.ends_with(':') {
            "this looks like YAML (the `aws` CLI's yaml output)"
        } else {
            "the file does not start with `{`"
        };
        return Err(FileError::at(
            format!("not JSON: {looks}"),
            first,
            "expected `{`",
        )
        .with_help("run `aws cloudformation describe-change-set ... --output json` (or set `AWS_DEFAULT_OUTPUT=json`)"));
    }
    let doc = load::load(text, Format::Json, &settings.limits).map_err(|mut e| {
        if e.message.starts_with("invalid JSON") && !text.trim_end().ends_with(['}', ']']) {
            e.message
                .push_str(" (the file ends early: is it truncated?)");
        }
        e
    })?;
    changeset::read_page(&doc, &settings.limits)
}

/// A change set that holds no complete answer: still being created, deleted, or failed
/// for a reason other than having no changes.
fn status_error(page: &ChangeSetPage) -> Option<FileError> {
    let status = page.status.as_ref()?;
    let reason = page
        .status_reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let (message, help) = match status.value {
        SetStatus::CreateComplete => return None,
        SetStatus::Failed if page.failed_without_changes() => return None,
        SetStatus::CreatePending | SetStatus::CreateInProgress => (
            format!("the change set is not complete yet (`{}`): its changes are not all known", status.value.as_str()),
            "wait with `aws cloudformation wait change-set-create-complete`, then describe it again",
        ),
        SetStatus::Failed => (
            format!("the change set failed{reason}"),
            "fix what CloudFormation reports and create the change set again",
        ),
        _ => (
            format!("the change set is deleted or being deleted (`{}`)", status.value.as_str()),
            "create the change set again and describe the new one",
        ),
    };
    Some(FileError::at(message, status.span, "cannot be checked").with_help(help))
}

/// The logical IDs of the stacks a change set is nested in, outermost first. Bounded: a
/// cycle of change-set IDs (only in a crafted file) stops at the first repeat.
fn chain(
    key: &str,
    parents: &HashMap<&str, &ResourceChange>,
    parent_set: &HashMap<&str, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut at = key.to_string();
    while seen.insert(at.clone()) {
        let (Some(stack), Some(up)) = (parents.get(at.as_str()), parent_set.get(at.as_str()))
        else {
            break;
        };
        out.push(stack.logical_id.value.clone());
        at = up.clone();
    }
    out.reverse();
    out
}

fn override_severities(settings: &Settings, findings: &mut [Finding]) {
    for finding in findings {
        if let Some((_, severity)) = settings.severities.iter().find(|(c, _)| *c == finding.code) {
            finding.severity = *severity;
        }
    }
}

/// What was checked, for reports that list passing checks (JUnit): each table and stack
/// change against the rules about it, and the change set's status once.
fn checked(page: &ChangeSetPage, rules: &[&Rule]) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for change in &page.changes {
        for rule in rules {
            let code = rule.code;
            let applies = match code {
                "DDB032" => change.is_stack(),
                "DDB036" => false,
                _ => change.is_table(),
            };
            if applies {
                out.push((change.logical_id.value.clone(), code));
            }
        }
    }
    if rules.iter().any(|r| r.code == "DDB036") {
        out.push((String::new(), "DDB036"));
    }
    out
}

/// A word for a shell command line: single-quoted unless it is plainly safe.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/-_.=+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// What the reports need of `text`: the spans of the findings and errors and the lines
/// around them.
fn excerpt(text: &str, report: &FileReport) -> crate::report::excerpt::Excerpt {
    let mut builder = ExcerptBuilder::new(text);
    for finding in &report.findings {
        let spans: Vec<Span> = std::iter::once(finding.span)
            .chain(finding.labels.iter().map(|l| l.span))
            .collect();
        builder.diagnostic(&spans);
    }
    for error in &report.errors {
        let labels = error.labels.iter().map(|l| l.span);
        match error.span {
            Some(span) => {
                builder.diagnostic(&std::iter::once(span).chain(labels).collect::<Vec<_>>())
            }
            None => labels.for_each(|span| builder.point(span)),
        }
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::{ExitStatus, FailOn};

    fn input(name: &str, text: &str) -> Input {
        Input {
            display: name.into(),
            bytes: Ok(text.as_bytes().to_vec()),
        }
    }

    fn settings() -> Settings {
        Settings {
            rules: crate::rules::RULES.to_vec(),
            ..Settings::default()
        }
    }

    #[test]
    fn a_missing_next_page_is_an_error_naming_the_token() {
        let page = r#"{"ChangeSetId":"arn:aws:cloudformation:us-east-1:1:changeSet/c/1","Status":"CREATE_COMPLETE","ExecutionStatus":"AVAILABLE","NextToken":"tok123","Changes":[]}"#;
        let report = run(vec![input("p1.json", page)], &settings());
        assert_eq!(report.exit_status(FailOn::Error), ExitStatus::Error);
        let error = &report.files[0].errors[0];
        assert!(
            error
                .message
                .contains("the page after this one (page 1) is missing"),
            "{}",
            error.message
        );
        assert!(error
            .help
            .as_deref()
            .unwrap_or("")
            .contains("--starting-token tok123"));
    }

    #[test]
    fn a_missing_nested_change_set_names_its_id_and_the_command() {
        let page = r#"{"ChangeSetId":"arn:root","Status":"CREATE_COMPLETE","Changes":[{"Type":"Resource","ResourceChange":{"Action":"Modify","LogicalResourceId":"Data","ResourceType":"AWS::CloudFormation::Stack","ChangeSetId":"arn:aws:cloudformation:us-east-1:1:changeSet/nested/2"}}]}"#;
        let report = run(vec![input("root.json", page)], &settings());
        assert_eq!(report.exit_status(FailOn::Error), ExitStatus::Error);
        let error = &report.files[0].errors[0];
        assert!(error
            .message
            .contains("arn:aws:cloudformation:us-east-1:1:changeSet/nested/2"));
        assert!(error
            .help
            .as_deref()
            .unwrap_or("")
            .contains("aws cloudformation describe-change-set --change-set-name arn:aws:cloudformation:us-east-1:1:changeSet/nested/2"));
    }

    #[test]
    fn table_output_of_the_aws_cli_is_refused_with_a_hint() {
        let report = run(
            vec![input("cs.txt", "-----------------\n|DescribeChangeSet|\n")],
            &settings(),
        );
        assert_eq!(report.exit_status(FailOn::Error), ExitStatus::Error);
        assert!(report.files[0].errors[0].message.contains("table output"));
    }
}
