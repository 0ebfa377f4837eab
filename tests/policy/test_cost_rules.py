"""The budget rule: a plan within its stack's cost.monthlyBudget passes, one over it is refused with the
breakdown, and a billable resource without the input its price needs is refused (the estimate would be
short). Dev's budget is Pulumi.dev.yaml's ($400)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_policy import StackValidationArgs

from tests.policy.harness import DEV, check, res

POOL = "snowflake:index/computePool:ComputePool"


def pool(family: str | None, low: int, high: int) -> dict:
    return {"name": "RDP_DEV_POOL", "minNodes": low, "maxNodes": high} | ({"instanceFamily": family} if family else {})


# The account stack's budgets as committed (tests/snapshots/plan-account.json): one Snowflake and one AWS budget for
# each environment it hosts, at their stack files' limits.
_ACCOUNT = json.loads((Path(__file__).parents[1] / "snapshots" / "plan-account.json").read_text())
BUDGETS = [
    res(r["type"], r["inputs"], r["name"], r["urn"].split("::")[0] + "::retail-data-platform::")
    for r in _ACCOUNT
    if r["type"] == "aws:budgets/budget:Budget" or "SET_SPENDING_LIMIT" in str(r["inputs"].get("execute"))
]
STAGING = res(
    "aws:budgets/budget:Budget",
    {"limitAmount": "50.00", "costFilters": [{"name": "TagKeyValue", "values": ["user:stack$staging"]}]},
    "staging-budget-aws",
    "urn:pulumi:account::retail-data-platform::",
)

CASES = [
    ("account-budgets", StackValidationArgs(BUDGETS, {}), []),
    (
        "account-budgets",
        StackValidationArgs([*BUDGETS, STAGING], {}),
        ["stack account: the AWS budget for staging: the account does not host staging"],
    ),
    # CPU_X64_XS, one node: 730 h * 0.06 * $3 = $131.40
    ("monthly-budget", StackValidationArgs([res(POOL, pool("CPU_X64_XS", 1, 1), "api-pool", DEV)], {}), []),
    # CPU_X64_S up to 4 nodes: 730 h * 0.11 * 4 * $3 = $963.60
    (
        "monthly-budget",
        StackValidationArgs([res(POOL, pool("CPU_X64_S", 1, 4), "api-pool", DEV)], {}),
        ["stack dev: maximum monthly estimate $963.60 exceeds cost.monthlyBudget $400.00 (api $963.60)"],
    ),
    (
        "monthly-budget",
        StackValidationArgs([res(POOL, pool(None, 1, 1), "api-pool", DEV)], {}),
        ["ComputePool api-pool: not estimated: no instanceFamily"],
    ),
]


@pytest.mark.parametrize(("name", "args", "violations"), CASES)
def test_rule(name, args, violations):
    check(name, args, violations)
