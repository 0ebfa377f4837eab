"""What every rule shares: which stack a resource belongs to, whether that stack is prod, the limits
the pack enforces there, and small readers for resource inputs.

Prod-ness comes from the STACK NAME (the URN's stack part), never from the policed config: a stack
named `prod` or `production`, optionally with a `-<suffix>` (`prod-eu`, `production-2`), is prod
whatever its Pulumi.<stack>.yaml says. Its limits are the pack's own PROD constants below; the stack's
config can only make them stricter. Other stacks get the NON_PROD constants, tightened by their config
in the same way.

| limit | PROD | NON_PROD |
|---|---|---|
| warehouse size cap | LARGE | MEDIUM |
| warehouse auto-suspend cap | 600 s | 600 s |
| warehouse STATEMENT_TIMEOUT_IN_SECONDS cap | 7200 s | 3600 s |
| compute pool max nodes | 4 | 2 |
| compute pool instance families | CPU_X64_XS, CPU_X64_S, CPU_X64_M | CPU_X64_XS, CPU_X64_S |
| network rule (IPV4) widest CIDR | /8 | /1 (never /0) |
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pulumi_policy import Secret

from infra.account.catalog import monitor_name
from infra.config.base import WAREHOUSE_SIZES, is_prod_stack
from infra.config.cost import CostConfig
from infra.config.reader import SECRET_MARK, ConfigError, stack_config
from infra.config.stack import StackConfig
from infra.cost import monitor_record
from infra.naming import Naming

Report = Callable[..., None]

DEFAULT_PREFIX = "RDP"


@dataclass(frozen=True)
class PackLimits:
    """The pack's own ceilings for one class of stack (see the table in the module docstring)."""

    max_warehouse_size: str
    max_auto_suspend: int
    max_statement_timeout: int
    max_pool_nodes: int
    pool_families: frozenset[str]
    min_cidr_prefix: int


PROD = PackLimits(
    max_warehouse_size="LARGE",
    max_auto_suspend=600,
    max_statement_timeout=7200,
    max_pool_nodes=4,
    pool_families=frozenset({"CPU_X64_XS", "CPU_X64_S", "CPU_X64_M"}),
    min_cidr_prefix=8,
)
NON_PROD = PackLimits(
    max_warehouse_size="MEDIUM",
    max_auto_suspend=600,
    max_statement_timeout=3600,
    max_pool_nodes=2,
    pool_families=frozenset({"CPU_X64_XS", "CPU_X64_S"}),
    min_cidr_prefix=1,
)


@dataclass(frozen=True)
class StackPolicy(PackLimits):
    """The effective limits of one stack: the pack's constants, tightened by its config."""

    stack: str
    prod: bool
    naming: Naming
    protect: bool
    environment: str | None  # what the stack's config says, None when it could not be read
    config_error: str | None
    cost: CostConfig  # the config's `cost` (its defaults, without a budget, when it could not be read)
    monitors: tuple[dict, ...] = ()  # the account stack's monitor of this environment, as a plan record


# Per-PR review stacks (review-stack.yml names them pr-<number>).
REVIEW_STACK = re.compile(r"^pr-\d+$")


def stack_of(urn: str) -> str:
    m = re.match(r"^urn:pulumi:([^:]+)::", urn or "")
    if not m:
        raise ValueError(f"cannot tell the stack from URN {urn!r}")
    return m.group(1)


def smaller_size(a: str, b: str) -> str:
    return a if WAREHOUSE_SIZES.index(a) <= WAREHOUSE_SIZES.index(b) else b


@cache
def policy_for(stack: str) -> StackPolicy:
    """Cached per stack; tests that swap the stack file call `policy_for.cache_clear()`."""
    prod = is_prod_stack(stack)
    pack = PROD if prod else NON_PROD
    cfg: StackConfig | None = None
    error = None
    try:
        cfg = stack_config(stack)
    except (ConfigError, ValueError) as e:
        error = str(e)
    tightened = (
        {
            "max_warehouse_size": smaller_size(pack.max_warehouse_size, cfg.max_warehouse_size),
            "max_auto_suspend": min(pack.max_auto_suspend, cfg.max_auto_suspend_seconds),
        }
        if cfg
        else {}
    )
    return StackPolicy(
        **{**vars(pack), **tightened},
        stack=stack,
        prod=prod,
        naming=cfg.naming if cfg else Naming(DEFAULT_PREFIX, stack),
        protect=prod or bool(cfg and cfg.protect),
        environment=cfg.environment if cfg else None,
        config_error=error,
        cost=cfg.cost if cfg else CostConfig(),
        monitors=(monitor_record(monitor_name(cfg.naming), cfg.resource_monitor),) if cfg else (),
    )


def policy_of(args: Any) -> StackPolicy:
    return policy_for(stack_of(args.urn))


def label(args: Any) -> str:
    """`Warehouse foundation-wh-load`: the resource as `pulumi preview` lists it."""
    return f"{args.resource_type.split(':')[-1]} {args.name}"


def is_secret(value: Any) -> bool:
    """Secret as the engine reports it: masked by the pack's entry point (and by the offline plan) as
    SECRET_MARK, or a pulumi_policy.Secret where the SDK itself keeps the mark."""
    return isinstance(value, Secret) or value == SECRET_MARK


def truthy(value: Any) -> bool:
    """Booleans arrive as bools or as the provider's "true"/"false" strings."""
    return value is True or str(value).lower() == "true"


def values(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a (nested) input with its dotted path."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        yield path or "(value)", value
    elif hasattr(value, "items"):
        for k, v in value.items():
            yield from values(v, f"{path}.{k}" if path else str(k))
    else:
        for i, v in enumerate(value):
            yield from values(v, f"{path}[{i}]")


def get_path(props: Any, path: str) -> Any:
    """`registry.password` → props["registry"]["password"], None where any part is missing."""
    cur = props
    for part in path.split("."):
        if not hasattr(cur, "get"):
            return None
        cur = cur.get(part)
    return cur


def policy_document(value: Any) -> dict | None:
    """An IAM policy document given as JSON text or as an object; None when it is not one."""
    if hasattr(value, "items"):
        return dict(value)
    try:
        doc = json.loads(value)
    except (TypeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def statements(doc: dict) -> list[dict]:
    st = doc.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if hasattr(s, "get")]


def as_list(value: Any) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) or hasattr(value, "items") else list(value)


def cidr_prefix(value: str) -> int | None:
    """Prefix length of an IPv4 CIDR or address; None when the value is not one."""
    try:
        return ipaddress.IPv4Network(str(value), strict=False).prefixlen
    except ValueError:
        return None
