//! `ddb-guard inventory`: every table with each of its protection layers, and the
//! guardrails (vault locks, vault policies, service control policies) around them.
//!
//! The same pipeline as [`check`](crate::check) up to the template view (discovery,
//! prefilter, limits, fail-closed loading), then the rules' own proofs in
//! [`rules::layers`] instead of the rules: the inventory and the check cannot disagree.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::base_revision;
use crate::check::Settings;
use crate::discover::Candidate;
use crate::load::FileError;
use crate::model::{backup, nested};
use crate::prefilter::Prefilter;
use crate::read;
use crate::report::data::{GuardrailRow, Inventory, InventoryError, NotVisibleRow, TableRow};
use crate::rules::layers;
use crate::rules::{self, ResourceView};
use crate::source::SourceText;
use crate::stackset;
use crate::template_file::TemplateFile;

/// Patterns without which a file holds neither a table nor a guardrail nor another
/// template: the layer rules' own (a table type), the guardrail resource types, and the
/// types that include templates.
const GUARDRAIL_NEEDLES: rules::Needles = &[
    &["aws::backup::backupvault"],
    &["aws::organizations::policy"],
    // Policy files (see `model::policy_file`): a deny is in a `Statement`, or URL-encoded
    // in a policy version.
    &["statement"],
    &["policyversion"],
    // Templates that include others (nested stacks, stack sets).
    &["aws::cloudformation::stack"],
    &["aws::serverless::application"],
];

/// The rules whose proofs are the layers; their needles are the table prefilter.
pub const LAYER_RULES: &[&str] = &["DDB001", "DDB002", "DDB003", "DDB004", "DDB005"];

impl FileInventory {
    /// Nothing to list and nothing a later step reads: only counted.
    fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.guardrails.is_empty()
            && self.not_visible.is_empty()
            && self.errors.is_empty()
            && self.includes.is_empty()
            && self.fragments.is_empty()
    }
}

/// What one file holds for the inventory.
#[derive(Default)]
pub struct FileInventory {
    pub path: String,
    pub template: bool,
    pub tables: Vec<TableRow>,
    pub guardrails: Vec<GuardrailRow>,
    pub not_visible: Vec<NotVisibleRow>,
    pub errors: Vec<InventoryError>,
    /// The local templates it includes (nested stacks), inventoried too.
    pub includes: Vec<Candidate>,
    /// The `${file(...)}` fragments a Serverless service brought in (canonical paths),
    /// whose tables are listed with the service, not again on their own.
    pub fragments: Vec<std::path::PathBuf>,
}

pub fn needles() -> Vec<&'static [&'static str]> {
    let mut needles: Vec<&'static [&'static str]> = LAYER_RULES
        .iter()
        .filter_map(|code| rules::find(code))
        .flat_map(|r| r.needles.iter().copied())
        .chain(GUARDRAIL_NEEDLES.iter().copied())
        .collect();
    needles.sort_unstable();
    needles.dedup();
    needles
}

