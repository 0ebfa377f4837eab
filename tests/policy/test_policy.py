"""Each policy rule with a passing, a failing and a missing-property case; both plans pass the pack."""

from __future__ import annotations

import pytest
from pulumi_policy import PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs

from infra.policy import rules

DEV = "urn:pulumi:dev::retail-data-platform::"
PROD = "urn:pulumi:prod::retail-data-platform::"


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], None, [])


def rargs(typ: str, props: dict, urn_prefix: str = DEV, name: str = "r", protect: bool | None = False):
    opts = None if protect is None else _opts(protect)
    return ResourceValidationArgs(typ, props, f"{urn_prefix}{typ}::{name}", name, opts, None)


def run(rule, args) -> list[str]:
    found: list[str] = []
    rule(args, lambda msg, urn=None: found.append(msg))
    return found


WH = rules.WAREHOUSE


@pytest.mark.parametrize(
    ("rule", "args", "violations"),
    [
        # auto-suspend: dev limit 300 s
        (rules.warehouse_auto_suspend, rargs(WH, {"autoSuspend": 60, "autoResume": "true"}), []),
        (rules.warehouse_auto_suspend, rargs(WH, {"autoSuspend": 3600, "autoResume": "true"}), ["outside 1..300s"]),
        (rules.warehouse_auto_suspend, rargs(WH, {"autoResume": "true"}), ["autoSuspend is not set"]),
        # size cap: dev cap SMALL, prod cap LARGE
        (rules.warehouse_size_cap, rargs(WH, {"warehouseSize": "SMALL"}), []),
        (rules.warehouse_size_cap, rargs(WH, {"warehouseSize": "LARGE"}), ["exceeds the stack cap SMALL"]),
        (rules.warehouse_size_cap, rargs(WH, {"warehouseSize": "LARGE"}, PROD), []),
        (rules.warehouse_size_cap, rargs(WH, {}), ["warehouseSize is not set"]),
        # protection: required in prod only
        (rules.prod_stateful_protected, rargs("snowflake:index/database:Database", {}, PROD, protect=True), []),
        (rules.prod_stateful_protected, rargs("snowflake:index/database:Database", {}, PROD), ["must be protected"]),
        (
            rules.prod_stateful_protected,
            rargs("aws:s3/bucketV2:BucketV2", {}, PROD, protect=None),
            ["must be protected"],
        ),
        (rules.prod_stateful_protected, rargs("snowflake:index/database:Database", {}, DEV), []),
        # names
        (rules.physical_name_prefix, rargs("snowflake:index/database:Database", {"name": "RDP_DEV_RETAIL"}), []),
        (
            rules.physical_name_prefix,
            rargs("snowflake:index/database:Database", {"name": "RETAIL"}),
            ["lacks prefix RDP_DEV_"],
        ),
        (
            rules.physical_name_prefix,
            rargs("snowflake:index/database:Database", {"name": "RDP_PROD_RETAIL"}),
            ["lacks prefix RDP_DEV_"],
        ),
        (rules.physical_name_prefix, rargs("snowflake:index/warehouse:Warehouse", {}), ["no physical name set"]),
        (
            rules.physical_name_prefix,
            rargs("snowflake:index/pipe:Pipe", {"database": "RDP_DEV_RETAIL", "schema": "BRONZE", "name": "P"}),
            [],
        ),
        (
            rules.physical_name_prefix,
            rargs("snowflake:index/pipe:Pipe", {"database": "OTHER", "schema": "B", "name": "P"}),
            ["database OTHER lacks"],
        ),
        (rules.physical_name_prefix, rargs("aws:s3/bucketV2:BucketV2", {"bucket": "rdp-dev-landing-1"}), []),
        (
            rules.physical_name_prefix,
            rargs("aws:s3/bucketV2:BucketV2", {"bucket": "landing"}),
            ["lacks prefix rdp-dev-"],
        ),
        (rules.physical_name_prefix, rargs("aws:sns/topic:Topic", {}), ["AWS would invent"]),
        # secrets
        (
            rules.no_plain_secrets,
            rargs("snowflake:index/secretWithGenericString:SecretWithGenericString", {"secretString": "[secret]"}),
            [],
        ),
        (
            rules.no_plain_secrets,
            rargs("pulumi:providers:snowflake", {"privateKey": "-----BEGIN RSA PRIVATE KEY-----\nMII..."}),
            ["PEM private key"],
        ),
        (
            rules.no_plain_secrets,
            rargs("snowflake:index/service:Service", {"spec": {"env": ["postgresql://app:hunter2@db:5432/x"]}}),
            ["password inside a connection URI"],
        ),
        (rules.no_plain_secrets, rargs("aws:iam/role:Role", {}), []),
    ],
)
def test_rule(rule, args, violations):
    found = run(rule, args)
    assert len(found) == len(violations), found
    for needle, msg in zip(violations, found, strict=True):
        assert needle in msg


def _res(typ: str, props: dict, name: str) -> PolicyResource:
    return PolicyResource(typ, props, f"{DEV}{typ}::{name}", name, _opts(), None, None, [], {})


def test_resource_monitor_rule():
    wh = _res(WH, {"name": "RDP_DEV_LOAD_WH"}, "wh")
    attach = _res(rules.EXECUTE, {"execute": 'ALTER WAREHOUSE "RDP_DEV_LOAD_WH" SET RESOURCE_MONITOR = "M"'}, "att")
    direct = _res(WH, {"name": "RDP_DEV_X_WH", "resourceMonitor": "M"}, "wh2")
    missing = _res(WH, {"name": "RDP_DEV_SERVE_WH"}, "wh3")
    found: list[str] = []
    rules.warehouse_resource_monitor(StackValidationArgs([wh, attach, direct], {}), lambda m, u=None: found.append(m))
    assert found == []
    rules.warehouse_resource_monitor(StackValidationArgs([wh, attach, missing], {}), lambda m, u=None: found.append(m))
    assert found == ["warehouse RDP_DEV_SERVE_WH: no resource monitor is attached"]


def plan_violations(plan: list[dict]) -> list[str]:
    found: list[str] = []

    def report(msg, urn=None):
        found.append(msg)

    resources = []
    for r in plan:
        args = ResourceValidationArgs(r["type"], r["inputs"], r["urn"], r["name"], _opts(r["protect"]), None)
        for rule in rules.RESOURCE_RULES.values():
            rule(args, report)
        resources.append(
            PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], _opts(r["protect"]), None, None, [], {})
        )
    for rule in rules.STACK_RULES.values():
        rule(StackValidationArgs(resources, {}), report)
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plans_pass_the_whole_pack(plans, stack):
    assert plan_violations(plans[stack]) == []


def test_pack_catches_an_unprotected_prod_database(plans):
    plan = [dict(r) for r in plans["prod"]]
    for r in plan:
        if r["type"].endswith("/database:Database"):
            r["protect"] = False
    assert any("must be protected" in v for v in plan_violations(plan))


def test_pack_module_loads():
    import runpy
    from unittest import mock

    with mock.patch("pulumi_policy.PolicyPack") as pack:
        runpy.run_path("infra/policy/__main__.py")
    policies = pack.call_args.kwargs["policies"]
    assert {p.name for p in policies} == set(rules.RESOURCE_RULES) | set(rules.STACK_RULES)
