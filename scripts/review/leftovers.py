"""The leftover check's online half: every account-level object of the stack still there. In Snowflake one
SHOW per kind of infra/leftovers.py, filtered by the exact name prefix (SHOW's LIKE is only a first cut:
`_` there matches any character). In AWS each name the stack's plan would create, read back by name with
the review role's own reads on `rdp-pr-*` (infra/leftovers.py says why not account-wide List calls)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infra.account.catalog import admin_role, deploy_user
from infra.arns import ACCOUNT_ID as PLAN_ACCOUNT
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


def _missing(error: Exception, *codes: str) -> bool:
    """Whether a ClientError says the resource does not exist (anything else, AccessDenied say, is raised)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code in codes


def _bucket(client: Any, name: str, where: Mapping[str, str]) -> bool:
    client.head_bucket(Bucket=name)
    return True


def _role(client: Any, name: str, where: Mapping[str, str]) -> bool:
    client.get_role(RoleName=name)
    return True


def _topic(client: Any, name: str, where: Mapping[str, str]) -> bool:
    client.get_topic_attributes(TopicArn=f"arn:aws:sns:{where['region']}:{where['account']}:{name}")
    return True


def _table(client: Any, name: str, where: Mapping[str, str]) -> bool:
    client.describe_table(TableName=name)
    return True


def _secret(client: Any, name: str, where: Mapping[str, str]) -> bool:
    return "DeletedDate" not in client.describe_secret(SecretId=name)  # scheduled for deletion: going


# AWS kind → (boto3 service, the read of one name, the error codes that mean "no such resource")
AWS_READS: dict[str, tuple[str, Callable[[Any, str, Mapping[str, str]], bool], tuple[str, ...]]] = {
    "s3 buckets": ("s3", _bucket, ("404", "NoSuchBucket")),
    "iam roles": ("iam", _role, ("NoSuchEntity",)),
    "sns topics": ("sns", _topic, ("NotFound",)),
    "dynamodb tables": ("dynamodb", _table, ("ResourceNotFoundException",)),
    "secretsmanager secrets": ("secretsmanager", _secret, ("ResourceNotFoundException",)),
}


def aws_leftovers(
    client: Callable[[str], Any], expected: Mapping[str, Iterable[str]], naming: Naming, region: str
) -> list[Leftover]:
    """Each AWS name the stack's plan would create (`expected`: kind → names, as `python -m infra.plan
    --leftovers --format json` prints them) that still exists, read by name with the review role's own
    reads; `client(service)` makes the boto3 client. The plan's bucket names carry the mocks' account id:
    the real one comes from STS (which needs no permission)."""
    from botocore.exceptions import ClientError

    account = client("sts").get_caller_identity()["Account"]
    where = {"region": region, "account": account}
    found: list[Leftover] = []
    for kind, names in expected.items():
        if kind not in AWS:
            raise LoadError(f"the expected names hold {kind!r}, which infra/leftovers.py does not know")
        service, read, gone = AWS_READS[kind]
        for name in (n.replace(PLAN_ACCOUNT, account) for n in names):
            if not ours(name, "aws", naming):
                raise LoadError(f"{name} is not a name of {naming.stack}: the expected names are another stack's")
            try:
                if read(client(service), name, where):
                    found.append((kind, name))
            except ClientError as e:
                if not _missing(e, *gone):
                    raise
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
