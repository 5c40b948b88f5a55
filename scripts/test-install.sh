#!/usr/bin/env bash
# Checks the ways users install ddb-guard from source, as the README gives them:
#   cargo install --locked --path .
#   cargo install --locked --git <repo> ddb-guard   (the package name is needed: fuzz/ is a
#                                                   second package with binaries)
# and that `cargo package --list` ships the sources, licences and README and nothing else.
# Release builds, so slow: not part of .ci/run. LTO is off and the target dir shared to save
# time; that changes link time, not what gets installed. --git uses this repository's HEAD
# (committed state) through a file:// URL.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CARGO_TARGET_DIR="$repo/target/install-test"
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "-- cargo package --list"
cargo package --list --locked --allow-dirty >"$tmp/list"
for f in Cargo.toml Cargo.lock README.md LICENSE-APACHE LICENSE-MIT build.rs src/main.rs src/lib.rs; do
    grep -qx "$f" "$tmp/list" || fail "the crate package lacks $f"
done
if grep -v -E '^(src/.*\.rs|build\.rs|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|README\.md|LICENSE-APACHE|LICENSE-MIT|\.cargo_vcs_info\.json)$' "$tmp/list"; then
    fail "the crate package holds files outside the include list (above)"
fi
echo "ok - $(wc -l <"$tmp/list") files: sources, Cargo files, README, licences"

# Built from a checkout, --version names the commit and the build date (build.rs).
head=$(git rev-parse --short=9 HEAD)
from_checkout="^ddb-guard $version \($head [0-9]{4}-[0-9]{2}-[0-9]{2}\)\$"

echo "-- cargo install --locked --path ."
cargo install --quiet --locked --path . --root "$tmp/path"
[[ $("$tmp/path/bin/ddb-guard" --version) =~ $from_checkout ]] || fail "--path install"
echo "ok - cargo install --path . installs ddb-guard $version ($head)"

echo "-- the published crate builds without git information"
cargo package --quiet --locked --allow-dirty --no-verify
crate="$CARGO_TARGET_DIR/package/ddb-guard-$version.crate"
mkdir "$tmp/crate"
tar -xzf "$crate" -C "$tmp/crate"
# A target dir of its own, as a user's `cargo install ddb-guard` has: in the shared one, Cargo
# would reuse the build script's output from the checkout build above (its watched files are
# unchanged), commit and date included.
CARGO_TARGET_DIR="$tmp/crate-target" \
    cargo install --quiet --locked --path "$tmp/crate/ddb-guard-$version" --root "$tmp/crate-install"
[[ $("$tmp/crate-install/bin/ddb-guard" --version) == "ddb-guard $version" ]] || fail "crate install"
echo "ok - the packaged crate installs ddb-guard $version (no commit, no date)"

echo "-- cargo install --locked --git file://$repo ddb-guard"
cargo install --quiet --locked --git "file://$repo" --rev "$(git rev-parse HEAD)" --root "$tmp/git" ddb-guard
# Cargo's git checkout may or may not keep a .git: the version is plain or names HEAD.
installed=$("$tmp/git/bin/ddb-guard" --version)
[[ $installed == "ddb-guard $version" || $installed =~ $from_checkout ]] || fail "--git install: $installed"
status=0
"$tmp/git/bin/ddb-guard" check templates-examples/unprotected >/dev/null 2>&1 || status=$?
[[ $status == 1 ]] || fail "the installed binary should find the unprotected tables (exit $status)"
echo "ok - cargo install --git <repo> ddb-guard installs a working ddb-guard $version"
