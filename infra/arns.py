"""The ARN AWS gives each resource the program declares, from its type and inputs.

One table, so the offline plan's mocked outputs (infra/mocks.py) and the isolation check
(infra/aws_reach.py) name every resource alike: a check that computed ARNs its own way could pass on
names AWS would never give.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

ACCOUNT_ID = "123456789012"  # the one AWS account every stack's plan is made in: dev and prod share it

# `{name}` is the physical name (the `name` input, else the logical name, as the mocks give it); `{path}`
# an IAM path (`/` unless the inputs give one): a role under /ci/ is `role/ci/<name>`, as AWS makes it.
_FORMATS = {
    "aws:s3/bucket:Bucket": "arn:aws:s3:::{name}",
    "aws:s3/bucketV2:BucketV2": "arn:aws:s3:::{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:dynamodb/table:Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role{path}{name}",
    "aws:iam/policy:Policy": "arn:aws:iam::{account}:policy{path}{name}",
    "aws:iam/user:User": "arn:aws:iam::{account}:user{path}{name}",
    # KMS names a key by an id it generates (a UUID); here one made of the name's digest
    "aws:kms/key:Key": "arn:aws:kms:{region}:{account}:key/{key_id}",
    "aws:budgets/budget:Budget": "arn:aws:budgets::{account}:budget/{name}",
    # Secrets Manager appends six random characters to the name; here six of the name's digest
    "aws:secretsmanager/secret:Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}",
}
# Settings of another resource: no ARN of their own, AWS authorises changing them on the owner's ARN
# (a bucket's policy, lifecycle, encryption ... on the bucket; an inline policy on its role).
_SETTINGS = re.compile(
    r"^aws:(s3/bucket(?!:Bucket$|V2:BucketV2$|Object)\w*:|iam/(rolePolicy|rolePolicyAttachment|policyAttachment"
    r"|userPolicy|userPolicyAttachment):|sns/topicPolicy:|sqs/queuePolicy:|secretsmanager/secretVersion:)"
)
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


class UnknownTypeError(LookupError):
    """A resource type this table does not know how AWS names: teach it here, never guess."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def bucket(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def subscription(topic_arn: str, protocol: str, endpoint: str) -> str:
    """`<topic ARN>:<uuid>`: SNS names a subscription after its topic (the uuid here is a digest)."""
    h = _digest(topic_arn, protocol, endpoint)
    return f"{topic_arn}:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def arn(typ: str, logical: str, inputs: dict[str, Any], account: str, region: str) -> str | None:
    """The ARN of a resource of type `typ` declared as `logical` with `inputs`; None for a setting of
    another resource. UnknownTypeError for a type the table does not know."""
    if _SETTINGS.match(typ):
        return None
    if typ == "aws:sns/topicSubscription:TopicSubscription":
        return subscription(str(inputs.get("topic")), str(inputs.get("protocol")), str(inputs.get("endpoint")))
    if typ.startswith("aws:s3/bucketObject"):
        return f"{bucket(inputs.get('bucket') or logical)}/{inputs.get('key') or logical}"
    fmt = _FORMATS.get(typ)
    if fmt is None:
        raise UnknownTypeError(f"{typ}: infra/arns.py does not know the ARN AWS gives it")
    name = inputs.get("bucket") if typ in BUCKET_TYPES else inputs.get("name")
    name = name or logical
    h = _digest(name)
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return fmt.format(
        name=name, account=account, region=region, path=inputs.get("path") or "/", suffix=h[:6], key_id=key_id
    )


def object_prefixes(plan: list[dict], bucket_name: str) -> list[str]:
    """The key prefixes a plan uses in a bucket: `s3://<bucket>/<prefix>` locations (stages, storage
    integrations) and the `prefix` / `filterPrefix` of the bucket's own settings (lifecycle, events)."""
    found: set[str] = set()
    location = re.compile(rf"s3://{re.escape(bucket_name)}/([^\s\"']*)")
    for r in plan:
        for key, value in _strings(r.get("inputs", {}), ""):
            found.update(location.findall(value))
            if r["type"].startswith("aws:s3/") and r["inputs"].get("bucket") == bucket_name:
                if key in ("prefix", "filterPrefix"):
                    found.add(value)
    return sorted(p for p in found if p)


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """(key, string) of every string in a nested input value, with the key it sits under."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value
