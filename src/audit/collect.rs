//! The read side of the audit: every read-only call the audit makes, behind [`Source`],
//! and [`collect`], which walks an account through it into a [`Snapshot`].
//!
//! [`Source`] has one method per API action (its pages already followed), so the walk,
//! the per-item error handling and the analysis are tested with recorded responses and no
//! network; `audit::aws` implements it with the AWS SDK (feature `audit`). Each failed
//! call becomes a [`ReadError`] about its item, and the walk goes on.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::snapshot::*;

/// Every API action the audit may call, as IAM names it. `docs/audit.md`'s policy grants
/// exactly these (a test holds them equal, and another holds the SDK calls in
/// `src/audit/aws.rs` to this list). `sts:GetCallerIdentity` needs no permission and is
/// not in the policy.
pub const OPERATIONS: &[&str] = &[
    "account:ListRegions",
    "backup:GetBackupSelection",
    "backup:GetBackupVaultAccessPolicy",
    "backup:ListBackupPlans",
    "backup:ListBackupSelections",
    "backup:ListBackupVaults",
    "cloudformation:DescribeStacks",
    "cloudformation:GetStackPolicy",
    "cloudformation:GetTemplate",
    "cloudformation:ListStackResources",
    "cloudformation:ListStacks",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTable",
    "dynamodb:GetResourcePolicy",
    "dynamodb:ListTables",
    "dynamodb:ListTagsOfResource",
    "iam:GetAccountAuthorizationDetails",
    "organizations:DescribePolicy",
    "organizations:ListParents",
    "organizations:ListPolicies",
    "organizations:ListTargetsForPolicy",
];

/// Why a call failed, as far as the audit cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// AccessDenied, UnauthorizedOperation, AWSOrganizationsNotInUse, ...
    AccessDenied,
    /// The item is gone or has no such part (`PolicyNotFoundException`,
    /// `ResourceNotFoundException`).
    NotFound,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub kind: ErrorKind,
    pub message: String,
}

impl SourceError {
    pub fn other(message: impl Into<String>) -> SourceError {
        SourceError {
            kind: ErrorKind::Other,
            message: message.into(),
        }
    }
}

pub type Read<T> = Result<T, SourceError>;

/// The caller: account and partition (`sts:GetCallerIdentity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub partition: String,
}

/// One summary of `ListStacks`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSummary {
    pub stack_name: String,
    pub stack_id: String,
    pub stack_status: String,
}

/// The statuses of a stack that exists (`ListStacks`' `StackStatusFilter`): everything
/// but `DELETE_COMPLETE`.
pub const ACTIVE_STACK_STATUSES: &[&str] = &[
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
];

/// The read-only calls of an audit, one per API action, each with every page followed.
/// Methods take the Region they read in; IAM and Organizations are global.
pub trait Source: Sync {
    fn get_caller_identity(&self) -> Read<Caller>;
    /// The Regions enabled in the account (`account:ListRegions`: those enabled by
    /// default, the opt-in Regions turned on, and those being disabled, which still hold
    /// their tables).
    fn list_regions(&self) -> Read<Vec<String>>;
    fn list_tables(&self, region: &str) -> Read<Vec<String>>;
    fn describe_table(&self, region: &str, name: &str) -> Read<TableDescription>;
    fn describe_continuous_backups(
        &self,
        region: &str,
        name: &str,
    ) -> Read<ContinuousBackupsDescription>;
    fn list_tags_of_resource(&self, region: &str, arn: &str) -> Read<Vec<Tag>>;
    /// `None` (or a [`ErrorKind::NotFound`] error, which the walk reads as `None`): the
    /// table has no resource policy.
    fn get_resource_policy(&self, region: &str, arn: &str) -> Read<Option<String>>;
    /// The stacks in [`ACTIVE_STACK_STATUSES`].
    fn list_stacks(&self, region: &str) -> Read<Vec<StackSummary>>;
    /// `EnableTerminationProtection` of one stack.
    fn describe_stacks(&self, region: &str, stack_id: &str) -> Read<bool>;
    /// The processed template body.
    fn get_template(&self, region: &str, stack_id: &str) -> Read<String>;
    fn list_stack_resources(&self, region: &str, stack_id: &str) -> Read<Vec<StackResource>>;
    /// `None`: no stack policy.
    fn get_stack_policy(&self, region: &str, stack_id: &str) -> Read<Option<String>>;
    /// Plans without their selections.
    fn list_backup_plans(&self, region: &str) -> Read<Vec<LiveBackupPlan>>;
    /// Selection IDs of a plan.
    fn list_backup_selections(&self, region: &str, plan_id: &str) -> Read<Vec<String>>;
    fn get_backup_selection(
        &self,
        region: &str,
        plan_id: &str,
        selection_id: &str,
    ) -> Read<BackupSelectionResponse>;
    /// Vaults without their access policies.
    fn list_backup_vaults(&self, region: &str) -> Read<Vec<LiveVault>>;
    /// `None` (or a [`ErrorKind::NotFound`] error, read as `None`): the vault has no
    /// access policy.
    fn get_backup_vault_access_policy(&self, region: &str, vault: &str) -> Read<Option<String>>;
    /// The pages merged into one response.
    fn get_account_authorization_details(&self) -> Read<serde_json::Value>;
    /// IDs of the service control policies.
    fn list_policies(&self) -> Read<Vec<String>>;
    fn describe_policy(&self, policy_id: &str) -> Read<serde_json::Value>;
    fn list_targets_for_policy(&self, policy_id: &str) -> Read<Vec<PolicyTarget>>;
    /// The parent IDs of an account or organizational unit.
    fn list_parents(&self, child_id: &str) -> Read<Vec<String>>;
}

