//! The audit's analysis: a [`Snapshot`] of an account in; the findings (a [`Report`],
//! the same rule codes, formats and exit codes as `check`) and the inventory of live
//! tables out. Nothing here re-implements a stage: every text goes through the per-file
//! path of `check` and `inventory`.
//!
//! - A stack's processed template is a file `REGION/stacks/NAME.template`: the checker
//!   runs every rule on it (findings name the stack's file and the logical ID), and the
//!   inventory's layers of its tables give "retained on delete/replace" of the live
//!   tables it manages.
//! - A Region's live tables, backup selections and vaults are written as the
//!   CloudFormation resources that would declare them (`REGION/live.json`: a table's
//!   `DeletionProtectionEnabled`, `PointInTimeRecoverySpecification`, `Tags` and
//!   `ResourcePolicy` as read; each `GetBackupSelection` as an
//!   `AWS::Backup::BackupSelection`, its ARNs in this account and Region written with
//!   the pseudo parameters so that DDB005's matcher compares them by identity; each
//!   vault with its lock and access policy). The table rules (DDB003-DDB005) and the IAM
//!   rules run on that file, and the inventory reads its layers and guardrails from it.
//! - `GetAccountAuthorizationDetails` and each SCP's `DescribePolicy` are policy files
//!   in the shapes the AWS CLI prints (`model::policy_file`): DDB010-DDB012 per policy;
//!   DDB013 on those live policies (attached ones only); who may delete each table (a
//!   user's groups, every deny of the principal, its permissions boundary) and whether
//!   an attached SCP denies it, both through DDB010's model on the table's literal ARN.
//! - What could not be read is an error of the report (exit 2), never a pass.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::snapshot::*;
use crate::check::{Checker, Settings};
use crate::file_error::FileError;
use crate::inventory::inventory_text;
use crate::model::backup::{condition_limit, GuardrailKind};
use crate::model::iam::{self, wildcard_match, DenyCoverage, DELETE_TABLE};
use crate::model::policy_file::managed_policy_name;
use crate::model::Evaluator;
use crate::report::data::{
    failed, summarize, FileReport, GuardrailRow, Inventory, InventoryError, LiveFacts, LiveList,
    LiveState, Managed, Report, TableRow,
};
use crate::rules::layers::{LayerState, Layers};
use crate::template_file::TemplateFile;

/// The rules that judge a live table's own settings and resource policy (run on
/// `REGION/live.json`); the stack rules (DDB001, DDB002, ...) judge deployed templates.
pub const LIVE_RULES: &[&str] = &["DDB003", "DDB004", "DDB005", "DDB010", "DDB011", "DDB012"];

/// The rules about a table's settings, which the live table decides.
const LIVE_SETTINGS_RULES: &[&str] = &["DDB003", "DDB004", "DDB005"];

/// The path under which the account's IAM policies are reported.
pub const IAM_PATH: &str = "iam/account-authorization-details.json";

/// What an audit found.
pub struct Audit {
    pub report: Report,
    pub inventory: Inventory,
}

