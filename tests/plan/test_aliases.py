"""A deployed stack sees no replacement after a refactor: every resource ever released (the URNs in
tests/snapshots/released/) is reached by the current plan, by its own URN or by an alias, or is retired on
purpose (retired-<stack>.yaml: the URN and why; only resources that hold no data may retire).

The resolution follows the engine: an alias spec may change a resource's type, name or parent; a
child is also reached under each URN its parent is reached by (children inherit their parent's
aliases). A URN appended to the released lists never leaves them.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra.plandiff import reachable_urns
from infra.policy.general import STATEFUL_TYPES
from tests.conftest import STACKS

RELEASED = Path(__file__).resolve().parents[1] / "snapshots" / "released"


def reached(plan: list[dict]) -> dict[str, str]:
    """Every URN the plan answers to → the URN of the resource that answers; never two resources."""
    index: dict[str, str] = {}
    for owner, urns in reachable_urns(plan).items():
        for u in urns:
            assert index.setdefault(u, owner) == owner, f"{u} is reached by two resources"
    return index


def retired(stack: str) -> dict[str, str]:
    """Released URNs deleted on purpose → why (each entry must say)."""
    entries = yaml.safe_load((RELEASED / f"retired-{stack}.yaml").read_text()) or []
    assert all(str(e.get("why", "")).strip() for e in entries), "a retired URN without its reason"
    return {e["urn"]: e["why"] for e in entries}


def released(stack: str) -> list[str]:
    """The released URNs still expected in the plan."""
    gone = retired(stack)
    return [u for u in (RELEASED / f"urns-{stack}.txt").read_text().split() if u not in gone]


@pytest.mark.parametrize("stack", STACKS)
def test_every_released_resource_is_reached(plans, stack):
    index = reached(plans[stack])
    missing = [u for u in released(stack) if u not in index]
    assert not missing, f"{len(missing)} released resources would be replaced, e.g. {missing[:3]}"


@pytest.mark.parametrize("stack", STACKS)
def test_only_resources_holding_no_data_retire_and_they_are_gone(plans, stack):
    index = reached(plans[stack])
    all_released = set((RELEASED / f"urns-{stack}.txt").read_text().split())
    for urn in retired(stack):
        assert urn in all_released, f"{urn} was never released"
        assert urn.split("::")[-2].split("$")[-1] not in STATEFUL_TYPES, f"{urn} holds data: alias it, never retire it"
        assert urn not in index, f"{urn} is retired but the plan still has it"


@pytest.mark.parametrize("stack", STACKS)
def test_a_resource_is_reached_as_what_it_was(plans, stack):
    """Type and name of a released URN match the resource that now answers to it (type changes only
    through a declared alias)."""
    by_urn = {r["urn"]: r for r in plans[stack]}
    index = reached(plans[stack])
    for old in released(stack):
        now = by_urn[index[old]]
        assert old.rsplit("::", 1)[1] == now["name"], old


def test_the_check_fails_without_the_aliases(plans):
    """Stripping the declared aliases loses the renamed components and all their children."""
    plan = copy.deepcopy(plans["dev"])
    for r in plan:
        r["aliases"] = [a for a in r.get("aliases", []) if not a.get("spec", {}).get("type", "").startswith("retail:")]
    index = reached(plan)
    missing = [u for u in released("dev") if u not in index]
    assert any("retail:landing:LandingBucket" in u for u in missing)
    assert any("retail:spcs:RecommendationApi$snowflake:index/service:Service" in u for u in missing)