/// How to walk: the Regions and how many calls may be under way at once.
pub struct Plan<'a> {
    pub regions: &'a [String],
    pub concurrency: usize,
    /// Counts of what was listed and read so far, for a progress display.
    pub progress: Option<&'a Progress>,
}

/// What a walk has listed and read so far. The walk only bumps these atomics; whoever
/// draws them reads them on its own thread.
#[derive(Debug, Default)]
pub struct Progress {
    pub tables: Count,
    pub stacks: Count,
    /// Backup plans and vaults.
    pub backup: Count,
    /// Regions whose every item has been read.
    pub regions_done: AtomicUsize,
}

#[derive(Debug, Default)]
pub struct Count {
    pub listed: AtomicUsize,
    pub read: AtomicUsize,
}

impl Count {
    pub fn listed(&self) -> usize {
        self.listed.load(Ordering::Relaxed)
    }

    pub fn read(&self) -> usize {
        self.read.load(Ordering::Relaxed)
    }
}

impl Progress {
    /// "tables 120/2000 · stacks 3/40 · backup plans and vaults 0/2 · Regions 1/17": read
    /// of listed so far, per kind, and the Regions done of `regions`.
    pub fn summary(&self, regions: usize) -> String {
        let c = |c: &Count| format!("{}/{}", c.read(), c.listed());
        format!(
            "tables {} · stacks {} · backup plans and vaults {} · Regions {}/{regions}",
            c(&self.tables),
            c(&self.stacks),
            c(&self.backup),
            self.regions_done.load(Ordering::Relaxed),
        )
    }

    /// (items read, items listed) over tables, stacks, plans and vaults.
    pub fn totals(&self) -> (usize, usize) {
        let all = [&self.tables, &self.stacks, &self.backup];
        (
            all.iter().map(|c| c.read()).sum(),
            all.iter().map(|c| c.listed()).sum(),
        )
    }
}

/// Which count of [`Progress`] an item belongs to.
#[derive(Clone, Copy)]
enum Item {
    Table,
    Stack,
    Backup,
}

fn count<'a>(plan: &Plan<'a>, item: Item) -> Option<&'a Count> {
    plan.progress.map(|p| match item {
        Item::Table => &p.tables,
        Item::Stack => &p.stacks,
        Item::Backup => &p.backup,
    })
}

fn listed(plan: &Plan, item: Item, n: usize) {
    if let Some(c) = count(plan, item) {
        c.listed.fetch_add(n, Ordering::Relaxed);
    }
}

fn bump(plan: &Plan, item: Item) {
    if let Some(c) = count(plan, item) {
        c.read.fetch_add(1, Ordering::Relaxed);
    }
}

/// A read whose "not found" means "there is none" (a table or vault without a resource
/// policy: DynamoDB and AWS Backup answer `PolicyNotFoundException` or
/// `ResourceNotFoundException` rather than an empty policy).
pub fn none_if_not_found<T>(read: Read<Option<T>>) -> Read<Option<T>> {
    match read {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        other => other,
    }
}

/// The Regions `--all-regions` audits: every Region enabled in the account, sorted. An
/// error (never a shorter list) when they cannot be listed, so that no enabled Region is
/// silently left out.
pub fn enabled_regions(source: &dyn Source) -> Result<Vec<String>, String> {
    let mut regions = source.list_regions().map_err(|e| {
        format!(
            "--all-regions: the account's enabled Regions could not be listed (account:ListRegions: {})",
            e.message
        )
    })?;
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(
            "--all-regions: account:ListRegions listed no Region, so nothing would be audited"
                .into(),
        );
    }
    Ok(regions)
}

/// Read the account through `source`. Never fails as a whole: what could not be read is
/// an error in the snapshot, and the rest is read.
pub fn collect(source: &dyn Source, plan: &Plan) -> Snapshot {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.concurrency.max(1))
        .build();
    match pool {
        Ok(pool) => pool.install(|| walk(source, plan)),
        Err(_) => walk(source, plan),
    }
}

