#!/usr/bin/env bash
# Tests .pre-commit-hooks.yaml the way a user meets it: `pre-commit try-repo` builds ddb-guard
# from this repository (hook ddb-guard, language: rust, i.e. `cargo install` in release mode;
# hook ddb-guard-python, language: python, i.e. pip building the wheel with maturin: slow the
# first time, so this is a script and not part of `cargo test`) and runs the hook on a scratch
# git repository holding a bad template, a good one, a non-template JSON file and a text file.
#
# The hook repository is a snapshot of this working tree (tracked and untracked files, not
# ignored ones) committed in a temp dir, so uncommitted changes are tested too. try-repo
# builds afresh on every call (a new temp clone each time), so there are only three calls, and
# the release profile's LTO is turned off here: it changes link time, not behaviour.
# CARGO_TARGET_DIR under target/ keeps the dependencies built between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin=$(bash scripts/ci-tools.sh)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-pre-commit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PRE_COMMIT_HOME="$tmp/pre-commit-home"
export CARGO_TARGET_DIR="$repo/target/pre-commit"
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
git_quiet() { git -c user.name=test -c user.email=test@example.com -c init.defaultBranch=main "$@" >/dev/null; }

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

hooks="$tmp/hook-repo"
mkdir -p "$hooks"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    if [[ -e $f ]]; then
        mkdir -p "$hooks/$(dirname "$f")"
        cp -p "$f" "$hooks/$f"
    fi
done
git_quiet -C "$hooks" init
git_quiet -C "$hooks" add -A
git_quiet -C "$hooks" commit -m snapshot
rev=$(git -C "$hooks" rev-parse HEAD)

user="$tmp/user-repo"
mkdir -p "$user/infra"
cp templates-examples/unprotected/sessions.yaml "$user/infra/bad.yaml"
cp templates-examples/retained/orders.yaml "$user/infra/good.yml"
echo '{"name": "app", "version": "1.0.0"}' >"$user/package.json"
echo 'AWS::DynamoDB::Table is mentioned here, but this is not a template' >"$user/notes.txt"
git_quiet -C "$user" init
git_quiet -C "$user" add -A

# try-repo HOOK ARGS... -> output in $tmp/out, exit status in $status
try_repo() {
    local hook=$1
    shift
    status=0
    (cd "$user" && "$bin/pre-commit" try-repo "$hooks" "$hook" --ref "$rev" --color never "$@") \
        >"$tmp/out" 2>&1 || status=$?
}

# The checks of a run with --all-files, the same for every hook.
expect_all_files_failure() {
    cat "$tmp/out"
    [[ $status == 1 ]] || fail "$1: a table without Retain must fail the hook (exit $status)"
    grep -q 'ddb-guard.*Failed' "$tmp/out" || fail "$1: the hook did not report Failed"
    grep -q 'DDB001' "$tmp/out" || fail "$1: the hook output does not name DDB001"
    grep -q 'infra/bad.yaml' "$tmp/out" || fail "$1: the hook output does not name infra/bad.yaml"
    if grep -q 'infra/good.yml:' "$tmp/out"; then fail "$1: the retained template was reported"; fi
    # ddb-guard counts the files it was given: bad.yaml, good.yml and package.json, not notes.txt.
    grep -q '^3 files checked' "$tmp/out" ||
        fail "$1: the hook should get exactly the 3 files matching \\.(json|ya?ml|template)\$"
}

echo "-- pre-commit try-repo ddb-guard --all-files (builds ddb-guard in release mode)"
try_repo ddb-guard --all-files
expect_all_files_failure ddb-guard
echo "ok - the hook fails on an unprotected table, naming file and rule; only matching files are passed"

echo "-- pre-commit try-repo --files infra/good.yml package.json"
try_repo ddb-guard --files infra/good.yml package.json
cat "$tmp/out"
[[ $status == 0 ]] || fail "a retained template and package.json must pass (exit $status)"
grep -q 'ddb-guard.*Passed' "$tmp/out" || fail "the hook did not report Passed"
echo "ok - a retained template and a non-template JSON file pass"

echo "-- pre-commit try-repo --files package.json (a commit that touches no template)"
try_repo ddb-guard --files package.json
cat "$tmp/out"
[[ $status == 0 ]] || fail "a commit with no template must pass the hook (--allow-no-templates; exit $status)"
grep -q 'ddb-guard.*Passed' "$tmp/out" || fail "the hook did not report Passed"
echo "ok - a commit with no template passes (the hook passes --allow-no-templates)"

# The Python hook: pre-commit pip-installs this repository, so pip builds the wheel with
# maturin (from PyPI, as pyproject.toml's build-system asks) and the same cargo release build.
echo "-- pre-commit try-repo ddb-guard-python --all-files (pip builds the wheel)"
try_repo ddb-guard-python --all-files
expect_all_files_failure ddb-guard-python
echo "ok - the Python hook behaves as the Rust one"
echo "pre-commit hook: ok"
