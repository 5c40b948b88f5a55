//! [`Source`] with the AWS SDK for Rust (cargo feature `audit`): credentials and Region
//! from the standard chain (environment, profiles, SSO, web identity, instance
//! metadata), the SDK's standard retries with backoff, every page followed. Only the
//! read-only actions of [`super::collect::OPERATIONS`] are called (a test reads this file
//! and holds its calls to that list).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_account::types::RegionOptStatus;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_http_client::tls;
use serde_json::{json, Value};

use super::collect::{
    Caller, ErrorKind, Read, Source, SourceError, StackSummary, ACTIVE_STACK_STATUSES,
};
use super::snapshot::*;

/// Where the calls go and as whom.
pub struct Options {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

pub struct AwsSource {
    runtime: tokio::runtime::Runtime,
    config: SdkConfig,
    /// The Regional clients, made once per Region (a client holds its endpoint and
    /// config; the connection pool and the credentials cache are the config's).
    regional: Mutex<HashMap<String, Regional>>,
    iam: aws_sdk_iam::Client,
    organizations: aws_sdk_organizations::Client,
    sts: aws_sdk_sts::Client,
    account: aws_sdk_account::Client,
}

/// Attempts per call (the SDK's standard mode: exponential backoff with jitter; throttling
/// is retried).
const MAX_ATTEMPTS: u32 = 6;

impl AwsSource {
    pub fn connect(options: &Options) -> Result<AwsSource, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = runtime.block_on(loader.load());
        // IAM, Organizations, STS and Account are global: any Region reaches them.
        let global = config
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new("us-east-1"));
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .region(global.clone())
                .build(),
        );
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&config)
                .region(global.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .region(global.clone())
                .build(),
        );
        let account = aws_sdk_account::Client::from_conf(
            aws_sdk_account::config::Builder::from(&config)
                .region(global)
                .build(),
        );
        Ok(AwsSource {
            runtime,
            config,
            regional: Mutex::new(HashMap::new()),
            iam,
            organizations,
            sts,
            account,
        })
    }

    /// The Region of the AWS config or environment, when one is set.
    pub fn default_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    fn block<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    fn regional(&self, region: &str) -> Regional {
        let make = || {
            let region = Region::new(region.to_string());
            Regional {
                dynamodb: aws_sdk_dynamodb::Client::from_conf(
                    aws_sdk_dynamodb::config::Builder::from(&self.config)
                        .region(region.clone())
                        .build(),
                ),
                cloudformation: aws_sdk_cloudformation::Client::from_conf(
                    aws_sdk_cloudformation::config::Builder::from(&self.config)
                        .region(region.clone())
                        .build(),
                ),
                backup: aws_sdk_backup::Client::from_conf(
                    aws_sdk_backup::config::Builder::from(&self.config)
                        .region(region)
                        .build(),
                ),
            }
        };
        match self.regional.lock() {
            Ok(mut clients) => clients
                .entry(region.to_string())
                .or_insert_with(make)
                .clone(),
            // A panic elsewhere poisoned the cache: a fresh client is still right.
            Err(_) => make(),
        }
    }

    fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        self.regional(region).dynamodb
    }

    fn cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        self.regional(region).cloudformation
    }

    fn backup(&self, region: &str) -> aws_sdk_backup::Client {
        self.regional(region).backup
    }
}

#[derive(Clone)]
struct Regional {
    dynamodb: aws_sdk_dynamodb::Client,
    cloudformation: aws_sdk_cloudformation::Client,
    backup: aws_sdk_backup::Client,
}

/// An SDK error as the audit tells it: the service's code and message, and whether it
/// means "denied" or "not there".
fn classify<E, R>(e: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().map(str::to_string);
    let message = match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(&e).to_string(),
    };
    let kind = match code.as_deref() {
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AWSOrganizationsNotInUseException",
        ) => ErrorKind::AccessDenied,
        Some("ResourceNotFoundException" | "PolicyNotFoundException" | "NoSuchEntity") => {
            ErrorKind::NotFound
        }
        _ => ErrorKind::Other,
    };
    SourceError { kind, message }
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

/// Every page of a paginated call, each turned into items by `items`.
async fn all_pages<O, E, R, T, I>(
    mut pages: PaginationStream<Result<O, SdkError<E, R>>>,
    mut items: impl FnMut(O) -> I,
) -> Read<Vec<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    I: IntoIterator<Item = T>,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(items(page.map_err(classify)?));
    }
    Ok(out)
}

impl AwsSource {
    /// One call, to its answer or its error as the audit tells it.
    fn send<T, E, R>(&self, call: impl Future<Output = Result<T, SdkError<E, R>>>) -> Read<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        self.block(async { call.await.map_err(classify) })
    }

    /// Every page of a paginated call.
    fn pages<O, E, R, T, I>(
        &self,
        pages: PaginationStream<Result<O, SdkError<E, R>>>,
        items: impl FnMut(O) -> I,
    ) -> Read<Vec<T>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
        I: IntoIterator<Item = T>,
    {
        self.block(all_pages(pages, items))
    }
}