/// Analyze `snapshot` with the run's settings (rule selection, severities, limits).
pub fn analyze(snapshot: &Snapshot, settings: &Settings) -> Audit {
    let started = Instant::now();
    let checker = Checker::new(settings.clone());
    // A live table's own settings decide DDB003-DDB005 (a template that leaves deletion
    // protection unset leaves the table as it is), so the deployed templates are judged
    // by the other rules, and the live file by those.
    let stack_checker = Checker::new(Settings {
        rules: settings
            .rules
            .iter()
            .copied()
            .filter(|r| !LIVE_SETTINGS_RULES.contains(&r.code))
            .collect(),
        ..settings.clone()
    });
    let live_checker = Checker::new(Settings {
        rules: settings
            .rules
            .iter()
            .copied()
            .filter(|r| LIVE_RULES.contains(&r.code))
            .collect(),
        ..settings.clone()
    });
    let mut files: Vec<FileReport> = Vec::new();
    let mut inventory = Inventory::default();

    let deleters = match &snapshot.authorization_details {
        Some(details) => {
            let text = pretty(details);
            let mut report = checker.check_bytes(IAM_PATH, Path::new(IAM_PATH), text.as_bytes());
            inventory.files += 1;
            let deleters = Deleters::read(&text, details, settings);
            // DDB013: a managed policy attached to nobody denies nobody anything.
            for fact in &mut report.guardrail_facts {
                let attached = match &deleters {
                    Ok(d) => d.is_attached(&fact.policy),
                    Err(_) => false,
                };
                if !attached {
                    fact.lacks.get_or_insert_with(|| {
                        "it is attached to no user, group or role".to_string()
                    });
                }
            }
            files.push(report);
            deleters
        }
        None => Err("iam:GetAccountAuthorizationDetails could not be read".to_string()),
    };

    let scps = organizations(snapshot, &checker, settings, &mut files, &mut inventory);

    for region in &snapshot.regions {
        let account = Account {
            partition: &snapshot.partition,
            account: snapshot.account.as_deref(),
            region: &region.region,
        };
        audit_region(
            region,
            &account,
            Context {
                checker: &stack_checker,
                live_checker: &live_checker,
                settings,
                deleters: &deleters,
                scps: &scps,
            },
            &mut files,
            &mut inventory,
        );
    }

    required_guardrails(&mut files, settings, &scps);

    for e in &snapshot.errors {
        let path = error_path(e);
        let message = format!("{} could not be read: {}", e.operation, e.message);
        let help = "grant the read-only policy of docs/audit.md to the audit's credentials; the rest of the account was audited";
        files.push(failed(
            path.clone(),
            FileError::new(message.clone()).with_help(help),
            None,
        ));
        inventory.errors.push(InventoryError {
            path,
            line: None,
            column: None,
            message,
            help: Some(help.to_string()),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = summarize(&files);
    Audit {
        report: Report {
            files,
            summary,
            elapsed: started.elapsed(),
            stale_baseline: Vec::new(),
            unlisted: Default::default(),
        },
        inventory,
    }
}

/// DDB013 (`require_guardrails`, `--require-guardrail`) on the live policies: the
/// identity policies of `GetAccountAuthorizationDetails` (attached to someone) and the
/// SCPs attached above the audited account, decided as `check` decides it on policy
/// files. When Organizations could not be read, each finding says so: the guardrail is
/// unproven, not known to be missing.
fn required_guardrails(files: &mut Vec<FileReport>, settings: &Settings, scps: &Scps) {
    let mut reports = crate::check::required_guardrails(files, settings);
    if let Scps::Unknown(why) = scps {
        // Any requirement: an SCP would hold `deny-delete-table` as well as `scp:...`.
        for finding in reports.iter_mut().flat_map(|r| &mut r.findings) {
            finding.message.push_str(&format!(
                " (the service control policies are {why}: the guardrail may be in one of them, but it cannot be proven)"
            ));
        }
    }
    files.extend(reports);
}

fn error_path(e: &ReadError) -> String {
    let mut path = match &e.region {
        Some(region) => format!("{region}/{}", e.operation),
        None => e.operation.clone(),
    };
    if let Some(item) = &e.item {
        path.push('/');
        path.push_str(item);
    }
    path
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

struct Account<'a> {
    partition: &'a str,
    account: Option<&'a str>,
    region: &'a str,
}

#[derive(Clone, Copy)]
struct Context<'a> {
    checker: &'a Checker,
    live_checker: &'a Checker,
    settings: &'a Settings,
    deleters: &'a Result<Deleters, String>,
    scps: &'a Scps,
}

/// A table of a stack: where it is declared and what its template proves.
struct ManagedTable {
    stack: String,
    logical_id: String,
    /// The layers the deployed template proves; `None` when it could not be read.
    layers: Option<Layers>,
    termination_protection: LiveState,
    stack_policy: LiveState,
}

fn audit_region(
    region: &RegionSnapshot,
    account: &Account,
    cx: Context,
    files: &mut Vec<FileReport>,
    inventory: &mut Inventory,
) {
    let name = &region.region;
    // Deployed templates: every rule, and the layers of the tables they declare.
    let mut managed: HashMap<String, ManagedTable> = HashMap::new();
    for stack in &region.stacks {
        let display = format!("{name}/stacks/{}.template", stack.stack_name);
        let mut layers_by_id: HashMap<String, Layers> = HashMap::new();
        if let Some(body) = &stack.template_body {
            let path = Path::new(&display);
            let mut report = cx.checker.check_bytes(&display, path, body.as_bytes());
            // DDB013 is decided on the account's live policies (IAM and Organizations
            // hold every policy a stack deployed), never on a template's copy of one.
            report.guardrail_facts.clear();
            files.push(report);
            let read = inventory_text(&display, path, body.as_bytes(), cx.settings);
            inventory.files += 1;
            inventory.templates += usize::from(read.template);
            for row in read.tables {
                layers_by_id.insert(row.resource, row.layers);
            }
            inventory.guardrails.extend(read.guardrails);
            inventory.errors.extend(read.errors);
        }
        let termination_protection = match stack.enable_termination_protection {
            Some(true) => LiveState::Yes,
            Some(false) => LiveState::No,
            None => LiveState::Unknown("cloudformation:DescribeStacks could not be read".into()),
        };
        for resource in stack.stack_resources.iter().flatten() {
            if !crate::model::TABLE_TYPES.contains(&resource.resource_type.as_str()) {
                continue;
            }
            let Some(physical) = &resource.physical_resource_id else {
                continue;
            };
            let id = &resource.logical_resource_id;
            managed.insert(
                physical.clone(),
                ManagedTable {
                    stack: stack.stack_name.clone(),
                    logical_id: id.clone(),
                    layers: layers_by_id.get(id).cloned(),
                    termination_protection: termination_protection.clone(),
                    stack_policy: stack_policy_state(&stack.stack_policy, id),
                },
            );
        }
    }

    // The live resources, written as the template that would declare them.
    let live_display = format!("{name}/live.json");
    let text = live_template(region, account);
    let (live_layers, live_guardrails) = if region.tables.is_empty()
        && region.backup_plans.is_empty()
        && region.backup_vaults.is_empty()
    {
        (HashMap::new(), Vec::new())
    } else {
        let path = Path::new(&live_display);
        let mut report = cx
            .live_checker
            .check_bytes(&live_display, path, text.as_bytes());
        let read = inventory_text(&live_display, path, text.as_bytes(), cx.settings);
        inventory.files += 1;
        inventory.errors.extend(read.errors);
        // A table's resource policy governs that table only: never a guardrail of all.
        report.guardrail_facts.clear();
        // Drift is told in the live finding of the table whose template says otherwise.
        for finding in &mut report.findings {
            if let Some(m) = managed.get(&finding.resource) {
                if let Some(drift) = drift_note(finding.code, m) {
                    finding.message.push_str(&format!(" (drift: {drift})"));
                }
            }
        }
        files.push(report);
        inventory.guardrails.extend(read.guardrails.iter().cloned());
        let layers: HashMap<String, Layers> = read
            .tables
            .into_iter()
            .map(|row| (row.resource, row.layers))
            .collect();
        (layers, read.guardrails)
    };

    for table in &region.tables {
        let t = &table.table;
        let m = managed.get(&t.table_name);
        let live = live_layers.get(&t.table_name);
        let unmanaged = || {
            LayerState::Conditional(
                "not managed by CloudFormation: no stack deletion or replacement can delete it"
                    .into(),
            )
        };
        let (on_delete, on_replace) = match m {
            Some(ManagedTable {
                layers: Some(l), ..
            }) => (l.retained_on_delete.clone(), l.retained_on_replace.clone()),
            Some(_) => (LayerState::No, LayerState::No),
            None => (unmanaged(), unmanaged()),
        };
        let layers = Layers {
            retained_on_delete: on_delete,
            retained_on_replace: on_replace,
            deletion_protection: live
                .map(|l| l.deletion_protection.clone())
                .unwrap_or(LayerState::No),
            pitr: live.map(|l| l.pitr.clone()).unwrap_or(LayerState::No),
            backup_plan: live
                .map(|l| l.backup_plan.clone())
                .unwrap_or(LayerState::No),
        };
        let former_stack = table
            .tags
            .iter()
            .flatten()
            .find(|tag| tag.key == "aws:cloudformation:stack-name")
            .map(|tag| tag.value.clone());
        let managed_by = match m {
            Some(m) => Managed::Stack {
                name: m.stack.clone(),
                logical_id: m.logical_id.clone(),
            },
            None => Managed::Unmanaged { former_stack },
        };
        let mut drift = Vec::new();
        if let Some(m) = m {
            for code in ["DDB003", "DDB004"] {
                if let Some(note) = drift_note_for(code, m, table) {
                    drift.push(note);
                }
            }
        }
        if let Managed::Unmanaged {
            former_stack: Some(stack),
        } = &managed_by
        {
            drift.push(format!(
                "its stack `{stack}` is gone (the table was retained) and nothing manages it"
            ));
        }
        let arn = t.table_arn.clone();
        let resource_policy_deny =
            match &table.resource_policy {
                ResourcePolicy::NotRead => {
                    LiveState::Unknown("dynamodb:GetResourcePolicy could not be read".into())
                }
                ResourcePolicy::None => LiveState::No,
                ResourcePolicy::Policy(_) => deny_state(live_guardrails.iter().filter(|g| {
                    g.kind == GuardrailKind::TablePolicy && g.resource == t.table_name
                })),
            };
        let scp_deny = cx.scps.deny(&arn);
        let (termination_protection, stack_policy) = match m {
            Some(m) => (m.termination_protection.clone(), m.stack_policy.clone()),
            None => (LiveState::NotApplicable, LiveState::NotApplicable),
        };
        let deleters = match cx.deleters {
            Ok(d) => LiveList::Known(d.of(&arn)),
            Err(why) => LiveList::Unknown(why.clone()),
        };
        let replicas = t
            .replicas
            .iter()
            .filter_map(|r| r.region_name.clone())
            .filter(|r| r != name)
            .collect();
        let path = match m {
            Some(m) => format!("{name}/stacks/{}.template", m.stack),
            None => format!("{name}/live.json"),
        };
        inventory.tables.push(TableRow {
            path,
            resource: t.table_name.clone(),
            resource_type: "AWS::DynamoDB::Table".into(),
            layers,
            stack_set: None,
            live: Some(Box::new(LiveFacts {
                region: name.clone(),
                arn,
                managed_by,
                resource_policy_deny,
                scp_deny,
                termination_protection,
                stack_policy,
                deleters,
                replicas,
                drift,
            })),
        });
    }
}

/// The drift a live finding of `code` stands for, when the deployed template says
/// otherwise.
fn drift_note(code: &str, m: &ManagedTable) -> Option<String> {
    let layers = m.layers.as_ref()?;
    let (state, what) = match code {
        "DDB003" => (&layers.deletion_protection, "deletion protection"),
        "DDB004" => (&layers.pitr, "point-in-time recovery"),
        _ => return None,
    };
    state.holds().then(|| {
        format!(
            "the deployed template of stack `{}` turns {what} on for `{}`; it was turned off outside CloudFormation",
            m.stack, m.logical_id
        )
    })
}

fn drift_note_for(code: &str, m: &ManagedTable, table: &LiveTable) -> Option<String> {
    let off = match code {
        "DDB003" => table.table.deletion_protection_enabled == Some(false),
        "DDB004" => table
            .continuous_backups_description
            .as_ref()
            .is_some_and(|c| !pitr_enabled(c)),
        _ => false,
    };
    off.then(|| drift_note(code, m)).flatten()
}

fn pitr_enabled(c: &ContinuousBackupsDescription) -> bool {
    c.point_in_time_recovery_description
        .as_ref()
        .and_then(|p| p.point_in_time_recovery_status.as_deref())
        == Some("ENABLED")
}

/// Whether the guardrail rows of a table's resource policy deny `dynamodb:DeleteTable`
/// (the policy governs that table only: its resources were written relative to its own
/// ARN by [`own_arn_as_any`]). A row's `conditional` is the inventory's: a `Deny` for
/// named principals, with `NotPrincipal` or with a `Condition` is conditional, with who or
/// what it leaves out.
fn deny_state<'a>(rows: impl Iterator<Item = &'a GuardrailRow>) -> LiveState {
    let mut conditional: Option<String> = None;
    for g in rows {
        if !g.denies.contains(&"dynamodb:DeleteTable") {
            continue;
        }
        match &g.conditional {
            None => return LiveState::Yes,
            Some(why) => {
                conditional
                    .get_or_insert_with(|| format!("{} `{}`: {why}", g.kind.as_str(), g.resource));
            }
        }
    }
    match conditional {
        Some(why) => LiveState::Conditional(why),
        None => LiveState::No,
    }
}

/// Does the stack policy deny `Update:Delete` and `Update:Replace` of the logical ID?
fn stack_policy_state(policy: &StackPolicy, logical_id: &str) -> LiveState {
    let body = match policy {
        StackPolicy::NotRead => {
            return LiveState::Unknown("cloudformation:GetStackPolicy could not be read".into())
        }
        StackPolicy::None => return LiveState::No,
        StackPolicy::Body(body) => body,
    };
    let Ok(doc) = serde_json::from_str::<Value>(body) else {
        return LiveState::Unknown("the stack policy is not JSON".into());
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let target = format!("LogicalResourceId/{logical_id}");
    let mut conditional = false;
    let mut denied = |action: &str| -> bool {
        statements.iter().any(|s| {
            let deny = s.get("Effect").and_then(Value::as_str) == Some("Deny");
            let acts = strings(s.get("Action"));
            let res = strings(s.get("Resource"));
            let hit = deny
                && acts.iter().any(|a| wildcard_match(a, action, true))
                && res.iter().any(|r| wildcard_match(r, &target, false));
            if hit && s.get("Condition").is_some() {
                conditional = true;
                return false;
            }
            hit
        })
    };
    let delete = denied("Update:Delete");
    let replace = denied("Update:Replace");
    match (delete, replace) {
        (true, true) => LiveState::Yes,
        _ if conditional => LiveState::Conditional(
            "a Deny of the stack policy has a Condition (resource types): it may not apply to this table".into(),
        ),
        (true, false) => LiveState::Conditional("denies Update:Delete, not Update:Replace".into()),
        (false, true) => LiveState::Conditional("denies Update:Replace, not Update:Delete".into()),
        (false, false) => LiveState::No,
    }
}

/// The CloudFormation resources that would declare what a Region holds: its tables as
/// read, its backup selections and its vaults.
fn live_template(region: &RegionSnapshot, account: &Account) -> String {
    let mut resources = Map::new();
    for table in &region.tables {
        let t = &table.table;
        let mut props = Map::new();
        props.insert("TableName".into(), json!(t.table_name));
        let described = !t.table_arn.is_empty();
        if described {
            // The API leaves the field out for a table that never had it set: off.
            props.insert(
                "DeletionProtectionEnabled".into(),
                json!(t.deletion_protection_enabled.unwrap_or(false)),
            );
        }
        if let Some(c) = &table.continuous_backups_description {
            props.insert(
                "PointInTimeRecoverySpecification".into(),
                json!({"PointInTimeRecoveryEnabled": pitr_enabled(c)}),
            );
        }
        if let Some(tags) = &table.tags {
            let tags: Vec<Value> = tags
                .iter()
                .map(|tag| json!({"Key": tag.key, "Value": tag.value}))
                .collect();
            props.insert("Tags".into(), Value::Array(tags));
        }
        if let ResourcePolicy::Policy(policy) = &table.resource_policy {
            // Kept as the string the API returns when it is not JSON: the IAM model then
            // reports it, rather than the audit guessing.
            let mut document = serde_json::from_str::<Value>(policy)
                .unwrap_or_else(|_| Value::String(policy.clone()));
            own_arn_as_any(&mut document, &t.table_arn);
            props.insert(
                "ResourcePolicy".into(),
                json!({ "PolicyDocument": document }),
            );
        }
        resources.insert(
            t.table_name.clone(),
            json!({"Type": "AWS::DynamoDB::Table", "Properties": props}),
        );
    }
    for plan in &region.backup_plans {
        let plan_name = plan
            .backup_plan_name
            .as_deref()
            .unwrap_or(&plan.backup_plan_id);
        for selection in &plan.selections {
            let s = &selection.backup_selection;
            let mut body = serde_json::to_value(s).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                for key in ["Resources", "NotResources"] {
                    if let Some(Value::Array(arns)) = map.get_mut(key) {
                        for arn in arns.iter_mut() {
                            if let Value::String(text) = arn {
                                *arn = with_pseudo_parameters(text, account);
                            }
                        }
                    }
                }
            }
            resources.insert(
                format!("BackupSelection {plan_name}/{}", s.selection_name),
                json!({
                    "Type": "AWS::Backup::BackupSelection",
                    "Properties": {"BackupPlanId": plan.backup_plan_id, "BackupSelection": body}
                }),
            );
        }
    }
    for vault in &region.backup_vaults {
        let mut props = Map::new();
        props.insert("BackupVaultName".into(), json!(vault.backup_vault_name));
        if vault.locked == Some(true) || vault.min_retention_days.is_some() {
            let mut lock = Map::new();
            if let Some(days) = vault.min_retention_days {
                lock.insert("MinRetentionDays".into(), json!(days));
            }
            if let Some(days) = vault.max_retention_days {
                lock.insert("MaxRetentionDays".into(), json!(days));
            }
            if vault.locked == Some(true) {
                // Locked: compliance mode past its grace time, which nobody can remove.
                // The template model reads compliance mode from a positive
                // `ChangeableForDays` (the grace time, long over).
                lock.insert("ChangeableForDays".into(), json!(3));
            }
            props.insert("LockConfiguration".into(), Value::Object(lock));
        }
        if let VaultPolicy::Policy(policy) = &vault.access_policy {
            let document = serde_json::from_str::<Value>(policy)
                .unwrap_or_else(|_| Value::String(policy.clone()));
            props.insert("AccessPolicy".into(), document);
        }
        resources.insert(
            format!("BackupVault {}", vault.backup_vault_name),
            json!({"Type": "AWS::Backup::BackupVault", "Properties": props}),
        );
    }
    pretty(&json!({ "Resources": resources }))
}

/// A table's resource policy governs that table only, and `dynamodb:DeleteTable` acts on
/// the table's own ARN: a statement whose `Resource` matches that ARN acts on it as
/// `Resource: "*"` would, one whose `NotResource` matches it leaves it out (`NotResource:
/// "*"`, which denies nothing), and one whose literal `Resource` does not match it does
/// not act on it, nor does a literal `NotResource` leave it out: what DDB010's deny test
/// says on the literal ARN. Written so, the guardrail model of `inventory` (DDB010's
/// `deny_reach`, with the statement's `Principal`, `NotPrincipal` and `Condition`) decides
/// on this table: it does not know which literal ARN is "this table". A value with a
/// policy variable or an item that is not a string may or may not name the table: the
/// statement is kept as written, and the model treats it as it is.
fn own_arn_as_any(document: &mut Value, own: &str) {
    if own.is_empty() {
        return;
    }
    let statements: Vec<&mut Value> = match document.get_mut("Statement") {
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return,
    };
    let matches = |item: &Value| {
        item.as_str()
            .is_some_and(|glob| !glob.contains("${") && wildcard_match(glob, own, false))
    };
    // Every item a literal string without a policy variable: whether it names this
    // table is known.
    let literal = |value: &Value| match value {
        Value::Array(items) => items
            .iter()
            .all(|i| i.as_str().is_some_and(|g| !g.contains("${"))),
        one => one.as_str().is_some_and(|g| !g.contains("${")),
    };
    let any_matches = |value: &Value| match value {
        Value::Array(items) => items.iter().any(matches),
        one => matches(one),
    };
    for statement in statements {
        let Value::Object(statement) = statement else {
            continue;
        };
        // (`Resource`: the statement acts on this table; `NotResource`: it leaves it out.)
        let (key, names_table) = match (statement.get("Resource"), statement.get("NotResource")) {
            (Some(r), None) if any_matches(r) => ("Resource", Some(true)),
            (Some(r), None) if literal(r) => ("Resource", Some(false)),
            (None, Some(n)) if any_matches(n) => ("NotResource", Some(false)),
            (None, Some(n)) if literal(n) => ("NotResource", Some(true)),
            _ => ("", None),
        };
        let Some(acts_on_table) = names_table else {
            continue;
        };
        statement.remove(key);
        if acts_on_table {
            statement.insert("Resource".into(), json!("*"));
        } else {
            statement.insert("NotResource".into(), json!("*"));
        }
    }
}

/// A live ARN with this account's partition, Region and account ID written as the pseudo
/// parameters (`Fn::Sub`), as a template in this account and Region would write them, so
/// that the backup model compares them by identity with the tables; any other ARN (or
/// `*`) as it is.
fn with_pseudo_parameters(arn: &str, account: &Account) -> Value {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || arn.contains("${") {
        return json!(arn);
    }
    let mut out: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    let mut changed = false;
    if parts[1] == account.partition {
        out[1] = "${AWS::Partition}".into();
        changed = true;
    }
    if parts[3] == account.region {
        out[3] = "${AWS::Region}".into();
        changed = true;
    }
    if Some(parts[4]) == account.account {
        out[4] = "${AWS::AccountId}".into();
        changed = true;
    }
    if changed {
        json!({ "Fn::Sub": out.join(":") })
    } else {
        json!(arn)
    }
}

/// The service control policies that apply to the audited account (attached to it, an
/// OU above it or the root), or why they are not known.
enum Scps {
    Known(Vec<LoadedPolicy>),
    Unknown(String),
}

impl Scps {
    /// Does an SCP deny `dynamodb:DeleteTable` on the table `arn`? Decided by DDB010's
    /// deny test on the literal ARN, so a `NotResource` deny that does not list the table
    /// counts and one that may list it does not.
    fn deny(&self, arn: &str) -> LiveState {
        let policies = match self {
            Scps::Known(policies) => policies,
            Scps::Unknown(why) => return LiveState::Unknown(why.clone()),
        };
        let mut conditional = None;
        for policy in policies {
            match policy.denies(arn) {
                DenyState::Yes => return LiveState::Yes,
                DenyState::Conditional(why) => {
                    conditional.get_or_insert(format!("service control policy {why}"));
                }
                DenyState::No => {}
            }
        }
        match conditional {
            Some(why) => LiveState::Conditional(why),
            None => LiveState::No,
        }
    }
}

fn organizations(
    snapshot: &Snapshot,
    checker: &Checker,
    settings: &Settings,
    files: &mut Vec<FileReport>,
    inventory: &mut Inventory,
) -> Scps {
    let orgs = match &snapshot.organizations {
        Organizations::Read(orgs) => orgs,
        Organizations::NoAccess(why) => {
            return Scps::Unknown(format!("unknown: no access to Organizations ({why})"))
        }
        Organizations::NotRead => {
            return Scps::Unknown("unknown: Organizations was not read".into())
        }
    };
    let mut applying = Vec::new();
    for policy in &orgs.policies {
        let id = policy
            .describe_policy
            .pointer("/Policy/PolicySummary/Id")
            .and_then(Value::as_str)
            .unwrap_or("policy");
        let display = format!("organizations/{id}.json");
        let text = pretty(&policy.describe_policy);
        let path = Path::new(&display);
        let applies = policy
            .targets
            .iter()
            .any(|t| orgs.account_path.contains(&t.target_id));
        let mut report = checker.check_bytes(&display, path, text.as_bytes());
        if !applies {
            // DDB013: a guardrail nobody attached above this account protects nothing here.
            for fact in &mut report.guardrail_facts {
                fact.lacks
                    .get_or_insert_with(|| NOT_ATTACHED_SCP.to_string());
            }
        }
        files.push(report);
        let read = inventory_text(&display, path, text.as_bytes(), settings);
        inventory.files += 1;
        inventory.errors.extend(read.errors);
        if applies {
            // A policy that cannot be read is not credited (its file reports the error).
            applying.extend(load_policies(&display, &text, settings).unwrap_or_default());
        }
        for mut row in read.guardrails {
            if !applies {
                row.note = Some(match row.note {
                    Some(n) => format!("{n}; {NOT_ATTACHED_SCP}"),
                    None => NOT_ATTACHED_SCP.into(),
                });
            }
            inventory.guardrails.push(row);
        }
    }
    Scps::Known(applying)
}

const NOT_ATTACHED_SCP: &str = "not attached above the audited account";

/// One policy document of a policy file, as the IAM model reads it: its name (as the
/// policy-file model names it: `Owner/Policy` inline, the name of a managed policy), its
/// grants of `dynamodb:DeleteTable` (a `Deny` of the same document credited) and its
/// statements, for the denies that apply across documents.
struct LoadedPolicy {
    name: String,
    /// The resource glob of each grant; `None` for a `NotResource` that may be any table.
    grants: Vec<Option<String>>,
    statements: Vec<iam::Statement>,
    /// For each statement with an IAM `Condition`, what it tests, in the words of check's
    /// inventory ("only when the statement's IAM `Condition` holds (`StringNotEquals` on
    /// `aws:PrincipalArn`)..."): the policy's text is gone once it is loaded.
    conditions: Vec<Option<String>>,
}

impl LoadedPolicy {
    /// Does the policy allow `dynamodb:DeleteTable` on `arn`?
    fn allows(&self, arn: &str) -> bool {
        self.grants.iter().any(|resource| match resource {
            Some(glob) => wildcard_match(glob, arn, false) || glob.contains("${"),
            None => true,
        })
    }

    /// Does a `Deny` of the policy certainly take `dynamodb:DeleteTable` on `arn` back
    /// (DDB010's deny test, on the literal ARN: a `NotResource` that does not list it
    /// counts)? `Some(why)` when a `Deny` names it but may lapse (a `Condition`).
    fn denies(&self, arn: &str) -> DenyState {
        let mut work = iam::MAX_DENY_WORK;
        let allowed = [iam::lit(arn)];
        let mut state = DenyState::No;
        for (index, s) in self.statements.iter().enumerate() {
            match iam::deny_coverage(s, &DELETE_TABLE, &allowed, &[], &mut work) {
                DenyCoverage::Covers => return DenyState::Yes,
                DenyCoverage::Short(iam::Shortfall::Condition) => {
                    let applies = self
                        .conditions
                        .get(index)
                        .and_then(Option::as_deref)
                        .unwrap_or("only when its IAM `Condition` holds");
                    state = DenyState::Conditional(format!(
                        "`{}` has a Deny that applies {applies}",
                        self.name
                    ))
                }
                _ => {}
            }
        }
        state
    }
}

enum DenyState {
    Yes,
    Conditional(String),
    No,
}

/// The in-effect policy documents of a policy file (a managed policy version that is not
/// the default one is left out), read through the IAM model.
fn load_policies(
    display: &str,
    text: &str,
    settings: &Settings,
) -> Result<Vec<LoadedPolicy>, String> {
    let file = TemplateFile::from_text(Path::new(display), text, &settings.limits)
        .map_err(|e| format!("`{display}` could not be read: {}", e.message))?;
    let template = file
        .template()
        .map_err(|e| format!("`{display}` could not be read: {}", e.message))?;
    let Some(t) = &template else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for resource in &t.resources {
        if resource.standalone_policy.is_some_and(|s| !s.in_effect) {
            continue;
        }
        let ev = Evaluator::for_resource(t, resource);
        for document in iam::documents(t, resource) {
            let statements = iam::statements(t, resource, &document);
            let grants = iam::grants(&document, &statements, &DELETE_TABLE)
                .into_iter()
                .filter(|g| ev.consistent(&g.when))
                .map(|g| g.resource)
                .collect();
            let conditions = statements
                .iter()
                .map(|s| s.has_condition.then(|| condition_limit(t.doc, s.node)))
                .collect();
            out.push(LoadedPolicy {
                name: document
                    .name
                    .clone()
                    .unwrap_or_else(|| resource.logical_id.to_string()),
                grants,
                statements,
                conditions,
            });
        }
    }
    Ok(out)
}

/// Who may delete which table, from `GetAccountAuthorizationDetails`: each user's and
/// role's policies (a user's include those of its groups), the denies of all of them,
/// and the permissions boundary, through the IAM model of DDB010.
struct Deleters {
    policies: HashMap<String, LoadedPolicy>,
    principals: Vec<Principal>,
    /// Managed policy ARN -> name, for the permissions boundaries.
    managed: HashMap<String, String>,
    /// The names of the policies attached to a user, group or role (or a boundary).
    attached: std::collections::HashSet<String>,
}

/// A user or role: `role/Name`, `user/Name`.
struct Principal {
    name: String,
    /// Its policies and its groups' policies, by name.
    policies: Vec<String>,
    /// What of them could not be known (a group the details do not describe).
    unread: Vec<String>,
    /// Its permissions boundary's ARN.
    boundary: Option<String>,
}

impl Deleters {
    fn read(text: &str, details: &Value, settings: &Settings) -> Result<Deleters, String> {
        let policies = load_policies(IAM_PATH, text, settings)
            .map_err(|why| format!("the IAM policies could not be read: {why}"))?
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        let list = |v: &Value, key: &str| -> Vec<Value> {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        // The policies an entity has itself: inline (`Owner/Policy`) and managed (by name).
        let own = |entry: &Value, owner: &str, inline_key: &str| -> Vec<String> {
            let mut names: Vec<String> = list(entry, inline_key)
                .iter()
                .filter_map(|p| str_of(p, "PolicyName"))
                .map(|p| format!("{owner}/{p}"))
                .collect();
            names.extend(
                list(entry, "AttachedManagedPolicies")
                    .iter()
                    .filter_map(|p| {
                        str_of(p, "PolicyName").or_else(|| {
                            str_of(p, "PolicyArn").map(|a| managed_policy_name(&a).to_string())
                        })
                    }),
            );
            names
        };
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        for g in list(details, "GroupDetailList") {
            if let Some(name) = str_of(&g, "GroupName") {
                let names = own(&g, &name, "GroupPolicyList");
                groups.insert(name, names);
            }
        }
        let managed: HashMap<String, String> = list(details, "Policies")
            .iter()
            .filter_map(|p| {
                let arn = str_of(p, "Arn")?;
                let name = str_of(p, "PolicyName")
                    .unwrap_or_else(|| managed_policy_name(&arn).to_string());
                Some((arn, name))
            })
            .collect();
        let boundary = |entry: &Value| {
            entry
                .pointer("/PermissionsBoundary/PermissionsBoundaryArn")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut principals = Vec::new();
        for (key, name_key, inline_key, kind) in [
            ("UserDetailList", "UserName", "UserPolicyList", "user"),
            ("RoleDetailList", "RoleName", "RolePolicyList", "role"),
        ] {
            for entry in list(details, key) {
                let Some(name) = str_of(&entry, name_key) else {
                    continue;
                };
                let mut names = own(&entry, &name, inline_key);
                let mut unread = Vec::new();
                for group in list(&entry, "GroupList") {
                    let Some(group) = group.as_str() else {
                        continue;
                    };
                    match groups.get(group) {
                        Some(group_policies) => names.extend(group_policies.iter().cloned()),
                        // A group the details do not describe: its policies are unknown.
                        None => unread.push(format!("group `{group}` was not read")),
                    }
                }
                principals.push(Principal {
                    name: format!("{kind}/{name}"),
                    policies: names,
                    unread,
                    boundary: boundary(&entry),
                });
            }
        }
        let mut attached: std::collections::HashSet<String> =
            groups.values().flatten().cloned().collect();
        for p in &principals {
            attached.extend(p.policies.iter().cloned());
            if let Some(name) = p.boundary.as_ref().and_then(|b| managed.get(b)) {
                attached.insert(name.clone());
            }
        }
        Ok(Deleters {
            policies,
            principals,
            managed,
            attached,
        })
    }

    /// The users and roles that may delete the table `arn`, sorted. One whose policies or
    /// permissions boundary could not all be read stays in the list (it may delete), with
    /// what is unknown.
    fn of(&self, arn: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.principals {
            let mut unknown: Vec<String> = p.unread.clone();
            let mut allowed = false;
            let mut known: Vec<&LoadedPolicy> = Vec::new();
            for name in &p.policies {
                match self.policies.get(name) {
                    Some(policy) => {
                        allowed |= policy.allows(arn);
                        known.push(policy);
                    }
                    None => unknown.push(format!("policy `{name}` was not read")),
                }
            }
            if !allowed && unknown.is_empty() {
                continue;
            }
            let boundary = p.boundary.as_ref().map(|arn| {
                (
                    arn,
                    self.managed
                        .get(arn)
                        .and_then(|name| self.policies.get(name)),
                )
            });
            if let Some((_, Some(b))) = boundary {
                known.push(b);
            }
            // An explicit deny in any of them wins over every allow.
            if known
                .iter()
                .any(|policy| matches!(policy.denies(arn), DenyState::Yes))
            {
                continue;
            }
            match boundary {
                // The boundary caps what the identity policies grant.
                Some((_, Some(b))) if !b.allows(arn) => continue,
                Some((arn, None)) => {
                    unknown.push(format!("its permissions boundary `{arn}` was not read"))
                }
                _ => {}
            }
            if unknown.is_empty() {
                out.push(p.name.clone());
            } else {
                unknown.sort();
                unknown.dedup();
                out.push(format!("{} (may: {})", p.name, unknown.join("; ")));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Is the policy of this name attached to a user, group or role?
    fn is_attached(&self, policy: &str) -> bool {
        self.attached.contains(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::collect::{collect, Plan};
    use crate::audit::recorded::Recorded;
    use crate::report::data::ExitStatus;
    use crate::report::data::FailOn;

    const RECORDED: &str = include_str!("../../tests/audit/recorded-account.json");

    fn audit_with(change: impl FnOnce(&mut Value)) -> (Snapshot, Audit) {
        let mut recorded = Recorded::parse(RECORDED);
        change(&mut recorded.0);
        let regions = vec!["us-east-1".to_string()];
        let plan = Plan {
            regions: &regions,
            concurrency: 2,
            progress: None,
        };
        let snapshot = collect(&recorded, &plan);
        let audit = analyze(&snapshot, &Settings::default());
        (snapshot, audit)
    }

    fn row<'a>(audit: &'a Audit, table: &str) -> (&'a TableRow, &'a LiveFacts) {
        let row = audit
            .inventory
            .tables
            .iter()
            .find(|t| t.resource == table)
            .unwrap_or_else(|| panic!("a row for {table}"));
        (row, row.live.as_deref().expect("live facts"))
    }

    fn findings<'a>(audit: &'a Audit, path: &str) -> Vec<&'a crate::finding::Finding> {
        audit
            .report
            .files
            .iter()
            .filter(|f| f.path == path)
            .flat_map(|f| &f.findings)
            .collect()
    }

    #[test]
    fn a_managed_table_takes_retain_from_its_deployed_template_and_the_rest_from_the_live_table() {
        let (_, audit) = audit_with(|_| {});
        let (row, live) = row(&audit, "Orders");
        assert_eq!(row.layers.retained_on_delete, LayerState::Proven);
        assert_eq!(row.layers.retained_on_replace, LayerState::Proven);
        assert_eq!(row.layers.pitr, LayerState::Proven);
        // Covered by a selection that names its ARN literally: the account and Region are
        // compared by identity.
        assert_eq!(row.layers.backup_plan, LayerState::Proven);
        assert_eq!(row.layers.deletion_protection, LayerState::No);
        assert_eq!(
            live.managed_by,
            Managed::Stack {
                name: "orders".into(),
                logical_id: "OrdersTable".into()
            }
        );
        assert_eq!(live.termination_protection, LiveState::Yes);
        assert_eq!(live.stack_policy, LiveState::Yes);
        assert_eq!(live.scp_deny, LiveState::Yes);
        assert_eq!(live.resource_policy_deny, LiveState::No);
        assert_eq!(live.deleters, LiveList::Known(vec!["role/Admin".into()]));
        assert_eq!(live.replicas, vec!["eu-west-1".to_string()]);
    }

    #[test]
    fn protection_switched_off_outside_cloudformation_is_drift_in_the_row_and_the_finding() {
        let (_, audit) = audit_with(|_| {});
        let (_, live) = row(&audit, "Orders");
        assert_eq!(live.drift.len(), 1, "{:?}", live.drift);
        assert!(
            live.drift[0].contains("deletion protection"),
            "{:?}",
            live.drift
        );
        let live_findings = findings(&audit, "us-east-1/live.json");
        let ddb003: Vec<_> = live_findings
            .iter()
            .filter(|f| f.code == "DDB003" && f.resource == "Orders")
            .collect();
        assert_eq!(ddb003.len(), 1, "{live_findings:#?}");
        assert!(ddb003[0].message.contains("drift"), "{}", ddb003[0].message);
        assert!(
            ddb003[0].message.contains("stack `orders`"),
            "{}",
            ddb003[0].message
        );
        // The deployed template itself is sound: no finding names it.
        assert!(findings(&audit, "us-east-1/stacks/orders.template").is_empty());
    }

    #[test]
    fn a_table_whose_stack_is_gone_is_unmanaged_and_told_as_drift() {
        let (_, audit) = audit_with(|_| {});
        let (row, live) = row(&audit, "Sessions");
        assert_eq!(
            live.managed_by,
            Managed::Unmanaged {
                former_stack: Some("old-sessions".into())
            }
        );
        assert!(
            live.drift.iter().any(|d| d.contains("old-sessions")),
            "{:?}",
            live.drift
        );
        assert!(matches!(
            row.layers.retained_on_delete,
            LayerState::Conditional(_)
        ));
        assert_eq!(live.termination_protection, LiveState::NotApplicable);
        assert_eq!(live.resource_policy_deny, LiveState::Yes);
        assert_eq!(
            live.deleters,
            LiveList::Known(vec!["role/Admin".into(), "user/ops".into()])
        );
        assert_eq!(row.layers.pitr, LayerState::No);
        assert_eq!(row.layers.backup_plan, LayerState::No);
        let codes: Vec<&str> = findings(&audit, "us-east-1/live.json")
            .iter()
            .filter(|f| f.resource == "Sessions")
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, vec!["DDB004"]);
    }

    #[test]
    fn the_iam_rules_run_on_the_account_policies() {
        let (_, audit) = audit_with(|_| {});
        let iam = findings(&audit, IAM_PATH);
        let ddb010: Vec<&str> = iam
            .iter()
            .filter(|f| f.code == "DDB010")
            .map(|f| f.resource.as_str())
            .collect();
        assert!(ddb010.contains(&"ops/drop-sessions"), "{ddb010:?}");
        assert!(ddb010.contains(&"AdministratorAccess"), "{ddb010:?}");
        assert!(
            !ddb010.iter().any(|r| r.starts_with("Reader")),
            "{ddb010:?}"
        );
    }

    #[test]
    fn what_could_not_be_read_is_an_error_of_its_item_and_the_rest_goes_on() {
        let (snapshot, audit) = audit_with(|_| {});
        assert_eq!(snapshot.errors.len(), 1, "{:?}", snapshot.errors);
        let error = &snapshot.errors[0];
        assert_eq!(error.operation, "dynamodb:DescribeContinuousBackups");
        assert_eq!(error.item.as_deref(), Some("Audit"));
        // Never a pass: the table's PITR is not proven, and the run exits 2.
        let (row, _) = row(&audit, "Audit");
        assert_eq!(row.layers.pitr, LayerState::No);
        assert_eq!(row.layers.deletion_protection, LayerState::Proven);
        assert_eq!(audit.report.exit_status(FailOn::Never), ExitStatus::Error);
        let failed: Vec<&str> = audit
            .report
            .files
            .iter()
            .filter(|f| !f.errors.is_empty())
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(
            failed,
            vec!["us-east-1/dynamodb:DescribeContinuousBackups/Audit"]
        );
        assert_eq!(audit.inventory.tables.len(), 3);
        assert_eq!(audit.inventory.errors.len(), 1);
    }

    #[test]
    fn throttling_past_the_retries_fails_that_table_closed() {
        let (snapshot, audit) = audit_with(|v| {
            v["us-east-1 dynamodb:DescribeTable Orders"] =
                json!({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}});
        });
        assert!(snapshot.errors.iter().any(
            |e| e.operation == "dynamodb:DescribeTable" && e.message.contains("Rate exceeded")
        ));
        let (orders, _) = row(&audit, "Orders");
        assert_eq!(orders.layers.deletion_protection, LayerState::No);
        assert_eq!(orders.layers.pitr, LayerState::No);
        let (other, _) = row(&audit, "Sessions");
        assert_eq!(other.layers.deletion_protection, LayerState::Proven);
    }

    #[test]
    fn no_access_to_organizations_is_unknown_never_missing() {
        let (snapshot, audit) = audit_with(|v| {
            v["organizations:ListPolicies"] = json!({"Error": {
                "Code": "AccessDeniedException",
                "Message": "You don't have permissions to access this resource."
            }});
        });
        assert!(snapshot
            .errors
            .iter()
            .all(|e| !e.operation.starts_with("organizations")));
        let (_, live) = row(&audit, "Orders");
        match &live.scp_deny {
            LiveState::Unknown(why) => {
                assert!(why.contains("unknown: no access to Organizations"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_scp_attached_elsewhere_does_not_protect_the_account() {
        let (_, audit) = audit_with(|v| {
            v["organizations:ListTargetsForPolicy p-deny0001"] =
                json!({"Targets": [{"TargetId": "333333333333", "Type": "ACCOUNT"}]});
        });
        let (_, live) = row(&audit, "Orders");
        assert_eq!(live.scp_deny, LiveState::No);
        // Still listed as a guardrail, with why it does not count.
        assert!(audit.inventory.guardrails.iter().any(|g| g
            .note
            .as_deref()
            .is_some_and(|n| n.contains("not attached"))));
    }

    #[test]
    fn a_malformed_template_in_a_stack_is_an_error_of_that_stack_only() {
        let id = "arn:aws:cloudformation:us-east-1:123456789012:stack/orders/1b2c3d4e-0000-0000-0000-000000000001";
        let (_, audit) = audit_with(|v| {
            v[format!("us-east-1 cloudformation:GetTemplate {id}")] = json!({"TemplateBody": "Resources:\n  OrdersTable:\n    Type: AWS::DynamoDB::Table\n    Properties: [\n"});
        });
        let stack = audit
            .report
            .files
            .iter()
            .find(|f| f.path == "us-east-1/stacks/orders.template")
            .expect("the stack's report");
        assert_eq!(stack.errors.len(), 1);
        // Its table is not proven retained, and everything else is still audited.
        let (row, _) = row(&audit, "Orders");
        assert_eq!(row.layers.retained_on_delete, LayerState::No);
        assert_eq!(audit.inventory.tables.len(), 3);
    }

    #[test]
    fn a_backup_selection_by_tag_covers_the_tables_with_that_tag() {
        let (_, audit) = audit_with(|v| {
            v["us-east-1 backup:GetBackupSelection sel-1111"]["BackupSelection"] = json!({
                "SelectionName": "web",
                "IamRoleArn": "arn:aws:iam::123456789012:role/backup",
                "Resources": ["arn:aws:dynamodb:*:*:table/*"],
                "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "web"}]}
            });
        });
        assert_eq!(
            row(&audit, "Sessions").0.layers.backup_plan,
            LayerState::Proven
        );
        assert_eq!(row(&audit, "Orders").0.layers.backup_plan, LayerState::No);
    }

    #[test]
    fn a_selection_in_another_account_covers_nothing_here() {
        let (_, audit) = audit_with(|v| {
            v["us-east-1 backup:GetBackupSelection sel-1111"]["BackupSelection"]["Resources"] =
                json!(["arn:aws:dynamodb:us-east-1:999999999999:table/Orders"]);
        });
        assert_eq!(row(&audit, "Orders").0.layers.backup_plan, LayerState::No);
    }

    #[test]
    fn the_vault_lock_and_access_policy_are_guardrails() {
        let (_, audit) = audit_with(|_| {});
        let kinds: Vec<&str> = audit
            .inventory
            .guardrails
            .iter()
            .filter(|g| g.path == "us-east-1/live.json")
            .map(|g| g.kind.as_str())
            .collect();
        assert!(kinds.contains(&"vault-lock"), "{kinds:?}");
        assert!(kinds.contains(&"vault-policy"), "{kinds:?}");
        assert!(kinds.contains(&"table-policy"), "{kinds:?}");
    }

    fn audit_with_settings(change: impl FnOnce(&mut Value), settings: &Settings) -> Audit {
        let mut recorded = Recorded::parse(RECORDED);
        change(&mut recorded.0);
        let regions = vec!["us-east-1".to_string()];
        let plan = Plan {
            regions: &regions,
            concurrency: 2,
            progress: None,
        };
        analyze(&collect(&recorded, &plan), settings)
    }

    fn deleters(audit: &Audit, table: &str) -> Vec<String> {
        match &row(audit, table).1.deleters {
            LiveList::Known(list) => list.clone(),
            other => panic!("{other:?}"),
        }
    }

    const DETAILS: &str = "iam:GetAccountAuthorizationDetails";

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn a_user_may_delete_through_the_policies_of_its_groups_and_a_group_is_no_principal() {
        let (_, audit) = audit_with(|v| {
            v[DETAILS]["GroupDetailList"] = json!([{
                "GroupName": "dba",
                "GroupPolicyList": [{"PolicyName": "drop", "PolicyDocument": policy(json!([
                    {"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "arn:aws:dynamodb:*:*:table/Orders"}]))}],
                "AttachedManagedPolicies": []
            }]);
            v[DETAILS]["UserDetailList"][0]["GroupList"] = json!(["dba"]);
        });
        assert_eq!(deleters(&audit, "Orders"), vec!["role/Admin", "user/ops"]);
        // `ops` deletes Sessions by its own policy, Orders through `dba` only.
        assert_eq!(deleters(&audit, "Audit"), vec!["role/Admin"]);
    }

    #[test]
    fn a_group_the_details_do_not_describe_leaves_its_members_able_to_delete() {
        let (_, audit) = audit_with(|v| {
            v[DETAILS]["UserDetailList"][0]["GroupList"] = json!(["ghost"]);
        });
        assert_eq!(
            deleters(&audit, "Orders"),
            vec!["role/Admin", "user/ops (may: group `ghost` was not read)"]
        );
    }

    #[test]
    fn a_permissions_boundary_caps_what_the_identity_policies_grant() {
        let boundary_arn = "arn:aws:iam::123456789012:policy/boundary";
        let (_, audit) = audit_with(|v| {
            // Named by its ARN: the emulator's listing has `PolicyName` null.
            v[DETAILS]["Policies"].as_array_mut().unwrap().push(json!({
                "PolicyName": null,
                "Arn": boundary_arn,
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": policy(json!([
                    {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/Sessions"}]))}]
            }));
            v[DETAILS]["RoleDetailList"][0]["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary_arn});
        });
        // Admin's AdministratorAccess allows everything; its boundary only Sessions.
        assert_eq!(deleters(&audit, "Orders"), Vec::<String>::new());
        assert_eq!(deleters(&audit, "Sessions"), vec!["role/Admin", "user/ops"]);
    }

    #[test]
    fn a_permissions_boundary_that_cannot_be_read_leaves_the_principal_able_to_delete() {
        let (_, audit) = audit_with(|v| {
            v[DETAILS]["RoleDetailList"][0]["PermissionsBoundary"] = json!({
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/NotInTheDetails"
            });
        });
        assert_eq!(
            deleters(&audit, "Orders"),
            vec!["role/Admin (may: its permissions boundary `arn:aws:iam::aws:policy/NotInTheDetails` was not read)"]
        );
    }

    #[test]
    fn a_deny_in_another_policy_of_the_principal_takes_the_grant_back() {
        let (_, audit) = audit_with(|v| {
            v[DETAILS]["RoleDetailList"][0]["RolePolicyList"] = json!([{
                "PolicyName": "keep-orders",
                "PolicyDocument": policy(json!([{"Effect": "Deny", "Action": "dynamodb:Delete*",
                    "NotResource": "arn:aws:dynamodb:*:*:table/Sess*"}]))
            }]);
        });
        assert_eq!(deleters(&audit, "Orders"), Vec::<String>::new());
        assert_eq!(deleters(&audit, "Sessions"), vec!["role/Admin", "user/ops"]);
    }

    #[test]
    fn an_attached_managed_policy_whose_document_was_not_read_may_delete() {
        let (_, audit) = audit_with(|v| {
            v[DETAILS]["RoleDetailList"][1]["AttachedManagedPolicies"] = json!([{
                "PolicyName": "Mystery", "PolicyArn": "arn:aws:iam::123456789012:policy/Mystery"}]);
        });
        assert!(deleters(&audit, "Orders")
            .contains(&"role/Reader (may: policy `Mystery` was not read)".to_string()));
    }

    fn scp(v: &mut Value, statement: Value) {
        v["organizations:DescribePolicy p-deny0001"]["Policy"]["Content"] =
            json!(policy(json!([statement])).to_string());
    }

    #[test]
    fn an_scp_not_resource_deny_covers_the_tables_it_does_not_list() {
        let (_, audit) = audit_with(|v| {
            scp(
                v,
                json!({"Effect": "Deny", "Action": "dynamodb:DeleteTable",
                "NotResource": ["arn:aws:dynamodb:*:*:table/Sess*", "arn:aws:dynamodb:us-west-2:*:table/*"]}),
            );
        });
        assert_eq!(row(&audit, "Orders").1.scp_deny, LiveState::Yes);
        assert_eq!(row(&audit, "Audit").1.scp_deny, LiveState::Yes);
        assert_eq!(row(&audit, "Sessions").1.scp_deny, LiveState::No);
    }

    #[test]
    fn an_scp_not_resource_that_may_name_the_table_is_never_credited() {
        for not in [
            json!("arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}"),
            json!("*"),
            json!("arn:aws:dynamodb:us-east-1:123456789012:table/*"),
        ] {
            let (_, audit) = audit_with(|v| {
                scp(
                    v,
                    json!({"Effect": "Deny", "Action": "dynamodb:DeleteTable", "NotResource": not}),
                );
            });
            assert_eq!(row(&audit, "Orders").1.scp_deny, LiveState::No, "{not}");
        }
    }

    #[test]
    fn an_scp_deny_with_a_condition_is_conditional_and_one_on_other_tables_is_no() {
        let (_, audit) = audit_with(|v| {
            scp(
                v,
                json!({"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalTag/role": "dba"},
                              "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/a", "arn:aws:iam::*:role/b"]}}}),
            );
        });
        // The row names the policy and what its `Condition` tests, as check's inventory does.
        let why = conditional_why(&row(&audit, "Orders").1.scp_deny).to_string();
        assert!(
            why.starts_with("service control policy `")
                && why.contains(
                    "has a Deny that applies only when the statement's IAM `Condition` holds (`ArnNotLike` on `aws:PrincipalArn`; `StringNotEquals` on `aws:PrincipalTag/role`)"
                ),
            "{why}"
        );
        let (_, audit) = audit_with(|v| {
            scp(
                v,
                json!({"Effect": "Deny", "Action": "dynamodb:DeleteTable",
                "Resource": "arn:aws:dynamodb:*:*:table/Sessions"}),
            );
        });
        assert_eq!(row(&audit, "Orders").1.scp_deny, LiveState::No);
        assert_eq!(row(&audit, "Sessions").1.scp_deny, LiveState::Yes);
    }

    fn requiring(names: &[&str]) -> Settings {
        let text: std::sync::Arc<str> = names.join(",").into();
        let mut settings = Settings::default();
        let mut at = 0;
        for name in names {
            let (name_, scope) = crate::rules::iam::required_guardrail::parse(name).unwrap();
            settings
                .required_guardrails
                .push(crate::rules::iam::required_guardrail::Requirement {
                    name: name_,
                    scope,
                    origin: crate::rules::iam::required_guardrail::Origin {
                        path: "(command line)".into(),
                        text: text.clone(),
                        span: crate::source::Span {
                            start: at,
                            end: at + name.len(),
                        },
                    },
                });
            at += name.len() + 1;
        }
        settings
    }

    fn ddb013(audit: &Audit) -> Vec<String> {
        audit
            .report
            .files
            .iter()
            .flat_map(|f| &f.findings)
            .filter(|f| f.code == "DDB013")
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn a_required_guardrail_held_by_an_attached_scp_is_no_finding() {
        let settings = requiring(&["scp:deny-delete-table", "deny-delete-table"]);
        let audit = audit_with_settings(|_| {}, &settings);
        assert_eq!(ddb013(&audit), Vec::<String>::new());
        // Another guardrail that no live policy holds is a finding.
        let audit = audit_with_settings(|_| {}, &requiring(&["deny-update-table"]));
        let messages = ddb013(&audit);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("deny-update-table"), "{messages:?}");
    }

    #[test]
    fn a_required_scp_attached_elsewhere_is_missing_and_says_why() {
        let audit = audit_with_settings(
            |v| {
                v["organizations:ListTargetsForPolicy p-deny0001"] =
                    json!({"Targets": [{"TargetId": "333333333333", "Type": "ACCOUNT"}]});
            },
            &requiring(&["scp:deny-delete-table"]),
        );
        let messages = ddb013(&audit);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("not attached above the audited account"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_required_guardrail_in_a_managed_policy_attached_to_nobody_is_missing() {
        let audit = audit_with_settings(
            |v| {
                v[DETAILS]["Policies"].as_array_mut().unwrap().push(json!({
                    "PolicyName": "guard", "Arn": "arn:aws:iam::123456789012:policy/guard",
                    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": policy(json!([
                        {"Effect": "Deny", "Action": "dynamodb:UpdateTable", "Resource": "*"}]))}]
                }));
            },
            &requiring(&["deny-update-table"]),
        );
        let messages = ddb013(&audit);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("attached to no user, group or role"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_table_resource_policy_or_a_stack_template_never_holds_a_required_guardrail() {
        // Sessions' resource policy denies DeleteTable on itself: not on every table.
        let audit = audit_with_settings(
            |v| {
                v["organizations:ListPolicies"] = json!({"Error": {
                    "Code": "AccessDeniedException", "Message": "no"}});
            },
            &requiring(&["deny-delete-table", "scp:deny-delete-backup"]),
        );
        let messages = ddb013(&audit);
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("deny-delete-table")));
        // No access to Organizations: unproven, never "missing" alone.
        assert!(
            messages
                .iter()
                .all(|m| m.contains("no access to Organizations") && m.contains("cannot be proven")),
            "{messages:?}"
        );
    }

    #[test]
    fn all_regions_are_the_enabled_ones_and_an_unreadable_list_is_an_error() {
        let recorded = Recorded::parse(RECORDED);
        assert_eq!(
            crate::audit::collect::enabled_regions(&recorded),
            Ok(vec![
                "af-south-1".to_string(),
                "eu-west-1".to_string(),
                "us-east-1".to_string()
            ])
        );
        let mut denied = Recorded::parse(RECORDED);
        denied.0["account:ListRegions"] = json!({"Error": {"Code": "AccessDeniedException",
            "Message": "User is not authorized to perform: account:ListRegions"}});
        let error = crate::audit::collect::enabled_regions(&denied).unwrap_err();
        assert!(error.contains("could not be listed"), "{error}");
        assert!(error.contains("AccessDeniedException"), "{error}");
        let mut empty = Recorded::parse(RECORDED);
        empty.0["account:ListRegions"] = json!({"Regions": []});
        assert!(crate::audit::collect::enabled_regions(&empty).is_err());
    }

    #[test]
    fn the_progress_counts_what_was_listed_and_read_per_kind() {
        let recorded = Recorded::parse(RECORDED);
        let regions = vec!["us-east-1".to_string()];
        let progress = crate::audit::collect::Progress::default();
        let plan = Plan {
            regions: &regions,
            concurrency: 2,
            progress: Some(&progress),
        };
        collect(&recorded, &plan);
        assert_eq!(
            progress.summary(1),
            "tables 3/3 · stacks 1/1 · backup plans and vaults 2/2 · Regions 1/1"
        );
        assert_eq!(progress.totals(), (6, 6));
    }

    /// The resource-policy deny of Sessions when its policy is the one statement given.
    fn sessions_policy_deny(statement: Value) -> LiveState {
        let (_, audit) = audit_with(|v| {
            let policy = json!({"Version": "2012-10-17", "Statement": [statement]});
            v["us-east-1 dynamodb:GetResourcePolicy arn:aws:dynamodb:us-east-1:123456789012:table/Sessions"] =
                json!({"Policy": policy.to_string()});
        });
        row(&audit, "Sessions").1.resource_policy_deny.clone()
    }

    const SESSIONS: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Sessions";

    fn conditional_why(state: &LiveState) -> &str {
        match state {
            LiveState::Conditional(why) => why,
            other => panic!("conditional expected, not {other:?}"),
        }
    }

    #[test]
    fn a_resource_policy_deny_for_everyone_is_a_full_deny() {
        for principal in [json!("*"), json!({"AWS": "*"}), json!({"AWS": ["*"]})] {
            let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": principal,
                "Action": "dynamodb:DeleteTable", "Resource": SESSIONS}));
            assert_eq!(state, LiveState::Yes, "{principal}");
        }
        // `*` in Resource, and a pattern that matches the table, act on it too.
        for resource in [json!("*"), json!("arn:aws:dynamodb:*:*:table/Sess*")] {
            let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
                "Action": "dynamodb:Delete*", "Resource": resource}));
            assert_eq!(state, LiveState::Yes, "{resource}");
        }
    }

    #[test]
    fn a_resource_policy_deny_for_named_principals_is_conditional_and_names_them() {
        let role = "arn:aws:iam::123456789012:role/app";
        let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": {"AWS": role},
            "Action": "dynamodb:DeleteTable", "Resource": SESSIONS}));
        let why = conditional_why(&state);
        assert!(
            why.contains(role) && why.contains("every other principal"),
            "{why}"
        );
    }

    #[test]
    fn a_resource_policy_deny_with_not_principal_is_conditional_and_names_who_it_leaves_out() {
        let admin = "arn:aws:iam::123456789012:role/admin";
        let state = sessions_policy_deny(json!({"Effect": "Deny", "NotPrincipal": {"AWS": admin},
            "Action": "dynamodb:DeleteTable", "Resource": SESSIONS}));
        let why = conditional_why(&state);
        assert!(why.contains("NotPrincipal") && why.contains(admin), "{why}");
    }

    #[test]
    fn a_resource_policy_deny_with_a_condition_is_conditional_and_names_the_test() {
        let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
            "Action": "dynamodb:DeleteTable", "Resource": SESSIONS,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/break-glass"}}}));
        let why = conditional_why(&state);
        assert!(why.contains("`ArnNotLike` on `aws:PrincipalArn`"), "{why}");
    }

    #[test]
    fn a_resource_policy_deny_with_not_resource_is_decided_on_the_table_arn() {
        // `NotResource` naming the table (or a pattern, or `*`, matching it) leaves it out.
        for excluded in [
            json!(SESSIONS),
            json!("*"),
            json!([
                "arn:aws:dynamodb:us-east-1:123456789012:table/Other",
                "arn:aws:dynamodb:*:*:table/S*"
            ]),
        ] {
            let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
                "Action": "dynamodb:DeleteTable", "NotResource": excluded}));
            assert_eq!(state, LiveState::No, "{excluded}");
        }
        // One that lists only what is not the table denies deleting it.
        let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
            "Action": "dynamodb:DeleteTable",
            "NotResource": [format!("{SESSIONS}/index/*"), format!("{SESSIONS}/stream/*")]}));
        assert_eq!(state, LiveState::Yes);
        // One with a policy variable may leave the table out: never a full deny.
        let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
            "Action": "dynamodb:DeleteTable",
            "NotResource": "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}"}));
        assert_ne!(state, LiveState::Yes);
        // A `Resource` that is not the table denies nothing on it.
        let state = sessions_policy_deny(json!({"Effect": "Deny", "Principal": "*",
            "Action": "dynamodb:DeleteTable",
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Other"}));
        assert_eq!(state, LiveState::No);
    }

    #[test]
    fn a_conditional_resource_policy_deny_is_told_with_who_it_leaves_out_in_every_format() {
        let role = "arn:aws:iam::123456789012:role/app";
        let (_, audit) = audit_with(|v| {
            let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
                "Principal": {"AWS": role}, "Action": "dynamodb:DeleteTable", "Resource": SESSIONS}]});
            v["us-east-1 dynamodb:GetResourcePolicy arn:aws:dynamodb:us-east-1:123456789012:table/Sessions"] =
                json!({"Policy": policy.to_string()});
        });
        let inv = &audit.inventory;
        type Render = fn(&Inventory, &mut dyn std::io::Write) -> std::io::Result<()>;
        let human: Render = |i, out| crate::report::inventory::human::render(i, 400, out);
        let formats: [(&str, Render); 4] = [
            ("human", human),
            ("json", crate::report::inventory::json::render),
            ("csv", crate::report::inventory::csv::render),
            ("markdown", crate::report::inventory::markdown::render),
        ];
        for (name, render) in formats {
            let mut out = Vec::new();
            render(inv, &mut out).expect("renders");
            let text = String::from_utf8_lossy(&out);
            let line = text
                .lines()
                .find(|l| l.contains(role))
                .unwrap_or_else(|| panic!("{name}: the principal is named\n{text}"));
            assert!(
                line.contains("conditional")
                    || text.contains("\"resource_policy_deny\": \"conditional\""),
                "{name}: {line}"
            );
        }
    }
}
