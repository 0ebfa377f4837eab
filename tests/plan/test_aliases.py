"""A deployed stack sees no replacement after a refactor: every resource ever released (the URNs in
tests/snapshots/released/) is reached by the current plan, by its own URN or by an alias.

The resolution follows the engine: an alias spec may change a resource's type, name or parent; a
child is also reached under each URN its parent is reached by (children inherit their parent's
aliases). A URN appended to the released lists never leaves them; one deliberately deleted (a grant
no longer made, never a resource holding data) is listed in retired-<stack>.txt with its reason.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from infra.plandiff import reachable_urns
from tests.conftest import STACKS

RELEASED = Path(__file__).resolve().parents[1] / "snapshots" / "released"


def reached(plan: list[dict]) -> dict[str, str]:
    """Every URN the plan answers to → the URN of the resource that answers; never two resources."""
    index: dict[str, str] = {}
    for owner, urns in reachable_urns(plan).items():
        for u in urns:
            assert index.setdefault(u, owner) == owner, f"{u} is reached by two resources"
    return index


def released(stack: str) -> list[str]:
    return (RELEASED / f"urns-{stack}.txt").read_text().split()


def retired(stack: str) -> list[str]:
    """Released URNs deleted on purpose (`#` lines say why)."""
    lines = (RELEASED / f"retired-{stack}.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.mark.parametrize("stack", STACKS)
def test_every_released_resource_is_reached(plans, stack):
    index = reached(plans[stack])
    missing = [u for u in released(stack) if u not in index and u not in retired(stack)]
    assert not missing, f"{len(missing)} released resources would be replaced, e.g. {missing[:3]}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_resource_is_reached_as_what_it_was(plans, stack):
    """Type and name of a released URN match the resource that now answers to it (type changes only
    through a declared alias)."""
    by_urn = {r["urn"]: r for r in plans[stack]}
    index = reached(plans[stack])
    for old in set(released(stack)) - set(retired(stack)):
        now = by_urn[index[old]]
        assert old.rsplit("::", 1)[1] == now["name"], old


@pytest.mark.parametrize("stack", STACKS)
def test_a_retired_urn_was_released_and_holds_no_data(plans, stack):
    """Only what was released can retire, only grants retire, and a retired URN declared again (by its
    URN or an alias) must leave the retired list."""
    gone = retired(stack)
    assert set(gone) <= set(released(stack))
    assert all("$snowflake:index/grant" in u for u in gone), gone
    index = reached(plans[stack])
    assert [u for u in gone if u in index] == []


def test_the_check_fails_without_the_aliases(plans):
    """Stripping the declared aliases loses the renamed components and all their children."""
    plan = copy.deepcopy(plans["dev"])
    for r in plan:
        r["aliases"] = [a for a in r.get("aliases", []) if not a.get("spec", {}).get("type", "").startswith("retail:")]
    index = reached(plan)
    missing = [u for u in released("dev") if u not in index]
    assert any("retail:landing:LandingBucket" in u for u in missing)
    assert any("retail:spcs:RecommendationApi$snowflake:index/service:Service" in u for u in missing)
