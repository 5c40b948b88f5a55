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
//!   in the shapes the AWS CLI prints (`model::policy_file`): DDB010-DDB012 per policy,
//!   and the grants of `dynamodb:DeleteTable` by principal.
//! - What could not be read is an error of the report (exit 2), never a pass.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::snapshot::*;
use crate::check::{Checker, Settings};
use crate::file_error::FileError;
use crate::inventory::inventory_text;
use crate::model::backup::GuardrailKind;
use crate::model::iam::{self, wildcard_match, DELETE_TABLE};
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
            files.push(checker.check_bytes(IAM_PATH, Path::new(IAM_PATH), text.as_bytes()));
            inventory.files += 1;
            Deleters::read(&text, details, settings)
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
        },
        inventory,
    }
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
            files.push(cx.checker.check_bytes(&display, path, body.as_bytes()));
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
        let resource_policy_deny = match &table.resource_policy {
            ResourcePolicy::NotRead => {
                LiveState::Unknown("dynamodb:GetResourcePolicy could not be read".into())
            }
            ResourcePolicy::None => LiveState::No,
            ResourcePolicy::Policy(_) => deny_state(
                live_guardrails
                    .iter()
                    .filter(|g| g.kind == GuardrailKind::TablePolicy && g.resource == t.table_name),
                None,
            ),
        };
        let scp_deny = match cx.scps {
            Scps::Known(rows) => deny_state(rows.iter(), Some(&arn)),
            Scps::Unknown(why) => LiveState::Unknown(why.clone()),
        };
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

/// Whether guardrails deny `dynamodb:DeleteTable` (on `arn`, when given: the rows'
/// scope must match it).
fn deny_state<'a>(rows: impl Iterator<Item = &'a GuardrailRow>, arn: Option<&str>) -> LiveState {
    let mut conditional: Option<String> = None;
    for g in rows {
        if !g.denies.contains(&"dynamodb:DeleteTable") {
            continue;
        }
        let in_scope = match arn {
            None => true,
            Some(arn) => {
                g.scope.is_empty()
                    || g.scope
                        .iter()
                        .any(|s| !s.starts_with("not ") && wildcard_match(s, arn, false))
            }
        };
        if !in_scope {
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

/// A table's resource policy governs that table only, so its own ARN in `Resource` means
/// the same as `*` there; written so, the guardrail model sees a deny of every table it
/// can apply to (it does not know which literal ARN is "this table").
fn own_arn_as_any(document: &mut Value, own: &str) {
    if own.is_empty() {
        return;
    }
    let statements: Vec<&mut Value> = match document.get_mut("Statement") {
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return,
    };
    for statement in statements {
        match statement.get_mut("Resource") {
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    if item.as_str() == Some(own) {
                        *item = json!("*");
                    }
                }
            }
            Some(one) if one.as_str() == Some(own) => *one = json!("*"),
            _ => {}
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

/// The service control policies that apply to the audited account, or why they are not
/// known.
enum Scps {
    Known(Vec<GuardrailRow>),
    Unknown(String),
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
        files.push(checker.check_bytes(&display, path, text.as_bytes()));
        let read = inventory_text(&display, path, text.as_bytes(), settings);
        inventory.files += 1;
        inventory.errors.extend(read.errors);
        let applies = policy
            .targets
            .iter()
            .any(|t| orgs.account_path.contains(&t.target_id));
        for mut row in read.guardrails {
            if applies {
                applying.push(row.clone());
            } else {
                row.note = Some(match row.note {
                    Some(n) => format!("{n}; not attached above the audited account"),
                    None => "not attached above the audited account".into(),
                });
            }
            inventory.guardrails.push(row);
        }
    }
    Scps::Known(applying)
}

/// Who may delete which table: every grant of `dynamodb:DeleteTable` in the account's
/// policies (the IAM model's own grants, a `Deny` of the same document credited), and
/// the principals each policy is attached to.
struct Deleters {
    /// (policy name as the policy-file model names it, resource glob; `None` for a
    /// `NotResource` that may be any table)
    grants: Vec<(String, Option<String>)>,
    /// Policy name -> principals (`role/Name`, `user/Name`, `group/Name`).
    principals: HashMap<String, Vec<String>>,
}

impl Deleters {
    fn read(text: &str, details: &Value, settings: &Settings) -> Result<Deleters, String> {
        let file = TemplateFile::from_text(Path::new(IAM_PATH), text, &settings.limits)
            .map_err(|e| format!("the IAM policies could not be read: {}", e.message))?;
        let template = file
            .template()
            .map_err(|e| format!("the IAM policies could not be read: {}", e.message))?;
        let mut grants = Vec::new();
        for resource in template.iter().flat_map(|t| &t.resources) {
            let Some(t) = &template else { break };
            if resource.standalone_policy.is_some_and(|s| !s.in_effect) {
                continue;
            }
            let ev = Evaluator::for_resource(t, resource);
            for document in iam::documents(t, resource) {
                let statements = iam::statements(t, resource, &document);
                for grant in iam::grants(&document, &statements, &DELETE_TABLE) {
                    if ev.consistent(&grant.when) {
                        let name = document
                            .name
                            .clone()
                            .unwrap_or_else(|| resource.logical_id.to_string());
                        grants.push((name, grant.resource.clone()));
                    }
                }
            }
        }
        Ok(Deleters {
            grants,
            principals: principals_by_policy(details),
        })
    }

    /// The principals that may delete the table `arn`, sorted.
    fn of(&self, arn: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (policy, resource) in &self.grants {
            let matches = match resource {
                Some(glob) => wildcard_match(glob, arn, false) || glob.contains("${"),
                None => true,
            };
            if !matches {
                continue;
            }
            // A managed policy attached to nobody deletes nothing today.
            if let Some(principals) = self.principals.get(policy) {
                out.extend(principals.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// For `GetAccountAuthorizationDetails`: each inline policy (`Owner/Policy`, as the
/// policy-file model names it) and each managed policy (by name) with its principals.
fn principals_by_policy(details: &Value) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let list = |v: &Value, key: &str| -> Vec<Value> {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for (key, name_key, inline_key, kind) in [
        ("UserDetailList", "UserName", "UserPolicyList", "user"),
        ("GroupDetailList", "GroupName", "GroupPolicyList", "group"),
        ("RoleDetailList", "RoleName", "RolePolicyList", "role"),
    ] {
        for entry in list(details, key) {
            let Some(name) = entry.get(name_key).and_then(Value::as_str) else {
                continue;
            };
            let principal = format!("{kind}/{name}");
            for p in list(&entry, inline_key) {
                if let Some(policy) = p.get("PolicyName").and_then(Value::as_str) {
                    map.entry(format!("{name}/{policy}"))
                        .or_default()
                        .push(principal.clone());
                }
            }
            for p in list(&entry, "AttachedManagedPolicies") {
                if let Some(policy) = p.get("PolicyName").and_then(Value::as_str) {
                    map.entry(policy.to_string())
                        .or_default()
                        .push(principal.clone());
                }
            }
        }
    }
    map
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
}
