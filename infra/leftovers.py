"""What a review stack must not leave behind after `pulumi destroy`: which account-level names its plan
creates, the checks that find them, and whether those checks cover every name.

Every account-level object a stack creates is named by infra/naming.py: Snowflake `RDP_PR_<n>_…`, AWS
`rdp-pr-<n>-…`. Schema-level objects go with their database, and sub-resources (grants, a bucket's
settings, a role's inline policy, a topic's subscriptions) with the object that holds them, so the check
looks only at account-level kinds (scripts/review/leftovers.py runs it). In Snowflake one SHOW per kind
lists everything the review role can see under the prefix. In AWS each name the plan would create is read
back with the per-resource read the review role already holds on `rdp-pr-*`: the List calls that could
enumerate the prefix cannot be scoped by name in IAM, so they would let pull-request code list dev's and
prod's resources too (infra/aws_reach.py reports exactly that). A resource type this module cannot place
is a finding, so a new kind of object cannot slip past the check unnoticed. No Pulumi import: the scripts
read the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.naming import Naming, review_naming

REVIEW_ENVIRONMENT = "review"


@dataclass(frozen=True)
class Listing:
    """One account-level kind: the SHOW command (Snowflake) or the boto3 service and call (AWS) that lists it."""

    cloud: str  # "snowflake" or "aws"
    kind: str  # DATABASES, … as SHOW names them; "s3 buckets", … for AWS
    like: bool = True  # Snowflake: SHOW takes LIKE '<pattern>' (SHOW NETWORK POLICIES does not)
    action: str = ""  # AWS: the IAM action of the read that finds one name (granted on `rdp-pr-*`)


SNOWFLAKE: dict[str, Listing] = {
    kind: Listing("snowflake", kind, like)
    for kind, like in (
        ("DATABASES", True),
        ("WAREHOUSES", True),
        ("ROLES", True),
        ("USERS", True),
        ("INTEGRATIONS", True),  # storage, notification, API, external access and security alike
        ("NETWORK POLICIES", False),
        ("COMPUTE POOLS", True),
        ("RESOURCE MONITORS", True),
    )
}
AWS: dict[str, Listing] = {
    kind: Listing("aws", kind, action=action)
    for kind, action in (
        ("s3 buckets", "s3:ListBucket"),  # HeadBucket
        ("iam roles", "iam:GetRole"),
        ("sns topics", "sns:GetTopicAttributes"),
        ("dynamodb tables", "dynamodb:DescribeTable"),
        ("secretsmanager secrets", "secretsmanager:DescribeSecret"),
    )
}
# Plan resource type → the listing that finds its objects by name.
LISTED_TYPES: dict[str, Listing] = {
    "snowflake:index/database:Database": SNOWFLAKE["DATABASES"],
    "snowflake:index/warehouse:Warehouse": SNOWFLAKE["WAREHOUSES"],
    "snowflake:index/accountRole:AccountRole": SNOWFLAKE["ROLES"],
    "snowflake:index/serviceUser:ServiceUser": SNOWFLAKE["USERS"],
    "snowflake:index/legacyServiceUser:LegacyServiceUser": SNOWFLAKE["USERS"],
    "snowflake:index/user:User": SNOWFLAKE["USERS"],
    "snowflake:index/storageIntegrationAws:StorageIntegrationAws": SNOWFLAKE["INTEGRATIONS"],
    "snowflake:index/storageIntegration:StorageIntegration": SNOWFLAKE["INTEGRATIONS"],
    "snowflake:index/notificationIntegration:NotificationIntegration": SNOWFLAKE["INTEGRATIONS"],
    "snowflake:index/externalAccessIntegration:ExternalAccessIntegration": SNOWFLAKE["INTEGRATIONS"],
    "snowflake:index/apiIntegration:ApiIntegration": SNOWFLAKE["INTEGRATIONS"],
    "snowflake:index/networkPolicy:NetworkPolicy": SNOWFLAKE["NETWORK POLICIES"],
    "snowflake:index/computePool:ComputePool": SNOWFLAKE["COMPUTE POOLS"],
    "snowflake:index/resourceMonitor:ResourceMonitor": SNOWFLAKE["RESOURCE MONITORS"],
    "aws:s3/bucket:Bucket": AWS["s3 buckets"],
    "aws:s3/bucketV2:BucketV2": AWS["s3 buckets"],
    "aws:iam/role:Role": AWS["iam roles"],
    "aws:sns/topic:Topic": AWS["sns topics"],
    "aws:dynamodb/table:Table": AWS["dynamodb tables"],
    "aws:secretsmanager/secret:Secret": AWS["secretsmanager secrets"],
}
# Types with no account-level name of their own: they go when what holds them goes (type prefixes).
HELD_TYPES: dict[str, str] = {
    "pulumi:providers:": "a provider, no cloud object",
    "retail:": "a component: its children are listed",
    "snowflake:index/grant": "a grant: it goes with its grantee or object",
    "aws:s3/bucket": "a bucket's setting: it goes with the bucket",
    "aws:iam/rolePolicy": "a role's inline policy or attachment: it goes with the role",
    "aws:sns/topicPolicy": "a topic's policy: it goes with the topic",
    "aws:sns/topicSubscription": "a topic's subscription: it goes with the topic",
    "aws:secretsmanager/secretVersion": "a secret's value: it goes with the secret",
    "command:local:Command": "a command run at deploy: it writes files to a stage in the stack's database",
}


def patterns(naming: Naming) -> dict[str, str]:
    """The name prefixes the check looks for: `RDP_PR_7_` in Snowflake, `rdp-pr-7-` in AWS."""
    return {"snowflake": f"{naming.sf_prefix}_", "aws": f"{naming.aws_prefix}-"}


def ours(name: str, cloud: str, naming: Naming) -> bool:
    """Whether `name` belongs to this stack. Exact prefix, never SQL LIKE: there `_` matches any one
    character, so `RDP_PR_7_%` also finds PR 70's objects."""
    prefix = patterns(naming)[cloud]
    return name.upper().startswith(prefix) if cloud == "snowflake" else name.startswith(prefix)