/// Inventory every walked file in parallel; rows come out in path order, then template
/// order, whatever the thread count. The files come from `walk` one at a time (no list
/// of them is kept, as in `check`); the steps across files that look a walked file up
/// (is an included template one the walk found, which walked files are a service's
/// fragments) walk again with `again`.
pub fn run(
    walk: crate::discover::Walk,
    again: &dyn Fn() -> crate::discover::Walk,
    settings: &Settings,
) -> Inventory {
    let prefilter = Prefilter::new(needles());
    // A file with nothing to list (most of a tree) is only counted, so that memory grows
    // with what is found, not with the size of the tree.
    let (mut unlisted_files, mut unlisted_templates) = (0usize, 0usize);
    let mut files: Vec<FileInventory> = Vec::new();
    let mut walk = walk;
    let items = std::mem::replace(&mut walk.files, Box::new(std::iter::empty()));
    let threads = rayon::current_num_threads();
    crate::ordered::map(
        items,
        threads,
        threads * crate::ordered::WINDOW_PER_THREAD,
        |c| inventory_file(&c, &prefilter, settings),
        |f| {
            if f.is_empty() {
                unlisted_files += 1;
                unlisted_templates += usize::from(f.template);
            } else {
                files.push(f);
            }
        },
    );
    let walk_errors = walk.errors();
    // Every walked file again, one at a time, for the steps across files below.
    let walked = |visit: &mut dyn FnMut(Candidate)| again().files.for_each(visit);
    // The local nested templates, in waves, each file once (as `check` follows them).
    if files.iter().any(|f| !f.includes.is_empty()) {
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let mut next = 0;
        loop {
            // The included files of this wave the walk did not find (those it found are
            // inventoried already).
            let targets: HashSet<PathBuf> = files[next..]
                .iter()
                .flat_map(|f| f.includes.iter())
                .map(|c| base_revision::canonical(&c.path))
                .filter(|k| !seen.contains(k))
                .collect();
            let mut found: HashSet<PathBuf> = HashSet::new();
            if !targets.is_empty() {
                walked(&mut |c| {
                    let canonical = base_revision::canonical(&c.path);
                    if targets.contains(&canonical) {
                        found.insert(canonical);
                    }
                });
            }
            let wave: Vec<Candidate> = files[next..]
                .iter()
                .flat_map(|f| f.includes.iter())
                .filter(|c| {
                    let canonical = base_revision::canonical(&c.path);
                    !found.contains(&canonical) && seen.insert(canonical)
                })
                .cloned()
                .collect();
            next = files.len();
            if wave.is_empty() {
                break;
            }
            let done: Vec<FileInventory> = wave
                .par_iter()
                .map(|c| inventory_file(c, &prefilter, settings))
                .collect();
            for f in done {
                if f.is_empty() {
                    unlisted_files += 1;
                    unlisted_templates += usize::from(f.template);
                } else {
                    files.push(f);
                }
            }
        }
    }
    files.extend(walk_errors.into_iter().map(|e| FileInventory {
        errors: vec![error(&e.display, None, FileError::new(e.message))],
        path: e.display,
        ..FileInventory::default()
    }));
    let fragments: HashSet<PathBuf> = files
        .iter()
        .flat_map(|f| f.fragments.iter().cloned())
        .collect();
    if !fragments.is_empty() {
        files.retain(|f| {
            !f.fragments.is_empty()
                || !fragments.contains(&base_revision::canonical(Path::new(&f.path)))
        });
        // A fragment with nothing of its own to list was only counted: it is part of its
        // service, not a file of its own (inventoried again: fragments are few).
        walked(&mut |c| {
            if fragments.contains(&base_revision::canonical(&c.path)) {
                let f = inventory_file(&c, &prefilter, settings);
                if f.is_empty() {
                    unlisted_files = unlisted_files.saturating_sub(1);
                    unlisted_templates = unlisted_templates.saturating_sub(usize::from(f.template));
                }
            }
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut inventory = Inventory {
        files: files.len() + unlisted_files,
        templates: unlisted_templates,
        ..Inventory::default()
    };
    for file in files {
        inventory.templates += usize::from(file.template);
        inventory.tables.extend(file.tables);
        inventory.guardrails.extend(file.guardrails);
        inventory.not_visible.extend(file.not_visible);
        inventory.errors.extend(file.errors);
    }
    inventory
}

fn inventory_file(
    candidate: &Candidate,
    prefilter: &Prefilter,
    settings: &Settings,
) -> FileInventory {
    let display = &candidate.display;
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match read::candidate(candidate, settings.max_file_size) {
            Ok(bytes) => inventory_bytes(display, &candidate.path, &bytes, prefilter, settings),
            Err(e) => failed(display, None, e),
        }
    }));
    done.unwrap_or_else(|_| {
        failed(
            display,
            None,
            FileError::new("internal error while reading this file").with_help(
                "this is a bug in ddb-guard; please report it with the file that triggers it",
            ),
        )
    })
}

/// The inventory of one file's bytes, read from `path` (which picks the format and the
/// layout) and reported as `display`: the per-file path of [`run`], for texts that are
/// not files on disk (`audit`'s deployed templates and live policies).
pub fn inventory_text(
    display: &str,
    path: &Path,
    bytes: &[u8],
    settings: &Settings,
) -> FileInventory {
    // Built once per run, not per text (`audit` inventories every deployed template).
    static PREFILTER: std::sync::OnceLock<Prefilter> = std::sync::OnceLock::new();
    let prefilter = PREFILTER.get_or_init(|| Prefilter::new(needles()));
    inventory_bytes(display, path, bytes, prefilter, settings)
}

