"""AWS rules: S3 buckets, the DynamoDB table, SNS topics and IAM policy documents."""

from __future__ import annotations

import re
from typing import Any

from infra.policy.common import (
    Report,
    as_list,
    label,
    policy_document,
    policy_of,
    statements,
    truthy,
)

BUCKETS = {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_CONFIGS = {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
}
SSE_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}
VERSIONINGS = {"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"}
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
SNS_TOPIC = "aws:sns/topic:Topic"
IAM_ROLE = "aws:iam/role:Role"
# Resources whose `policy` input is an IAM policy document (identity or resource policy).
POLICY_DOCUMENTS = {
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
}
WILDCARD_ACTION = re.compile(r"^([a-z0-9-]+:)?\*$", re.I)


def _by_bucket(resources: list, types: set[str]) -> dict[str, list]:
    found: dict[str, list] = {}
    for r in resources:
        if r.resource_type in types:
            found.setdefault(str(r.props.get("bucket")), []).append(r)
    return found


def _buckets(resources: list) -> list:
    return [r for r in resources if r.resource_type in BUCKETS]


def s3_public_access_block(args: Any, report: Report) -> None:
    """Stack rule, every stack: a bucket is private only when a public access block names it with all
    four flags true; without one a single ACL or policy can publish the landing files."""
    blocks = _by_bucket(args.resources, {PUBLIC_ACCESS_BLOCK})
    for b in _buckets(args.resources):
        mine = blocks.get(str(b.props.get("bucket")), [])
        if not mine:
            report(f"Bucket {b.name}: no BucketPublicAccessBlock; fix: declare one with all four flags true", b.urn)
        for pab in mine:
            off = [f for f in PUBLIC_ACCESS_FLAGS if not truthy(pab.props.get(f))]
            if off:
                report(f"Bucket {b.name}: public access block leaves {', '.join(off)} off; fix: set them true", b.urn)