def physical_name(resource: Mapping[str, Any]) -> str | None:
    inputs = resource.get("inputs") or {}
    name = inputs.get("bucket") if resource["type"].startswith("aws:s3/") else inputs.get("name")
    return name if isinstance(name, str) else None


def _held(resource: Mapping[str, Any]) -> str | None:
    """Why a resource has no account-level name of its own, or None."""
    if resource["type"].startswith("snowflake:index/") and isinstance(resource["inputs"].get("database"), str):
        return f"inside database {resource['inputs']['database']}"
    return next((why for prefix, why in HELD_TYPES.items() if resource["type"].startswith(prefix)), None)


@dataclass(frozen=True)
class Coverage:
    """The plan read for the check: per listing the names it must find, and what the check would miss."""

    expected: dict[Listing, list[str]]
    findings: list[str]


def coverage(plan: Sequence[Mapping[str, Any]], naming: Naming) -> Coverage:
    """Every resource of the plan placed: listed by a kind under the stack's prefix, or held by another
    object (inside a database the plan declares). Anything else is a finding naming the resource."""
    expected: dict[Listing, set[str]] = {}
    findings: list[str] = []
    databases = {physical_name(r) for r in plan if r["type"] == "snowflake:index/database:Database"}
    for r in plan:
        listing, name = LISTED_TYPES.get(r["type"]), physical_name(r)
        if listing is None:
            why = _held(r)
            db = (r.get("inputs") or {}).get("database")
            if why is None:
                findings.append(f"{r['name']} ({r['type']}): no listing finds this kind; add it to infra/leftovers.py")
            elif why.startswith("inside") and db not in databases:
                findings.append(f"{r['name']}: in database {db}, which this stack does not declare")
            continue
        if name is None:
            findings.append(f"{r['name']} ({r['type']}): its name is not known at plan time")
        elif not ours(name, listing.cloud, naming):
            findings.append(f"{r['name']}: {name} does not start with {patterns(naming)[listing.cloud]}")
        else:
            expected.setdefault(listing, set()).add(name)
    return Coverage({k: sorted(v) for k, v in expected.items()}, findings)


def render(stack: str, naming: Naming, cov: Coverage) -> str:
    """The check's patterns, the names the plan would create per listing, and what it would miss."""
    p = patterns(naming)
    lines = [f"leftovers {stack}: after destroy, nothing named {p['snowflake']}* (Snowflake) or {p['aws']}* (AWS)"]
    for listing in [*SNOWFLAKE.values(), *AWS.values()]:
        names = cov.expected.get(listing, [])
        how = f"SHOW {listing.kind}" if listing.cloud == "snowflake" else f"{listing.kind} ({listing.action})"
        lines.append(f"  {how}: {len(names)} from the plan{': ' if names else ''}{', '.join(names)}")
    lines += [f"  MISSED {f}" for f in cov.findings]
    verdict = f"{len(cov.findings)} names the check would miss" if cov.findings else "every name is covered"
    lines.append(f"leftovers {stack}: {verdict}; run it: python -m scripts.review leftovers --stack {stack}")
    return "\n".join(lines) + "\n"


def expected(cov: Coverage) -> dict[str, dict[str, list[str]]]:
    """The names to look for, by cloud and kind: what `--leftovers --format json` prints for the check."""
    out: dict[str, dict[str, list[str]]] = {"snowflake": {}, "aws": {}}
    for listing, names in cov.expected.items():
        out[listing.cloud][listing.kind] = names
    return out


def review_values(dev_values: Mapping[str, str], project: str) -> dict[str, str]:
    """A review stack's config values as review-stack.yml makes them from dev's: environment review,
    deploying as the review identity, no registry token."""
    values = {k: v for k, v in dev_values.items() if k != f"{project}:registryToken"}
    values[f"{project}:environment"] = REVIEW_ENVIRONMENT
    key = f"{project}:snowflake"
    snowflake = dict(json.loads(values[key]))
    prefix = values.get(f"{project}:prefix", "RDP")
    snowflake["deployUser"] = review_naming(prefix).sf("DEPLOYER")
    values[key] = json.dumps(snowflake)
    return values
