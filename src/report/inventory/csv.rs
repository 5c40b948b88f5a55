//! `inventory --format csv`: one row per table (RFC 4180 quoting), layers as `yes`, `no`
//! or `conditional`, and the conditions in the last column; then one row per guardrail,
//! with `guardrail:KIND` as its `resource_type` (`guardrail:scp`,
//! `guardrail:identity-policy`, ...), empty layer cells, and in the last column what it
//! denies, on which ARNs, and when it holds only sometimes; then one row per template
//! that is not visible (a nested stack at a URL, ...), with `not-visible:TYPE` as its
//! `resource_type`, empty layer cells and the reason in the last column. A table in a
//! stack set's `TemplateBody` says so in the last column.

use std::io::{self, Write};

use super::{is_live, live_cells, word};
use crate::report::data::Inventory;

const HEADER: &[&str] = &[
    "path",
    "resource",
    "resource_type",
    "retained_on_delete",
    "retained_on_replace",
    "deletion_protection",
    "pitr",
    "backup_plan",
    "conditions",
];

pub fn render(inventory: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    let live = is_live(inventory);
    let live_columns: Vec<&str> = if live {
        inventory
            .tables
            .iter()
            .find_map(|t| t.live.as_ref())
            .map(|l| live_cells(l).into_iter().map(|(name, _, _)| name).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    write_row(
        out,
        HEADER
            .iter()
            .chain(live_columns.iter())
            .map(|s| s.to_string()),
    )?;
    for t in &inventory.tables {
        let named = t.layers.named();
        let conditions: Vec<String> = t
            .stack_set
            .iter()
            .map(|id| format!("in stack set `{id}`: deployed to every target account"))
            .chain(
                named
                    .iter()
                    .filter_map(|(name, state)| state.reason().map(|why| format!("{name}: {why}"))),
            )
            .collect();
        let row = [t.path.clone(), t.resource.clone(), t.resource_type.clone()]
            .into_iter()
            .chain(named.iter().map(|(_, state)| word(state).to_string()))
            .chain(std::iter::once(conditions.join("; ")))
            .chain(t.live.iter().flat_map(|l| {
                live_cells(l).into_iter().map(|(_, cell, why)| match why {
                    Some(why) => format!("{cell}: {why}"),
                    None => cell,
                })
            }));
        write_row(out, row)?;
    }
    for g in &inventory.guardrails {
        let mut what = vec![format!("denies {}", g.denies.join(" "))];
        if !g.scope.is_empty() {
            what.push(format!("on {}", g.scope.join(" ")));
        }
        what.extend(g.conditional.iter().map(|c| format!("conditional: {c}")));
        what.extend(g.note.iter().map(|n| format!("note: {n}")));
        let row = [
            g.path.clone(),
            g.resource.clone(),
            format!("guardrail:{}", g.kind.as_str()),
        ]
        .into_iter()
        .chain((0..5).map(|_| String::new()))
        .chain(std::iter::once(what.join("; ")))
        .chain(live_columns.iter().map(|_| String::new()));
        write_row(out, row)?;
    }
    for n in &inventory.not_visible {
        let row = [
            n.path.clone(),
            n.resource.clone(),
            format!("not-visible:{}", n.resource_type),
        ]
        .into_iter()
        .chain((0..5).map(|_| String::new()))
        .chain(std::iter::once(n.reason.clone()));
        write_row(out, row)?;
    }
    Ok(())
}

fn write_row(out: &mut dyn Write, cells: impl Iterator<Item = String>) -> io::Result<()> {
    let cells: Vec<String> = cells.map(|c| quote(&c)).collect();
    write!(out, "{}\r\n", cells.join(","))
}

/// Quote a cell that holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so that spreadsheets do not run a file's text as a formula.
fn quote(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn cells_with_commas_quotes_or_formulas_are_quoted() {
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("=cmd()"), "'=cmd()");
        assert_eq!(quote("plain"), "plain");
    }
}
