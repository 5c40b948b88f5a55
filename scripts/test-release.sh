#!/usr/bin/env bash
# The script steps of .github/workflows/release.yml that can run here, without building a
# release: release-package.sh (archive + .sha256), build-wheel.sh's tag check,
# release-sums.sh (verification and SHA256SUMS). The builds themselves are covered by
# scripts/test-wheel.sh (build-wheel.sh) and scripts/test-action.sh (release-package.sh with
# a real binary). Fast: part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "-- a tag that is not vVERSION is refused before anything is built"
for script in "release-package.sh x86_64-unknown-linux-musl $tmp/none" "build-wheel.sh sdist $tmp/none"; do
    status=0
    # shellcheck disable=SC2086 # the words are the script and its arguments
    RELEASE_TAG="v0.0.0-not-$version" bash scripts/$script >"$tmp/out" 2>&1 || status=$?
    if [[ $status == 0 ]] || ! grep -q "does not match Cargo.toml version $version" "$tmp/out"; then
        fail "$script accepted a wrong tag: $(cat "$tmp/out")"
    fi
done
[[ ! -e $tmp/none ]] || fail "something was written for a wrong tag"
echo "ok - release-package.sh and build-wheel.sh refuse a tag of another version"

echo "-- release-package.sh, then release-sums.sh over archives, a wheel and an sdist"
dist="$tmp/dist"
printf '#!/bin/sh\necho fake\n' >"$tmp/ddb-guard"
for target in x86_64-unknown-linux-musl aarch64-apple-darwin; do
    RELEASE_TAG="v$version" DIST="$dist" bash scripts/release-package.sh "$target" "$tmp/ddb-guard" >/dev/null
done
echo wheel >"$dist/ddb_guard-$version-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
echo sdist >"$dist/ddb_guard-$version.tar.gz"
bash scripts/release-sums.sh "$dist" >"$tmp/out"
[[ $(wc -l <"$dist/SHA256SUMS") == 4 ]] || fail "SHA256SUMS should list 2 archives, 1 wheel, 1 sdist: $(cat "$dist/SHA256SUMS")"
grep -q " ddb_guard-$version-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl\$" "$dist/SHA256SUMS" ||
    fail "SHA256SUMS lacks the wheel"
(cd "$dist" && sha256sum --check --strict --quiet SHA256SUMS) || fail "SHA256SUMS does not verify"
echo "ok - SHA256SUMS lists every file of the release and verifies"

echo "-- an archive changed after packaging is refused"
archive="$dist/ddb-guard-v$version-x86_64-unknown-linux-musl.tar.gz"
echo tampered >>"$archive"
status=0
bash scripts/release-sums.sh "$dist" >"$tmp/out" 2>&1 || status=$?
[[ $status != 0 ]] || fail "release-sums.sh accepted a tampered archive"
echo "ok - a checksum mismatch stops the release"

echo "-- an archive without its .sha256 is refused"
rm "$dist"/*.sha256
status=0
bash scripts/release-sums.sh "$dist" >"$tmp/out" 2>&1 || status=$?
[[ $status != 0 ]] || fail "release-sums.sh accepted archives without checksums"
echo "ok - archives must come with their checksums"
echo "release scripts: ok"
