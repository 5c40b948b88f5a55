//! `fix-verify ORIGINAL_DIR FIXED_DIR`: for every file that differs between the two trees,
//! check with the independent oracle that `--fix` changed only retention policies of
//! tables, left no safely fixable DDB001/DDB002 finding, and is a no-op when run again.
//! Used by bench/fix-corpus.sh; prints one line per changed file and a summary.

#[path = "../tests/support/fix_oracle.rs"]
mod fix_oracle;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [original, fixed] = args.as_slice() else {
        eprintln!("usage: fix-verify ORIGINAL_DIR FIXED_DIR");
        return ExitCode::from(2);
    };
    let mut all = Vec::new();
    files(original, &mut all);
    all.sort();
    let (mut changed, mut failed, mut policies, mut left) = (0, 0, 0, 0);
    for path in &all {
        let Ok(relative) = path.strip_prefix(original) else {
            continue;
        };
        let other = fixed.join(relative);
        let (Ok(before), Ok(after)) = (std::fs::read(path), std::fs::read(&other)) else {
            println!("FAIL {}: missing after --fix", relative.display());
            failed += 1;
            continue;
        };
        if before == after {
            continue;
        }
        changed += 1;
        let (Ok(before), Ok(after)) = (String::from_utf8(before), String::from_utf8(after)) else {
            println!("FAIL {}: not UTF-8", relative.display());
            failed += 1;
            continue;
        };
        match fix_oracle::verify(relative, &before, &after) {
            Ok(v) if v.safe_fixable_left == 0 => {
                policies += v.policies_changed;
                left += v.policy_findings_left;
                println!(
                    "ok   {}: {} policies set, {} DDB001/DDB002 findings left (no safe fix)",
                    relative.display(),
                    v.policies_changed,
                    v.policy_findings_left
                );
            }
            Ok(v) => {
                println!(
                    "FAIL {}: {} safely fixable findings left",
                    relative.display(),
                    v.safe_fixable_left
                );
                failed += 1;
            }
            Err(why) => {
                println!("FAIL {}: {why}", relative.display());
                failed += 1;
            }
        }
    }
    println!(
        "{} files, {changed} changed, {policies} policies set, {left} DDB001/DDB002 findings left without a safe fix, {failed} failed",
        all.len()
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
