#!/usr/bin/env bash
# Validates what GitHub runs but this machine cannot: the workflows, the action and the
# pre-commit hook manifest. Offline after the tools are installed (ci-tools.sh): the JSON
# schemas ship inside check-jsonschema, and zizmor runs its offline audits only.
#   - check-jsonschema: .github/workflows/*.yml (vendor.github-workflows) and action.yml
#     (vendor.github-actions) against SchemaStore's schemas;
#   - zizmor: security audit (pinning, permissions, credentials, template injection...);
#   - pre-commit validate-manifest: .pre-commit-hooks.yaml;
#   - the documented example workflow (docs/github-action.md, schema) and the two
#     .pre-commit-config.yaml examples (docs/pre-commit.md, validate-config);
#   - docs/gitlab.md's .gitlab-ci.yml example (vendor.gitlab-ci schema);
#   - shellcheck: the action's scripts and the repository's scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(bash scripts/ci-tools.sh)
workflows=(.github/workflows/*.yml)

echo "-- check-jsonschema (workflows, action.yml)"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml

echo "-- zizmor --offline"
"$bin/zizmor" --offline --strict-collection --no-progress --persona regular \
    action.yml .pre-commit-hooks.yaml "${workflows[@]}"

echo "-- pre-commit validate-manifest"
"$bin/pre-commit" validate-manifest .pre-commit-hooks.yaml

# The Nth (default: first) ```yaml block of a Markdown page.
doc_yaml() {
    awk -v want="${2:-1}" '
        /^```yaml$/ { n++; if (n == want) { block = 1 }; next }
        block && /^```$/ { exit }
        block { print }
    ' "$1"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/local"
echo "-- documented examples"
doc_yaml docs/github-action.md >"$tmp/workflow.yml"
doc_yaml docs/pre-commit.md >"$tmp/.pre-commit-config.yaml"
[[ -s $tmp/workflow.yml && -s $tmp/.pre-commit-config.yaml ]] || {
    echo "validate-workflows.sh: docs/github-action.md or docs/pre-commit.md lost its example" >&2
    exit 1
}
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$tmp/workflow.yml"
"$bin/pre-commit" validate-config "$tmp/.pre-commit-config.yaml"
doc_yaml docs/pre-commit.md 2 >"$tmp/local/.pre-commit-config.yaml"
[[ -s $tmp/local/.pre-commit-config.yaml ]] || {
    echo "validate-workflows.sh: docs/pre-commit.md lost its local (published wheel) example" >&2
    exit 1
}
"$bin/pre-commit" validate-config "$tmp/local/.pre-commit-config.yaml"
doc_yaml docs/changeset.md >"$tmp/deploy.yml"
[[ -s $tmp/deploy.yml ]] || {
    echo "validate-workflows.sh: docs/changeset.md lost its workflow example" >&2
    exit 1
}
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$tmp/deploy.yml"
doc_yaml docs/gitlab.md >"$tmp/.gitlab-ci.yml"
[[ -s $tmp/.gitlab-ci.yml ]] || {
    echo "validate-workflows.sh: docs/gitlab.md lost its .gitlab-ci.yml example" >&2
    exit 1
}
"$bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$tmp/.gitlab-ci.yml"

echo "-- shellcheck"
"$bin/shellcheck" action/*.sh scripts/*.sh .ci/run
echo "workflows, action and hooks: ok"
