"""The AWS rules, each with passing and failing hand-made resources (missing properties included)."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import StackValidationArgs

from tests.policy.harness import PROD, check, rargs, res

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
DDB = "aws:dynamodb/table:Table"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NAME = "rdp-dev-landing-1"
ALL_BLOCKED = {f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}


def stack(*resources) -> StackValidationArgs:
    return StackValidationArgs(list(resources), {})


def bucket(prefix: str = "urn:pulumi:dev::retail-data-platform::", **props):
    return res(BUCKET, {"bucket": NAME, **props}, "landing-bucket", prefix)


def on_bucket(typ: str, props: dict, prefix: str = "urn:pulumi:dev::retail-data-platform::"):
    return res(typ, {"bucket": NAME, **props}, typ.split(":")[-1], prefix)


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


SSE_AES = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
SNOWFLAKE_USER = "arn:aws:iam::210987654321:user/sf-1"
EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "RETAILORG_SFCRole=1_abc"}}
ASSUME = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": SNOWFLAKE_USER}}

CASES = [
    # public access block: present, with all four flags
    ("s3-public-access-block", stack(bucket(), on_bucket(PAB, ALL_BLOCKED)), []),
    ("s3-public-access-block", stack(bucket()), ["no BucketPublicAccessBlock"]),
    (
        "s3-public-access-block",
        stack(bucket(), on_bucket(PAB, {**ALL_BLOCKED, "ignorePublicAcls": False})),
        ["leaves ignorePublicAcls off"],
    ),
    (
        "s3-public-access-block",
        stack(bucket(), on_bucket(PAB, {k: v for k, v in ALL_BLOCKED.items() if k != "restrictPublicBuckets"})),
        ["leaves restrictPublicBuckets off"],
    ),
    # default encryption, by resource or inline
    ("s3-encryption", stack(bucket(), on_bucket(SSE, SSE_AES)), []),
    (
        "s3-encryption",
        stack(bucket(serverSideEncryptionConfiguration={"rule": SSE_AES["rules"][0]})),
        [],
    ),
    ("s3-encryption", stack(bucket()), ["no default server-side encryption"]),
    ("s3-encryption", stack(bucket(), on_bucket(SSE, {"rules": [{}]})), ["no default server-side encryption"]),
    # versioning: prod only
    (
        "s3-versioning-prod",
        stack(bucket(PROD), on_bucket(VERSIONING, {"versioningConfiguration": {"status": "Enabled"}}, PROD)),
        [],
    ),
    ("s3-versioning-prod", stack(bucket()), []),
    (
        "s3-versioning-prod",
        stack(bucket(PROD), on_bucket(VERSIONING, {"versioningConfiguration": {"status": "Suspended"}}, PROD)),
        ["versioning is off in a prod stack"],
    ),
    ("s3-versioning-prod", stack(bucket(PROD)), ["versioning is off in a prod stack"]),
    # forceDestroy: prod only
    ("s3-no-force-destroy-prod", rargs(BUCKET, {"bucket": NAME, "forceDestroy": False}, PROD), []),
    ("s3-no-force-destroy-prod", rargs(BUCKET, {"bucket": NAME, "forceDestroy": True}), []),
    ("s3-no-force-destroy-prod", rargs(BUCKET, {"bucket": NAME, "forceDestroy": True}, PROD), ["forceDestroy is true"]),
    # DynamoDB: prod only
    (
        "dynamodb-prod-recovery",
        rargs(DDB, {"pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True}, PROD),
        [],
    ),
    ("dynamodb-prod-recovery", rargs(DDB, {}), []),
    (
        "dynamodb-prod-recovery",
        rargs(DDB, {"deletionProtectionEnabled": True}, PROD),
        ["point-in-time recovery is off"],
    ),
    (
        "dynamodb-prod-recovery",
        rargs(DDB, {"pointInTimeRecovery": {"enabled": False}}, PROD),
        ["point-in-time recovery is off", "deletion protection is off"],
    ),
    # SNS encryption
    ("sns-topic-encrypted", rargs("aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"}), []),
    ("sns-topic-encrypted", rargs("aws:sns/topic:Topic", {"name": "rdp-dev-t"}), ["topic is not encrypted"]),
    # IAM: no wildcard action in an Allow
    (
        "iam-no-wildcard-allow",
        rargs(ROLE_POLICY, {"policy": doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})}),
        [],
    ),
    (
        "iam-no-wildcard-allow",
        rargs("aws:s3/bucketPolicy:BucketPolicy", {"policy": doc({"Effect": "Deny", "Action": "s3:*"})}),
        [],
    ),
    (
        "iam-no-wildcard-allow",
        rargs(ROLE_POLICY, {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}),
        ["policy allows *"],
    ),
    (
        "iam-no-wildcard-allow",
        rargs("aws:iam/policy:Policy", {"policy": doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"]})}),
        ["policy allows s3:*"],
    ),
    (
        "iam-no-wildcard-allow",
        rargs(ROLE_POLICY, {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
        ["allows NotAction"],
    ),
    (
        "iam-no-wildcard-allow",
        rargs(ROLE, {"inlinePolicies": [{"name": "p", "policy": doc({"Effect": "Allow", "Action": "*"})}]}),
        ["inlinePolicies[0] allows *"],
    ),
    ("iam-no-wildcard-allow", rargs(ROLE_POLICY, {"policy": "not json"}), ["is not a JSON policy document"]),
    # IAM: trust policies of AWS principals require an external id
    ("iam-trust-external-id", rargs(ROLE, {"assumeRolePolicy": doc({**ASSUME, "Condition": EXTERNAL_ID})}), []),
    (
        "iam-trust-external-id",
        rargs(ROLE, {"assumeRolePolicy": doc({**ASSUME, "Principal": {"Service": "lambda.amazonaws.com"}})}),
        [],
    ),
    ("iam-trust-external-id", rargs(ROLE, {"assumeRolePolicy": doc(ASSUME)}), [f"lets {SNOWFLAKE_USER} assume"]),
    ("iam-trust-external-id", rargs(ROLE, {"assumeRolePolicy": doc({**ASSUME, "Principal": "*"})}), ["lets * assume"]),
    (
        "iam-trust-external-id",
        rargs(ROLE, {"assumeRolePolicy": doc({**ASSUME, "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}})}),
        ["without sts:ExternalId"],
    ),
]

GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
PINNED = {
    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
    "token.actions.githubusercontent.com:sub": "repo:acme/rdp:environment:prod",
}


def github_trust(condition: dict) -> dict:
    statement = {"Effect": "Allow", "Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRoleWithWebIdentity"}
    return rargs(ROLE, {"assumeRolePolicy": doc({**statement, "Condition": condition})})


CASES += [
    # GitHub OIDC: one environment of one repository, audience pinned
    ("iam-github-trust-pinned", github_trust({"StringEquals": PINNED}), []),
    ("iam-github-trust-pinned", rargs(ROLE, {"assumeRolePolicy": doc({**ASSUME, "Condition": EXTERNAL_ID})}), []),
    (
        "iam-github-trust-pinned",
        github_trust(
            {
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"},
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            }
        ),
        ["is not one environment of one repository"],
    ),
    (
        "iam-github-trust-pinned",
        github_trust({"StringEquals": {**PINNED, "token.actions.githubusercontent.com:sub": "repo:acme/rdp:ref:main"}}),
        ["subject repo:acme/rdp:ref:main is not one environment"],
    ),
    (
        "iam-github-trust-pinned",
        github_trust(
            {
                "StringEquals": {
                    "token.actions.githubusercontent.com:sub": PINNED["token.actions.githubusercontent.com:sub"]
                }
            }
        ),
        ["without aud sts.amazonaws.com"],
    ),
]


@pytest.mark.parametrize(("name", "args", "violations"), CASES)
def test_rule(name, args, violations):
    check(name, args, violations)
