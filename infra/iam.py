"""IAM policy documents: who may assume a role (Snowflake's IAM user, GitHub Actions) and what it may do."""

from __future__ import annotations

import json

from infra.naming import Naming


def _trust(principal: dict, action: str, equals: dict) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Condition": {"StringEquals": equals}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def snowflake_trust_policy(principal: str, external_id: str) -> str:
    """Only Snowflake's IAM user, and only with the integration's external id, may assume the role."""
    return _trust({"AWS": principal}, "sts:AssumeRole", {"sts:ExternalId": external_id})


def github_trust_policy(provider_arn: str, repository: str, environment: str) -> str:
    """Only GitHub Actions jobs of `repository` that run in the GitHub environment `environment` may
    assume the role (the OIDC token's audience and subject are pinned; no wildcard)."""
    host = provider_arn.split("oidc-provider/", 1)[1]
    return _trust(
        {"Federated": provider_arn},
        "sts:AssumeRoleWithWebIdentity",
        {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": f"repo:{repository}:environment:{environment}"},
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


# What a CI role may do to the AWS resources of one stack (prefix `rdp-<stack>`), by service; what any
# role the stack creates may do at most is its permissions boundary (`boundary_policy`).
ARN_PATTERNS = {
    "s3": ["arn:aws:s3:::{p}-*", "arn:aws:s3:::{p}-*/*"],
    "sns": ["arn:aws:sns:*:{a}:{p}-*"],
    # SNS's subscription actions (GetSubscriptionAttributes, Unsubscribe) take no resource type in IAM's
    # service reference (parliament's copy), which reads as "grant them on `*`". But `*`, in the account
    # dev and prod share, lets each stack's CI read and cancel the other's alert subscriptions: dev's
    # deploy could silence prod's alerts (infra/aws_reach.py reports it). SNS authorises them on the
    # subscription's topic ARN, as its AccessDenied says ("not authorized to perform: SNS:Unsubscribe on
    # resource: arn:aws:sns:<region>:<account>:<topic>"), so they are granted on the stack's topics only;
    # the pattern also covers the subscriptions' own ARNs (`<topic>:<id>`). Were SNS to authorise them on
    # `*` only, this grant would authorise nothing: creating, refreshing or deleting a subscription would
    # fail loudly, and still never reach another stack. No condition key narrows them, and no action
    # can be dropped: the provider reads a subscription back after creating it and on every refresh,
    # and unsubscribes when one is removed. parliament's RESOURCE_MISMATCH on them is allow-listed.
    "sns-subscription": ["arn:aws:sns:*:{a}:{p}-*"],
    "dynamodb": ["arn:aws:dynamodb:*:{a}:table/{p}-*"],
    "iam": ["arn:aws:iam::{a}:role/{p}-*"],
    # CI's own roles and the stack's boundary sit under /ci/, outside role/{p}-*, so no CI role can write
    # them (the deploy role cannot edit itself); the stack declares them, so `refresh` reads them back.
    "iam-ci-role": ["arn:aws:iam::{a}:role/ci/{p}-ci-*"],
    "iam-ci-boundary": ["arn:aws:iam::{a}:policy/ci/{p}-ci-boundary"],
    "secretsmanager": ["arn:aws:secretsmanager:*:{a}:secret:{p}-*"],
}
READ_ACTIONS = {
    "s3": [
        "s3:GetBucket*",
        "s3:GetLifecycleConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:ListBucket",
        "s3:GetAccelerateConfiguration",
        "s3:GetReplicationConfiguration",
    ],
    "sns": [
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:ListTagsForResource",
    ],
    "sns-subscription": ["sns:GetSubscriptionAttributes"],
    "dynamodb": [
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:ListTagsOfResource",
    ],
    "iam": [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ],
    # read only, never written: the same reads as on the stack's other roles, and the boundary's document
    "iam-ci-role": [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ],
    "iam-ci-boundary": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
    "secretsmanager": ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
}
WRITE_ACTIONS = {
    "s3": [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        # what the stack's bucket resources put, and no PutBucketAcl: an ACL the role wrote could grant
        # it the object reads it is denied (PutBucketPolicy could too; the stack declares a bucket policy)
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketVersioning",
        "s3:PutBucketTagging",
        "s3:DeleteBucket*",
        "s3:PutLifecycleConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketNotification",
        "s3:ListBucketVersions",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    ],
    "sns": [
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:SetTopicAttributes",
        "sns:Subscribe",
        "sns:TagResource",
    ],
    "sns-subscription": ["sns:Unsubscribe"],
    "dynamodb": [
        "dynamodb:CreateTable",
        "dynamodb:DeleteTable",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
    ],
    "iam": ["iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole"],
    "secretsmanager": [
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
        "secretsmanager:TagResource",
    ],
}
# Only with the stack's permissions boundary attached may a CI role create a role or change what it may do.
BOUNDED_IAM_ACTIONS = ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]


def review_run_policy(prefix: str) -> str:
    """What the review workflow does beyond deploying (README, review stacks): the loads put their landing
    files into the review stacks' own buckets. (The leftover check reads back names with the reads the
    role already holds on `<prefix>-*`.)"""
    return policy({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"arn:aws:s3:::{prefix}-*/*"})


def boundary_name(naming: Naming) -> str:
    """`rdp-<stack>-ci-boundary`: the permissions boundary of a stack's roles (the review identity's
    serves every review stack)."""
    return naming.aws("ci", "boundary")


def boundary_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:policy/ci/{name}"


# What the scheduled DynamoDB export's role does (infra/serving/export.py), within the boundary.
EXPORT_ACTIONS = ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:PutItem"]


def boundary_policy(account: str, prefix: str) -> str:
    """The most any role of the stack may do: read its landing files (Snowflake's storage integration),
    publish to its topics (Snowflake's error notifications), read items of its DynamoDB tables (the
    website's reader role) and write them (the scheduled export's role: put and batch-write; a batch
    write may also delete by key, IAM has no narrower action for it, but no role may scan, so none can
    list what to delete, nor manage a table). A role CI creates can never exceed it."""
    table = f"arn:aws:dynamodb:*:{account}:table/{prefix}-*"
    return policy(
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": [table, f"{table}/index/*"]},
        {"Effect": "Allow", "Action": EXPORT_ACTIONS, "Resource": table},
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{prefix}-*/*",
        },
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": f"arn:aws:s3:::{prefix}-*",
        },
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": f"arn:aws:sns:*:{account}:{prefix}-*"},
    )


def ci_policy(account: str, prefix: str, write: bool, boundary: str) -> str:
    """A CI role's permissions on the resources named `<prefix>-*`: read (preview) or manage (deploy).
    Managing roles is bounded: CreateRole/PutRolePolicy only with `boundary` attached, and never removing
    it, so CI cannot mint a role that does more than the stack's roles do."""

    def arns(service: str) -> list[str]:
        return [p.format(a=account, p=prefix) for p in ARN_PATTERNS[service]]

    statements = [{"Effect": "Allow", "Action": acts, "Resource": arns(svc)} for svc, acts in READ_ACTIONS.items()]
    if write:
        statements += [
            {"Effect": "Allow", "Action": acts, "Resource": arns(svc)} for svc, acts in WRITE_ACTIONS.items()
        ]
        statements += [
            {
                "Effect": "Allow",
                "Action": BOUNDED_IAM_ACTIONS,
                "Resource": arns("iam"),
                "Condition": {"ArnEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {"Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
            # the loads' connection secrets: the provider reads a secret version back after writing it
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"arn:aws:secretsmanager:*:{account}:secret:{prefix}-postgres-*",
            },
        ]
    return policy(*statements)
