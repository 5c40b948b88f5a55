#!/usr/bin/env bash
# Builds what the release publishes to PyPI, with a pinned maturin (pyproject.toml: `bin`
# bindings, the wheel carries the ddb-guard binary):
#   scripts/build-wheel.sh TARGET [OUT]   the wheel for a Rust target triple, into OUT
#   scripts/build-wheel.sh sdist [OUT]    the source distribution
# OUT defaults to dist/. Prints the path of the file it built.
# WHEEL_ZIG=1 (release.yml, Linux glibc targets) links with zig against glibc 2.17, so the
# wheel is tagged manylinux2014 and installs on old distributions too; without it the wheel
# is tagged for the glibc of the build machine. RELEASE_TAG, when set, must equal vVERSION.
# WHEEL_FEATURES (release.yml: `audit`) are the cargo features the binary is built with;
# scripts/test-wheel.sh leaves them out: the AWS SDK of `audit` would add many minutes of
# release build to every CI run, and the audit build is tested by scripts/test-audit.sh.
# Used by .github/workflows/release.yml and by scripts/test-wheel.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

what=${1:?usage: build-wheel.sh TARGET|sdist [OUT]}
out=${2:-dist}
maturin_version=1.16.0
tools=${DDB_GUARD_CI_TOOLS:-$repo/target/ci-tools}

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || {
    echo "build-wheel.sh: no version in Cargo.toml" >&2
    exit 1
}
if [[ -n ${RELEASE_TAG:-} && $RELEASE_TAG != "v$version" ]]; then
    echo "build-wheel.sh: tag $RELEASE_TAG does not match Cargo.toml version $version" >&2
    exit 1
fi

requirement="maturin==$maturin_version"
if [[ ${WHEEL_ZIG:-} == 1 ]]; then requirement="maturin[zig]==$maturin_version"; fi
venv="$tools/${requirement//[^A-Za-z0-9.=_-]/_}"
bindir="$venv/bin"
[[ -d $venv/Scripts ]] && bindir="$venv/Scripts" # Windows
if [[ ! -x $bindir/maturin && ! -x $bindir/maturin.exe ]]; then
    python=${PYTHON:-}
    if [[ -z $python ]]; then
        python=python3
        # Windows runners have `python`; a `python3` there may be the Store's stub.
        if [[ $OSTYPE == msys* || $OSTYPE == cygwin* ]] || ! command -v python3 >/dev/null 2>&1; then
            python=python
        fi
    fi
    echo "build-wheel.sh: installing $requirement into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$tools"
    "$python" -m venv "$venv"
    [[ -d $venv/Scripts ]] && bindir="$venv/Scripts"
    "$bindir/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
fi

mkdir -p "$out"
stage=$(mktemp -d "$out/.build-wheel.XXXXXX")
trap 'rm -rf "$stage"' EXIT
if [[ $what == sdist ]]; then
    "$bindir/maturin" sdist --out "$stage" >&2
else
    args=(build --release --locked --out "$stage")
    # A native build needs no --target (and then shares target/release with other builds).
    if [[ $what != "$(rustc -vV | sed -n 's/^host: //p')" ]]; then args+=(--target "$what"); fi
    if [[ ${WHEEL_ZIG:-} == 1 ]]; then args+=(--zig --compatibility manylinux2014); fi
    if [[ -n ${WHEEL_FEATURES:-} ]]; then args+=(--features "$WHEEL_FEATURES"); fi
    "$bindir/maturin" "${args[@]}" >&2
fi
built=("$stage"/*)
[[ ${#built[@]} == 1 && -f ${built[0]} ]] || {
    echo "build-wheel.sh: expected one file from maturin, got: ${built[*]}" >&2
    exit 1
}
name=$(basename "${built[0]}")
mv -f "${built[0]}" "$out/$name"
echo "$out/$name"
