#!/usr/bin/env bash
# Installs ddb-guard for the GitHub Action (action.yml). Two subcommands, one per step:
#
#   install.sh plan   Download the release binary for INPUT_VERSION and verify its SHA-256; if
#                     there is no such release asset, plan a build from the action's own source
#                     (outputs method=source, root, source-hash for actions/cache).
#   install.sh build  `cargo install --locked --path "$GITHUB_ACTION_PATH"` into that root.
#   install.sh activate  Check that the binary runs and put its directory on PATH for the
#                     steps after the action.
#
# Every input arrives through the environment (never through `${{ }}` in the script, which
# would let a crafted input run shell code). Variables:
#   GITHUB_ACTION_PATH   the action's checkout (the repository root: Cargo.toml, src/)
#   GITHUB_OUTPUT        step outputs file; GITHUB_PATH: directories added to PATH
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP   set by the runner
#   INPUT_VERSION        "" (the action's own version), "source", or X.Y.Z / vX.Y.Z
#   DDB_GUARD_REPOSITORY owner/name the releases come from (github.action_repository)
#   DDB_GUARD_RELEASES_URL  override of https://github.com/OWNER/NAME/releases/download (tests)
#   DDB_GUARD_INSTALL_ROOT  override of the install root (tests)
set -euo pipefail

die() {
    echo "::error title=ddb-guard action::$*"
    exit 2
}
note() { echo "ddb-guard action: $*" >&2; }
output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"; }

action_path=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
root=${DDB_GUARD_INSTALL_ROOT:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ddb-guard-action}
exe=ddb-guard
if [[ ${RUNNER_OS:-} == Windows ]]; then exe=ddb-guard.exe; fi

# The version in the action's own Cargo.toml: the first `version = "..."` line is the
# package's, because [package] is the first table.
source_version() {
    sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1
}

# Release target triple for this runner; empty when no release binary is built for it.
# Linux gets the static musl build so that it runs whatever the runner's glibc.
release_target() {
    local os=${RUNNER_OS:-} arch=${RUNNER_ARCH:-}
    if [[ -z $os ]]; then
        case "$(uname -s)" in
        Linux) os=Linux ;;
        Darwin) os=macOS ;;
        MINGW* | MSYS* | CYGWIN*) os=Windows ;;
        esac
    fi
    if [[ -z $arch ]]; then
        case "$(uname -m)" in
        x86_64 | amd64) arch=X64 ;;
        aarch64 | arm64) arch=ARM64 ;;
        esac
    fi
    case "$os/$arch" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        die "neither sha256sum nor shasum is installed: cannot verify the download"
    fi
}

# Downloads URL to FILE; returns non-zero (without failing the script) when it is not there.
fetch() {
    local url=$1 file=$2
    local -a proto=(--proto '=https' --tlsv1.2)
    # Tests point DDB_GUARD_RELEASES_URL at a file:// directory.
    if [[ -n ${DDB_GUARD_RELEASES_URL:-} ]]; then proto=(); fi
    curl -fsSL ${proto[@]+"${proto[@]}"} --retry 3 --retry-delay 2 --connect-timeout 20 -o "$file" "$url"
}

