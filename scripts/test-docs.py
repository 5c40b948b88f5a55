#!/usr/bin/env python3
"""The documentation cannot drift from the tool: every fenced block marked runnable in
README.md and docs/**/*.md is run, and every relative link must resolve.

A runnable block opens with ```sh runnable (every command must exit 0) or
```sh runnable=1 (every command exits 1) or ```sh runnable=1,0 (one code per command, in
order). Each non-blank line that is not a comment is one command (a trailing `\\` joins
lines); the commands of a block run in order, with bash, in one fresh directory holding a
copy of templates-examples/ committed to a new git repository, with the ddb-guard built by
`cargo build` first on PATH.

Links: a relative link must name a file or directory of the repository, and a `#fragment`
must name a heading of the Markdown file it points to.

usage: scripts/test-docs.py   (from anywhere; run by .ci/run)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r"^```(\S*)(.*)$")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def markdown_files():
    files = [os.path.join(ROOT, "README.md")]
    for base, _, names in os.walk(os.path.join(ROOT, "docs")):
        files += [os.path.join(base, n) for n in sorted(names) if n.endswith(".md")]
    return files


def slug(heading):
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(path):
    slugs, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"^#{1,6} (.*)$", line.rstrip("\n"))
        if m:
            slugs.add(slug(m.group(1)))
    return slugs


def check_links(files):
    errors = []
    for path in files:
        fence = False
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.startswith("```"):
                fence = not fence
            if fence:
                continue
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue
                file_part, _, fragment = target.partition("#")
                where = path if not file_part else os.path.normpath(
                    os.path.join(os.path.dirname(path), file_part))
                at = f"{os.path.relpath(path, ROOT)}:{number}"
                if not os.path.exists(where):
                    errors.append(f"{at}: {target}: no such file")
                elif fragment and where.endswith(".md") and fragment not in headings(where):
                    errors.append(f"{at}: {target}: no heading #{fragment}")
    return errors


def runnable_blocks(path):
    """(line number, [(command, expected exit code)]) per runnable block."""
    blocks, block, codes, start = [], None, None, 0
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        m = FENCE.match(line)
        if block is None and m and m.group(1) in ("sh", "bash"):
            words = m.group(2).split()
            marks = [w for w in words if w == "runnable" or w.startswith("runnable=")]
            if marks:
                block, start = [], number
                codes = [int(c) for c in marks[0].split("=", 1)[1].split(",")] if "=" in marks[0] else [0]
            elif block is None and m.group(1):
                block = None
            continue
        if block is not None:
            if line.startswith("```"):
                commands, pending = [], ""
                for text in block:
                    text = pending + text
                    if text.endswith("\\"):
                        pending = text[:-1] + " "
                        continue
                    pending = ""
                    if text.strip() and not text.strip().startswith("#"):
                        commands.append(text)
                if len(codes) not in (1, len(commands)):
                    sys.exit(f"{os.path.relpath(path, ROOT)}:{start}: {len(codes)} exit codes "
                             f"for {len(commands)} commands")
                expected = codes * len(commands) if len(codes) == 1 else codes
                blocks.append((start, list(zip(commands, expected))))
                block = None
            else:
                block.append(line)
    return blocks


def workspace():
    tmp = tempfile.mkdtemp(prefix="ddb-guard-test-docs.")
    shutil.copytree(os.path.join(ROOT, "templates-examples"),
                    os.path.join(tmp, "templates-examples"))
    git = ["git", "-c", "user.name=docs", "-c", "user.email=docs@example.com",
           "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "examples"]):
        subprocess.run(git + args, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    return tmp


def main():
    subprocess.run(["cargo", "build", "--locked", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    env = {k: v for k, v in os.environ.items()
           if k != "CI" and not k.startswith("GITHUB_")}
    env["PATH"] = os.path.join(os.path.abspath(target), "debug") + os.pathsep + env["PATH"]
    env["NO_COLOR"] = "1"

    files = markdown_files()
    failures = check_links(files)
    ran = 0
    for path in files:
        for start, commands in runnable_blocks(path):
            tmp = workspace()
            try:
                for command, expected in commands:
                    ran += 1
                    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp,
                                            env=env, capture_output=True, text=True)
                    at = f"{os.path.relpath(path, ROOT)}:{start}"
                    if result.returncode != expected:
                        failures.append(f"{at}: `{command}` exited {result.returncode}, "
                                        f"the docs say {expected}\n{result.stderr[-2000:]}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        return 1
    if ran == 0:
        print("FAIL: no runnable block found", file=sys.stderr)
        return 1
    print(f"docs: ok ({ran} commands in runnable blocks, links of {len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
