"""A deployed stack sees no replacement after a refactor: every resource ever released (the URNs in
tests/snapshots/released/) is reached by the current plan, by its own URN or by an alias.

The resolution follows the engine: an alias spec may change a resource's type, name or parent; a
child is also reached under each URN its parent is reached by (children inherit their parent's
aliases). A URN appended to the released lists never leaves them.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.conftest import STACKS

RELEASED = Path(__file__).resolve().parents[1] / "snapshots" / "released"


def make_urn(own_urn: str, parent_urn: str | None, typ: str, name: str) -> str:
    """A URN as the plan's monitor forms it: the parent's own type, `$`, the resource's type (the
    engine uses the parent's whole type chain; inheritance of aliases works the same way)."""
    stack, project = own_urn.split("::")[0], own_urn.split("::")[1]
    qualified = f"{parent_urn.split('::')[2].split('$')[-1]}${typ}" if parent_urn else typ
    return f"{stack}::{project}::{qualified}::{name}"


def reached(plan: list[dict]) -> dict[str, str]:
    """Every URN the plan answers to → the URN of the resource that answers."""
    by_urn = {r["urn"]: r for r in plan}
    memo: dict[str, set[str]] = {}

    def urns(r: dict) -> set[str]:
        if r["urn"] in memo:
            return memo[r["urn"]]
        parent = r["parent"]
        parents = urns(by_urn[parent]) if parent in by_urn else {parent}
        out = {r["urn"]}
        variants = {(r["type"], r["name"], p) for p in parents}
        for alias in r.get("aliases", []):
            if "urn" in alias:
                out.add(alias["urn"])
                continue
            spec = alias.get("spec", {})
            typ, name = spec.get("type") or r["type"], spec.get("name") or r["name"]
            alias_parents = (
                {None} if spec.get("noParent") else ({spec["parentUrn"]} if spec.get("parentUrn") else parents)
            )
            variants |= {(typ, name, p) for p in alias_parents}
        out |= {make_urn(r["urn"], p, t, n) for t, n, p in variants}
        memo[r["urn"]] = out
        return out

    index: dict[str, str] = {}
    for r in plan:
        for u in urns(r):
            assert index.setdefault(u, r["urn"]) == r["urn"], f"{u} is reached by two resources"
    return index


def released(stack: str) -> list[str]:
    return (RELEASED / f"urns-{stack}.txt").read_text().split()


@pytest.mark.parametrize("stack", STACKS)
def test_every_released_resource_is_reached(plans, stack):
    index = reached(plans[stack])
    missing = [u for u in released(stack) if u not in index]
    assert not missing, f"{len(missing)} released resources would be replaced, e.g. {missing[:3]}"


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
