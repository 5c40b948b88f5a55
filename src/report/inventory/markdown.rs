//! `inventory --format markdown`: GitHub-flavoured Markdown for a job summary or a
//! pull-request comment: a table of tables, notes for conditional layers, and a table of
//! guardrails.

use std::io::{self, Write};

use super::LAYER_TITLES;
use crate::report::data::Inventory;
use crate::rules::layers::LayerState;

pub fn render(inventory: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## DynamoDB protection inventory")?;
    writeln!(out)?;
    if inventory.tables.is_empty() {
        writeln!(out, "No DynamoDB tables found.")?;
    } else {
        let full = inventory
            .tables
            .iter()
            .filter(|t| t.layers.named().iter().all(|(_, s)| s.holds()))
            .count();
        writeln!(
            out,
            "{} {}, {full} with every layer proven.",
            inventory.tables.len(),
            if inventory.tables.len() == 1 {
                "table"
            } else {
                "tables"
            },
        )?;
        writeln!(out)?;
        write!(out, "| Template | Table |")?;
        for title in LAYER_TITLES {
            write!(out, " {} |", capitalize(title))?;
        }
        writeln!(out)?;
        writeln!(out, "|---|---|{}", ":-:|".repeat(LAYER_TITLES.len()))?;
        let mut notes = Vec::new();
        for t in &inventory.tables {
            write!(out, "| {} | {} |", code(&t.path), code(&t.resource))?;
            for ((_, state), title) in t.layers.named().into_iter().zip(LAYER_TITLES) {
                let cell = match state {
                    LayerState::Proven => "✅".to_string(),
                    LayerState::No => "❌".to_string(),
                    LayerState::Conditional(why) => {
                        notes.push(format!("`{}` {title}: {why}", t.resource));
                        format!("⚠️ conditional [{}]", notes.len())
                    }
                };
                write!(out, " {cell} |")?;
            }
            writeln!(out)?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "✅ proven in every case · ❌ not proven · ⚠️ only in some cases"
        )?;
        if !notes.is_empty() {
            writeln!(out)?;
            writeln!(out, "**Conditional layers**")?;
            writeln!(out)?;
            for (i, note) in notes.iter().enumerate() {
                writeln!(out, "{}. {}", i + 1, one_line(note))?;
            }
        }
    }
    if super::is_live(inventory) {
        writeln!(out)?;
        writeln!(out, "### Live tables")?;
        writeln!(out)?;
        writeln!(
            out,
            "| Table | Region | Managed by | Resource policy deny | SCP deny | Termination protection | Stack policy | Can delete | Drift |"
        )?;
        writeln!(out, "|---|---|---|:-:|:-:|:-:|:-:|---|---|")?;
        for t in &inventory.tables {
            let Some(live) = &t.live else { continue };
            let cells: Vec<String> = super::live_cells(live)
                .into_iter()
                .filter(|(name, _, _)| *name != "replicas")
                .map(|(_, c, why)| match why {
                    Some(why) => cell(&format!("{c} ({why})")),
                    None => cell(&c),
                })
                .collect();
            writeln!(out, "| {} | {} |", code(&t.resource), cells.join(" | "))?;
        }
    }
    let in_sets: Vec<String> = inventory
        .tables
        .iter()
        .filter(|t| t.stack_set.is_some())
        .map(|t| code(&t.resource))
        .collect();
    if !in_sets.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "In a stack set's `TemplateBody`, deployed to every target account: {}.",
            in_sets.join(", ")
        )?;
    }
    if !inventory.not_visible.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Not visible")?;
        writeln!(out)?;
        writeln!(
            out,
            "Templates ddb-guard cannot read; their tables are not listed above."
        )?;
        writeln!(out)?;
        writeln!(out, "| File | Resource | Type | Why |")?;
        writeln!(out, "|---|---|---|---|")?;
        for n in &inventory.not_visible {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&n.path),
                code(&n.resource),
                code(&n.resource_type),
                cell(&n.reason)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "### Guardrails")?;
    writeln!(out)?;
    if inventory.guardrails.is_empty() {
        writeln!(
            out,
            "No vault lock, vault access policy, service control policy or denying identity policy found."
        )?;
    } else {
        writeln!(out, "| File | Resource | Kind | Denies | On | Notes |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for g in &inventory.guardrails {
            let denies: Vec<String> = g.denies.iter().map(|a| format!("`{a}`")).collect();
            let scope: Vec<String> = g.scope.iter().map(|r| code(r)).collect();
            let notes: Vec<String> = g
                .conditional
                .iter()
                .chain(&g.note)
                .map(|n| cell(n))
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code(&g.path),
                code(&g.resource),
                g.kind.as_str(),
                denies.join(", "),
                scope.join(", "),
                notes.join("; ")
            )?;
        }
    }
    if !inventory.errors.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Files that could not be read")?;
        writeln!(out)?;
        for e in &inventory.errors {
            let at = match (e.line, e.column) {
                (Some(l), Some(c)) => format!(":{l}:{c}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "- `{}{at}`: {}",
                tick_free(&e.path),
                one_line(&e.message)
            )?;
        }
    }
    Ok(())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text as an inline code span inside a table cell.
fn code(text: &str) -> String {
    format!("`{}`", tick_free(text).replace('|', "\\|"))
}

fn tick_free(text: &str) -> String {
    one_line(text).replace('`', "'")
}

/// Text inside a table cell: no line breaks, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}
