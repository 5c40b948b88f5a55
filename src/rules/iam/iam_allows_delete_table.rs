//! DDB010 iam-allows-delete-table
//!
//! ## What it checks
//! Every identity policy in the template (`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`,
//! `AWS::IAM::RolePolicy`/`UserPolicy`/`GroupPolicy`, the inline `Policies` of
//! `AWS::IAM::Role`, `User` and `Group`, and the inline policy documents in the `Policies`
//! of SAM's `AWS::Serverless::Function` and `StateMachine`, the `InlinePolicy` of an IAM
//! Identity Center `AWS::SSO::PermissionSet`, and a table's own resource-based policy:
//! `ResourcePolicy` of `AWS::DynamoDB::Table`, `Replicas[].ResourcePolicy` of
//! `AWS::DynamoDB::GlobalTable`) must not allow `dynamodb:DeleteTable` on a resource that
//! can be a table ARN, unless a `Deny` in the same document takes it back. The AWS managed
//! policies a principal is given (`ManagedPolicyArns` of roles, users and groups,
//! `ManagedPolicies` of a permission set, managed policy names or ARNs in SAM `Policies`)
//! count when they grant it (`AdministratorAccess`, `PowerUserAccess`,
//! `AmazonDynamoDBFullAccess`, ...: the list, with its source, is in
//! `src/model/iam/managed.rs`); a managed policy ARN that cannot be resolved (a parameter)
//! may be any of them and is reported as a possible grant.
//!
//! IAM semantics, as AWS evaluates them:
//! - Actions match case-insensitively, with `*` and `?` wildcards: `*`, `dynamodb:*`,
//!   `dynamodb:Delete*` and `DynamoDB:deletetable` all grant it. `NotAction` grants every
//!   action it does not list. `Action` may be a string or a list, and `Statement` a list
//!   or a single mapping.
//! - A resource can be a table ARN when it is `*`, a pattern such as
//!   `arn:aws:dynamodb:*:*:table/*`, a `!GetAtt`/`!Sub`/`!Join` of a table in the template,
//!   a value that cannot be resolved, or `NotResource` that does not exclude all tables.
//!   Stream and index ARNs (`table/Orders/stream/*`) are not tables, nor is the own ARN
//!   (`Arn`, `<Type>Arn`) of another service's resource (`!GetAtt Queue.Arn`,
//!   `!GetAtt Topic.TopicArn`); any attribute the model cannot type can be one
//!   (`!GetAtt App.Outputs.X` of an `AWS::Serverless::Application` or a provisioned
//!   product, a custom resource's, another resource's ARN such as a stream consumer's
//!   `StreamARN` or a `TableArn` of a type the model does not know).
//! - `Fn::If` is followed into both branches (statements, actions, resources, effect);
//!   the finding says under which condition the grant holds. A branch taken only when the
//!   policy resource's own `Condition` is false is no grant (the policy does not exist).
//! - An action built with `Fn::Sub`/`Fn::Join` from a value that cannot be known is
//!   matched by its known parts: `elasticloadbalancing:${Action}` never grants it,
//!   `dynamodb:${Action}` may. A resource that a parameter decides is named as such ("a
//!   resource chosen by parameter `Target`"). An SSM parameter type
//!   (`AWS::SSM::Parameter::Value<...>`) is never resolved: its AllowedValues constrain
//!   only the parameter's name.
//! - `Effect` is case-sensitive, as in IAM: a statement whose `Effect` is neither `Allow`
//!   nor `Deny` (`allow`, `ALLOW`) grants nothing, and this rule reports the policy as
//!   invalid at the `Effect` value (IAM refuses it, so the deployment fails). It is
//!   reported at this rule's severity, as a grant would be, so that a mistaken reading of
//!   the effect can never hide one.
//! - A `Deny` wins only when it certainly applies: no IAM `Condition`, no CloudFormation
//!   condition the `Allow` does not share, and actions and resources that cover the grant.
//!   A value the stack reads once is the same in both: `${AWS::Region}`, a parameter, a
//!   resource's name or attribute, an import, however the string is built (`!GetAtt T.Arn`
//!   is `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}`). A
//!   literal (`us-east-1`), another value, or a value that cannot be resolved never covers
//!   one.
//! - Service control policies (`AWS::Organizations::Policy`) only filter what other
//!   policies grant; their `Allow` statements never grant, so they are not flagged.
//!
//! The finding points at the action string that grants (or the `NotAction` key). The
//! rule reads only files that hold a policy-bearing type and a `Statement`: an IAM or SAM
//! type together with `Policies`, or one of the policy types (`AWS::IAM::Policy`,
//! `ManagedPolicy`, `RolePolicy`, `UserPolicy`, `GroupPolicy`). A policy granting `"*"` or
//! using `NotAction` may mention neither DynamoDB nor AWS Backup, but it always sits in
//! such a resource, and `Type` is always a literal; a file that names managed policies
//! (`ManagedPolicyArns`, `ManagedPolicies`, SAM `Policies`) is read too. A policy document
//! written as a JSON string (a literal, or an `Fn::Sub` whose placeholders sit inside JSON
//! strings) is parsed and read like any other, with spans inside the string; one that
//! cannot be parsed is an error. SAM policy templates (`DynamoDBCrudPolicy: ...`) are not
//! read: none of them grants table deletion.
//!
//! ## Why it matters
//! The guardrail behind ddb-guard denies `dynamodb:DeleteTable` through IAM and service
//! control policies. A template that grants it to a role, user or group undoes that
//! guardrail for every principal that receives the policy: one mistaken script, or a
//! compromised credential, can delete a table and its data outside CloudFormation.
//!
//! ## Example
//! ```yaml
//! DeployRole:
//!   Type: AWS::IAM::Role
//!   Properties:
//!     Policies:
//!       - PolicyName: deploy
//!         PolicyDocument:
//!           Statement:
//!             - Effect: Allow
//!               Action: dynamodb:*
//!               Resource: !GetAtt OrdersTable.Arn
//! ```
//!
//! ## Use instead
//! ```yaml
//! DeployRole:
//!   Type: AWS::IAM::Role
//!   Properties:
//!     Policies:
//!       - PolicyName: deploy
//!         PolicyDocument:
//!           Statement:
//!             - Effect: Allow
//!               Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Query]
//!               Resource: !GetAtt OrdersTable.Arn
//! ```
//!
//! ## Fix safety
//! No automatic fix: which actions a principal needs is a decision about the application.
//! Narrow the actions, scope the resources away from tables, or add a `Deny` for
//! `dynamodb:DeleteTable` to the same policy.

use super::grant::{check_grants, GrantSpec, NEEDLES};
use crate::finding::{Finding, Severity};
use crate::model::iam::DELETE_TABLE;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB010",
    name: "iam-allows-delete-table",
    severity: Severity::Warning,
    summary: "IAM policy must not allow dynamodb:DeleteTable on a table",
    needles: NEEDLES,
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("iam_allows_delete_table.rs"),
};

const SPEC: GrantSpec = GrantSpec {
    guarded: &[DELETE_TABLE],
    target: "a table ARN",
    report_invalid: true,
    consequence: "it undoes the guardrail that denies deleting DynamoDB tables",
    help: "list only the actions the principal needs (e.g. `dynamodb:DeleteItem`, not `dynamodb:Delete*`), or scope `Resource` away from tables",
};

fn check(view: &ResourceView) -> Vec<Finding> {
    check_grants(view, &RULE, &SPEC)
}
