"""What every config sub-model shares: camelCase keys as in Pulumi.<stack>.yaml, no unknown keys, frozen."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

CRON = re.compile(r"^(\S+\s+){4}\S+$")
LAG = re.compile(r"^\d+ (seconds|minutes|hours|days)$")


# Prod by NAME (`prod`, `production`, `prod-<x>`), whatever the stack's config says: the policy pack
# and the guard on synthetic data go by it, so a config cannot talk a prod stack out of either.
PROD_STACK = re.compile(r"^prod(uction)?(-[a-z0-9-]+)?$")


def is_prod_stack(stack: str) -> bool:
    return bool(PROD_STACK.match(stack))


class ConfigModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}


def check_lag(value: str, example: str = "5 minutes") -> str:
    """A dynamic table's target lag as Snowflake takes it: `N seconds|minutes|hours|days` of at least a
    minute (Snowflake's minimum), or DOWNSTREAM."""
    if value == "DOWNSTREAM":
        return value
    if not LAG.match(value):
        raise ValueError(f"must be like '{example}' (seconds|minutes|hours|days) or DOWNSTREAM")
    number, unit = value.split()
    if int(number) * SECONDS[unit] < 60:
        raise ValueError(f"{value!r} is below Snowflake's minimum target lag of 1 minute")
    return value


def target_lag(value: str) -> dict:
    """A checked lag as the provider's `target_lag` argument."""
    return {"downstream": True} if value == "DOWNSTREAM" else {"maximum_duration": value}
