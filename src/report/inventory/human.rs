//! `inventory` for a terminal: an aligned table that fits the terminal's width (paths are
//! cut from the left, where they are least telling; long logical IDs from the right; two
//! different paths are never cut to the same text), numbered notes for conditional layers,
//! then the guardrails. Widths are display columns (`unicode-width`): a CJK character
//! takes two, a combining mark none.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::LAYER_TITLES;
use crate::report::data::Inventory;
use crate::rules::layers::LayerState;

/// The narrowest table layout still worth drawing; a narrower terminal gets this width.
const MIN_WIDTH: usize = 60;
const GAP: &str = "  ";
const LAYER_HEADERS: [&str; 5] = ["DELETE", "REPLACE", "PROTECT", "PITR", "BACKUP"];
const MIN_PATH: usize = 12;
const MIN_RESOURCE: usize = 10;

/// Render for a terminal `columns` wide.
pub fn render(inventory: &Inventory, columns: usize, out: &mut dyn Write) -> io::Result<()> {
    let columns = columns.max(MIN_WIDTH);
    if inventory.tables.is_empty() {
        writeln!(out, "No DynamoDB tables found.")?;
    } else {
        tables(inventory, columns, out)?;
        live(inventory, columns, out)?;
    }
    stack_sets(inventory, columns, out)?;
    not_visible(inventory, columns, out)?;
    guardrails(inventory, columns, out)?;
    for e in &inventory.errors {
        let at = match (e.line, e.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            _ => String::new(),
        };
        writeln!(out)?;
        writeln!(out, "error: {}{at}: {}", e.path, e.message)?;
        if let Some(help) = &e.help {
            writeln!(out, "  help: {help}")?;
        }
    }
    writeln!(out)?;
    for l in wrap(&summary(inventory), columns, "") {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

fn tables(inventory: &Inventory, total: usize, out: &mut dyn Write) -> io::Result<()> {
    let mut notes: Vec<String> = Vec::new();
    let rows: Vec<(String, String, Vec<String>)> = inventory
        .tables
        .iter()
        .map(|t| {
            let cells = t
                .layers
                .named()
                .into_iter()
                .zip(LAYER_TITLES)
                .map(|((_, state), title)| match state {
                    LayerState::Proven => "yes".to_string(),
                    LayerState::No => "no".to_string(),
                    LayerState::Conditional(why) => {
                        notes.push(format!("{} {title}: {why}", t.resource));
                        format!("cond {}", notes.len())
                    }
                })
                .collect();
            (t.path.clone(), t.resource.clone(), cells)
        })
        .collect();
    let layer_widths: Vec<usize> = LAYER_HEADERS
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|(_, _, cells)| width(&cells[i]))
                .chain(std::iter::once(h.len()))
                .max()
                .unwrap_or(h.len())
        })
        .collect();
    let layers_width: usize = layer_widths.iter().map(|w| w + GAP.len()).sum();
    let path_natural = rows.iter().map(|r| width(&r.0)).max().unwrap_or(0).max(4);
    let resource_natural = rows.iter().map(|r| width(&r.1)).max().unwrap_or(0).max(5);
    let available = total.saturating_sub(layers_width + GAP.len());
    let (path_width, resource_width) = fit(path_natural, resource_natural, available);
    let path_width = distinct_width(rows.iter().map(|r| r.0.as_str()), path_width);
    let line = |path: &str, resource: &str, cells: &[String]| {
        let mut s = format!(
            "{}{GAP}{}",
            pad(&cut_left(path, path_width), path_width),
            pad(&cut_right(resource, resource_width), resource_width)
        );
        for (cell, w) in cells.iter().zip(&layer_widths) {
            s.push_str(GAP);
            s.push_str(&pad(cell, *w));
        }
        s.trim_end().to_string()
    };
    let headers: Vec<String> = LAYER_HEADERS.iter().map(|h| h.to_string()).collect();
    writeln!(out, "{}", line("PATH", "TABLE", &headers))?;
    for (path, resource, cells) in &rows {
        writeln!(out, "{}", line(path, resource, cells))?;
    }
    writeln!(out)?;
    for text in [
        "DELETE/REPLACE: retained on stack deletion/on replacement; PROTECT: deletion protection; PITR: point-in-time recovery; BACKUP: covered by an AWS Backup selection.",
        "yes: proven in every case; no: not proven; cond N: only in some cases (note N).",
    ] {
        for l in wrap(text, total, "") {
            writeln!(out, "{l}")?;
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "Conditional layers:")?;
        for (i, note) in notes.iter().enumerate() {
            let first = format!("{:>3}. ", i + 1);
            let indent = " ".repeat(first.len());
            for (j, l) in wrap(note, total - first.len(), "").iter().enumerate() {
                writeln!(out, "{}{l}", if j == 0 { &first } else { &indent })?;
            }
        }
    }
    Ok(())
}

