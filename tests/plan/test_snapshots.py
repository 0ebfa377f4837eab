"""The committed plan snapshots match the program, so a PR's diff shows what would change."""

from __future__ import annotations

import json
import sys

import pytest

from infra.plan import SNAPSHOTS, snapshot_text, to_dot
from tests import background


@pytest.mark.parametrize("stack", ["dev", "prod", "account"])
def test_snapshot_is_fresh(all_plans, stack):
    plans = all_plans
    committed = SNAPSHOTS / f"plan-{stack}.json"
    assert committed.is_file(), f"{committed} is missing: run `make snapshots`"
    assert committed.read_text() == snapshot_text(plans[stack]), (
        f"tests/snapshots/plan-{stack}.json is stale: run `make snapshots` and commit the diff"
    )
    dot = SNAPSHOTS / f"plan-{stack}.dot"
    assert dot.read_text() == to_dot(plans[stack], stack), f"{dot.name} is stale: run `make snapshots`"
    assert (SNAPSHOTS / f"plan-{stack}.svg").is_file()


def test_plan_is_deterministic(plans):
    again = background.result(DEV_AGAIN)
    again.check_returncode()
    assert json.loads(again.stdout) == plans["dev"]


DEV_AGAIN = background.command(  # a second fresh interpreter, as run_plan_json runs the `plans` fixture's
    "dev-again", [sys.executable, "-m", "infra.plan", "--stack", "dev", "--format", "json"], test_plan_is_deterministic
)


def test_json_plan_has_the_documented_keys(plans):
    for r in plans["prod"]:
        assert {"type", "name", "parent", "inputs", "dependencies", "protect", "provider"} <= r.keys()
    assert not any("PRIVATE KEY" in str(r["inputs"]) for r in plans["prod"])
