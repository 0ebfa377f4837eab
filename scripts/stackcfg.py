"""The validated config of a stack, read from Pulumi.<stack>.yaml for scripts that run outside Pulumi."""

from __future__ import annotations

from infra.config import PROJECT, StackConfig, parse_config
from infra.naming import Naming


def stack_config(stack: str) -> StackConfig:
    from infra.plan import read_stack_file

    values, secret_keys = read_stack_file(stack)
    prefix = f"{PROJECT}:"
    return parse_config(
        {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)},
        stack,
        {k[len(prefix) :] for k in secret_keys},
    )


def stack_naming(stack: str) -> Naming:
    cfg = stack_config(stack)
    return Naming(cfg.prefix, cfg.stack)