/// `audit`: each live table's facts beyond the layers, one block per table.
fn live(inventory: &Inventory, total: usize, out: &mut dyn Write) -> io::Result<()> {
    if !super::is_live(inventory) {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Live tables:")?;
    for t in &inventory.tables {
        let Some(live) = &t.live else { continue };
        writeln!(out, "  {} ({})", t.resource, live.region)?;
        for (name, cell, why) in super::live_cells(live) {
            if name == "region" || cell.is_empty() {
                continue;
            }
            let text = match why {
                Some(why) => format!("{}: {cell} ({why})", name.replace('_', " ")),
                None => format!("{}: {cell}", name.replace('_', " ")),
            };
            for l in wrap(&text, total.saturating_sub(4), "  ") {
                writeln!(out, "    {l}")?;
            }
        }
    }
    Ok(())
}

fn stack_sets(inventory: &Inventory, total: usize, out: &mut dyn Write) -> io::Result<()> {
    let in_sets: Vec<String> = inventory
        .tables
        .iter()
        .filter(|t| t.stack_set.is_some())
        .map(|t| t.resource.clone())
        .collect();
    if in_sets.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let text = format!(
        "In a stack set's TemplateBody, deployed to every target account: {}.",
        in_sets.join(", ")
    );
    for l in wrap(&text, total, "  ") {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

fn not_visible(inventory: &Inventory, total: usize, out: &mut dyn Write) -> io::Result<()> {
    if inventory.not_visible.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "Not visible (templates ddb-guard cannot read; their tables are not listed):"
    )?;
    for n in &inventory.not_visible {
        let head = format!("  {} {} in ", n.resource_type, n.resource);
        let room = total.saturating_sub(width(&head)).max(MIN_PATH);
        writeln!(out, "{head}{}", cut_left(&n.path, room))?;
        for l in wrap(&n.reason, total.saturating_sub(4), "  ") {
            writeln!(out, "    {l}")?;
        }
    }
    Ok(())
}

fn guardrails(inventory: &Inventory, total: usize, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    if inventory.guardrails.is_empty() {
        for l in wrap(
            "Guardrails: no vault lock, vault access policy, service control policy or denying identity policy found.",
            total,
            "",
        ) {
            writeln!(out, "{l}")?;
        }
        return Ok(());
    }
    writeln!(out, "Guardrails:")?;
    let kind_width = inventory
        .guardrails
        .iter()
        .map(|g| g.kind.as_str().len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(2 + kind_width + 2);
    for g in &inventory.guardrails {
        let head = format!("  {:<kind_width$}  {} in ", g.kind.as_str(), g.resource);
        let room = total.saturating_sub(width(&head)).max(MIN_PATH);
        writeln!(out, "{head}{}", cut_left(&g.path, room))?;
        let mut details = vec![format!("denies {}", g.denies.join(", "))];
        if !g.scope.is_empty() {
            details.push(format!("on {}", g.scope.join(", ")));
        }
        details.extend(g.conditional.iter().map(|c| format!("conditional: {c}")));
        details.extend(g.note.iter().map(|n| format!("note: {n}")));
        for detail in details {
            for l in wrap(&detail, total.saturating_sub(indent.len()), "  ") {
                writeln!(out, "{indent}{l}")?;
            }
        }
    }
    Ok(())
}

fn summary(inventory: &Inventory) -> String {
    let tables = inventory.tables.len();
    let full = inventory
        .tables
        .iter()
        .filter(|t| t.layers.named().iter().all(|(_, s)| s.holds()))
        .count();
    let mut parts = vec![format!(
        "{} in {}, {full} with every layer proven",
        plural(tables, "table", "tables"),
        plural(inventory.templates, "template", "templates"),
    )];
    parts.push(plural(
        inventory.guardrails.len(),
        "guardrail",
        "guardrails",
    ));
    if !inventory.not_visible.is_empty() {
        parts.push(format!(
            "{} not visible",
            plural(inventory.not_visible.len(), "template", "templates")
        ));
    }
    if !inventory.errors.is_empty() {
        parts.push(plural(inventory.errors.len(), "error", "errors"));
    }
    parts.join("; ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Widths for the path and table columns within `available`. When both do not fit, the
/// table column gets up to two fifths (a logical ID's start is what people search for),
/// the path the rest (its end tells files apart).
fn fit(path: usize, resource: usize, available: usize) -> (usize, usize) {
    if path + resource <= available {
        return (path, resource);
    }
    let resource = resource.min((available * 2 / 5).max(MIN_RESOURCE));
    let path = available.saturating_sub(resource).max(MIN_PATH).min(path);
    (path, resource)
}

/// Display columns of `s` in a terminal.
fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// `…les/backup/platform.yaml`: the end of a path is what tells files apart.
fn cut_left(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let room = w.saturating_sub(1);
    let mut used = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        if used + char_width(c) > room {
            break;
        }
        used += char_width(c);
        start = i;
    }
    format!("…{}", &s[start..])
}

fn cut_right(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    format!("{}…", take_columns(s, w.saturating_sub(1)))
}

/// The longest prefix of `s` that fits in `w` columns.
fn take_columns(s: &str, w: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        if used + char_width(c) > w {
            return &s[..i];
        }
        used += char_width(c);
    }
    s
}

/// The smallest width from `w` up at which no two different paths are cut to the same
/// text (`…/a/template.yaml` twice would hide which file a row is about).
fn distinct_width<'a>(paths: impl Iterator<Item = &'a str> + Clone, w: usize) -> usize {
    let natural = paths.clone().map(width).max().unwrap_or(0);
    let mut w = w;
    while w < natural {
        let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        let clash = paths.clone().any(|p| {
            seen.insert(cut_left(p, w), p)
                .is_some_and(|other| other != p)
        });
        if !clash {
            break;
        }
        w += 1;
    }
    w
}

/// Word-wrap `text` to `w` columns; continuation lines start with `hang`. A word longer
/// than a line is cut.
fn wrap(text: &str, w: usize, hang: &str) -> Vec<String> {
    let w = w.max(hang.len() + 8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let prefix = if lines.is_empty() { "" } else { hang };
            let used = width(prefix) + width(&line);
            let sep = usize::from(!line.is_empty());
            if used + sep + width(&word) <= w {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(format!("{prefix}{line}"));
                line.clear();
                continue;
            }
            // A word longer than the line: cut it.
            let room = w.saturating_sub(width(prefix)).max(1);
            let mut head = take_columns(&word, room);
            if head.is_empty() {
                // A character wider than the room left: it goes on a line of its own.
                head = word.chars().next().map_or("", |c| &word[..c.len_utf8()]);
            }
            let rest = word[head.len()..].to_string();
            lines.push(format!("{prefix}{head}"));
            if rest.is_empty() {
                word.clear();
                break;
            }
            word = rest;
        }
    }
    if !line.is_empty() {
        let prefix = if lines.is_empty() { "" } else { hang };
        lines.push(format!("{prefix}{line}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cut_from_the_left_and_ids_from_the_right() {
        assert_eq!(cut_left("templates/backup/plan.yaml", 12), "…p/plan.yaml");
        assert_eq!(cut_right("OrdersTableWithALongName", 10), "OrdersTab…");
        assert_eq!(cut_left("short", 12), "short");
    }

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(width("表格"), 4);
        assert_eq!(cut_right("注文テーブル", 7), "注文テ…");
        assert_eq!(cut_left("データ/表.yaml", 8), "…表.yaml");
        assert_eq!(pad("表", 4), "表  ");
    }

    #[test]
    fn two_paths_are_never_cut_to_the_same_text() {
        let paths = [
            "services/orders/template.yaml",
            "services/billing/template.yaml",
        ];
        let w = distinct_width(paths.iter().copied(), 14);
        assert_ne!(cut_left(paths[0], w), cut_left(paths[1], w));
        // Identical paths (two tables in one file) do not force a wider column.
        let same = ["a/long/path/template.yaml", "a/long/path/template.yaml"];
        assert_eq!(distinct_width(same.iter().copied(), 10), 10);
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let text = "a reason with `DeletionProtectionEnabled` and an_extremely_long_identifier_that_cannot_fit_on_one_line_at_all_whatever_happens";
        for l in wrap(text, 30, "  ") {
            assert!(width(&l) <= 30, "{l:?}");
        }
        for l in wrap("表格表格表格表格表格表格表格表格表格表格", 15, "  ") {
            assert!(width(&l) <= 15, "{l:?}");
        }
    }

    #[test]
    fn long_paths_leave_room_for_the_table_column() {
        let (path, resource) = fit(60, 20, 40);
        assert_eq!((path, resource), (24, 16));
        assert_eq!(fit(20, 15, 40), (20, 15));
        let (path, resource) = fit(60, 60, 40);
        assert!(path >= MIN_PATH && resource >= MIN_RESOURCE && path + resource <= 40);
    }
}
