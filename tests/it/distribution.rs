//! What installers, packagers and documentation tools read from the binary: `--version`,
//! `rule --format json` / `rule --all`, shell completions and the man page.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as StdCommand;

use clap::CommandFactory;
use common::ddb_guard;
use ddb_guard::cli::Cli;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Output {
    let output = ddb_guard()
        .current_dir(root())
        .args(args)
        .output()
        .expect("binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = StdCommand::new("git")
        .args(args)
        .current_dir(root())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

// ---------------------------------------------------------------- --version

#[test]
fn version_names_the_commit_and_build_date_when_built_from_a_checkout() {
    let out = run(&["--version"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim_end();
    let plain = concat!("ddb-guard ", env!("CARGO_PKG_VERSION"));
    let is_checkout = git(&["rev-parse", "--show-toplevel"])
        .and_then(|top| Path::new(&top).canonicalize().ok())
        .is_some_and(|top| root().canonicalize().is_ok_and(|r| r == top));
    if !is_checkout {
        // A source package: nothing to name, and the build did not fail for it.
        assert_eq!(line, plain);
        return;
    }
    let head = git(&["rev-parse", "--short=9", "HEAD"]).expect("HEAD of the checkout");
    let rest = line
        .strip_prefix(&format!("{plain} ({head} "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("`{line}` does not name {head}"));
    let date: Vec<&str> = rest.split('-').collect();
    assert!(
        date.len() == 3
            && [4, 2, 2]
                .iter()
                .zip(&date)
                .all(|(n, part)| part.len() == *n && part.bytes().all(|b| b.is_ascii_digit())),
        "`{rest}` is not a YYYY-MM-DD date"
    );
}

// ---------------------------------------------------------------- rule docs

#[test]
fn rule_json_lists_every_rule_with_the_documentation_rule_prints() {
    let out = run(&["rule", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rules: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let rules = rules.as_array().expect("an array");
    // Every rule of the text listing (one line per rule after the header), in its order.
    let listing = run(&["rule"]).stdout;
    let codes: Vec<&str> = listing
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let json_codes: Vec<&str> = rules.iter().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!(json_codes, codes);
    for rule in rules {
        let code = rule["code"].as_str().expect("code");
        let page = run(&["rule", code]).stdout;
        let (name, summary) = (rule["name"].as_str(), rule["summary"].as_str());
        assert!(page.starts_with(&format!("# {code} {}\n", name.expect("name"))));
        assert!(page.contains(summary.expect("summary")), "{code}");
        let explanation = rule["explanation"].as_str().expect("explanation");
        assert!(explanation.contains("## What it checks"), "{code}");
        assert!(
            page.contains(explanation),
            "{code}: explanation differs from `rule {code}`"
        );
        assert!(["error", "warning", "note"].contains(&rule["severity"].as_str().unwrap_or("")));
        assert!(rule["enabled_by_default"].is_boolean());
        let url = rule["url"].as_str().expect("url");
        assert!(url.ends_with(&format!("/docs/rules/{code}.md")), "{url}");
        assert!(root().join(format!("docs/rules/{code}.md")).is_file());
    }
}

#[test]
fn rule_json_for_one_rule_is_an_array_of_that_rule() {
    for name in ["DDB001", "deletion-policy"] {
        let out = run(&["rule", name, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let rules: Value = serde_json::from_str(&out.stdout).expect("JSON");
        let codes: Vec<&str> = rules
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert_eq!(codes, ["DDB001"]);
    }
    let all = run(&["rule", "--all", "--format", "json"]).stdout;
    assert_eq!(all, run(&["rule", "--format", "json"]).stdout);
}

#[test]
fn rule_all_prints_every_rule_page() {
    let out = run(&["rule", "--all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rules: Value =
        serde_json::from_str(&run(&["rule", "--format", "json"]).stdout).expect("JSON");
    let pages: Vec<String> = rules
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| run(&["rule", r["code"].as_str().expect("code")]).stdout)
        .collect();
    assert_eq!(out.stdout, pages.join("\n"));
}

#[test]
fn rule_json_for_an_unknown_rule_is_a_usage_error() {
    let out = run(&["rule", "DDB999", "--format", "json"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    let out = run(&["rule", "--all", "DDB001"]);
    assert_eq!(out.code, 2);
}

// ---------------------------------------------------------------- completions

#[test]
fn completions_are_generated_for_every_shell_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        // Every subcommand and a subcommand's option are offered.
        for word in [
            "check",
            "diff",
            "rule",
            "inventory",
            "completions",
            "--format",
        ] {
            assert!(out.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.code, 2);
}

#[test]
fn bash_completions_parse_and_complete_a_subcommand() {
    let script = run(&["completions", "bash"]).stdout;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ddb-guard.bash");
    std::fs::write(&file, &script).expect("write");
    // Load the script, find the function it registered for `ddb-guard` and ask it what
    // follows `ddb-guard che` (`ch` is also `changeset`), as bash does on TAB.
    let probe = format!(
        "set -e; source '{}'; f=$(complete -p ddb-guard | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p'); \
         COMP_WORDS=(ddb-guard che); COMP_CWORD=1; COMP_LINE='ddb-guard che'; \
         COMP_POINT=${{#COMP_LINE}}; \"$f\" ddb-guard che ddb-guard; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let Ok(output) = StdCommand::new("bash").args(["-c", &probe]).output() else {
        eprintln!("skipped: no bash on this machine");
        return;
    };
    let offered = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(offered.trim(), "check", "{offered}");
}

// ---------------------------------------------------------------- man pages

/// The man pages clap_mangen generates from the CLI definition: `ddb-guard.1` and one page
/// per subcommand (`ddb-guard-check.1`, ...), as git and cargo ship them. The version is
/// the package version alone, so that the pages do not change with every commit.
fn man_pages() -> BTreeMap<String, Vec<u8>> {
    let version = env!("CARGO_PKG_VERSION");
    let mut top = Cli::command()
        .version(version)
        .disable_help_subcommand(true);
    top.build();
    let mut pages = BTreeMap::new();
    let render = |cmd: clap::Command, pages: &mut BTreeMap<String, Vec<u8>>| {
        let man = clap_mangen::Man::new(cmd)
            .source(format!("ddb-guard {version}"))
            .manual("ddb-guard manual");
        let mut text = Vec::new();
        man.render(&mut text).expect("rendering into memory");
        pages.insert(man.get_filename(), text);
    };
    for sub in top.get_subcommands().filter(|s| !s.is_hide_set()) {
        // Built from the top command, a subcommand displays as `ddb-guard-check`.
        render(sub.clone().version(version), &mut pages);
    }
    render(top, &mut pages);
    pages
}

#[test]
fn man_pages_are_generated_from_the_cli_definition() {
    let dir = root().join("man");
    let expected = man_pages();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).expect("create man/");
        for entry in std::fs::read_dir(&dir).expect("read man/").flatten() {
            std::fs::remove_file(entry.path()).expect("remove a stale page");
        }
        for (name, text) in &expected {
            std::fs::write(dir.join(name), text).expect("write a page");
        }
    }
    let actual: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let text = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), text)
        })
        .collect();
    assert!(expected.contains_key("ddb-guard.1"));
    assert!(expected.contains_key("ddb-guard-check.1"));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&actual),
        names(&expected),
        "man/ does not hold one page per command; regenerate with \
         `UPDATE_DOCS=1 cargo test --test it distribution::man_pages`"
    );
    for (name, text) in &expected {
        assert!(
            actual.get(name) == Some(text),
            "man/{name} is stale: the CLI changed; regenerate with \
             `UPDATE_DOCS=1 cargo test --test it distribution::man_pages`"
        );
    }
}

#[test]
fn man_pages_render_without_warnings() {
    let Ok(probe) = StdCommand::new("groff").arg("--version").output() else {
        eprintln!("skipped: no groff on this machine");
        return;
    };
    assert!(probe.status.success());
    for (name, text) in man_pages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join(&name);
        std::fs::write(&file, &text).expect("write");
        let output = StdCommand::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&file)
            .output()
            .expect("groff runs");
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && warnings.is_empty(),
            "{name}: {warnings}"
        );
    }
}
