"""The operations alerts' config: whether they run, how often, and the thresholds that are a stack's call."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import ConfigModel


class OperationsConfig(ConfigModel):
    """`enabled: false` declares the alerts suspended (a review stack's identity holds no EXECUTE ALERT).
    The silence and age windows stay inside the history Snowflake keeps (COPY_HISTORY 14 days,
    TASK_HISTORY 7) with more than a day to spare, so a silence or an age is seen crossing its limit."""

    enabled: bool = False
    schedule_minutes: int = Field(default=60, ge=1, le=1439)  # Snowflake's alert interval: under a day
    pipe_silence_hours: int = Field(default=24, ge=1, le=288)
    serving_max_age_hours: int = Field(default=26, ge=1, le=120)