/// The field an answer must have, or an error naming the call.
fn required<T>(value: Option<T>, what: &str) -> Read<T> {
    value.ok_or_else(|| SourceError::other(format!("{what} returned nothing")))
}

impl Source for AwsSource {
    fn get_caller_identity(&self) -> Read<Caller> {
        let out = self.send(self.sts.get_caller_identity().send())?;
        let arn = out.arn().unwrap_or_default();
        let partition = arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws");
        Ok(Caller {
            account: text(out.account()),
            partition: partition.to_string(),
        })
    }

    fn list_regions(&self) -> Read<Vec<String>> {
        // A Region being disabled still holds its tables until it is: it is audited too.
        let mut call = self.account.list_regions();
        for status in [
            RegionOptStatus::EnabledByDefault,
            RegionOptStatus::Enabled,
            RegionOptStatus::Disabling,
        ] {
            call = call.region_opt_status_contains(status);
        }
        self.pages(call.into_paginator().send(), |page| {
            page.regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect::<Vec<_>>()
        })
    }

    fn list_tables(&self, region: &str) -> Read<Vec<String>> {
        self.pages(
            self.dynamodb(region).list_tables().into_paginator().send(),
            |page| page.table_names().to_vec(),
        )
    }

    fn describe_table(&self, region: &str, name: &str) -> Read<TableDescription> {
        let out = self.send(
            self.dynamodb(region)
                .describe_table()
                .table_name(name)
                .send(),
        )?;
        let t = required(out.table(), "DescribeTable")?;
        Ok(TableDescription {
            table_name: t.table_name().unwrap_or(name).to_string(),
            table_arn: text(t.table_arn()),
            table_status: t.table_status().map(|s| s.as_str().to_string()),
            deletion_protection_enabled: t.deletion_protection_enabled(),
            replicas: t
                .replicas()
                .iter()
                .map(|r| ReplicaDescription {
                    region_name: r.region_name().map(str::to_string),
                    replica_status: r.replica_status().map(|s| s.as_str().to_string()),
                })
                .collect(),
        })
    }

    fn describe_continuous_backups(
        &self,
        region: &str,
        name: &str,
    ) -> Read<ContinuousBackupsDescription> {
        let out = self.send(
            self.dynamodb(region)
                .describe_continuous_backups()
                .table_name(name)
                .send(),
        )?;
        let c = required(
            out.continuous_backups_description(),
            "DescribeContinuousBackups",
        )?;
        Ok(ContinuousBackupsDescription {
            continuous_backups_status: Some(c.continuous_backups_status().as_str().to_string()),
            point_in_time_recovery_description: c.point_in_time_recovery_description().map(|p| {
                PointInTimeRecoveryDescription {
                    point_in_time_recovery_status: p
                        .point_in_time_recovery_status()
                        .map(|s| s.as_str().to_string()),
                }
            }),
        })
    }

    fn list_tags_of_resource(&self, region: &str, arn: &str) -> Read<Vec<Tag>> {
        // No paginator in the SDK for this one: the token is followed by hand.
        let mut tags = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self.send(
                self.dynamodb(region)
                    .list_tags_of_resource()
                    .resource_arn(arn)
                    .set_next_token(token.take())
                    .send(),
            )?;
            tags.extend(out.tags().iter().map(|t| Tag {
                key: t.key().to_string(),
                value: t.value().to_string(),
            }));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(tags)
    }

    fn get_resource_policy(&self, region: &str, arn: &str) -> Read<Option<String>> {
        let out = self.send(
            self.dynamodb(region)
                .get_resource_policy()
                .resource_arn(arn)
                .send(),
        )?;
        Ok(out.policy().map(str::to_string))
    }

    fn list_stacks(&self, region: &str) -> Read<Vec<StackSummary>> {
        let statuses = ACTIVE_STACK_STATUSES
            .iter()
            .map(|s| aws_sdk_cloudformation::types::StackStatus::from(*s))
            .collect();
        self.pages(
            self.cloudformation(region)
                .list_stacks()
                .set_stack_status_filter(Some(statuses))
                .into_paginator()
                .send(),
            |page| {
                page.stack_summaries()
                    .iter()
                    .map(|s| StackSummary {
                        stack_name: text(s.stack_name()),
                        stack_id: text(s.stack_id()),
                        stack_status: s
                            .stack_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    })
                    .collect::<Vec<_>>()
            },
        )
    }