fn inventory_bytes(
    display: &str,
    path: &Path,
    bytes: &[u8],
    prefilter: &Prefilter,
    settings: &Settings,
) -> FileInventory {
    let mut out = FileInventory {
        path: display.to_string(),
        ..FileInventory::default()
    };
    if !prefilter.may_match(bytes) && !crate::model::serverless::may_include_files(path, bytes) {
        return out;
    }
    let file = match TemplateFile::from_bytes(path, bytes, &settings.limits) {
        Ok(file) => file,
        Err(e) => {
            // Positions only for a load error: a decode error's span indexes the bytes.
            let source = std::str::from_utf8(bytes).map(|text| SourceText::new(text.into()));
            // A service that does not load keeps its fragments: they are not templates of
            // their own.
            let mut failed = failed(display, source.as_ref().ok(), e);
            failed.fragments = crate::model::serverless::named_fragments(path, bytes);
            return failed;
        }
    };
    out.fragments = file
        .fragments()
        .iter()
        .map(|f| crate::base_revision::canonical(&f.path))
        .collect();
    let loaded = file.template().map(|template| {
        let template = template?;
        let tables: Vec<TableRow> = template
            .tables()
            .map(|resource| {
                let view = ResourceView {
                    template: &template,
                    resource,
                    options: &settings.options,
                };
                TableRow {
                    path: display.to_string(),
                    resource: resource.logical_id.to_string(),
                    resource_type: resource.type_name.unwrap_or_default().to_string(),
                    layers: layers::layers(&view),
                    stack_set: None,
                    live: None,
                }
            })
            .collect();
        let mut tables = tables;
        let mut not_visible = Vec::new();
        // A stack set's inline template: its tables are in every target account.
        stackset::for_each_body(&template, &settings.limits, |id, inner| match inner {
            Ok(inner) => tables.extend(inner.tables().map(|resource| {
                let view = ResourceView {
                    template: inner,
                    resource,
                    options: &settings.options,
                };
                TableRow {
                    path: display.to_string(),
                    resource: format!("{id}/{}", resource.logical_id),
                    resource_type: resource.type_name.unwrap_or_default().to_string(),
                    layers: layers::layers(&view),
                    stack_set: Some(id.to_string()),
                    live: None,
                }
            })),
            Err(why) => not_visible.push(NotVisibleRow {
                path: display.to_string(),
                resource: id.to_string(),
                resource_type: nested::STACK_SET.to_string(),
                reason: why,
            }),
        });
        let mut includes = Vec::new();
        let mut missing = Vec::new();
        for stack in nested::nested(&template) {
            match stack.location {
                nested::Location::NotVisible(why) => not_visible.push(NotVisibleRow {
                    path: display.to_string(),
                    resource: stack.logical_id.to_string(),
                    resource_type: stack.type_name.to_string(),
                    reason: why.to_string(),
                }),
                nested::Location::Local(location) => {
                    let (target, shown) = nested::resolve(path, display, location);
                    if let Some(why) = nested::unreadable(&target) {
                        missing.push(FileError::at(
                            format!(
                                "the template of {} `{}` is the local file `{shown}`, which \
                                 {why}",
                                nested::kind(stack.type_name),
                                stack.logical_id
                            ),
                            template.doc.span(stack.node),
                            "template file not read",
                        ));
                    } else {
                        includes.push(Candidate {
                            display: shown,
                            path: target,
                        });
                    }
                }
            }
        }
        let guardrails = backup::guardrails(&template)
            .into_iter()
            .map(|g| GuardrailRow {
                path: display.to_string(),
                resource: g.resource.to_string(),
                kind: g.kind,
                denies: g.denies,
                conditional: g.conditional,
                note: g.note,
                scope: g.scope,
            })
            .collect();
        Some((tables, guardrails, not_visible, includes, missing))
    });
    match loaded {
        Ok(Some((tables, guardrails, not_visible, includes, missing))) => {
            out.template = true;
            out.tables = tables;
            out.guardrails = guardrails;
            out.not_visible = not_visible;
            out.includes = includes;
            let source = SourceText::new(file.text().into());
            out.errors = missing
                .into_iter()
                .map(|e| error(display, Some(&source), e))
                .collect();
            out
        }
        Ok(None) => out,
        Err(e) => FileInventory {
            fragments: out.fragments,
            ..failed(display, Some(&SourceText::new(file.text().into())), e)
        },
    }
}

fn failed(path: &str, source: Option<&SourceText>, e: FileError) -> FileInventory {
    FileInventory {
        path: path.to_string(),
        errors: vec![error(path, source, e)],
        ..FileInventory::default()
    }
}

fn error(path: &str, source: Option<&SourceText>, e: FileError) -> InventoryError {
    let position = match (source, e.span) {
        (Some(source), Some(span)) => Some(source.position(span.start)),
        _ => None,
    };
    InventoryError {
        path: path.to_string(),
        line: position.map(|p| p.line),
        column: position.map(|p| p.column),
        message: e.message,
        help: e.help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inventory and `check` share one proof: on every bundled example, a layer
    /// holds exactly when its rule has nothing to report.
    #[test]
    fn layers_agree_with_their_rules_on_the_examples() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates-examples");
        let discovery =
            crate::discover::discover(&[root], &crate::discover::WalkOptions::default());
        let options = rules::RuleOptions::default();
        let mut tables = 0;
        for candidate in &discovery.files {
            let bytes = std::fs::read(&candidate.path).expect("example reads");
            let file = TemplateFile::from_bytes(&candidate.path, &bytes, &Default::default())
                .unwrap_or_else(|e| panic!("example loads: {}", e.message));
            let Some(template) = file.template().expect("example is valid") else {
                continue;
            };
            for resource in template.tables() {
                tables += 1;
                let view = ResourceView {
                    template: &template,
                    resource,
                    options: &options,
                };
                let layers = layers::layers(&view);
                for (code, (name, state)) in LAYER_RULES.iter().zip(layers.named()) {
                    let rule = rules::find(code).expect("layer rule exists");
                    let rules::Check::Resource(check) = rule.check else {
                        panic!("{code} is not a per-resource rule");
                    };
                    let fires = !check(&view).is_empty();
                    assert_eq!(
                        fires,
                        !state.holds(),
                        "{} {} {name}: {state:?}",
                        candidate.display,
                        resource.logical_id
                    );
                }
            }
        }
        assert!(tables >= 10, "the examples hold tables ({tables})");
    }

    #[test]
    fn the_prefilter_keeps_every_layer_rules_needles() {
        let needles = needles();
        for code in LAYER_RULES {
            let rule = rules::find(code).expect("layer rules exist");
            for n in rule.needles {
                assert!(needles.contains(n), "{code} needle {n:?}");
            }
        }
    }
}
