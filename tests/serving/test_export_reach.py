"""The scheduled export's AWS role can do its job: moto's IAM evaluator (infra/aws_reach.py), on the plans,
lets it describe and write the stack's recommendations table within its permissions boundary, and
nothing of the other stack's table. A boundary without the export's writes (as it once was) is caught:
the role would be declared, trusted and bounded, and every export would be denied."""

from __future__ import annotations

import copy
import json

import pytest

from infra import arns
from infra.aws_reach import permits, principals_of
from infra.serving.export import ACTIONS
from tests.conftest import one

ACCT = arns.ACCOUNT_ID


def _table(stack: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{ACCT}:table/rdp-{stack}-product-recommendations"


def findings(plan: list[dict], stack: str, other: str) -> list[str]:
    """What the export role may not do on its own table, or may do on the other stack's."""
    (role,) = [p for p in principals_of(plan, stack, "us-east-1") if p.name == f"rdp-{stack}-snowflake-dynamodb"]
    assert role.boundary is not None, f"{stack}: the export role has no permissions boundary"
    out = [f"{stack} export may not {a} on its table" for a in ACTIONS if not permits(role, a, _table(stack), plan)]
    out += [f"{stack} export may {a} on {other}'s table" for a in ACTIONS if permits(role, a, _table(other), plan)]
    return out


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_the_export_writes_its_own_table_within_the_boundary(plans, stack, other):
    assert findings(plans[stack], stack, other) == []


def test_a_boundary_without_the_exports_writes_is_caught(plans):
    planted = copy.deepcopy(plans["prod"])
    boundary = one(planted, "ci-aws-boundary")
    doc = json.loads(boundary["inputs"]["policy"])
    doc["Statement"] = [s for s in doc["Statement"] if "dynamodb:PutItem" not in json.dumps(s)]
    boundary["inputs"]["policy"] = json.dumps(doc)
    assert "prod export may not dynamodb:PutItem on its table" in findings(planted, "prod", "dev")
    assert one(planted, "serving-dynamodb-export-role")["inputs"]["permissionsBoundary"]
