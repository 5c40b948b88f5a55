"""Seed the AWS emulator (moto server) for scripts/test-audit.sh, through its API (boto3).

usage: seed.py ENDPOINT_URL [--with-vault]

One Region (us-east-1) of account 123456789012 (moto's default):
- stack `orders` (termination protection on, a stack policy denying Update:Delete and
  Update:Replace of OrdersTable) whose template retains OrdersTable -> table `Orders`
  with deletion protection on and PITR on; deletion protection is then switched off
  outside CloudFormation (drift);
- table `Sessions`: no deletion protection, no PITR, tagged by a stack that is gone;
- table `Ledger`, made by hand: deletion protection and PITR on, a resource policy that
  denies dynamodb:DeleteTable;
- stack `bad` whose template has a table without DeletionPolicy (DDB001 on the deployed
  template);
- IAM: role `Admin` with an inline policy allowing dynamodb:DeleteTable on every table,
  role `Reader` with a read-only policy; user `alice`, who may delete `Orders` only
  through her group `dba`; role `Bounded`, whose inline policy allows everything and
  whose permissions boundary allows only reads (it can delete nothing);
- an organization with two SCPs attached to the root: one denying dynamodb:DeleteTable
  on every table except `Scratch` (`NotResource`), one denying backup deletion.
"""
import json
import sys

import boto3

url = sys.argv[1]
region = "us-east-1"
kw = dict(endpoint_url=url, region_name=region, aws_access_key_id="testing",
          aws_secret_access_key="testing")
ddb = boto3.client("dynamodb", **kw)
cfn = boto3.client("cloudformation", **kw)
iam = boto3.client("iam", **kw)
org = boto3.client("organizations", **kw)

key = dict(AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
           KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
           BillingMode="PAY_PER_REQUEST")

orders_template = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "OrdersTable": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "TableName": "Orders",
                "DeletionProtectionEnabled": True,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                **key,
            },
        }
    },
}
cfn.create_stack(StackName="orders", TemplateBody=json.dumps(orders_template),
                 EnableTerminationProtection=True,
                 StackPolicyBody=json.dumps({"Statement": [
                     {"Effect": "Deny", "Action": ["Update:Delete", "Update:Replace"],
                      "Principal": "*", "Resource": "LogicalResourceId/OrdersTable"},
                     {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}))
# moto's CloudFormation creates the table; make sure its settings are what the template
# says, then switch deletion protection off outside CloudFormation.
ddb.update_continuous_backups(TableName="Orders",
                              PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
ddb.update_table(TableName="Orders", DeletionProtectionEnabled=False)

bad_template = (
    "Resources:\n"
    "  Scratch:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      TableName: Scratch\n"
    "      BillingMode: PAY_PER_REQUEST\n"
    "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
    "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
)
cfn.create_stack(StackName="bad", TemplateBody=bad_template)

sessions = ddb.create_table(TableName="Sessions", **key)["TableDescription"]["TableArn"]
# Left behind by a stack deleted with `Retain`: CloudFormation's tag names it.
ddb.tag_resource(ResourceArn=sessions,
                 Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "old-sessions"}])
# A Deny for one named principal only: every other principal may still delete Sessions.
ddb.put_resource_policy(ResourceArn=sessions, Policy=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Sid": "AppNoDelete", "Effect": "Deny",
         "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
         "Action": "dynamodb:DeleteTable", "Resource": sessions}]}))
ledger = ddb.create_table(TableName="Ledger", DeletionProtectionEnabled=True,
                          **key)["TableDescription"]["TableArn"]
ddb.put_resource_policy(ResourceArn=ledger, Policy=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*",
         "Action": "dynamodb:DeleteTable", "Resource": ledger}]}))
ddb.update_continuous_backups(TableName="Ledger",
                              PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName="Admin", PolicyName="tables", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/*"}]}))
iam.create_role(RoleName="Reader", AssumeRolePolicyDocument=trust)
reads = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["dynamodb:Describe*", "dynamodb:List*"], "Resource": "*"}]})
iam.put_role_policy(RoleName="Reader", PolicyName="read", PolicyDocument=reads)
# A user deletes through the policies of her groups.
iam.create_group(GroupName="dba")
iam.put_group_policy(GroupName="dba", PolicyName="drop-orders", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "arn:aws:dynamodb:*:*:table/Orders"}]}))
iam.create_user(UserName="alice")
iam.add_user_to_group(GroupName="dba", UserName="alice")
# A permissions boundary caps what the role's own policies grant.
boundary = iam.create_policy(PolicyName="read-only-boundary", PolicyDocument=reads)["Policy"]["Arn"]
iam.create_role(RoleName="Bounded", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
iam.put_role_policy(RoleName="Bounded", PolicyName="everything", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))

org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
policy = org.create_policy(
    Name="deny-table-deletion", Description="no table but Scratch is deleted",
    Type="SERVICE_CONTROL_POLICY",
    Content=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable",
         "NotResource": "arn:aws:dynamodb:*:*:table/Scratch"}]}))
org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=root)
backups = org.create_policy(
    Name="deny-backup-deletion", Description="no backup is deleted", Type="SERVICE_CONTROL_POLICY",
    Content=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["dynamodb:DeleteBackup", "backup:DeleteRecoveryPoint"],
         "Resource": "*"}]}))
org.attach_policy(PolicyId=backups["Policy"]["PolicySummary"]["Id"], TargetId=root)
if "--with-vault" in sys.argv:
    # The emulator has no GetBackupVaultAccessPolicy: reading this vault fails, which is
    # how the test sees one failed call reported while the rest is audited.
    boto3.client("backup", **kw).create_backup_vault(BackupVaultName="main")
print("seeded")