struct Errors(std::sync::Mutex<Vec<ReadError>>);

impl Errors {
    fn push(&self, region: Option<&str>, operation: &str, item: Option<&str>, e: SourceError) {
        let error = ReadError {
            region: region.map(str::to_string),
            operation: operation.to_string(),
            item: item.map(str::to_string),
            message: e.message,
        };
        if let Ok(mut errors) = self.0.lock() {
            errors.push(error);
        }
    }

    /// `Some(value)`, or `None` with the error recorded.
    fn keep<T>(
        &self,
        read: Read<T>,
        region: Option<&str>,
        operation: &str,
        item: Option<&str>,
    ) -> Option<T> {
        match read {
            Ok(value) => Some(value),
            Err(e) => {
                self.push(region, operation, item, e);
                None
            }
        }
    }
}

fn walk(source: &dyn Source, plan: &Plan) -> Snapshot {
    let errors = Errors(std::sync::Mutex::new(Vec::new()));
    let caller = errors.keep(
        source.get_caller_identity(),
        None,
        "sts:GetCallerIdentity",
        None,
    );
    let regions: Vec<RegionSnapshot> = plan
        .regions
        .par_iter()
        .map(|region| read_region(source, region, plan, &errors))
        .collect();
    let authorization_details = errors.keep(
        source.get_account_authorization_details(),
        None,
        "iam:GetAccountAuthorizationDetails",
        None,
    );
    let organizations = match &caller {
        Some(caller) => read_organizations(source, &caller.account, &errors),
        None => Organizations::NotRead,
    };
    let mut errors = errors.0.into_inner().unwrap_or_default();
    errors.sort_by(|a, b| {
        (&a.region, &a.operation, &a.item).cmp(&(&b.region, &b.operation, &b.item))
    });
    Snapshot {
        account: caller.as_ref().map(|c| c.account.clone()),
        partition: caller
            .map(|c| c.partition)
            .unwrap_or_else(|| "aws".to_string()),
        regions,
        authorization_details,
        organizations,
        errors,
    }
}

fn read_region(source: &dyn Source, region: &str, plan: &Plan, errors: &Errors) -> RegionSnapshot {
    let r = Some(region);
    let names = errors
        .keep(source.list_tables(region), r, "dynamodb:ListTables", None)
        .unwrap_or_default();
    listed(plan, Item::Table, names.len());
    let tables: Vec<LiveTable> = names
        .par_iter()
        .filter_map(|name| {
            let table = read_table(source, region, name, errors);
            bump(plan, Item::Table);
            table
        })
        .collect();
    let summaries = errors
        .keep(
            source.list_stacks(region),
            r,
            "cloudformation:ListStacks",
            None,
        )
        .unwrap_or_default();
    listed(plan, Item::Stack, summaries.len());
    let stacks: Vec<LiveStack> = summaries
        .par_iter()
        .map(|s| {
            let stack = read_stack(source, region, s, errors);
            bump(plan, Item::Stack);
            stack
        })
        .collect();
    let plans = errors
        .keep(
            source.list_backup_plans(region),
            r,
            "backup:ListBackupPlans",
            None,
        )
        .unwrap_or_default();
    listed(plan, Item::Backup, plans.len());
    let backup_plans: Vec<LiveBackupPlan> = plans
        .into_par_iter()
        .map(|mut p| {
            let id = p.backup_plan_id.clone();
            let ids = errors
                .keep(
                    source.list_backup_selections(region, &id),
                    r,
                    "backup:ListBackupSelections",
                    Some(&id),
                )
                .unwrap_or_default();
            p.selections = ids
                .par_iter()
                .filter_map(|s| {
                    errors.keep(
                        source.get_backup_selection(region, &id, s),
                        r,
                        "backup:GetBackupSelection",
                        Some(s),
                    )
                })
                .collect();
            bump(plan, Item::Backup);
            p
        })
        .collect();
    let vaults = errors
        .keep(
            source.list_backup_vaults(region),
            r,
            "backup:ListBackupVaults",
            None,
        )
        .unwrap_or_default();
    listed(plan, Item::Backup, vaults.len());
    let backup_vaults: Vec<LiveVault> = vaults
        .into_par_iter()
        .map(|mut v| {
            let policy = source.get_backup_vault_access_policy(region, &v.backup_vault_name);
            v.access_policy = match none_if_not_found(policy) {
                Ok(Some(p)) => VaultPolicy::Policy(p),
                Ok(None) => VaultPolicy::None,
                Err(e) => {
                    errors.push(
                        r,
                        "backup:GetBackupVaultAccessPolicy",
                        Some(&v.backup_vault_name),
                        e,
                    );
                    VaultPolicy::NotRead
                }
            };
            bump(plan, Item::Backup);
            v
        })
        .collect();
    if let Some(p) = plan.progress {
        p.regions_done.fetch_add(1, Ordering::Relaxed);
    }
    RegionSnapshot {
        region: region.to_string(),
        tables,
        stacks,
        backup_plans,
        backup_vaults,
    }
}

