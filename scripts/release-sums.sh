#!/usr/bin/env bash
# The last step before a release is published: in DIR (default dist/), verify every archive
# against its own .sha256 file (written by release-package.sh on the runner that built it),
# then write SHA256SUMS over everything the release ships: binary archives, wheels and the
# sdist. Fails when a checksum does not match or there is nothing to publish.
# usage: scripts/release-sums.sh [DIR]
# Used by .github/workflows/release.yml; tested by scripts/test-release.sh.
set -euo pipefail
dir=${1:-dist}
cd "$dir"
shopt -s nullglob

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}
check() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum --check --strict "$@"; else shasum -a 256 --check --strict "$@"; fi
}

sums=(*.sha256)
for sum in "${sums[@]}"; do check "$sum"; done
files=(ddb-guard-v*.tar.gz ddb-guard-v*.zip ddb_guard-*.whl ddb_guard-*.tar.gz)
archives=(ddb-guard-v*.tar.gz ddb-guard-v*.zip)
[[ ${#archives[@]} -gt 0 ]] || {
    echo "release-sums.sh: no binary archive in $dir" >&2
    exit 1
}
[[ ${#sums[@]} -ge ${#archives[@]} ]] || {
    echo "release-sums.sh: an archive in $dir has no .sha256 file" >&2
    exit 1
}
sha256 "${files[@]}" >SHA256SUMS
cat SHA256SUMS
