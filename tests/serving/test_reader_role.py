"""The website's DynamoDB reader role, evaluated with moto's IAM evaluator (infra/aws_reach.py) on the
plans: it may GetItem/Query its own stack's recommendations table and nothing else, within the stack's
boundary and on its own policy alone (a boundary that one day grows must not be what keeps it read-only).
Planted faults prove the check catches an over-broad policy and a missing boundary."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from infra import arns
from infra.aws_reach import actions_on, permits, principals_of
from tests.conftest import one

ACCT = arns.ACCOUNT_ID
READS = {"dynamodb:GetItem", "dynamodb:Query"}


def _table(stack: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{ACCT}:table/rdp-{stack}-product-recommendations"


def _reader(plan: list[dict], stack: str):
    found = [p for p in principals_of(plan, stack, "us-east-1") if p.name == f"rdp-{stack}-website-reader"]
    assert len(found) == 1, f"{stack}: expected one website reader role"
    return found[0]


def findings(plan: list[dict], stack: str, other: str) -> list[str]:
    """What the reader role may do beyond GetItem/Query on its own table, or may not do of that."""
    reader = _reader(plan, stack)
    bare = dataclasses.replace(reader, boundary=None)
    out = [f"{stack} reader has no permissions boundary"] if reader.boundary is None else []
    own, theirs = _table(stack), _table(other)
    for action in actions_on(own):
        for who, label in ((reader, "within its boundary"), (bare, "by its own policy")):
            allowed = permits(who, action, own, plan)
            if allowed != (action in READS):
                out.append(f"{stack} reader {'may' if allowed else 'may not'} {action} on its table ({label})")
    for action in actions_on(theirs):
        for who, label in ((reader, "within its boundary"), (bare, "by its own policy")):
            if permits(who, action, theirs, plan):
                out.append(f"{stack} reader may {action} on {other}'s table ({label})")
    return out


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_the_reader_reads_its_own_table_only(plans, stack, other):
    assert findings(plans[stack], stack, other) == []
    role = one(plans[stack], "dynamodb-reader-role")["inputs"]
    assert role["permissionsBoundary"] == f"arn:aws:iam::{ACCT}:policy/ci/rdp-{stack}-ci-boundary"
    # the website's identities (none configured: the stack's own account) assume it, no one else
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    account = {"AWS": [f"arn:aws:iam::{ACCT}:root"]}
    external_id = {"StringEquals": {"sts:ExternalId": f"rdp-{stack}-website-reader"}}
    assert trust == [{"Action": "sts:AssumeRole", "Condition": external_id, "Effect": "Allow", "Principal": account}]


def _plant(plan: list[dict], stack: str, statements: list[dict] | None = None, boundary: bool = True) -> list[dict]:
    planted = copy.deepcopy(plan)
    policy = one(planted, "dynamodb-reader-read")["inputs"]
    if statements is not None:
        policy["policy"] = json.dumps({"Version": "2012-10-17", "Statement": statements})
    if not boundary:
        one(planted, "dynamodb-reader-role")["inputs"].pop("permissionsBoundary")
    return planted


def test_an_over_broad_policy_fails_even_under_the_boundary(plans):
    wide = _plant(plans["prod"], "prod", [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}])
    found = findings(wide, "prod", "dev")
    assert "prod reader may dynamodb:PutItem on its table (by its own policy)" in found
    assert "prod reader may dynamodb:Scan on its table (by its own policy)" in found
    assert "prod reader may dynamodb:GetItem on dev's table (by its own policy)" in found
    # the boundary alone keeps scans, deletes and the other stack out (it lets the export's writes in)
    assert not any("within its boundary" in f and ("Scan" in f or "Delete" in f or "dev's" in f) for f in found)


def test_a_missing_boundary_and_a_scan_fail(plans):
    actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    scan = [{"Effect": "Allow", "Action": actions, "Resource": _table("prod")}]
    found = findings(_plant(plans["prod"], "prod", scan, boundary=False), "prod", "dev")
    assert "prod reader has no permissions boundary" in found
    assert "prod reader may dynamodb:Scan on its table (within its boundary)" in found


def test_a_reader_of_the_other_stacks_table_fails(plans):
    other = [{"Effect": "Allow", "Action": sorted(READS), "Resource": [_table("prod"), _table("dev")]}]
    found = findings(_plant(plans["prod"], "prod", other), "prod", "dev")
    assert "prod reader may dynamodb:GetItem on dev's table (by its own policy)" in found
    assert not any("dev's table (within its boundary)" in f for f in found)  # the boundary holds too
