#!/usr/bin/env python3
"""Do two binaries give the same pull-request guard output (`diff BASE HEAD`)?

Generates base/head pairs from the shapes of `bench/adversarial.py` (each shape's own
base and head at several sizes, both ways round, and heads with random edits: a string
changed, a resource removed or renamed, a parameter's Default changed), runs
`diff base.json head.json --format json` with each binary and compares stdout and exit
code byte for byte.

    bench/same-diff.py OLD NEW [--pairs-per-shape 60] [--seed 1] [--shapes a,b]

Prints the number of pairs compared, every difference (exit 1 if any), and how many
pairs had a finding of each pull-request guard rule (DDB020-DDB029).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "adversarial", os.path.join(os.path.dirname(os.path.abspath(__file__)), "adversarial.py"))
adversarial = importlib.util.module_from_spec(spec)
spec.loader.exec_module(adversarial)


def strings(node, path=()):
    """Every (path, value) of a string leaf."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from strings(v, path + (i,))
    elif isinstance(node, str):
        yield path, node


def edit(template, rng):
    """A copy of `template` with one to three random edits."""
    t = json.loads(json.dumps(template))
    resources = t.get("Resources", {})
    for _ in range(rng.randint(1, 3)):
        keys = [k for k in resources if not k.startswith("Fn::ForEach")]
        op = rng.choice(["string", "string", "remove", "rename", "parameter"])
        if op == "parameter" and t.get("Parameters"):
            p = rng.choice(list(t["Parameters"].values()))
            if "AllowedValues" in p:
                p["AllowedValues"] = list(reversed(p["AllowedValues"]))[:1]
            else:
                p["Default"] = p.get("Default", "") + "-x"
        elif op == "remove" and keys:
            del resources[rng.choice(keys)]
        elif op == "rename" and keys:
            k = rng.choice(keys)
            resources[k + "Moved"] = resources.pop(k)
        else:
            leaves = list(strings(resources))
            if not leaves:
                continue
            path, value = rng.choice(leaves)
            node = resources
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = value + "2" if not value.endswith("}") else value + "-2"
    return t


def run(binary, d):
    p = subprocess.run([binary, "diff", "base.json", "head.json", "--format", "json"],
                       cwd=d, capture_output=True, timeout=600)
    return p.returncode, p.stdout


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("old")
    a.add_argument("new")
    a.add_argument("--pairs-per-shape", type=int, default=60)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--shapes", default=",".join(adversarial.SHAPES))
    args = a.parse_args()
    rng = random.Random(args.seed)
    compared, differ = 0, []
    # How many pairs had a finding of each pull-request guard rule (what was compared).
    tally = {}
    for shape in args.shapes.split(","):
        build = adversarial.SHAPES[shape]
        for k in range(args.pairs_per_shape):
            n = rng.choice([3, 4, 6, 7, 12, 13, 25, 48, 97])
            head = build(n)
            base = (adversarial.BASES[shape](n) if shape in adversarial.BASES
                    else adversarial.removed_copies(head))
            pairs = {0: (base, head), 1: (head, base), 2: (base, edit(head, rng)),
                     3: (edit(base, rng), base)}
            b, h = pairs[k % 4]
            with tempfile.TemporaryDirectory() as d:
                for name, body in (("base.json", b), ("head.json", h)):
                    with open(os.path.join(d, name), "w") as f:
                        json.dump(body, f, indent=1)
                old, new = run(args.old, d), run(args.new, d)
                compared += 1
                try:
                    rules = {f["rule"] for f in json.loads(new[1]).get("findings", [])}
                except ValueError:
                    rules = set()
                for r in rules:
                    tally[r] = tally.get(r, 0) + 1
                if old != new:
                    differ.append((shape, n, k))
                    keep = os.path.join(tempfile.gettempdir(), f"same-diff-{shape}-{n}-{k}")
                    os.makedirs(keep, exist_ok=True)
                    for name, body in (("base.json", b), ("head.json", h)):
                        with open(os.path.join(keep, name), "w") as f:
                            json.dump(body, f, indent=1)
                    print(f"DIFFERENT: {shape} n={n} pair {k} (kept in {keep}): exit "
                          f"{old[0]} vs {new[0]}", flush=True)
    print(f"{compared} pairs compared, {len(differ)} different")
    print("pairs with a finding of: " + ", ".join(
        f"{r} {c}" for r, c in sorted(tally.items()) if r.startswith("DDB02")))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
