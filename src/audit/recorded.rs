//! A [`Source`] that answers from recorded responses, for the tests: one JSON object whose
//! keys are `[REGION ]SERVICE:Action[ ITEM]` and whose values are the response bodies as
//! the AWS API reference documents them (`{"Table": {...}}` for `DescribeTable`), or
//! `{"Error": {"Code": ..., "Message": ...}}` for a failed call.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::collect::{Caller, ErrorKind, Read, Source, SourceError, StackSummary};
use super::snapshot::*;

pub struct Recorded(pub Value);

impl Recorded {
    pub fn parse(text: &str) -> Recorded {
        Recorded(serde_json::from_str(text).expect("recorded responses are JSON"))
    }

    fn answer(&self, region: Option<&str>, operation: &str, item: Option<&str>) -> Read<&Value> {
        let mut key = String::new();
        if let Some(region) = region {
            key.push_str(region);
            key.push(' ');
        }
        key.push_str(operation);
        if let Some(item) = item {
            key.push(' ');
            key.push_str(item);
        }
        let Some(value) = self.0.get(&key) else {
            return Err(SourceError::other(format!(
                "no recorded response for `{key}`"
            )));
        };
        if let Some(error) = value.get("Error") {
            let code = error.get("Code").and_then(Value::as_str).unwrap_or("Error");
            let message = error.get("Message").and_then(Value::as_str).unwrap_or("");
            let kind = match code {
                "AccessDeniedException" | "AccessDenied" | "AWSOrganizationsNotInUseException" => {
                    ErrorKind::AccessDenied
                }
                "ResourceNotFoundException" | "PolicyNotFoundException" => ErrorKind::NotFound,
                _ => ErrorKind::Other,
            };
            return Err(SourceError {
                kind,
                message: format!("{code}: {message}"),
            });
        }
        Ok(value)
    }

    fn field<T: DeserializeOwned>(
        &self,
        region: Option<&str>,
        operation: &str,
        item: Option<&str>,
        pointer: &str,
    ) -> Read<T> {
        let value = self.answer(region, operation, item)?;
        let part = if pointer.is_empty() {
            Some(value)
        } else {
            value.pointer(pointer)
        };
        let part = part.cloned().unwrap_or(Value::Null);
        serde_json::from_value(part)
            .map_err(|e| SourceError::other(format!("malformed response to {operation}: {e}")))
    }

    fn ids(
        &self,
        region: Option<&str>,
        op: &str,
        item: Option<&str>,
        list: &str,
        id: &str,
    ) -> Read<Vec<String>> {
        let items: Vec<Value> = self.field(region, op, item, list)?;
        Ok(items
            .iter()
            .filter_map(|i| i.get(id).and_then(Value::as_str).map(str::to_string))
            .collect())
    }
}

