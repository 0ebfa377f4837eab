"""Snowflake rules: warehouse cost guard-rails, the compute pool, network exposure of the serving
Postgres instance, and no built-in administrative role in an environment stack."""

from __future__ import annotations

import re
from typing import Any

from infra.config.base import WAREHOUSE_SIZES
from infra.policy.common import REVIEW_STACK, Report, as_list, cidr_prefix, label, policy_of, stack_of

WAREHOUSE = "snowflake:index/warehouse:Warehouse"
EXECUTE = "snowflake:index/execute:Execute"
COMPUTE_POOL = "snowflake:index/computePool:ComputePool"
NETWORK_RULE = "snowflake:index/networkRule:NetworkRule"
POSTGRES_INSTANCE = "snowflake:index/postgresInstance:PostgresInstance"

# Snowflake's built-in administrative roles: only the account stack (stacks/account.py, applied by a
# human account administrator) uses them; an environment stack logs in with, and grants to, its own roles.
BUILTIN_ROLES = {"ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "ORGADMIN"}
ROLE_INPUTS = ("accountRoleName", "parentRoleName", "roleName")
# How a warehouse is put under a resource monitor: directly by ACCOUNTADMIN, or through the account
# stack's procedure for the environment (`CALL …"ATTACH_<monitor>"('<warehouse>')`).
MONITOR_ATTACHMENTS = (
    re.compile(r'ALTER WAREHOUSE "?([A-Z0-9_]+)"? SET RESOURCE_MONITOR'),
    re.compile(r"\"ATTACH_[A-Z0-9_]+\"\('([A-Z0-9_]+)'\)"),
)


def _rank(size: str) -> int:
    return WAREHOUSE_SIZES.index(str(size).upper())


def warehouse_auto_suspend(args: Any, report: Report) -> None:
    """Every stack: idle warehouses burn credits, so auto-suspend is on and within the cap (prod: the
    pack's constant; the config may only lower it) and auto-resume is on."""
    if args.resource_type != WAREHOUSE:
        return
    _within_cap(args, report, "autoSuspend", policy_of(args).max_auto_suspend)
    if str(args.props.get("autoResume", "true")).lower() != "true":
        report(f"{label(args)}: autoResume is off; fix: set autoResume true")


def warehouse_size_cap(args: Any, report: Report) -> None:
    """Every stack: the size is explicit and no larger than the cap (prod: LARGE whatever the config
    says; the config's maxWarehouseSize may only lower it)."""
    if args.resource_type != WAREHOUSE:
        return
    cap = policy_of(args).max_warehouse_size
    size = args.props.get("warehouseSize")
    if size is None:
        report(f"{label(args)}: warehouseSize is not set; fix: set it to at most {cap}")
    elif str(size).upper() not in WAREHOUSE_SIZES or _rank(size) > _rank(cap):
        report(f"{label(args)}: size {size} exceeds the cap {cap}; fix: choose a size up to {cap}")


def warehouse_statement_timeout(args: Any, report: Report) -> None:
    """Every stack: STATEMENT_TIMEOUT_IN_SECONDS is set on the warehouse and capped, so one runaway
    query cannot run for Snowflake's default two days."""
    if args.resource_type != WAREHOUSE:
        return
    _within_cap(args, report, "statementTimeoutInSeconds", policy_of(args).max_statement_timeout)


def _within_cap(args: Any, report: Report, prop: str, cap: int) -> None:
    """A warehouse's seconds-valued setting is set, positive and at most `cap`."""
    value = args.props.get(prop)
    if value is None:
        report(f"{label(args)}: {prop} is not set; fix: set it to 1..{cap}s")
    elif not 0 < int(value) <= cap:
        report(f"{label(args)}: {prop} {value}s is outside 1..{cap}s; fix: set it within that range")


def warehouse_resource_monitor(args: Any, report: Report) -> None:
    """Stack rule, every stack but per-PR review stacks: every warehouse has a resource monitor, set
    directly or attached through the account stack's procedure (only ACCOUNTADMIN may assign one). Review
    stacks (`pr-<n>`) have no monitor of their own; their warehouses stay under the size, auto-suspend and
    statement-timeout caps of the other rules."""
    stacks = {stack_of(r.urn) for r in args.resources}
    if stacks and all(REVIEW_STACK.match(s) for s in stacks):
        return
    attached = set()
    for r in args.resources:
        if r.resource_type == EXECUTE:
            sql = str(r.props.get("execute", ""))
            attached |= {m.group(1) for pattern in MONITOR_ATTACHMENTS if (m := pattern.search(sql))}
    for r in args.resources:
        if r.resource_type != WAREHOUSE:
            continue
        name = r.props.get("name")
        if not r.props.get("resourceMonitor") and name not in attached:
            report(f"Warehouse {name or r.name}: no resource monitor attached; fix: attach the stack's monitor", r.urn)


def compute_pool_caps(args: Any, report: Report) -> None:
    """Every stack: compute pools stay within the pack's node cap and CPU instance families (prod: 4
    nodes, CPU_X64_XS/S/M; others: 2 nodes, CPU_X64_XS/S), GPU and high-memory families need a review."""
    if args.resource_type != COMPUTE_POOL:
        return
    pol = policy_of(args)
    families = [args.props.get("instanceFamily"), *as_list(args.props.get("backupInstanceFamilies"))]
    bad = [str(f) for f in families if str(f).upper() not in pol.pool_families]
    if bad:
        allowed = ", ".join(sorted(pol.pool_families))
        report(f"{label(args)}: instance family {', '.join(bad)} is not allowed; fix: use one of {allowed}")
    max_nodes, min_nodes = args.props.get("maxNodes"), args.props.get("minNodes")
    if max_nodes is None or not 0 < int(max_nodes) <= pol.max_pool_nodes:
        report(f"{label(args)}: maxNodes {max_nodes} is outside 1..{pol.max_pool_nodes}; fix: lower api.maxNodes")
    elif min_nodes is not None and int(min_nodes) > int(max_nodes):
        report(f"{label(args)}: minNodes {min_nodes} exceeds maxNodes {max_nodes}; fix: lower api.minNodes")


def network_rule_cidr_width(args: Any, report: Report) -> None:
    """Every stack: no IPV4 network rule allows 0.0.0.0/0 (the whole internet); in prod none is wider
    than /8. Each value must be an IPv4 address or CIDR."""
    if args.resource_type != NETWORK_RULE or str(args.props.get("type", "")).upper() != "IPV4":
        return
    pol = policy_of(args)
    for value in as_list(args.props.get("valueLists")):
        prefix = cidr_prefix(value)
        if prefix is None:
            report(f"{label(args)}: {value!r} is not an IPv4 CIDR; fix: list CIDR blocks such as 203.0.113.0/24")
        elif prefix < pol.min_cidr_prefix:
            what = "opens it to the whole internet" if prefix == 0 else f"is wider than /{pol.min_cidr_prefix}"
            report(f"{label(args)}: {value} {what}; fix: list only the office or VPN ranges in allowedCidrs")


def postgres_network_policy(args: Any, report: Report) -> None:
    """Every stack: the Snowflake Postgres instance has a network policy, so only the allowed ranges
    (its POSTGRES_INGRESS rule) can reach it."""
    if args.resource_type == POSTGRES_INSTANCE and not args.props.get("networkPolicy"):
        report(f"{label(args)}: no network policy is attached; fix: set networkPolicy to the instance's policy")


def no_builtin_admin_roles(args: Any, report: Report) -> None:
    """Every environment stack: its Snowflake resources are managed by providers that log in with the
    stack's own role, never a built-in administrative one, and no grant gives to or takes from a built-in
    role. Those belong to the account stack, which a human account administrator applies (and which this
    pack does not run on): an environment's credentials can then never reach another environment."""
    provider = getattr(args, "provider", None)
    role = str(provider.props.get("role", "")).upper() if provider is not None else ""
    if args.resource_type.startswith("snowflake:") and role in BUILTIN_ROLES:
        report(f"{label(args)}: managed by a provider logged in as {role}; fix: use the stack's own admin role")
    for key in ROLE_INPUTS:
        if str(args.props.get(key, "")).upper() in BUILTIN_ROLES:
            report(f"{label(args)}: {key} is the built-in {args.props[key]}; fix: grant to the stack's own roles")
