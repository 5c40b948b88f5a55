"""Assertions on `ddb-guard audit`'s JSON findings and inventory, for scripts/test-audit.sh.

usage: check_outputs.py SCENARIO FINDINGS_JSON INVENTORY_JSON
  complete          tests/audit/seed.py's account
  vault-unreadable  the same with a vault whose access policy cannot be read
"""
import json
import sys

scenario, findings_path, inventory_path = sys.argv[1:4]
findings = json.load(open(findings_path))
inventory = json.load(open(inventory_path))


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        print(json.dumps({"findings": findings, "inventory": inventory}, indent=1)[:6000], file=sys.stderr)
        sys.exit(1)


tables = {t["resource"]: t for t in inventory["tables"]}
check(set(tables) == {"Orders", "Sessions", "Ledger", "Scratch"}, f"tables: {sorted(tables)}")
hits = {(f["path"], f["resource"], f["rule"]) for f in findings["findings"]}

# Orders: retained by its deployed template, deletion protection switched off since.
orders = tables["Orders"]
live = orders["live"]
check(orders["retained_on_delete"] and orders["retained_on_replace"], "Orders retained")
check(orders["pitr"] and not orders["deletion_protection"], "Orders PITR on, protection off")
check(live["stack"] == "orders" and live["logical_id"] == "OrdersTable", f"Orders stack: {live}")
check(live["termination_protection"] == "yes", "termination protection")
check(live["stack_policy"] == "yes", "stack policy")
check(live["scp_deny"] == "yes", f"SCP: {live}")
check(any("deletion protection" in d for d in live["drift"]), f"drift: {live['drift']}")
# Who can delete: `alice` through her group (the group itself is no principal), not
# `Bounded` (its permissions boundary allows only reads), not `Reader`.
check(sorted(live["can_delete"]) == ["role/Admin", "user/alice"],
      f"who can delete: {live['can_delete']}")
ddb003 = [f for f in findings["findings"]
          if f["rule"] == "DDB003" and f["resource"] == "Orders"]
check(len(ddb003) == 1 and "drift" in ddb003[0]["message"]
      and ddb003[0]["path"] == "us-east-1/live.json", f"Orders DDB003: {ddb003}")

# Sessions: orphaned by a deleted stack, unprotected.
sessions = tables["Sessions"]
check(sessions["live"].get("stack") is None, "Sessions unmanaged")
check("old-sessions" in sessions["live"]["managed_by"], sessions["live"]["managed_by"])
check(not sessions["deletion_protection"] and not sessions["pitr"], "Sessions unprotected")
check(("us-east-1/live.json", "Sessions", "DDB004") in hits, "Sessions DDB004")
# Its resource policy denies DeleteTable to one named role only: conditional, naming it.
check(sessions["live"]["resource_policy_deny"] == "conditional"
      and "role/app" in sessions["live"]["reasons"].get("resource_policy_deny", ""),
      f"Sessions policy: {sessions['live']}")

# Ledger: protected by hand, with a resource policy that denies DeleteTable.
ledger = tables["Ledger"]
check(ledger["deletion_protection"] and ledger["pitr"], "Ledger protected")
check(ledger["live"]["resource_policy_deny"] == "yes", f"Ledger policy: {ledger['live']}")
check(not any(r == "Ledger" for (_, r, _) in hits), "no finding on Ledger")

# The SCP denies DeleteTable on every table but those its `NotResource` lists.
check(ledger["live"]["scp_deny"] == "yes", f"Ledger SCP: {ledger['live']}")
check(tables["Scratch"]["live"]["scp_deny"] == "no", f"Scratch SCP: {tables['Scratch']['live']}")

# The `bad` stack's deployed template: DDB001 on its logical ID.
check(("us-east-1/stacks/bad.template", "Scratch", "DDB001") in hits, f"bad stack: {sorted(hits)}")

# The IAM rules on the account's policies.
check(("iam/account-authorization-details.json", "Admin/tables", "DDB010") in hits,
      f"IAM: {sorted(hits)}")

if scenario == "complete":
    check(findings["errors"] == [] and inventory["errors"] == [], f"errors: {findings['errors']}")
elif scenario == "vault-unreadable":
    paths = [e["path"] for e in findings["errors"]]
    check(paths == ["us-east-1/backup:GetBackupVaultAccessPolicy/main"], f"errors: {paths}")
    check(len(inventory["errors"]) == 1, f"inventory errors: {inventory['errors']}")
else:
    sys.exit(f"unknown scenario {scenario}")
print(f"ok - {scenario}: {len(tables)} tables, {len(hits)} findings")
