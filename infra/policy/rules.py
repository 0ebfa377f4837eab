"""Policy rules as plain functions, so tests call them directly and the pack only wires them up.

Each rule takes pulumi_policy's ResourceValidationArgs (or StackValidationArgs) and a
report_violation callback. Limits come from the stack's own validated config, found from the URN.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra.config import SECRET_MARK, WAREHOUSE_SIZES, stack_config
from infra.naming import Naming

Report = Callable[..., None]

WAREHOUSE = "snowflake:index/warehouse:Warehouse"
EXECUTE = "snowflake:index/execute:Execute"
STATEFUL_TYPES = {
    "snowflake:index/database:Database",
    "snowflake:index/schema:Schema",
    "snowflake:index/table:Table",
    "snowflake:index/postgresInstance:PostgresInstance",
    "snowflake:index/imageRepository:ImageRepository",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:dynamodb/table:Table",
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
SECRET_VALUE_PATTERNS = {
    "a PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "a password inside a connection URI": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@"),
}


@dataclass(frozen=True)
class Limits:
    stack: str
    naming: Naming
    max_auto_suspend: int
    max_size: str
    protect: bool


def stack_of(urn: str) -> str:
    m = re.match(r"^urn:pulumi:([^:]+)::", urn or "")
    if not m:
        raise ValueError(f"cannot tell the stack from URN {urn!r}")
    return m.group(1)


@cache
def limits_for(stack: str) -> Limits:
    cfg = stack_config(stack)
    return Limits(
        stack=stack,
        naming=cfg.naming,
        max_auto_suspend=cfg.max_auto_suspend_seconds,
        max_size=cfg.max_warehouse_size,
        protect=cfg.protect,
    )


def warehouse_auto_suspend(args: Any, report: Report) -> None:
    """Idle warehouses burn credits: auto-suspend must be on and within the stack's limit."""
    if args.resource_type != WAREHOUSE:
        return
    limit = limits_for(stack_of(args.urn)).max_auto_suspend
    value = args.props.get("autoSuspend")
    if value is None:
        report(f"warehouse {args.name}: autoSuspend is not set (limit {limit}s)")
    elif not 0 < int(value) <= limit:
        report(f"warehouse {args.name}: autoSuspend {value}s is outside 1..{limit}s")
    if str(args.props.get("autoResume", "true")).lower() != "true":
        report(f"warehouse {args.name}: autoResume must be true")


def warehouse_size_cap(args: Any, report: Report) -> None:
    """No warehouse larger than the stack's cap; the size must be explicit."""
    if args.resource_type != WAREHOUSE:
        return
    cap = limits_for(stack_of(args.urn)).max_size
    size = args.props.get("warehouseSize")
    if size is None:
        report(f"warehouse {args.name}: warehouseSize is not set (cap {cap})")
    elif size.upper() not in WAREHOUSE_SIZES or WAREHOUSE_SIZES.index(size.upper()) > WAREHOUSE_SIZES.index(cap):
        report(f"warehouse {args.name}: size {size} exceeds the stack cap {cap}")


def warehouse_resource_monitor(args: Any, report: Report) -> None:
    """Stack rule: every warehouse has a resource monitor, set directly or attached by ACCOUNTADMIN."""
    attached = set()
    for r in args.resources:
        if r.resource_type == EXECUTE:
            m = re.search(r'ALTER WAREHOUSE "?([A-Z0-9_]+)"? SET RESOURCE_MONITOR', str(r.props.get("execute", "")))
            if m:
                attached.add(m.group(1))
    for r in args.resources:
        if r.resource_type != WAREHOUSE:
            continue
        name = r.props.get("name")
        if not r.props.get("resourceMonitor") and name not in attached:
            report(f"warehouse {name or r.name}: no resource monitor is attached", r.urn)


def prod_stateful_protected(args: Any, report: Report) -> None:
    """Stacks that require protection (prod) may not leave a stateful resource deletable."""
    if args.resource_type not in STATEFUL_TYPES:
        return
    if not limits_for(stack_of(args.urn)).protect:
        return
    opts = getattr(args, "opts", None)
    if opts is None or not getattr(opts, "protect", False):
        report(f"{args.resource_type} {args.name}: stateful resource must be protected in this stack")


def physical_name_prefix(args: Any, report: Report) -> None:
    """Physical names carry the stack prefix, so stacks sharing an account never collide."""
    naming = limits_for(stack_of(args.urn)).naming
    props = args.props
    if SNOWFLAKE_ACCOUNT_LEVEL.match(args.resource_type):
        name = props.get("name")
        if not name:
            report(f"{args.resource_type} {args.name}: no physical name set")
        elif not str(name).upper().startswith(naming.sf_prefix + "_"):
            report(f"{args.resource_type} {args.name}: name {name} lacks prefix {naming.sf_prefix}_")
    elif args.resource_type.startswith("snowflake:") and "database" in props and "schema" in props:
        if not str(props["database"]).upper().startswith(naming.sf_prefix + "_"):
            report(f"{args.resource_type} {args.name}: database {props['database']} lacks prefix {naming.sf_prefix}_")
    elif args.resource_type in AWS_NAME_PROPS:
        key = AWS_NAME_PROPS[args.resource_type]
        name = props.get(key)
        if not name:
            report(f"{args.resource_type} {args.name}: {key} is not set, AWS would invent an unprefixed name")
        elif not str(name).startswith(naming.aws_prefix + "-"):
            report(f"{args.resource_type} {args.name}: {key} {name} lacks prefix {naming.aws_prefix}-")


def no_plain_secrets(args: Any, report: Report) -> None:
    """Secret material may only arrive as a Pulumi secret, never as a literal in the program."""
    for path, value in _strings(args.props):
        if value == SECRET_MARK:
            continue
        for what, pattern in SECRET_VALUE_PATTERNS.items():
            if pattern.search(value):
                report(f"{args.resource_type} {args.name}: input {path} contains {what} in plain text")


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path or "(value)", value)]
    if isinstance(value, dict) or hasattr(value, "items"):
        out = []
        for k, v in value.items():
            out += _strings(v, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for i, v in enumerate(value):
            out += _strings(v, f"{path}[{i}]")
        return out
    return []


RESOURCE_RULES = {
    "warehouse-auto-suspend": warehouse_auto_suspend,
    "warehouse-size-cap": warehouse_size_cap,
    "prod-stateful-protected": prod_stateful_protected,
    "physical-name-prefix": physical_name_prefix,
    "no-plain-secrets": no_plain_secrets,
}
STACK_RULES = {"warehouse-resource-monitor": warehouse_resource_monitor}
