#!/usr/bin/env bash
# Validates what GitHub runs but this machine cannot: the workflows, the action and the
# pre-commit hook manifest. Offline after the tools are installed (ci-tools.sh): the JSON
# schemas ship inside check-jsonschema, and zizmor runs its offline audits only.
#   - check-jsonschema: .github/workflows/*.yml (vendor.github-workflows) and action.yml
#     (vendor.github-actions) against SchemaStore's schemas;
#   - zizmor: security audit (pinning, permissions, credentials, template injection...);
#   - pre-commit validate-manifest: .pre-commit-hooks.yaml;
#   - the README's example workflow (schema) and its two .pre-commit-config.yaml examples
#     (validate-config);
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

# The Nth (default: first) ```yaml block after a README heading.
readme_yaml() {
    awk -v heading="$1" -v want="${2:-1}" '
        $0 == heading { inside = 1; next }
        inside && /^## / { exit }
        inside && /^```yaml$/ { n++; if (n == want) { block = 1 }; next }
        block && /^```$/ { exit }
        block { print }
    ' README.md
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/local"
echo "-- README examples"
readme_yaml "## GitHub Action" >"$tmp/workflow.yml"
readme_yaml "## pre-commit" >"$tmp/.pre-commit-config.yaml"
[[ -s $tmp/workflow.yml && -s $tmp/.pre-commit-config.yaml ]] || {
    echo "validate-workflows.sh: README lost its GitHub Action or pre-commit example" >&2
    exit 1
}
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$tmp/workflow.yml"
"$bin/pre-commit" validate-config "$tmp/.pre-commit-config.yaml"
readme_yaml "## pre-commit" 2 >"$tmp/local/.pre-commit-config.yaml"
[[ -s $tmp/local/.pre-commit-config.yaml ]] || {
    echo "validate-workflows.sh: README lost its local (published wheel) pre-commit example" >&2
    exit 1
}
"$bin/pre-commit" validate-config "$tmp/local/.pre-commit-config.yaml"
awk '/^```yaml$/ { block = 1; next } block && /^```$/ { exit } block { print }' \
    docs/gitlab.md >"$tmp/.gitlab-ci.yml"
[[ -s $tmp/.gitlab-ci.yml ]] || {
    echo "validate-workflows.sh: docs/gitlab.md lost its .gitlab-ci.yml example" >&2
    exit 1
}
"$bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$tmp/.gitlab-ci.yml"

echo "-- shellcheck"
"$bin/shellcheck" action/*.sh scripts/*.sh .ci/run
echo "workflows, action and hooks: ok"
