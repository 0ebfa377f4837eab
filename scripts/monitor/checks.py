"""The monitor's signals and their red/green rules, as plain functions of the rows read (no connection)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

OK, RED, NA = "ok", "red", "n/a"
STANDIN = "not available on the stand-in"
FAILED_TASK_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED", "CANCELLED")
FAILED_REFRESH_STATES = ("FAILED", "UPSTREAM_FAILED", "CANCELLED")
STALE_WITHIN_SECONDS = 24 * 3600  # a stream that goes stale within a day is red
LAG_FACTOR = 2  # a dynamic table further behind than twice its target lag is red
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Signal:
    """One row of a capability's table: the object, what was read, and its status (ok, red or n/a)."""

    capability: str
    name: str
    detail: str
    status: str


def lag_seconds(lag: str) -> int | None:
    """A config lag (`60 minutes`) in seconds; None for DOWNSTREAM, which has no target of its own."""
    if lag.strip().upper() == "DOWNSTREAM":
        return None
    count, unit = lag.split()
    return int(count) * UNITS[unit.lower().rstrip("s")]


def task(capability: str, name: str, state: str, reason: str | None, when: datetime | None) -> Signal:
    """A task is red when its last run failed."""
    detail = f"last run {state} at {when:%Y-%m-%d %H:%M:%S}" if when else f"last run {state}"
    if reason:
        detail += f": {reason}"
    return Signal(capability, name, detail, RED if state.upper() in FAILED_TASK_STATES else OK)


def dynamic_table(
    capability: str, name: str, lag: float | None, target: int | None, state: str = "", refreshed: str = ""
) -> Signal:
    """Red when the last refresh failed, when it never caught up, or when its lag is over twice its
    target; a DOWNSTREAM table (no target) is judged by its state alone."""
    want = f"target {target}s" if target is not None else "target DOWNSTREAM"
    shown = "never refreshed" if lag is None else f"lag {int(lag)}s"
    detail = ", ".join(p for p in (shown, want, state and f"last refresh {state}", refreshed) if p)
    red = state.upper() in FAILED_REFRESH_STATES or lag is None
    red = red or (target is not None and lag is not None and lag > LAG_FACTOR * target)
    return Signal(capability, name, detail, RED if red else OK)


def stream(name: str, stale: object, stale_after: datetime | None, now: datetime) -> Signal:
    """Red when the stream is stale or will be within a day (SHOW STREAMS' `stale`, `stale_after`)."""
    if str(stale).lower() == "true":
        return Signal("analytics", name, "stale", RED)
    if stale_after is None:
        return Signal("analytics", name, "no stale_after reported", OK)
    if stale_after.tzinfo is None:
        now = now.replace(tzinfo=None)
    left = (stale_after - now).total_seconds()
    detail = f"stale after {stale_after:%Y-%m-%d %H:%M} ({left / 3600:.0f} h left)"
    return Signal("analytics", name, detail, RED if left < STALE_WITHIN_SECONDS else OK)


def pipe(name: str, status_json: str) -> Signal:
    """SYSTEM$PIPE_STATUS: red unless the pipe is RUNNING, or when it reports an error."""
    status = json.loads(status_json)
    state = status.get("executionState", "?")
    pending, last = status.get("pendingFileCount", "?"), status.get("lastIngestedTimestamp")
    detail = f"{state}, {pending} pending, last ingested {last}"
    error = status.get("error")
    if error:
        detail += f", error: {error}"
    return Signal("ingestion", name, detail, RED if state != "RUNNING" or error else OK)


def serving(name: str, age: float | None, max_age: float) -> Signal:
    """A serving table is red when its last sync is older than the threshold, or was never seen."""
    if age is None:
        return Signal("serving", name, "no sync recorded", RED)
    detail = f"synced {age / 3600:.1f} h ago (threshold {max_age / 3600:.0f} h)"
    return Signal("serving", name, detail, RED if age > max_age else OK)


def unavailable(capability: str, name: str, why: str = STANDIN) -> Signal:
    return Signal(capability, name, why, NA)


def exit_code(signals: list[Signal]) -> int:
    """1 when any signal is red, else 0."""
    return 1 if any(s.status == RED for s in signals) else 0
