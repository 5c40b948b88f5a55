#!/usr/bin/env bash
# The Python wheel (pyproject.toml, maturin `bin` bindings), the way a user meets it: build
# it as the release does (scripts/build-wheel.sh: a pinned maturin from PyPI; the sdist too),
# install it into a fresh virtualenv with
# `pip install --no-index` (no package index at all: the wheel must carry everything), and
# run the installed `ddb-guard check` on templates-examples/: exit code 1 and a known finding.
#
# maturin builds a release binary; LTO is off and the codegen units many, to keep CI time
# small (it changes link time, not behaviour). CARGO_TARGET_DIR under target/ keeps the
# dependencies built between runs. Prints how long the build took.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

python=${PYTHON:-python3}
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
host=$(rustc -vV | sed -n 's/^host: //p')

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CARGO_TARGET_DIR="$repo/target/wheel"
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

echo "-- scripts/build-wheel.sh sdist (what release.yml publishes besides the wheels)"
sdist=$(bash scripts/build-wheel.sh sdist "$tmp/dist")
[[ $(basename "$sdist") == "ddb_guard-$version.tar.gz" ]] || fail "sdist name: $sdist"
tar -tzf "$sdist" >"$tmp/sdist-files"
for f in pyproject.toml Cargo.toml Cargo.lock build.rs src/main.rs LICENSE-MIT; do
    grep -qx "ddb_guard-$version/$f" "$tmp/sdist-files" || fail "the sdist lacks $f"
done
echo "ok - $(basename "$sdist") holds pyproject.toml and the crate's sources"

echo "-- scripts/build-wheel.sh $host (maturin build --release --locked)"
start=$SECONDS
wheel=$(bash scripts/build-wheel.sh "$host" "$tmp/dist")
built=$((SECONDS - start))
[[ $(basename "$wheel") == ddb_guard-"$version"-py3-none-*.whl ]] ||
    fail "the wheel $(basename "$wheel") is not ddb_guard-$version-py3-none-PLATFORM"
echo "ok - built $(basename "$wheel") in ${built}s"

echo "-- pip install --no-index into a fresh virtualenv"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
installed="$tmp/venv/bin/ddb-guard"
[[ -x $installed ]] || fail "the wheel installed no ddb-guard script"
[[ $("$installed" --version) == "ddb-guard $version"* ]] || fail "--version: $("$installed" --version)"
"$tmp/venv/bin/python" -m pip show ddb-guard >"$tmp/show"
grep -qx "Version: $version" "$tmp/show" || fail "pip show: $(cat "$tmp/show")"
echo "ok - pip installed ddb-guard $version from the wheel alone"

echo "-- the installed ddb-guard check templates-examples/"
status=0
"$installed" check templates-examples/ --format compact >"$tmp/out" 2>&1 || status=$?
[[ $status == 1 ]] || fail "findings must exit 1 (exit $status): $(cat "$tmp/out")"
grep -Eq '^templates-examples/unprotected/sessions\.yaml:[0-9]+:[0-9]+: DDB001 \[error\]' "$tmp/out" ||
    fail "the unprotected sessions table (DDB001) was not reported: $(cat "$tmp/out")"
echo "ok - exit 1, DDB001 on templates-examples/unprotected/sessions.yaml"
echo "wheel: ok (maturin build ${built}s)"
