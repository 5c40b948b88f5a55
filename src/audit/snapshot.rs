//! What an audit read from an account, as data: each part keeps the shape and the field
//! names of the AWS API response it came from (`DescribeTable`'s `Table`,
//! `GetBackupSelection`, `GetTemplate`'s `TemplateBody`, ...), so recorded responses
//! (JSON as the API reference documents them) deserialize into it directly, and the
//! analysis ([`super::analyze`]) runs the same on recorded data as on a live account.
//!
//! A part that could not be read is `None` (or missing from its list) and has a
//! [`ReadError`] in [`Snapshot::errors`]: the analysis never takes an unread part as a
//! pass.

use serde::{Deserialize, Serialize};

/// Everything read from one account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Snapshot {
    /// The account ID (`GetCallerIdentity`), when known.
    pub account: Option<String>,
    /// `aws`, `aws-cn`, `aws-us-gov`: from the caller's ARN.
    pub partition: String,
    pub regions: Vec<RegionSnapshot>,
    /// `GetAccountAuthorizationDetails`, every page merged (lists concatenated); `None`
    /// when it could not be read.
    pub authorization_details: Option<serde_json::Value>,
    pub organizations: Organizations,
    pub errors: Vec<ReadError>,
}

/// The service control policies around the account, or why they are not known.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum Organizations {
    /// Not asked (no account ID to place the account in its organization).
    #[default]
    NotRead,
    /// The credentials may not read Organizations (AccessDenied, not in an organization,
    /// or not the management or delegated administrator account): "unknown", never
    /// "missing".
    NoAccess(String),
    Read(OrganizationPolicies),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrganizationPolicies {
    /// The IDs of the account and of every parent up to the root (`ListParents`): an SCP
    /// attached to any of them applies to the account.
    pub account_path: Vec<String>,
    pub policies: Vec<ServiceControlPolicy>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceControlPolicy {
    /// `DescribePolicy`'s response: `{"Policy": {"PolicySummary": {...}, "Content": "..."}}`.
    pub describe_policy: serde_json::Value,
    /// `ListTargetsForPolicy`'s `Targets`.
    pub targets: Vec<PolicyTarget>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PolicyTarget {
    pub target_id: String,
    pub name: Option<String>,
    #[serde(rename = "Type")]
    pub target_type: Option<String>,
}

/// What was read in one Region.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegionSnapshot {
    pub region: String,
    pub tables: Vec<LiveTable>,
    pub stacks: Vec<LiveStack>,
    pub backup_plans: Vec<LiveBackupPlan>,
    pub backup_vaults: Vec<LiveVault>,
}

/// One table: `DescribeTable`, `DescribeContinuousBackups`, `ListTagsOfResource`,
/// `GetResourcePolicy`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LiveTable {
    pub table: TableDescription,
    /// `None`: not read (an error says why).
    pub continuous_backups_description: Option<ContinuousBackupsDescription>,
    /// `None`: not read.
    pub tags: Option<Vec<Tag>>,
    /// The resource policy document (`GetResourcePolicy`'s `Policy`).
    pub resource_policy: ResourcePolicy,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum ResourcePolicy {
    #[default]
    NotRead,
    /// `PolicyNotFoundException`: the table has none.
    None,
    Policy(String),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TableDescription {
    pub table_name: String,
    pub table_arn: String,
    pub table_status: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    pub replicas: Vec<ReplicaDescription>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicaDescription {
    pub region_name: Option<String>,
    pub replica_status: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContinuousBackupsDescription {
    pub continuous_backups_status: Option<String>,
    pub point_in_time_recovery_description: Option<PointInTimeRecoveryDescription>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PointInTimeRecoveryDescription {
    pub point_in_time_recovery_status: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One active stack: `ListStacks`/`DescribeStacks`, `GetTemplate` (processed),
/// `ListStackResources`, `GetStackPolicy`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LiveStack {
    pub stack_name: String,
    pub stack_id: String,
    pub stack_status: Option<String>,
    /// `None`: not read.
    pub enable_termination_protection: Option<bool>,
    /// The processed template (`TemplateStage: Processed`); `None`: not read.
    pub template_body: Option<String>,
    /// `None`: not read.
    pub stack_resources: Option<Vec<StackResource>>,
    pub stack_policy: StackPolicy,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum StackPolicy {
    #[default]
    NotRead,
    None,
    Body(String),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StackResource {
    pub logical_resource_id: String,
    pub physical_resource_id: Option<String>,
    pub resource_type: String,
}

/// One backup plan and its selections (`ListBackupPlans`, `ListBackupSelections`,
/// `GetBackupSelection`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LiveBackupPlan {
    pub backup_plan_id: String,
    pub backup_plan_name: Option<String>,
    pub backup_plan_arn: Option<String>,
    /// `GetBackupSelection` responses; a selection that could not be read is missing and
    /// has an error.
    pub selections: Vec<BackupSelectionResponse>,
}

/// `GetBackupSelection`'s response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackupSelectionResponse {
    pub selection_id: Option<String>,
    pub backup_plan_id: Option<String>,
    pub backup_selection: BackupSelection,
}

/// `BackupSelection`, the same shape CloudFormation's `AWS::Backup::BackupSelection`
/// takes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackupSelection {
    pub selection_name: String,
    pub iam_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub list_of_tags: Vec<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Conditions>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Condition {
    pub condition_type: String,
    pub condition_key: String,
    pub condition_value: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Conditions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub string_equals: Vec<ConditionParameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub string_not_equals: Vec<ConditionParameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub string_like: Vec<ConditionParameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub string_not_like: Vec<ConditionParameter>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConditionParameter {
    pub condition_key: String,
    pub condition_value: String,
}

/// One backup vault (`ListBackupVaults`, `GetBackupVaultAccessPolicy`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LiveVault {
    pub backup_vault_name: String,
    pub backup_vault_arn: Option<String>,
    pub locked: Option<bool>,
    pub min_retention_days: Option<i64>,
    pub max_retention_days: Option<i64>,
    pub access_policy: VaultPolicy,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum VaultPolicy {
    #[default]
    NotRead,
    None,
    Policy(String),
}

/// Something that could not be read; the rest of the audit goes on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReadError {
    pub region: Option<String>,
    /// The API action (`dynamodb:DescribeTable`).
    pub operation: String,
    /// What it was about (a table name, a stack name), when anything.
    pub item: Option<String>,
    pub message: String,
}
