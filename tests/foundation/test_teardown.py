"""Tearing a stack down by documented means: what would stop `pulumi destroy` beyond `protect` is protected
itself in prod and absent where `protect` is false, and README "Teardown"'s commands do what they say
(the AWS ones run here, under moto; the Pulumi ones name what the plan declares)."""

from __future__ import annotations

import re
import shlex
import sys

import boto3
import pytest
from moto import mock_aws

from infra.config.reader import ConfigError, parse_config
from tests.conftest import ROOT, by_type, one
from tests.foundation.test_config import _nested, _with

BLOCKERS = {  # type → the input that makes its delete fail while the resource still holds data
    "aws:s3/bucket:Bucket": ("forceDestroy", False),
    "aws:dynamodb/table:Table": ("deletionProtectionEnabled", True),
    "postgresql:index/schema:Schema": ("dropCascade", False),
}


def _blockers(plan: list[dict]) -> list[dict]:
    return [r for typ, (key, bad) in BLOCKERS.items() for r in by_type(plan, typ) if r["inputs"].get(key) is bad]


def test_what_stops_a_destroy_in_prod_is_protected_and_dev_has_none(plans):
    blockers = _blockers(plans["prod"])
    assert sorted(r["name"] for r in blockers) == ["dynamodb-table", "landing-bucket", "serving-schema"]
    assert all(r["protect"] for r in blockers)
    assert not _blockers(plans["dev"]) and not any(r["protect"] for r in plans["dev"])


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (lambda: _with("dev", "forceDestroyBucket", "false"), "protect is false but forceDestroyBucket"),
        (
            lambda: _nested("dev", "dynamodb", ["deletionProtection"], True),
            "protect is false but dynamodb.deletionProtection",
        ),
    ],
)
def test_an_unprotected_stack_has_nothing_that_stops_its_destroy(values, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config(values(), "dev")
    protected = _with(values(), "protect", "true")  # a protected dev stack may keep them
    assert parse_config(protected, "dev").protect


def _teardown_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("Lifting protection for a teardown, on purpose")
    block = text[start:].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("   #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_teardown_commands_name_what_the_prod_plan_declares(plans):
    lines = _teardown_block()
    assert lines[0] == ".venv/bin/python -m scripts.serving write-ca --stack prod"
    assert lines[1] == "pulumi destroy --stack prod --exclude-protected" and lines[-1] == "pulumi destroy --stack prod"
    assert "pulumi state unprotect --stack prod --all --yes" in lines
    (urn,) = re.findall(r"state delete --stack prod --yes --target-dependents '([^']+)'", "\n".join(lines))
    provider = one(plans["prod"], "serving-provider")
    assert provider["urn"] == urn
    # every Postgres-side resource goes with it (they all use this provider), and nothing else does
    on_it = [r for r in plans["prod"] if str(r.get("provider", "")).split("::id")[0] == urn]
    assert {r["type"].split(":")[0] for r in on_it} == {"postgresql"}
    assert len(on_it) == len([r for r in plans["prod"] if r["type"].startswith("postgresql:")])


def _run(line: str, arg: str) -> None:
    """A `.venv/bin/python -c "…" "$(…)"` line of the block, run here with `arg` for the substitution."""
    words = shlex.split(line.split(' "$(')[0])
    assert words[:2] == [".venv/bin/python", "-c"]
    argv, sys.argv = sys.argv, ["-c", arg]
    try:
        exec(compile(words[2], "<README teardown>", "exec"), {"__name__": "__main__"})
    finally:
        sys.argv = argv


@mock_aws
def test_the_aws_steps_lift_deletion_protection_and_empty_the_versioned_bucket(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    lines = {k: next(line for line in _teardown_block() if k in line) for k in ("dynamodbTable", "landingBucket")}
    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    ddb.create_table(
        TableName="rdp-prod-product-recommendations",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    with pytest.raises(ddb.exceptions.ClientError):
        ddb.delete_table(TableName="rdp-prod-product-recommendations")
    _run(lines["dynamodbTable"], "rdp-prod-product-recommendations")
    ddb.delete_table(TableName="rdp-prod-product-recommendations")

    bucket = "rdp-prod-landing-123456789012"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="landing/customer/a.csv", Body=body)
    s3.put_object(Bucket=bucket, Key="landing/customer/b.csv", Body=b"b")
    s3.delete_object(Bucket=bucket, Key="landing/customer/b.csv")  # a delete marker over a version
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_bucket(Bucket=bucket)
    _run(lines["landingBucket"], bucket)
    listed = s3.list_object_versions(Bucket=bucket)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
    s3.delete_bucket(Bucket=bucket)
