"""Checks one run of the action's check step (scripts/test-action.sh) against the JSON report
of the same binary on the same files: every finding must appear as an annotation, in the job
summary, in the step outputs' counts and as a SARIF result at the same place.

usage: test-action-check.py EXPECTED_JSON STDOUT SUMMARY GITHUB_OUTPUT SARIF
"""

import json
import sys


def main() -> None:
    expected, stdout, summary, output, sarif_path = sys.argv[1:]
    with open(expected, encoding="utf-8") as f:
        report = json.load(f)
    findings = report["findings"]
    assert findings, "the examples should have findings"
    assert not report["errors"], report["errors"]

    # Annotations: a workflow command per finding, at its file and line, titled by the rule.
    level = {"error": "error", "warning": "warning"}
    with open(stdout, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.startswith("::")]
    for finding in findings:
        head = (
            f"::{level.get(finding['severity'], 'notice')} "
            f"file={finding['path']},line={finding['line']},"
        )
        title = f"title={finding['rule']}"
        assert any(
            line.startswith(head) and title in line for line in lines
        ), f"no annotation for {finding['rule']} at {finding['path']}:{finding['line']}"

    # Job summary: Markdown naming every rule and every file with findings.
    with open(summary, encoding="utf-8") as f:
        text = f.read()
    assert text.strip(), "empty job summary"
    for finding in findings:
        assert finding["rule"] in text, f"summary does not mention {finding['rule']}"
        assert finding["path"] in text, f"summary does not mention {finding['path']}"

    # Step outputs.
    with open(output, encoding="utf-8") as f:
        outputs = dict(line.split("=", 1) for line in f.read().splitlines())
    assert outputs["findings"] == str(len(findings)), outputs
    assert outputs["errors"] == "0", outputs
    assert outputs["sarif-file"] == "results/ddb-guard.sarif", outputs
    assert outputs["exit-code"] == "1", outputs

    # SARIF: 2.1.0, one result per finding at the same place, relative URIs, rules listed.
    with open(sarif_path, encoding="utf-8") as f:
        sarif = json.load(f)
    assert sarif["version"] == "2.1.0", sarif.get("version")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "ddb-guard"
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    results = run["results"]

    def place(result):
        location = result["locations"][0]["physicalLocation"]
        return (
            result["ruleId"],
            location["artifactLocation"]["uri"],
            location["region"]["startLine"],
        )

    got = sorted(place(r) for r in results)
    want = sorted((f["rule"], f["path"], f["line"]) for f in findings)
    assert got == want, (got, want)
    assert {r["ruleId"] for r in results} <= rule_ids


if __name__ == "__main__":
    main()
