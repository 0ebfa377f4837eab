"""The budget rule: a plan within its stack's cost.monthlyBudget passes, one over it is refused with the
breakdown, and a billable resource without the input its price needs is refused (the estimate would be
short). Dev's budget is Pulumi.dev.yaml's ($400)."""

from __future__ import annotations

import pytest
from pulumi_policy import StackValidationArgs

from tests.policy.harness import DEV, check, res

POOL = "snowflake:index/computePool:ComputePool"


def pool(family: str | None, low: int, high: int) -> dict:
    return {"name": "RDP_DEV_POOL", "minNodes": low, "maxNodes": high} | ({"instanceFamily": family} if family else {})


CASES = [
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