# Tries the release binary. Returns 1 if there is none to download (the caller may build from
# source); a checksum mismatch is fatal and never falls back.
install_release() {
    local version=$1 target
    target=$(release_target)
    if [[ -z $target ]]; then
        note "no release binary is built for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}"
        return 1
    fi
    local repo=${DDB_GUARD_REPOSITORY:-}
    if [[ -z $repo ]]; then repo=ddb-guard/ddb-guard; fi
    local base=${DDB_GUARD_RELEASES_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}
    local asset="ddb-guard-v$version-$target.tar.gz"
    local dl="$root/download"
    rm -rf "$dl"
    mkdir -p "$dl"
    note "downloading $base/v$version/$asset"
    if ! fetch "$base/v$version/$asset.sha256" "$dl/$asset.sha256" ||
        ! fetch "$base/v$version/$asset" "$dl/$asset"; then
        note "no release asset $asset for v$version"
        return 1
    fi
    local expected actual
    expected=$(cut -d ' ' -f 1 <"$dl/$asset.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
    actual=$(sha256_of "$dl/$asset")
    if [[ ! $expected =~ ^[0-9a-f]{64}$ ]]; then
        die "$asset.sha256 does not hold a SHA-256 checksum"
    fi
    if [[ $expected != "$actual" ]]; then
        die "checksum mismatch for $asset: expected $expected, got $actual; refusing to run it"
    fi
    local bin="$root/release-v$version/bin"
    rm -rf "$bin"
    mkdir -p "$bin"
    # The archive holds ddb-guard-vX-TARGET/ddb-guard[.exe] plus licences and README.
    # Relative names: GNU tar (Git Bash on Windows) reads `D:\...` as a remote host.
    (cd "$dl" && tar -xzf "$asset") || die "cannot unpack $asset"
    local unpacked="$dl/ddb-guard-v$version-$target/$exe"
    [[ -f $unpacked ]] || die "$asset does not contain ddb-guard-v$version-$target/$exe"
    mv "$unpacked" "$bin/$exe"
    chmod +x "$bin/$exe"
    note "installed ddb-guard $version ($target), SHA-256 verified"
    output method release
    output version "$version"
    output bin "$bin/$exe"
    output bin-dir "$bin"
    return 0
}

# A hash of everything that determines the built binary, for the actions/cache key.
# (hashFiles() cannot be used: it only sees files inside the workspace, not the action's path.)
source_hash() {
    (
        cd "$action_path"
        {
            printf '%s\n' Cargo.toml Cargo.lock
            find src -type f -name '*.rs'
        } | LC_ALL=C sort | while IFS= read -r f; do
            printf '%s %s\n' "$(sha256_of "$f")" "$f"
        done
    ) >"$root/source-files.txt"
    sha256_of "$root/source-files.txt"
}

plan_source() {
    local version=$1
    command -v cargo >/dev/null 2>&1 ||
        die "ddb-guard $version must be built from source, but cargo is not installed: install a Rust toolchain first (e.g. dtolnay/rust-toolchain), or use a released version"
    local src_root="$root/source"
    mkdir -p "$src_root"
    output method source
    output version "$version"
    output root "$src_root"
    output source-hash "$(source_hash)"
    output bin "$src_root/bin/$exe"
    output bin-dir "$src_root/bin"
}

plan() {
    mkdir -p "$root"
    local own requested
    own=$(source_version)
    [[ -n $own ]] || die "cannot read the version from $action_path/Cargo.toml"
    requested=${INPUT_VERSION:-}
    requested=${requested#v}
    case "$requested" in
    source)
        note "version: source; building ddb-guard $own from the action's checkout"
        plan_source "$own"
        ;;
    "")
        install_release "$own" || {
            note "building ddb-guard $own from the action's checkout instead"
            plan_source "$own"
        }
        ;;
    *)
        [[ $requested =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] ||
            die "version must be empty, 'source', or a release version like 1.2.3 (got '$INPUT_VERSION')"
        install_release "$requested" && return 0
        # Building the action's checkout gives the version in its Cargo.toml; only use it when
        # that is the version asked for.
        [[ $requested == "$own" ]] ||
            die "no release binary of ddb-guard $requested for this runner, and the action's checkout is version $own: pin the action to v$requested or set version to $own"
        note "building ddb-guard $own from the action's checkout instead"
        plan_source "$own"
        ;;
    esac
}

build() {
    local src_root=${DDB_GUARD_SOURCE_ROOT:?DDB_GUARD_SOURCE_ROOT is not set}
    note "cargo install --locked --path $action_path --root $src_root"
    # A separate target dir keeps the build out of the action's checkout.
    cargo install --locked --path "$action_path" --root "$src_root" \
        --target-dir "$root/cargo-target"
}

activate() {
    local bin=${DDB_GUARD_BIN:?DDB_GUARD_BIN is not set}
    [[ -x $bin ]] || die "ddb-guard was not installed at $bin"
    "$bin" --version >&2 || die "$bin does not run"
    dirname "$bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
}

case "${1:-}" in
plan) plan ;;
build) build ;;
activate) activate ;;
*)
    echo "usage: install.sh plan|build|activate" >&2
    exit 2
    ;;
esac
