"""Builds pulumi_policy's arguments by hand, from keyword arguments or from an offline plan, so the
rules are called directly as the pack would call them."""

from __future__ import annotations

from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from infra.policy import rules

DEV = "urn:pulumi:dev::retail-data-platform::"
PROD = "urn:pulumi:prod::retail-data-platform::"
SF_PROVIDER = "pulumi:providers:snowflake"


def opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], None, [])


def provider(role: str) -> PolicyProviderResource:
    name = f"snowflake-{role.lower()}"
    return PolicyProviderResource(SF_PROVIDER, {"role": role}, f"{DEV}{SF_PROVIDER}::{name}", name)


def rargs(typ: str, props: dict, urn_prefix: str = DEV, name: str = "r", protect: bool | None = False, prov=None):
    """ResourceValidationArgs of one hand-made resource (protect=None: no options at all)."""
    return ResourceValidationArgs(
        typ, props, f"{urn_prefix}{typ}::{name}", name, None if protect is None else opts(protect), prov
    )


def res(typ: str, props: dict, name: str, urn_prefix: str = DEV, protect: bool = False) -> PolicyResource:
    return PolicyResource(typ, props, f"{urn_prefix}{typ}::{name}", name, opts(protect), None, None, [], {})


def run(rule, args) -> list[str]:
    found: list[str] = []
    rule(args, lambda msg, urn=None: found.append(msg))
    return found


def run_stack(rule, resources: list[PolicyResource]) -> list[str]:
    return run(rule, StackValidationArgs(resources, {}))


def plan_violations(plan: list[dict]) -> list[str]:
    """Every rule of the pack over an offline plan, each resource with its provider's inputs."""
    found: list[str] = []

    def report(msg, urn=None):
        found.append(msg)

    by_urn = {r["urn"]: r for r in plan}
    resources = []
    for r in plan:
        p = by_urn.get(r["provider"] or "")
        prov = PolicyProviderResource(p["type"], p["inputs"], p["urn"], p["name"]) if p else None
        args = ResourceValidationArgs(r["type"], r["inputs"], r["urn"], r["name"], opts(r["protect"]), prov)
        for rule in rules.RESOURCE_RULES.values():
            rule(args, report)
        resources.append(
            PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], opts(r["protect"]), prov, None, [], {})
        )
    for rule in rules.STACK_RULES.values():
        rule(StackValidationArgs(resources, {}), report)
    return found


def check(name: str, args, violations: list[str]) -> None:
    """Rule `name` on `args` reports exactly `violations` (each a substring of its message, in order)."""
    found = run({**rules.RESOURCE_RULES, **rules.STACK_RULES}[name], args)
    assert len(found) == len(violations), found
    for needle, msg in zip(violations, found, strict=True):
        assert needle in msg
