"""The validated config of a stack, read from Pulumi.<stack>.yaml for scripts that run outside Pulumi."""

from __future__ import annotations

from infra.naming import Naming
from infra.plan import stack_config

__all__ = ["stack_config", "stack_naming"]


def stack_naming(stack: str) -> Naming:
    cfg = stack_config(stack)
    return Naming(cfg.prefix, cfg.stack)