    fn describe_stacks(&self, region: &str, stack_id: &str) -> Read<bool> {
        let out = self.send(
            self.cloudformation(region)
                .describe_stacks()
                .stack_name(stack_id)
                .send(),
        )?;
        let stack = required(out.stacks().first(), "DescribeStacks")?;
        Ok(stack.enable_termination_protection().unwrap_or(false))
    }

    fn get_template(&self, region: &str, stack_id: &str) -> Read<String> {
        let out = self.send(
            self.cloudformation(region)
                .get_template()
                .stack_name(stack_id)
                .template_stage(aws_sdk_cloudformation::types::TemplateStage::Processed)
                .send(),
        )?;
        required(out.template_body(), "GetTemplate").map(str::to_string)
    }

    fn list_stack_resources(&self, region: &str, stack_id: &str) -> Read<Vec<StackResource>> {
        self.pages(
            self.cloudformation(region)
                .list_stack_resources()
                .stack_name(stack_id)
                .into_paginator()
                .send(),
            |page| {
                page.stack_resource_summaries()
                    .iter()
                    .map(|r| StackResource {
                        logical_resource_id: text(r.logical_resource_id()),
                        physical_resource_id: r.physical_resource_id().map(str::to_string),
                        resource_type: text(r.resource_type()),
                    })
                    .collect::<Vec<_>>()
            },
        )
    }

    fn get_stack_policy(&self, region: &str, stack_id: &str) -> Read<Option<String>> {
        let out = self.send(
            self.cloudformation(region)
                .get_stack_policy()
                .stack_name(stack_id)
                .send(),
        )?;
        Ok(out
            .stack_policy_body()
            .filter(|b| !b.trim().is_empty())
            .map(str::to_string))
    }

    fn list_backup_plans(&self, region: &str) -> Read<Vec<LiveBackupPlan>> {
        self.pages(
            self.backup(region)
                .list_backup_plans()
                .into_paginator()
                .send(),
            |page| {
                page.backup_plans_list()
                    .iter()
                    .map(|p| LiveBackupPlan {
                        backup_plan_id: text(p.backup_plan_id()),
                        backup_plan_name: p.backup_plan_name().map(str::to_string),
                        backup_plan_arn: p.backup_plan_arn().map(str::to_string),
                        selections: Vec::new(),
                    })
                    .collect::<Vec<_>>()
            },
        )
    }

    fn list_backup_selections(&self, region: &str, plan_id: &str) -> Read<Vec<String>> {
        self.pages(
            self.backup(region)
                .list_backup_selections()
                .backup_plan_id(plan_id)
                .into_paginator()
                .send(),
            |page| {
                page.backup_selections_list()
                    .iter()
                    .map(|s| text(s.selection_id()))
                    .collect::<Vec<_>>()
            },
        )
    }

    fn get_backup_selection(
        &self,
        region: &str,
        plan_id: &str,
        selection_id: &str,
    ) -> Read<BackupSelectionResponse> {
        let out = self.send(
            self.backup(region)
                .get_backup_selection()
                .backup_plan_id(plan_id)
                .selection_id(selection_id)
                .send(),
        )?;
        let s = required(out.backup_selection(), "GetBackupSelection")?;
        let params = |list: &[aws_sdk_backup::types::ConditionParameter]| {
            list.iter()
                .map(|c| ConditionParameter {
                    condition_key: text(c.condition_key()),
                    condition_value: text(c.condition_value()),
                })
                .collect::<Vec<_>>()
        };
        Ok(BackupSelectionResponse {
            selection_id: out.selection_id().map(str::to_string),
            backup_plan_id: out.backup_plan_id().map(str::to_string),
            backup_selection: BackupSelection {
                selection_name: s.selection_name().to_string(),
                iam_role_arn: Some(s.iam_role_arn().to_string()),
                resources: s.resources().to_vec(),
                not_resources: s.not_resources().to_vec(),
                list_of_tags: s
                    .list_of_tags()
                    .iter()
                    .map(|c| Condition {
                        condition_type: c.condition_type().as_str().to_string(),
                        condition_key: c.condition_key().to_string(),
                        condition_value: c.condition_value().to_string(),
                    })
                    .collect(),
                conditions: s.conditions().map(|c| Conditions {
                    string_equals: params(c.string_equals()),
                    string_not_equals: params(c.string_not_equals()),
                    string_like: params(c.string_like()),
                    string_not_like: params(c.string_not_like()),
                }),
            },
        })
    }

    fn list_backup_vaults(&self, region: &str) -> Read<Vec<LiveVault>> {
        self.pages(
            self.backup(region)
                .list_backup_vaults()
                .into_paginator()
                .send(),
            |page| {
                page.backup_vault_list()
                    .iter()
                    .map(|v| LiveVault {
                        backup_vault_name: text(v.backup_vault_name()),
                        backup_vault_arn: v.backup_vault_arn().map(str::to_string),
                        locked: v.locked(),
                        min_retention_days: v.min_retention_days(),
                        max_retention_days: v.max_retention_days(),
                        access_policy: VaultPolicy::NotRead,
                    })
                    .collect::<Vec<_>>()
            },
        )
    }

