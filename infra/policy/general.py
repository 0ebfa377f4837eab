"""Rules about the stack as a whole: prod is prod whatever its config says, prod keeps its state, and
every physical name carries the stack's prefix."""

from __future__ import annotations

import re
from typing import Any

from infra.naming import review_naming
from infra.policy.common import Report, label, policy_for, policy_of, stack_of

# Types that hold data or state: protected (`pulumi destroy` and replacements refuse them) in prod.
STATEFUL_TYPES = {
    "snowflake:index/database:Database",
    "snowflake:index/schema:Schema",
    "snowflake:index/table:Table",
    # A stream's state is its offset: dropped and re-created, it skips the changes it had not delivered.
    "snowflake:index/streamOnTable:StreamOnTable",
    "snowflake:index/streamOnView:StreamOnView",
    "snowflake:index/streamOnExternalTable:StreamOnExternalTable",
    "snowflake:index/streamOnDirectoryTable:StreamOnDirectoryTable",
    # Re-created, a sequence starts again and hands out ids (order ids, change seqs) a second time.
    "snowflake:index/sequence:Sequence",
    # Derived, but re-created it is a full re-materialization its readers wait for, and loses its history.
    "snowflake:index/dynamicTable:DynamicTable",
    "snowflake:index/stageInternal:StageInternal",
    "snowflake:index/postgresInstance:PostgresInstance",
    "snowflake:index/imageRepository:ImageRepository",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:dynamodb/table:Table",
    "postgresql:index/database:Database",
    "postgresql:index/schema:Schema",
}
# Stateful-looking types that are not protected, by decision.
EXEMPT_TYPES = {
    "snowflake:index/stageExternalS3:StageExternalS3": "a pointer: the files live in the bucket, which is protected",
    "snowflake:index/stageExternalGcs:StageExternalGcs": "a pointer: the files live in the external storage",
    "snowflake:index/stageExternalAzure:StageExternalAzure": "a pointer: the files live in the external storage",
}
# Internal stages (schema, name) that hold nothing that cannot be put back.
EXEMPT_STAGES = {
    ("GOLD", "DASHBOARD_STAGE"): "only the dashboard's app files, re-published by the publish step of `pulumi up`",
    ("BRONZE", "ORDER_CHANGES_STAGE"): "only in-flight change batches: the writer PUTs them and COPY purges them; "
    "the change log table is the state",
}
# Account-level Snowflake objects: their `name` must carry the stack prefix.
SNOWFLAKE_ACCOUNT_LEVEL = re.compile(
    r"^snowflake:index/(database|warehouse|resourceMonitor|accountRole|serviceUser|user|"
    r"storageIntegration\w*|notificationIntegration|externalAccessIntegration|computePool|"
    r"networkPolicy|postgresInstance):"
)
# AWS resources whose physical name is an input; without it AWS would invent an unprefixed one.
AWS_NAME_PROPS = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:iam/role:Role": "name",
    "aws:iam/policy:Policy": "name",
    "aws:sns/topic:Topic": "name",
    "aws:sqs/queue:Queue": "name",
    "aws:dynamodb/table:Table": "name",
}


def _exempt_stage(args: Any) -> bool:
    return args.resource_type.endswith("/stageInternal:StageInternal") and (
        (str(args.props.get("schema")).upper(), str(args.props.get("name")).upper()) in EXEMPT_STAGES
    )


def prod_stateful_protected(args: Any, report: Report) -> None:
    """Prod (by stack name; or any stack whose config sets protect): every stateful resource is
    protected, dynamic tables included. Exempt, documented in EXEMPT_TYPES and EXEMPT_STAGES: external
    stages (pointers), the dashboard's stage (app files re-published by `pulumi up`) and the CDC batch
    stage (in-flight files COPY purges)."""
    if args.resource_type not in STATEFUL_TYPES or _exempt_stage(args):
        return
    if not policy_of(args).protect:
        return
    opts = getattr(args, "opts", None)
    if opts is None or not getattr(opts, "protect", False):
        report(f"{label(args)}: stateful resource is not protected in a prod stack; fix: declare it with protect")


def physical_name_prefix(args: Any, report: Report) -> None:
    """Every stack: physical names carry the stack prefix (RDP_<STACK>_ / rdp-<stack>-), so stacks
    sharing one Snowflake and one AWS account never collide or touch each other's objects. A non-prod
    stack may also host the per-PR review identity (RDP_REVIEW_ / rdp-review-); prod never does."""
    pol = policy_of(args)
    naming = pol.naming
    review = None if pol.prod else review_naming(naming.prefix)
    props = args.props
    if SNOWFLAKE_ACCOUNT_LEVEL.match(args.resource_type):
        name = props.get("name")
        if not name:
            report(f"{label(args)}: no physical name set; fix: name it with Naming.sf()")
        elif review and str(name).upper().startswith(review.sf_prefix + "_"):
            return
        elif not str(name).upper().startswith(naming.sf_prefix + "_"):
            report(f"{label(args)}: name {name} lacks prefix {naming.sf_prefix}_; fix: name it with Naming.sf()")
    elif args.resource_type.startswith("snowflake:") and "database" in props and "schema" in props:
        if not str(props["database"]).upper().startswith(naming.sf_prefix + "_"):
            report(
                f"{label(args)}: database {props['database']} lacks prefix {naming.sf_prefix}_; "
                "fix: create it in the stack's database"
            )
    elif args.resource_type in AWS_NAME_PROPS:
        key = AWS_NAME_PROPS[args.resource_type]
        name = props.get(key)
        if not name:
            report(f"{label(args)}: {key} is not set, AWS would invent an unprefixed name; fix: name it with Naming")
        elif review and str(name).startswith(review.aws_prefix + "-"):
            return
        elif not str(name).startswith(naming.aws_prefix + "-"):
            report(f"{label(args)}: {key} {name} lacks prefix {naming.aws_prefix}-; fix: name it with Naming.aws()")


def prod_stack_environment(args: Any, report: Report) -> None:
    """Stack rule: a stack named like prod is prod. Its config must say `environment: prod` (which
    makes the config model demand protection, no open ingress, PITR…); a prod stack whose config says
    dev or review, or cannot be read, is refused."""
    for stack in sorted({stack_of(r.urn) for r in args.resources}):
        pol = policy_for(stack)
        if not pol.prod:
            continue
        if pol.config_error is not None:
            first = pol.config_error.splitlines()[-1].strip()
            report(f"stack {stack}: prod stack with an unreadable config ({first}); fix Pulumi.{stack}.yaml")
        elif pol.environment != "prod":
            report(
                f"stack {stack}: prod stack whose config says environment: {pol.environment}; "
                f"fix: set environment: prod in Pulumi.{stack}.yaml"
            )