def s3_encryption(args: Any, report: Report) -> None:
    """Stack rule, every stack: every bucket has default server-side encryption (SSE-S3 or SSE-KMS),
    declared by an SSE configuration resource or inline on the bucket."""
    configs = _by_bucket(args.resources, SSE_CONFIGS)
    for b in _buckets(args.resources):
        rules = [rule for c in configs.get(str(b.props.get("bucket")), []) for rule in as_list(c.props.get("rules"))]
        inline = b.props.get("serverSideEncryptionConfiguration")
        if inline:
            rules += as_list(inline.get("rule"))
        algorithms = {str((r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")) for r in rules}
        if not algorithms & SSE_ALGORITHMS:
            report(
                f"Bucket {b.name}: no default server-side encryption; fix: declare a "
                "BucketServerSideEncryptionConfiguration with sseAlgorithm AES256 or aws:kms",
                b.urn,
            )


def s3_versioning_prod(args: Any, report: Report) -> None:
    """Stack rule, prod only: prod buckets keep object versions, so an overwrite or delete of a landed
    file can be undone."""
    versionings = _by_bucket(args.resources, VERSIONINGS)
    for b in _buckets(args.resources):
        if not policy_of(b).prod:
            continue
        enabled = any(
            str((v.props.get("versioningConfiguration") or {}).get("status")) == "Enabled"
            for v in versionings.get(str(b.props.get("bucket")), [])
        ) or truthy((b.props.get("versioning") or {}).get("enabled"))
        if not enabled:
            report(f"Bucket {b.name}: versioning is off in a prod stack; fix: add BucketVersioning Enabled", b.urn)


def s3_no_force_destroy_prod(args: Any, report: Report) -> None:
    """Prod only: `forceDestroy` lets `pulumi destroy` empty a bucket; prod data must not go that way."""
    if args.resource_type in BUCKETS and policy_of(args).prod and truthy(args.props.get("forceDestroy")):
        report(f"{label(args)}: forceDestroy is true in a prod stack; fix: set forceDestroyBucket false")


def dynamodb_prod_recovery(args: Any, report: Report) -> None:
    """Prod only: the recommendations table has point-in-time recovery and deletion protection, so a
    bad load can be rolled back and the table cannot be dropped by accident."""
    if args.resource_type != DYNAMODB_TABLE or not policy_of(args).prod:
        return
    if not truthy((args.props.get("pointInTimeRecovery") or {}).get("enabled")):
        report(f"{label(args)}: point-in-time recovery is off in a prod stack; fix: dynamodb.pointInTimeRecovery true")
    if not truthy(args.props.get("deletionProtectionEnabled")):
        report(f"{label(args)}: deletion protection is off in a prod stack; fix: dynamodb.deletionProtection true")


def sns_topic_encrypted(args: Any, report: Report) -> None:
    """Every stack: SNS topics are encrypted at rest with KMS (error messages name files and rows)."""
    if args.resource_type == SNS_TOPIC and not args.props.get("kmsMasterKeyId"):
        report(f"{label(args)}: topic is not encrypted; fix: set kmsMasterKeyId (e.g. alias/aws/sns)")


def _documents(args: Any) -> list[tuple[str, Any]]:
    props = args.props
    if args.resource_type in POLICY_DOCUMENTS:
        return [("policy", props.get("policy"))]
    if args.resource_type == IAM_ROLE:
        docs = [("assumeRolePolicy", props.get("assumeRolePolicy"))]
        docs += [(f"inlinePolicies[{i}]", p.get("policy")) for i, p in enumerate(as_list(props.get("inlinePolicies")))]
        return docs
    return []


def iam_no_wildcard_allow(args: Any, report: Report) -> None:
    """Every stack: no Allow statement grants every action ("*" or "<service>:*") or uses NotAction;
    each grant names the actions it needs."""
    for where, value in _documents(args):
        if value is None:
            continue
        doc = policy_document(value)
        if doc is None:
            report(f"{label(args)}: {where} is not a JSON policy document; fix: pass the document's JSON text")
            continue
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            wild = [a for a in as_list(st.get("Action")) if WILDCARD_ACTION.match(str(a))]
            if wild or st.get("NotAction"):
                what = ", ".join(map(str, wild)) or "NotAction"
                report(f"{label(args)}: {where} allows {what}; fix: list the specific actions needed")


def _aws_principals(st: dict) -> list[str]:
    principal = st.get("Principal")
    if principal == "*":
        return ["*"]
    return [str(p) for p in as_list((principal or {}).get("AWS"))] if hasattr(principal, "get") else []


GITHUB_OIDC = "token.actions.githubusercontent.com"


def iam_github_trust_pinned(args: Any, report: Report) -> None:
    """Every stack: a role GitHub's OIDC tokens may assume pins the audience (sts.amazonaws.com) and the
    subject to one repository's GitHub environment, with no wildcard, so no other repository, branch or
    pull request can assume it."""
    if args.resource_type != IAM_ROLE or args.props.get("assumeRolePolicy") is None:
        return
    doc = policy_document(args.props.get("assumeRolePolicy"))
    for st in statements(doc or {}):
        federated = (st.get("Principal") or {}).get("Federated") if hasattr(st.get("Principal"), "get") else None
        if st.get("Effect") != "Allow" or GITHUB_OIDC not in str(federated or ""):
            continue
        cond = st.get("Condition") or {}
        equals = cond.get("StringEquals") or {}
        sub = str(equals.get(f"{GITHUB_OIDC}:sub", ""))
        if equals.get(f"{GITHUB_OIDC}:aud") != "sts.amazonaws.com":
            report(f"{label(args)}: GitHub trust without aud sts.amazonaws.com; fix: StringEquals on {GITHUB_OIDC}:aud")
        if not re.fullmatch(r"repo:[\w.-]+/[\w.-]+:environment:[\w.-]+", sub) or "StringLike" in cond:
            report(
                f"{label(args)}: GitHub trust subject {sub or '(none)'} is not one environment of one repository; "
                f"fix: StringEquals {GITHUB_OIDC}:sub repo:<owner>/<repo>:environment:<name>"
            )


def iam_trust_external_id(args: Any, report: Report) -> None:
    """Every stack: a role that AWS principals (another account's users and roles, such as Snowflake's
    IAM users) may assume requires an sts:ExternalId, against the confused-deputy problem. Service
    principals and web-identity federation are not covered (they have their own conditions)."""
    if args.resource_type != IAM_ROLE or args.props.get("assumeRolePolicy") is None:
        return
    doc = policy_document(args.props.get("assumeRolePolicy"))
    if doc is None:
        report(f"{label(args)}: assumeRolePolicy is not a JSON policy document; fix: pass the document's JSON text")
        return
    for st in statements(doc):
        principals = _aws_principals(st)
        if st.get("Effect") != "Allow" or not principals:
            continue
        equals = (st.get("Condition") or {}).get("StringEquals") or {}
        if not equals.get("sts:ExternalId"):
            report(
                f"{label(args)}: trust policy lets {', '.join(principals)} assume it without sts:ExternalId; "
                "fix: add Condition StringEquals sts:ExternalId"
            )
