#!/usr/bin/env python3
"""Adversarial template sizes: does any shape make `check` or `inventory` super-linear?

Builds, for each shape below, templates of growing size (each step doubles the size), runs
each command of --commands on each (JSON output), and prints seconds and seconds per MB.
Growth must stay below O(n log n): the s/MB columns must stay roughly flat as the size
doubles.

    bench/adversarial.py [--binary target/release/ddb-guard] [--max-mb 64] [--shapes a,b]
                         [--commands check,inventory,diff,changeset] [--timeout 600]
                         [--keep DIR] [--cpu]

The commands:

  check      `check t.json`
  inventory  `inventory t.json`
  diff       the pull-request guard (`check --base` without git): `diff base.json t.json`,
             where base.json is the same template with every third resource (by logical
             ID) also present in a second copy under a new ID, so the guard finds that many
             tables removed and compares the rest property by property (the `renames`
             shape has its own base)
  changeset  `changeset cs.json --template t.json`: a `describe-change-set` document with
             one change per resource of the template (tables removed or replaced, the rest
             modified), for every shape

--keep DIR keeps the generated files there (for `perf record` on one of them). --cpu prints
the binary's CPU time (user + system) instead of wall time: on a shared machine the wall
time measures the other jobs.

Without --binary it builds the release binary (`cargo build --release`). The shapes:

  policy      one Allow with many action items and as many resources, against one Deny
              listing the same resources (the deny check once repeated per action item and
              was quadratic in resources)
  selections  many tables and one backup selection listing every table's ARN, with as many
              NotResources (DDB005 / the inventory rescanned every item for every table)
  own-selections
              many tables, each with its own selection naming it (`!GetAtt T.Arn`, or a
              `!Sub` of its ARN with a `!Sub` exclusion)
  tables      many tables and many selections by tag (ListOfTags and Conditions)
  conditions  long chains of conditions (Fn::And / Fn::Or / Fn::Not over parameters) that
              tables, selections and policy statements depend on, and nested Fn::If
  foreach     Fn::ForEach loops generating many tables and many policy statements
  resources   a policy whose Resource/NotResource lists many wildcard globs (every item
              must be compared with every other)
  renames     for `diff`, a base and a head where thousands of tables are kept, renamed
              (same TableName, or same key schema), removed and added (the rename match
              compared every removed table with every added one); the other commands
              read the head
  table-names for `diff`, n tables whose `TableName` is `!Sub "${P<i>}-${Topic<i>.TopicName}-t"`
              (a parameter of n and a resource of n): at the head every third table is
              renamed (same TableName), every third reads a topic whose name changed,
              and the rest change their KeySchema (DDB021 and DDB022 compared the whole
              Parameters section and scanned every resource for each table); the other
              commands read the head
  replicas    one global table with n replicas; for `diff` every odd one is gone at the
              head, and `changeset` gets a change set whose contexts hold the replicas
              before and after (the odd ones gone, every other even one with deletion
              protection turned off): DDB023, DDB034 and DDB035 scanned the replicas after
              for each replica before

Nothing here is run by `cargo test`; tests/it/hostile.rs pins each shape by how the binary's
CPU time grows from n to 4n.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def policy(n):
    # Every item matches dynamodb:DeleteTable, so each is a separate grant to check.
    patterns = ["dynamodb:Delete*", "dynamodb:*Table", "dynamodb:D*", "dynamodb:*"]
    actions = [patterns[i % 4] + "*" * (i // 4 % 3) for i in range(n)]
    resources = [
        f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}" for i in range(n)
    ]
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                      "UpdateReplacePolicy": "Retain"},
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": resources},
                    {"Effect": "Deny", "Action": "dynamodb:DeleteTable",
                     "Resource": list(reversed(resources))},
                ]}},
            },
        }
    }


def table(i, tags=None, condition=None, name=True):
    props = {"BillingMode": "PAY_PER_REQUEST",
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
    if name:
        props["TableName"] = f"table-{i}"
    if tags:
        props["Tags"] = tags
    r = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
         "UpdateReplacePolicy": "Retain", "Properties": props}
    if condition:
        r["Condition"] = condition
    return r


def plan():
    return {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {
        "BackupPlanName": "p", "BackupPlanRule": [
            {"RuleName": "daily", "TargetBackupVault": "v"}]}}}


def selections(n):
    res = {f"T{i}": table(i, name=(i % 2 == 0)) for i in range(n)}
    res["Plan"] = plan()
    res["Selection"] = {"Type": "AWS::Backup::BackupSelection", "Properties": {
        "BackupPlanId": {"Ref": "Plan"},
        "BackupSelection": {
            "SelectionName": "all", "IamRoleArn": "arn:aws:iam::123456789012:role/b",
            "Resources": [{"Fn::GetAtt": [f"T{i}", "Arn"]} for i in range(n)],
            "NotResources": [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/x-{i}-*"}
                for i in range(n)],
        }}}
    return {"Resources": res}


def own_selections(n):
    """n tables, each with its own selection naming it: by `!GetAtt T.Arn`, or by a
    `!Sub` of its ARN with an exclusion `!Sub ...:table/${T}-archive` (every table read
    every selection, and every `!Sub` was evaluated for every table)."""
    res = {}
    arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
    res["Plan"] = plan()
    for i in range(n):
        res[f"T{i}"] = table(i)
        body = {"SelectionName": f"s{i}", "IamRoleArn": "arn:aws:iam::123456789012:role/b"}
        if i % 2:
            body["Resources"] = [{"Fn::Sub": arn + f"${{T{i}}}"}]
            body["NotResources"] = [{"Fn::Sub": arn + f"${{T{i}}}-archive"}]
        else:
            body["Resources"] = [{"Fn::GetAtt": [f"T{i}", "Arn"]}]
        res[f"Sel{i}"] = {"Type": "AWS::Backup::BackupSelection", "Properties": {
            "BackupPlanId": {"Ref": "Plan"}, "BackupSelection": body}}
    return {"Resources": res}


def tables(n):
    selections_count = max(1, n // 8)
    res = {}
    for i in range(n):
        res[f"T{i}"] = table(i, tags=[{"Key": f"k{j}", "Value": f"v{i % 7}"} for j in range(8)])
    res["Plan"] = plan()
    for s in range(selections_count):
        res[f"Sel{s}"] = {"Type": "AWS::Backup::BackupSelection", "Properties": {
            "BackupPlanId": {"Ref": "Plan"},
            "BackupSelection": {
                "SelectionName": f"s{s}", "IamRoleArn": "arn:aws:iam::123456789012:role/b",
                "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": f"k{j}",
                                "ConditionValue": f"v{s % 7}"} for j in range(8)],
                "Conditions": {
                    "StringEquals": [{"ConditionKey": f"aws:ResourceTag/k{j}",
                                      "ConditionValue": f"v{s % 7}"} for j in range(4)],
                    "StringNotLike": [{"ConditionKey": f"aws:ResourceTag/k{j}",
                                       "ConditionValue": "z*"} for j in range(4)],
                },
            }}}
    return {"Resources": res}


def conditions(n):
    params = {f"P{i}": {"Type": "String", "AllowedValues": ["a", "b"]} for i in range(16)}
    conds = {}
    for i in range(n):
        a, b = f"P{i % 16}", f"P{(i * 7 + 3) % 16}"
        base = {"Fn::Equals": [{"Ref": a}, "a"]}
        other = {"Fn::Not": [{"Fn::Equals": [{"Ref": b}, "b"]}]}
        conds[f"C{i}"] = ({"Fn::And": [base, other]} if i % 2 else {"Fn::Or": [base, other]}) \
            if i < 2 else {"Fn::Or": [{"Condition": f"C{i - 1}"}, {"Condition": f"C{i - 2}"}]}
    res = {}
    for i in range(n):
        t = table(i, condition=f"C{i}")
        t["DeletionPolicy"] = {"Fn::If": [f"C{i}", "Retain", {"Fn::If": [
            f"C{max(0, i - 1)}", "Retain", "Snapshot"]}]}
        res[f"T{i}"] = t
    res["Role"] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {},
        "Policies": [{"PolicyName": f"p{i}", "PolicyDocument": {"Statement": [{
            "Effect": {"Fn::If": [f"C{i}", "Deny", "Allow"]},
            "Action": {"Fn::If": [f"C{max(0, i - 1)}", "dynamodb:DeleteTable", "s3:Get*"]},
            "Resource": {"Fn::GetAtt": [f"T{i}", "Arn"]}}]}} for i in range(n)]}}
    return {"Parameters": params, "Conditions": conds, "Resources": res}


def foreach(n):
    names = [f"n{i}" for i in range(n)]
    return {
        "Transform": "AWS::LanguageExtensions",
        "Resources": {
            "Fn::ForEach::Tables": ["Name", names, {
                "Table${Name}": table(0, tags=[{"Key": "n", "Value": {"Ref": "Name"}}]),
            }],
            "Fn::ForEach::Policies": ["Name", names, {
                "Policy${Name}": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                    "PolicyDocument": {"Statement": [
                        {"Effect": "Allow", "Action": "dynamodb:*",
                         "Resource": {"Fn::Sub": "arn:aws:dynamodb:*:*:table/${Name}"}},
                        {"Effect": "Deny", "Action": "dynamodb:Delete*",
                         "Resource": {"Fn::Sub": "arn:aws:dynamodb:*:*:table/${Name}*"}},
                    ]}}},
            }],
        },
    }


def resources(n):
    allow = [f"arn:aws:dynamodb:*:*:table/a{i}*" for i in range(n)]
    deny = [f"arn:aws:dynamodb:*:*:table/a{i}?*" for i in range(n)] + \
        [f"arn:aws:dynamodb:*:*:table/*{i}" for i in range(n)]
    return {"Resources": {
        "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:DeleteTable", "dynamodb:UpdateTable"],
                 "Resource": allow},
                {"Effect": "Deny", "Action": "dynamodb:*", "Resource": deny},
                {"Effect": "Allow", "Action": "dynamodb:DeleteTable", "NotResource": deny},
            ]}}},
    }}


def rename_pair(n):
    """(base, head) of the pull-request guard's rename match (DDB021): of n tables by
    i % 6, one sixth is kept, one renamed with its TableName (a literal or a `!Sub` of the
    stack name), one renamed with its key schema and no name, one removed, one added,
    and one removed and added without a name, all with the same key schema (so the
    guard pairs them). Every removed table was compared with every added one."""
    def keyed(attribute, name=None):
        t = table(0, name=False)
        t["Properties"]["KeySchema"] = [{"AttributeName": attribute, "KeyType": "HASH"}]
        t["Properties"]["AttributeDefinitions"] = [
            {"AttributeName": attribute, "AttributeType": "S"}]
        if name is not None:
            t["Properties"]["TableName"] = name
        return t

    base, head = {}, {}
    for i in range(n):
        group = i % 6
        name = f"table-{i}" if i % 12 < 6 else {"Fn::Sub": f"${{AWS::StackName}}-table-{i}"}
        if group == 0:
            base[f"Kept{i}"] = head[f"Kept{i}"] = keyed("pk", name)
        elif group == 1:
            base[f"Old{i}"] = keyed("pk", name)
            head[f"New{i}"] = keyed("pk", name)
        elif group == 2:
            base[f"Old{i}"] = keyed(f"id{i}")
            head[f"New{i}"] = keyed(f"id{i}")
        elif group == 3:
            base[f"Gone{i}"] = keyed("pk", f"gone-{i}")
        elif group == 4:
            head[f"Added{i}"] = keyed("pk", f"added-{i}")
        else:
            base[f"Unnamed{i}"] = keyed("pk")
            head[f"Fresh{i}"] = keyed("pk")
    return {"Resources": base}, {"Resources": head}


def renames(n):
    return rename_pair(n)[1]


def table_name_pair(n):
    """(base, head) where many tables' names read a big section and another resource:
    `TableName: !Sub "${P<i>}-${Topic<i>.TopicName}-t"` with n parameters and n topics.
    By i % 3 the head renames the table (same TableName: DDB021 proves the name reads
    nothing changed), changes its topic's name (DDB022: the name cannot be proven
    unchanged), or changes its key (DDB022 compares the name, unchanged, and the key).
    Each table's name compared the whole Parameters section, and each resource it read
    was found by a scan of every resource."""
    params = {f"P{i}": {"Type": "String", "Default": f"v{i}"} for i in range(n)}

    def side(head):
        res = {}
        for i in range(n):
            topic = "${P%d}-topic" % i
            if head and i % 3 == 1:
                topic += "-2"
            res[f"Topic{i}"] = {"Type": "AWS::SNS::Topic",
                                "Properties": {"TopicName": {"Fn::Sub": topic}}}
            key = "pk" if head and i % 3 == 2 else "id"
            t = table(0, name=False)
            t["Properties"]["TableName"] = {"Fn::Sub": "${P%d}-${Topic%d.TopicName}-t" % (i, i)}
            t["Properties"]["KeySchema"] = [{"AttributeName": key, "KeyType": "HASH"}]
            t["Properties"]["AttributeDefinitions"] = [
                {"AttributeName": key, "AttributeType": "S"}]
            res[(f"New{i}" if head and i % 3 == 0 else f"T{i}")] = t
        return {"Parameters": json.loads(json.dumps(params)), "Resources": res}

    return side(False), side(True)


def table_names(n):
    return table_name_pair(n)[1]


def replica_pair(n):
    """(base, head) of one global table with n replicas, the odd ones gone at the head."""
    def side(head):
        t = table(0, name=False)
        t["Type"] = "AWS::DynamoDB::GlobalTable"
        t["Properties"]["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        t["Properties"]["Replicas"] = [{"Region": f"r-{i}"} for i in range(n)
                                       if not (head and i % 2)]
        return {"Resources": {"G": t}}
    return side(False), side(True)


def replicas(n):
    return replica_pair(n)[1]


def replica_change_set(n):
    """A change set modifying the global table of `replicas(n)`, with its replicas in the
    contexts: after it, the odd ones are gone and every other even one has its deletion
    protection off."""
    def context(after):
        return json.dumps({"Properties": {"Replicas": [
            {"Region": f"r-{i}",
             "DeletionProtectionEnabled": "false" if after and i % 4 == 0 else "true"}
            for i in range(n) if not (after and i % 2)]}})
    return {"ChangeSetName": "adversarial", "StackName": "adversarial",
            "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE", "Changes": [
                {"Type": "Resource", "ResourceChange": {
                    "Action": "Modify", "LogicalResourceId": "G",
                    "ResourceType": "AWS::DynamoDB::GlobalTable", "PhysicalResourceId": "g",
                    "Replacement": "False", "Scope": ["Properties"], "Details": [],
                    "BeforeContext": context(False), "AfterContext": context(True)}}]}


COMMANDS = ["check", "inventory", "diff", "changeset"]

SHAPES = {"policy": policy, "selections": selections, "own-selections": own_selections,
          "tables": tables,
          "conditions": conditions, "foreach": foreach, "resources": resources,
          "renames": renames, "table-names": table_names, "replicas": replicas}

# Shapes whose `diff` base is not `removed_copies` of the head.
BASES = {"renames": lambda n: rename_pair(n)[0],
         "table-names": lambda n: table_name_pair(n)[0],
         "replicas": lambda n: replica_pair(n)[0]}

# Shapes whose `changeset` document is not `change_set` of the head.
CHANGE_SETS = {"replicas": replica_change_set}


def removed_copies(template):
    """The base revision for `diff`: every third resource has a twin under a new logical ID
    (gone from the head: a removal for the guard to report)."""
    base = json.loads(json.dumps(template))
    resources = base.get("Resources", {})
    for i, key in enumerate(list(resources)):
        if i % 3 == 0 and not key.startswith("Fn::ForEach"):
            resources[key + "Gone"] = resources[key]
    return base


def change_set(template):
    """A `describe-change-set` document with one change per resource of `template`."""
    changes = []
    for i, (key, resource) in enumerate(template.get("Resources", {}).items()):
        if key.startswith("Fn::ForEach"):
            continue
        kind = resource.get("Type", "AWS::CloudFormation::WaitConditionHandle")
        if kind == "AWS::DynamoDB::Table" and i % 2 == 0:
            change = {"Action": "Remove", "LogicalResourceId": key, "ResourceType": kind,
                      "PhysicalResourceId": f"table-{i}", "Scope": [], "Details": []}
        else:
            change = {"Action": "Modify", "LogicalResourceId": key, "ResourceType": kind,
                      "PhysicalResourceId": f"p-{i}", "Replacement": "True",
                      "Scope": ["Properties"], "Details": [{
                          "Target": {"Attribute": "Properties", "Name": "TableName",
                                     "RequiresRecreation": "Always"},
                          "Evaluation": "Static", "ChangeSource": "DirectModification"}]}
        changes.append({"Type": "Resource", "ResourceChange": change})
    return {"ChangeSetName": "adversarial", "StackName": "adversarial",
            "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE", "Changes": changes}


def sized(build, target_bytes):
    """The template of `build` closest above `target_bytes` (doubling, then bisecting)."""
    n = 4
    text = json.dumps(build(n), indent=1)
    while len(text) < target_bytes:
        n *= 2
        text = json.dumps(build(n), indent=1)
    lo, hi = n // 2, n
    while hi - lo > max(1, n // 32):
        mid = (lo + hi) // 2
        if len(json.dumps(build(mid), indent=1)) < target_bytes:
            lo = mid
        else:
            hi = mid
    return hi, build(hi)


def timed(binary, args, cwd, timeout, cpu):
    """Seconds of the run (wall, or with `cpu` the child's user + system time) and its exit
    code."""
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run([binary, *args], cwd=cwd, capture_output=True, timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    if cpu:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code
    return time.monotonic() - start, code


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary")
    p.add_argument("--min-kb", type=int, default=64)
    p.add_argument("--max-mb", type=float, default=64)
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--commands", default="check,inventory,diff,changeset")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--keep", help="keep the generated files in this directory")
    p.add_argument("--cpu", action="store_true",
                   help="CPU seconds (user + system) instead of wall seconds: what a machine "
                        "shared with other jobs does not stretch")
    a = p.parse_args()
    commands = a.commands.split(",")
    unknown = [c for c in commands if c not in COMMANDS]
    if unknown:
        p.error(f"unknown command {unknown[0]}: one of {', '.join(COMMANDS)}")
    binary = a.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "ddb-guard")
    binary = os.path.abspath(binary)
    size_limit = ["--max-file-size", str(1 << 31)]
    limits = [*size_limit, "--max-nodes", str(1 << 30)]
    print("| shape | n | MB | " + " | ".join(f"{c} s | {c} s/MB" for c in commands) + " |")
    print("|---|---:|---:|" + "---:|---:|" * len(commands))
    for shape in a.shapes.split(","):
        build = SHAPES[shape]
        size = a.min_kb * 1024
        while size <= a.max_mb * 1024 * 1024:
            n, template = sized(build, size)
            text = json.dumps(template, indent=1)
            mb = len(text) / 1e6
            cells, codes = [], []
            with tempfile.TemporaryDirectory() as d:
                d = a.keep or d
                os.makedirs(d, exist_ok=True)
                files = {"t.json": text}
                if "diff" in commands:
                    base = BASES[shape](n) if shape in BASES else removed_copies(template)
                    files["base.json"] = json.dumps(base, indent=1)
                if "changeset" in commands:
                    cs = CHANGE_SETS[shape](n) if shape in CHANGE_SETS else change_set(template)
                    files["cs.json"] = json.dumps(cs, indent=1)
                for name, body in files.items():
                    with open(os.path.join(d, name), "w") as f:
                        f.write(body)
                for command in commands:
                    args = {
                        "check": ["check", "t.json", "--isolated", *limits],
                        "inventory": ["inventory", "t.json", "--isolated", *limits],
                        "diff": ["diff", "base.json", "t.json", *limits],
                        "changeset": ["changeset", "cs.json", "--template", "t.json", *size_limit],
                    }[command]
                    seconds, code = timed(binary, [*args, "--format", "json"], d, a.timeout,
                                          a.cpu)
                    cells.append(f"{seconds:.2f} | {seconds / mb:.2f}")
                    codes.append(code)
            print(f"| {shape} | {n} | {mb:.2f} | " + " | ".join(cells) + " |"
                  + ("" if all(isinstance(c, int) and c < 2 for c in codes)
                     else " exit " + "/".join(str(c) for c in codes)), flush=True)
            if "timeout" in codes:
                break
            size *= 2


if __name__ == "__main__":
    sys.exit(main())
