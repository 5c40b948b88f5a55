#!/usr/bin/env bash
# Packages one release binary the way the GitHub Action's installer (action/install.sh)
# expects it, with its SHA-256 checksum:
#
#   DIST/ddb-guard-vVERSION-TARGET.tar.gz          ddb-guard-vVERSION-TARGET/{ddb-guard[.exe],
#                                                  README.md, LICENSE-APACHE, LICENSE-MIT}
#   DIST/ddb-guard-vVERSION-TARGET.tar.gz.sha256   "<hex>  <file name>" (sha256sum -c format)
#   DIST/ddb-guard-vVERSION-TARGET.zip[.sha256]    the same, for Windows targets, when 7z exists
#
# usage: scripts/release-package.sh TARGET [BINARY]
#   BINARY defaults to target/TARGET/release/ddb-guard[.exe]; DIST defaults to dist/.
#   VERSION is read from Cargo.toml; when RELEASE_TAG is set (release.yml passes the pushed
#   tag), it must equal vVERSION, so a tag can never publish binaries of another version.
# Used by .github/workflows/release.yml and by scripts/test-action.sh (fake release).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: release-package.sh TARGET [BINARY]}
exe=ddb-guard
if [[ $target == *windows* ]]; then exe=ddb-guard.exe; fi
binary=${2:-target/$target/release/$exe}
dist=${DIST:-dist}

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || {
    echo "release-package.sh: no version in Cargo.toml" >&2
    exit 1
}
if [[ -n ${RELEASE_TAG:-} && $RELEASE_TAG != "v$version" ]]; then
    echo "release-package.sh: tag $RELEASE_TAG does not match Cargo.toml version $version" >&2
    exit 1
fi
[[ -f $binary ]] || {
    echo "release-package.sh: no binary at $binary" >&2
    exit 1
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi
}

name="ddb-guard-v$version-$target"
mkdir -p "$dist"
stage="$dist/$name"
rm -rf "$stage"
mkdir -p "$stage"
cp "$binary" "$stage/$exe"
chmod +x "$stage/$exe"
cp README.md LICENSE-APACHE LICENSE-MIT "$stage/"

(
    cd "$dist"
    tar -czf "$name.tar.gz" "$name"
    sha256 "$name.tar.gz" >"$name.tar.gz.sha256"
    if [[ $target == *windows* ]] && command -v 7z >/dev/null 2>&1; then
        rm -f "$name.zip"
        7z a -tzip -bso0 "$name.zip" "$name"
        sha256 "$name.zip" >"$name.zip.sha256"
    fi
)
rm -rf "$stage"
echo "$dist/$name.tar.gz"
