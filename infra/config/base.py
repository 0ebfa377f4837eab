"""What every config sub-model shares: camelCase keys as in Pulumi.<stack>.yaml, no unknown keys, frozen,
and the value types more than one capability checks (cron schedules, time zones, lags, warehouse sizes)."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

PROJECT = "retail-data-platform"

_CRON = re.compile(r"^(\S+\s+){4}\S+$")
_LAG = re.compile(r"^\d+ (seconds|minutes|hours|days)$")
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}

# Prod by NAME (`prod`, `production`, `prod-<x>`), whatever the stack's config says: the policy pack
# and the guard on synthetic data go by it, so a config cannot talk a prod stack out of either.
PROD_STACK = re.compile(r"^prod(uction)?(-[a-z0-9-]+)?$")

WAREHOUSE_SIZES = (
    "XSMALL",
    "SMALL",
    "MEDIUM",
    "LARGE",
    "XLARGE",
    "XXLARGE",
    "XXXLARGE",
    "X4LARGE",
    "X5LARGE",
    "X6LARGE",
)
WarehouseSize = Literal[
    "XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE", "X5LARGE", "X6LARGE"
]


def is_prod_stack(stack: str) -> bool:
    return bool(PROD_STACK.match(stack))


def warehouse_size_rank(size: str) -> int:
    return WAREHOUSE_SIZES.index(size)


class ConfigModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    def updated(self, **changes: object) -> Self:
        """A copy with some fields changed, validated like the stack file's values (CLI overrides)."""
        return type(self).model_validate({**self.model_dump(), **changes})


def check_cron(value: str) -> str:
    """A five-field cron expression, as Snowflake's `USING CRON` takes it (the time zone is separate)."""
    if not _CRON.match(value.strip()):
        raise ValueError("must be a five-field cron expression such as '0 2 * * *'")
    return value.strip()


def check_lag(value: str) -> str:
    """A dynamic table's target lag as Snowflake takes it: `N seconds|minutes|hours|days` of at least a
    minute (Snowflake's minimum), or DOWNSTREAM."""
    if value == "DOWNSTREAM":
        return value
    if not _LAG.match(value):
        raise ValueError("must be like '5 minutes' (seconds|minutes|hours|days) or DOWNSTREAM")
    number, unit = value.split()
    if int(number) * _SECONDS[unit] < 60:
        raise ValueError(f"{value!r} is below Snowflake's minimum target lag of 1 minute")
    return value


Cron = Annotated[str, AfterValidator(check_cron)]
Lag = Annotated[str, AfterValidator(check_lag)]
TimeZone = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")]


def target_lag(value: str) -> dict:
    """A checked lag as the provider's `target_lag` argument."""
    return {"downstream": True} if value == "DOWNSTREAM" else {"maximum_duration": value}