/// `None` when the table could not be described (gone since it was listed, or an error).
fn read_table(source: &dyn Source, region: &str, name: &str, errors: &Errors) -> Option<LiveTable> {
    let r = Some(region);
    let table = match source.describe_table(region, name) {
        Ok(table) => table,
        // Deleted between ListTables and DescribeTable: nothing left to audit.
        Err(e) if e.kind == ErrorKind::NotFound => return None,
        Err(e) => {
            errors.push(r, "dynamodb:DescribeTable", Some(name), e);
            // Still a row: a table that exists and could not be read is not a pass.
            return Some(LiveTable {
                table: TableDescription {
                    table_name: name.to_string(),
                    ..TableDescription::default()
                },
                ..LiveTable::default()
            });
        }
    };
    let continuous_backups_description = errors.keep(
        source.describe_continuous_backups(region, name),
        r,
        "dynamodb:DescribeContinuousBackups",
        Some(name),
    );
    let arn = table.table_arn.clone();
    let tags = errors.keep(
        source.list_tags_of_resource(region, &arn),
        r,
        "dynamodb:ListTagsOfResource",
        Some(name),
    );
    let resource_policy = match none_if_not_found(source.get_resource_policy(region, &arn)) {
        Ok(Some(p)) => ResourcePolicy::Policy(p),
        Ok(None) => ResourcePolicy::None,
        Err(e) => {
            errors.push(r, "dynamodb:GetResourcePolicy", Some(name), e);
            ResourcePolicy::NotRead
        }
    };
    Some(LiveTable {
        table,
        continuous_backups_description,
        tags,
        resource_policy,
    })
}

fn read_stack(source: &dyn Source, region: &str, s: &StackSummary, errors: &Errors) -> LiveStack {
    let r = Some(region);
    let name = Some(s.stack_name.as_str());
    let id = &s.stack_id;
    LiveStack {
        stack_name: s.stack_name.clone(),
        stack_id: id.clone(),
        stack_status: Some(s.stack_status.clone()),
        enable_termination_protection: errors.keep(
            source.describe_stacks(region, id),
            r,
            "cloudformation:DescribeStacks",
            name,
        ),
        template_body: errors.keep(
            source.get_template(region, id),
            r,
            "cloudformation:GetTemplate",
            name,
        ),
        stack_resources: errors.keep(
            source.list_stack_resources(region, id),
            r,
            "cloudformation:ListStackResources",
            name,
        ),
        stack_policy: match source.get_stack_policy(region, id) {
            Ok(Some(body)) => StackPolicy::Body(body),
            Ok(None) => StackPolicy::None,
            Err(e) => {
                errors.push(r, "cloudformation:GetStackPolicy", name, e);
                StackPolicy::NotRead
            }
        },
    }
}

fn read_organizations(source: &dyn Source, account: &str, errors: &Errors) -> Organizations {
    let ids = match source.list_policies() {
        Ok(ids) => ids,
        Err(e) if e.kind == ErrorKind::AccessDenied => return Organizations::NoAccess(e.message),
        Err(e) => {
            errors.push(None, "organizations:ListPolicies", None, e);
            return Organizations::NotRead;
        }
    };
    // The account's path to the root; a parent that cannot be read leaves the path short,
    // and an SCP attached above it unseen: that is an error.
    let mut account_path = vec![account.to_string()];
    let mut child = account.to_string();
    for _ in 0..8 {
        match source.list_parents(&child) {
            Ok(parents) => match parents.into_iter().next() {
                Some(parent) => {
                    account_path.push(parent.clone());
                    if parent.starts_with("r-") {
                        break;
                    }
                    child = parent;
                }
                None => break,
            },
            Err(e) if e.kind == ErrorKind::AccessDenied => {
                return Organizations::NoAccess(e.message)
            }
            Err(e) => {
                errors.push(None, "organizations:ListParents", Some(&child), e);
                break;
            }
        }
    }
    let policies = ids
        .par_iter()
        .filter_map(|id| {
            let describe_policy = errors.keep(
                source.describe_policy(id),
                None,
                "organizations:DescribePolicy",
                Some(id),
            )?;
            let targets = errors.keep(
                source.list_targets_for_policy(id),
                None,
                "organizations:ListTargetsForPolicy",
                Some(id),
            )?;
            Some(ServiceControlPolicy {
                describe_policy,
                targets,
            })
        })
        .collect();
    Organizations::Read(OrganizationPolicies {
        account_path,
        policies,
    })
}
