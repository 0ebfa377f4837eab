"""The operations config: read from the stack files like every capability's, a wrong value refused
naming its key, and a review stack refused running alerts."""

from __future__ import annotations

import json

import pytest

from infra.config.reader import ConfigError, own_keys, parse_config, read_stack_file, stack_config
from infra.operations.config import OperationsConfig


def _with(stack: str, **operations: object) -> dict:
    values, secret = read_stack_file(stack)
    own, _ = own_keys(values, set(secret))
    current = json.loads(own["operations"])
    return own | {"operations": json.dumps(current | operations)}


def test_the_stack_files_set_every_key():
    for stack, enabled in (("dev", False), ("prod", True)):
        ops = stack_config(stack).operations
        assert ops == OperationsConfig(
            enabled=enabled, schedule_minutes=60, pipe_silence_hours=24, serving_max_age_hours=26
        )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scheduleMinutes", 0, "operations.scheduleMinutes: Input should be greater than or equal to 1"),
        ("scheduleMinutes", 1440, "operations.scheduleMinutes: Input should be less than or equal to 1439"),
        ("pipeSilenceHours", 289, "operations.pipeSilenceHours: Input should be less than or equal to 288"),
        ("servingMaxAgeHours", 0, "operations.servingMaxAgeHours: Input should be greater than or equal to 1"),
        ("enabled", "sometimes", "operations.enabled: Input should be a valid boolean"),
        ("scheduleMinute", 5, "operations.scheduleMinute: Extra inputs are not permitted"),
    ],
)
def test_a_wrong_value_fails_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=f"retail-data-platform:{message}"):
        parse_config(_with("dev", **{key: value}), "dev")


def test_a_review_stack_may_not_enable_alerts():
    values = _with("dev", enabled=True)
    snowflake = json.loads(values["snowflake"]) | {"deployUser": "RDP_REVIEW_DEPLOYER"}
    values |= {"environment": "review", "snowflake": json.dumps(snowflake)}
    with pytest.raises(ConfigError, match=r"operations\.enabled must be false in a review stack"):
        parse_config(values, "pr-1")
