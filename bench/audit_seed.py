"""Seed the AWS emulator (moto server) with many tables and stacks, for bench/audit-scale.sh.

usage: audit_seed.py ENDPOINT_URL TABLES STACKS

In us-east-1: TABLES - STACKS tables made by hand (every third with deletion protection,
every fifth tagged), and STACKS stacks of one retained table each (CloudFormation makes
those tables), so that TABLES tables exist in all. Calls run on 8 threads.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

url, tables, stacks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
          aws_secret_access_key="testing")
ddb = boto3.client("dynamodb", **kw)
cfn = boto3.client("cloudformation", **kw)
key = dict(AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
           KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
           BillingMode="PAY_PER_REQUEST")


def table(i):
    name = f"bench-{i:05d}"
    extra = {}
    if i % 3 == 0:
        extra["DeletionProtectionEnabled"] = True
    if i % 5 == 0:
        extra["Tags"] = [{"Key": "team", "Value": f"team-{i % 7}"}]
    ddb.create_table(TableName=name, **key, **extra)


def stack(i):
    template = {"Resources": {"Table": {
        "Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"TableName": f"stack-table-{i:04d}", "DeletionProtectionEnabled": True, **key}}}}
    cfn.create_stack(StackName=f"bench-stack-{i:04d}", TemplateBody=json.dumps(template))


# An organization, as most audited accounts have: without one the emulator answers
# ListParents with AccountNotFoundException (AWS says AWSOrganizationsNotInUse earlier).
boto3.client("organizations", **kw).create_organization(FeatureSet="ALL")

with ThreadPoolExecutor(8) as pool:
    list(pool.map(table, range(tables - stacks)))
    list(pool.map(stack, range(stacks)))
print(f"seeded {tables - stacks} tables and {stacks} stacks of one table each")