    fn get_backup_vault_access_policy(&self, region: &str, vault: &str) -> Read<Option<String>> {
        let out = self.send(
            self.backup(region)
                .get_backup_vault_access_policy()
                .backup_vault_name(vault)
                .send(),
        )?;
        Ok(out.policy().map(str::to_string))
    }

    fn get_account_authorization_details(&self) -> Read<Value> {
        let pages = self.pages(
            self.iam
                .get_account_authorization_details()
                .into_paginator()
                .send(),
            |page| [page],
        )?;
        let (mut users, mut groups, mut roles, mut policies) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> Vec<Value> {
            list.iter()
                .map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()}))
                .collect()
        };
        let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Vec<Value> {
            list.iter()
                .map(|p| json!({"PolicyName": p.policy_name(), "PolicyArn": p.policy_arn()}))
                .collect()
        };
        let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
            b.map(|b| json!({"PermissionsBoundaryArn": b.permissions_boundary_arn()}))
        };
        for page in pages {
            for u in page.user_detail_list() {
                users.push(json!({
                    "UserName": u.user_name(),
                    "Arn": u.arn(),
                    "GroupList": u.group_list(),
                    "UserPolicyList": inline(u.user_policy_list()),
                    "AttachedManagedPolicies": attached(u.attached_managed_policies()),
                    "PermissionsBoundary": boundary(u.permissions_boundary()),
                }));
            }
            for g in page.group_detail_list() {
                groups.push(json!({
                    "GroupName": g.group_name(),
                    "Arn": g.arn(),
                    "GroupPolicyList": inline(g.group_policy_list()),
                    "AttachedManagedPolicies": attached(g.attached_managed_policies()),
                }));
            }
            for r in page.role_detail_list() {
                roles.push(json!({
                    "RoleName": r.role_name(),
                    "Arn": r.arn(),
                    "RolePolicyList": inline(r.role_policy_list()),
                    "AttachedManagedPolicies": attached(r.attached_managed_policies()),
                    "PermissionsBoundary": boundary(r.permissions_boundary()),
                }));
            }
            for p in page.policies() {
                let versions: Vec<Value> = p
                    .policy_version_list()
                    .iter()
                    .map(|v| json!({"Document": v.document(), "VersionId": v.version_id(), "IsDefaultVersion": v.is_default_version()}))
                    .collect();
                policies.push(json!({
                    "PolicyName": p.policy_name(),
                    "Arn": p.arn(),
                    "DefaultVersionId": p.default_version_id(),
                    "PolicyVersionList": versions,
                }));
            }
        }
        Ok(json!({
            "UserDetailList": users,
            "GroupDetailList": groups,
            "RoleDetailList": roles,
            "Policies": policies,
        }))
    }

    fn list_policies(&self) -> Read<Vec<String>> {
        self.pages(
            self.organizations
                .list_policies()
                .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                .into_paginator()
                .send(),
            |page| {
                page.policies()
                    .iter()
                    .map(|p| text(p.id()))
                    .collect::<Vec<_>>()
            },
        )
    }

    fn describe_policy(&self, policy_id: &str) -> Read<Value> {
        let out = self.send(
            self.organizations
                .describe_policy()
                .policy_id(policy_id)
                .send(),
        )?;
        let p = required(out.policy(), "DescribePolicy")?;
        let summary = p.policy_summary().map(|s| {
            json!({
                "Id": s.id(),
                "Arn": s.arn(),
                "Name": s.name(),
                "Type": s.r#type().map(|t| t.as_str()),
                "AwsManaged": s.aws_managed(),
            })
        });
        Ok(json!({"Policy": {"PolicySummary": summary, "Content": p.content()}}))
    }

    fn list_targets_for_policy(&self, policy_id: &str) -> Read<Vec<PolicyTarget>> {
        self.pages(
            self.organizations
                .list_targets_for_policy()
                .policy_id(policy_id)
                .into_paginator()
                .send(),
            |page| {
                page.targets()
                    .iter()
                    .map(|t| PolicyTarget {
                        target_id: text(t.target_id()),
                        name: t.name().map(str::to_string),
                        target_type: t.r#type().map(|t| t.as_str().to_string()),
                    })
                    .collect::<Vec<_>>()
            },
        )
    }

    fn list_parents(&self, child_id: &str) -> Read<Vec<String>> {
        self.pages(
            self.organizations
                .list_parents()
                .child_id(child_id)
                .into_paginator()
                .send(),
            |page| {
                page.parents()
                    .iter()
                    .map(|p| text(p.id()))
                    .collect::<Vec<_>>()
            },
        )
    }
}
