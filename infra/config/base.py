"""What every config sub-model shares: camelCase keys as in Pulumi.<stack>.yaml, no unknown keys, frozen."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

CRON = re.compile(r"^(\S+\s+){4}\S+$")
LAG = re.compile(r"^\d+ (seconds|minutes|hours|days)$")


class ConfigModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def check_lag(value: str, example: str = "5 minutes") -> str:
    """A dynamic table's target lag as Snowflake takes it: `N seconds|minutes|hours|days` or DOWNSTREAM."""
    if value != "DOWNSTREAM" and not LAG.match(value):
        raise ValueError(f"must be like '{example}' (seconds|minutes|hours|days) or DOWNSTREAM")
    return value
