"""The leftover check's online half: list every account-level object still named for the stack, one
SHOW per Snowflake kind and one List call per AWS kind of infra/leftovers.py, each filtered by the exact
name prefix (SHOW's LIKE is only a first cut: `_` there matches any character)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from infra.account.catalog import admin_role, deploy_user
from infra.config.stack import StackConfig
from infra.leftovers import AWS, SNOWFLAKE, ours, patterns
from infra.naming import Naming, review_naming
from scripts.core.errors import LoadError

KEY_VARIABLE = "SNOWFLAKE_PRIVATE_KEY"  # the review identity's key, as `pulumi destroy` reads it
Leftover = tuple[str, str]  # (kind, name)


def snowflake_leftovers(cur: Any, naming: Naming) -> list[Leftover]:
    """Every Snowflake object of the stack that the session's role can see, per SHOW kind."""
    found: list[Leftover] = []
    for listing in SNOWFLAKE.values():
        like = f" LIKE '{patterns(naming)['snowflake']}%'" if listing.like else ""
        cur.execute(f"SHOW {listing.kind}{like}")
        column = [d[0].lower() for d in cur.description].index("name")
        found += [
            (f"SHOW {listing.kind}", row[column]) for row in cur.fetchall() if ours(row[column], "snowflake", naming)
        ]
    return found


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _s3(client: Any, prefix: str) -> Iterable[str]:
    return (b["Name"] for b in client.list_buckets().get("Buckets", []))


def _roles(client: Any, prefix: str) -> Iterable[str]:
    return (r["RoleName"] for r in _pages(client, "list_roles", "Roles"))


def _policies(client: Any, prefix: str) -> Iterable[str]:
    return (p["PolicyName"] for p in _pages(client, "list_policies", "Policies", Scope="Local"))


def _topics(client: Any, prefix: str) -> Iterable[str]:
    return (t["TopicArn"].rsplit(":", 1)[-1] for t in _pages(client, "list_topics", "Topics"))


def _queues(client: Any, prefix: str) -> Iterable[str]:
    return (
        url.rstrip("/").rsplit("/", 1)[-1] for url in client.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    )


def _tables(client: Any, prefix: str) -> Iterable[str]:
    return _pages(client, "list_tables", "TableNames")


def _secrets(client: Any, prefix: str) -> Iterable[str]:
    filters = [{"Key": "name", "Values": [prefix]}]
    return (s["Name"] for s in _pages(client, "list_secrets", "SecretList", Filters=filters))


# AWS listing kind → (boto3 service, the call that lists its names)
AWS_CALLS: dict[str, tuple[str, Callable[[Any, str], Iterable[str]]]] = {
    "s3 buckets": ("s3", _s3),
    "iam roles": ("iam", _roles),
    "iam policies": ("iam", _policies),
    "sns topics": ("sns", _topics),
    "sqs queues": ("sqs", _queues),
    "dynamodb tables": ("dynamodb", _tables),
    "secretsmanager secrets": ("secretsmanager", _secrets),
}


def aws_leftovers(client: Callable[[str], Any], naming: Naming) -> list[Leftover]:
    """Every AWS resource of the stack, per List call; `client(service)` makes the boto3 client."""
    prefix = patterns(naming)["aws"]
    found: list[Leftover] = []
    for kind in AWS:  # each kind infra/leftovers.py knows, by its List call here
        service, names = AWS_CALLS[kind]
        found += [(kind, n) for n in names(client(service), prefix) if ours(n, "aws", naming)]
    return found


def review_session(cfg: StackConfig) -> Any:
    """The review identity's session (the one that created and destroyed the stack's objects, so its role
    sees any it left), its key from SNOWFLAKE_PRIVATE_KEY as the destroy step has it."""
    import snowflake.connector
    from cryptography.hazmat.primitives import serialization

    pem = os.environ.get(KEY_VARIABLE)
    if not pem:
        raise LoadError(f"{KEY_VARIABLE} is not set: the review identity's private key (secret SNOWFLAKE_REVIEW_KEY)")
    identity = review_naming(cfg.prefix)
    return snowflake.connector.connect(
        account=f"{cfg.snowflake.organization}-{cfg.snowflake.account}",
        user=deploy_user(identity),
        role=admin_role(identity),
        authenticator="SNOWFLAKE_JWT",
        private_key=serialization.load_pem_private_key(pem.encode(), password=None),
    )