impl Source for Recorded {
    fn get_caller_identity(&self) -> Read<Caller> {
        let v = self.answer(None, "sts:GetCallerIdentity", None)?;
        let arn = v.get("Arn").and_then(Value::as_str).unwrap_or("");
        Ok(Caller {
            account: v
                .get("Account")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            partition: arn.split(':').nth(1).unwrap_or("aws").into(),
        })
    }
    fn list_regions(&self) -> Read<Vec<String>> {
        self.ids(None, "account:ListRegions", None, "/Regions", "RegionName")
    }
    fn list_tables(&self, region: &str) -> Read<Vec<String>> {
        self.field(Some(region), "dynamodb:ListTables", None, "/TableNames")
    }
    fn describe_table(&self, region: &str, name: &str) -> Read<TableDescription> {
        self.field(Some(region), "dynamodb:DescribeTable", Some(name), "/Table")
    }
    fn describe_continuous_backups(
        &self,
        region: &str,
        name: &str,
    ) -> Read<ContinuousBackupsDescription> {
        self.field(
            Some(region),
            "dynamodb:DescribeContinuousBackups",
            Some(name),
            "/ContinuousBackupsDescription",
        )
    }
    fn list_tags_of_resource(&self, region: &str, arn: &str) -> Read<Vec<Tag>> {
        self.field(
            Some(region),
            "dynamodb:ListTagsOfResource",
            Some(arn),
            "/Tags",
        )
    }
    fn get_resource_policy(&self, region: &str, arn: &str) -> Read<Option<String>> {
        self.field(
            Some(region),
            "dynamodb:GetResourcePolicy",
            Some(arn),
            "/Policy",
        )
    }
    fn list_stacks(&self, region: &str) -> Read<Vec<StackSummary>> {
        let items: Vec<Value> = self.field(
            Some(region),
            "cloudformation:ListStacks",
            None,
            "/StackSummaries",
        )?;
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Ok(items
            .iter()
            .map(|v| StackSummary {
                stack_name: s(v, "StackName"),
                stack_id: s(v, "StackId"),
                stack_status: s(v, "StackStatus"),
            })
            .collect())
    }
    fn describe_stacks(&self, region: &str, stack_id: &str) -> Read<bool> {
        let on: Option<bool> = self.field(
            Some(region),
            "cloudformation:DescribeStacks",
            Some(stack_id),
            "/Stacks/0/EnableTerminationProtection",
        )?;
        Ok(on.unwrap_or(false))
    }
    fn get_template(&self, region: &str, stack_id: &str) -> Read<String> {
        self.field(
            Some(region),
            "cloudformation:GetTemplate",
            Some(stack_id),
            "/TemplateBody",
        )
    }
    fn list_stack_resources(&self, region: &str, stack_id: &str) -> Read<Vec<StackResource>> {
        self.field(
            Some(region),
            "cloudformation:ListStackResources",
            Some(stack_id),
            "/StackResourceSummaries",
        )
    }
    fn get_stack_policy(&self, region: &str, stack_id: &str) -> Read<Option<String>> {
        self.field(
            Some(region),
            "cloudformation:GetStackPolicy",
            Some(stack_id),
            "/StackPolicyBody",
        )
    }
    fn list_backup_plans(&self, region: &str) -> Read<Vec<LiveBackupPlan>> {
        self.field(
            Some(region),
            "backup:ListBackupPlans",
            None,
            "/BackupPlansList",
        )
    }
    fn list_backup_selections(&self, region: &str, plan_id: &str) -> Read<Vec<String>> {
        self.ids(
            Some(region),
            "backup:ListBackupSelections",
            Some(plan_id),
            "/BackupSelectionsList",
            "SelectionId",
        )
    }
    fn get_backup_selection(
        &self,
        region: &str,
        _plan_id: &str,
        selection_id: &str,
    ) -> Read<BackupSelectionResponse> {
        self.field(
            Some(region),
            "backup:GetBackupSelection",
            Some(selection_id),
            "",
        )
    }
    fn list_backup_vaults(&self, region: &str) -> Read<Vec<LiveVault>> {
        // `AccessPolicy` is not part of the response; it is read separately.
        self.field(
            Some(region),
            "backup:ListBackupVaults",
            None,
            "/BackupVaultList",
        )
    }
    fn get_backup_vault_access_policy(&self, region: &str, vault: &str) -> Read<Option<String>> {
        self.field(
            Some(region),
            "backup:GetBackupVaultAccessPolicy",
            Some(vault),
            "/Policy",
        )
    }
    fn get_account_authorization_details(&self) -> Read<Value> {
        self.answer(None, "iam:GetAccountAuthorizationDetails", None)
            .cloned()
    }
    fn list_policies(&self) -> Read<Vec<String>> {
        self.ids(None, "organizations:ListPolicies", None, "/Policies", "Id")
    }
    fn describe_policy(&self, policy_id: &str) -> Read<Value> {
        self.answer(None, "organizations:DescribePolicy", Some(policy_id))
            .cloned()
    }
    fn list_targets_for_policy(&self, policy_id: &str) -> Read<Vec<PolicyTarget>> {
        self.field(
            None,
            "organizations:ListTargetsForPolicy",
            Some(policy_id),
            "/Targets",
        )
    }
    fn list_parents(&self, child_id: &str) -> Read<Vec<String>> {
        self.ids(
            None,
            "organizations:ListParents",
            Some(child_id),
            "/Parents",
            "Id",
        )
    }
}
