"""The platform's red/green judgement of what it runs, as plain functions of the rows read (no connection).

Shared by `python -m scripts.monitor` (rich tables in a terminal) and the dashboard's Operations tab
(Streamlit in Snowflake): both run the same queries (sql/<cap>/monitor.sql) through a `Run` of their
own and hand the rows here, so a signal is red for the same reason in both places.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

OK, RED, NA = "ok", "red", "n/a"
STANDIN = "not available on the stand-in"
NOT_REHEARSED = "not rehearsed on the stand-in yet"
FAILED_TASK_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED", "CANCELLED")
FAILED_REFRESH_STATES = ("FAILED", "UPSTREAM_FAILED", "CANCELLED")
STALE_WITHIN_SECONDS = 24 * 3600  # a stream that goes stale within a day is red
LAG_FACTOR = 2  # a dynamic table further behind than twice its target lag is red
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

Row = Mapping[str, Any]
# A dynamic table's target lag: seconds, None for DOWNSTREAM (no target of its own), or a sentence
# saying where the target is kept when the reader cannot know it (the dashboard has no stack config).
Target = int | str | None


class ReadError(RuntimeError):
    """A query could not run (a missing grant, a table the stand-in has not got); the message says why."""


# Runs one query by its key (`analytics.stack_tasks`) and returns its rows with lower-case column names.
Run = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Signal:
    """One row of a capability's table: the object, what was read, and its status (ok, red or n/a)."""

    capability: str
    name: str
    detail: str
    status: str


@dataclass(frozen=True)
class FeedNames:
    """One ingestion feed's objects, by their names as Snowflake's metadata lists them; `scope` is the
    prefix of its own monitor queries (`ingestion:sales` → `ingestion:sales.stack_pipe`)."""

    scope: str
    pipe: str
    stream: str
    task: str


@dataclass(frozen=True)
class Names:
    """What the judgement needs to know of the stack's objects: every ingestion feed's pipe, stream and
    task, and every dynamic table's capability and target lag (in the order the CDC rehearsal reports
    its lags)."""

    feeds: Sequence[FeedNames]
    dynamic_tables: Mapping[str, tuple[str, Target]]
    cdc_tables: Sequence[str]


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
    capability: str, name: str, lag: float | None, target: Target, state: str = "", refreshed: str = ""
) -> Signal:
    """Red when the last refresh failed, when it never caught up, or when its lag is over twice its
    target; a DOWNSTREAM table (no target), or one whose target the reader cannot know, is judged by
    its state alone."""
    if target is None:
        want = "target DOWNSTREAM"
    else:
        want = f"target: {target}" if isinstance(target, str) else f"target {target}s"
    shown = "never refreshed" if lag is None else f"lag {int(lag)}s"
    detail = ", ".join(p for p in (shown, want, state and f"last refresh {state}", refreshed) if p)
    red = state.upper() in FAILED_REFRESH_STATES or lag is None
    red = red or (isinstance(target, int) and lag is not None and lag > LAG_FACTOR * target)
    return Signal(capability, name, detail, RED if red else OK)


def stream(
    name: str, stale: object, stale_after: datetime | None, now: datetime, capability: str = "analytics"
) -> Signal:
    """Red when the stream is stale or will be within a day (SHOW STREAMS' `stale`, `stale_after`)."""
    if str(stale).lower() == "true":
        return Signal(capability, name, "stale", RED)
    if stale_after is None:
        return Signal(capability, name, "no stale_after reported", OK)
    if stale_after.tzinfo is None:
        now = now.replace(tzinfo=None)
    left = (stale_after - now).total_seconds()
    detail = f"stale after {stale_after:%Y-%m-%d %H:%M} ({left / 3600:.0f} h left)"
    return Signal(capability, name, detail, RED if left < STALE_WITHIN_SECONDS else OK)


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


def dynamic_tables(rows: list[Row], targets: Mapping[str, tuple[str, Target]]) -> list[Signal]:
    """DYNAMIC_TABLE_REFRESH_HISTORY's last refresh per table, judged against the target lags; a
    declared dynamic table with no refresh at all is red."""
    seen = {r["name"]: r for r in rows}
    found = []
    for name, (cap, target) in targets.items():
        r = seen.get(name)
        if r is None:
            found.append(dynamic_table(cap, name, None, target, "", "no refresh in the history"))
            continue
        when = f"at {r['refresh_end_time']:%Y-%m-%d %H:%M}" if r.get("refresh_end_time") else ""
        found.append(dynamic_table(cap, name, r["lag_seconds"], target, r["state"], when))
    return found


def stack_signals(run: Run, names: Names, now: datetime) -> list[Signal]:
    """A deployed stack's Snowflake signals; a query the session may not run (a missing MONITOR
    grant) is red with Snowflake's message. The feeds' tasks and streams are the ingestion's (each
    must be there: a suspended task has no run to show), the others the analytics'."""
    feed_tasks = {f.task: f for f in names.feeds}
    feed_streams = {f.stream: f for f in names.feeds}

    def tasks(rows: list[Row]) -> list[Signal]:
        found = [
            task(cap_of(r["name"], feed_tasks), r["name"], r["state"], r["error_message"], r["completed_time"])
            for r in rows
        ]
        return found + _missing(rows, feed_tasks, "no run in the past week: suspended, or never scheduled")

    def streams(rows: list[Row]) -> list[Signal]:
        found = [
            stream(r["name"], r.get("stale"), r.get("stale_after"), now, cap_of(r["name"], feed_streams)) for r in rows
        ]
        return found + _missing(rows, feed_streams, "not listed by SHOW STREAMS: dropped, or not visible to this role")

    pipes = [
        signal
        for f in names.feeds
        for signal in _read(
            run, f"{f.scope}.stack_pipe", "ingestion", f.pipe, lambda r, f=f: [pipe(f.pipe, r[0]["status"])]
        )
    ]
    return [
        *_read(run, "analytics.stack_tasks", "analytics", "tasks", tasks),
        *_read(
            run, "cdc.stack_dynamic_tables", "cdc", "dynamic tables", lambda r: dynamic_tables(r, names.dynamic_tables)
        ),
        *pipes,
        *_read(run, "analytics.stack_streams", "analytics", "streams", streams),
    ]


def cap_of(name: str, feed_objects: Mapping[str, FeedNames]) -> str:
    """The capability a task or stream belongs to: an ingestion feed's, else the analytics'."""
    return "ingestion" if name in feed_objects else "analytics"


def _missing(rows: list[Row], wanted: Mapping[str, FeedNames], why: str) -> list[Signal]:
    """A feed's task or stream the metadata does not show is red."""
    seen = {r["name"] for r in rows}
    return [Signal("ingestion", name, why, RED) for name in wanted if name not in seen]


def _read(run: Run, key: str, cap: str, what: str, judge: Callable[[list[Row]], list[Signal]]) -> list[Signal]:
    try:
        rows = run(key)
    except ReadError as e:
        return [Signal(cap, what, f"cannot read: {e}", RED)]
    return judge(rows)


def local_signals(run: Run, names: Names) -> list[Signal]:
    """What the stand-ins' rehearsals record; a signal they cannot give is n/a, never made up."""
    found = _local(run, "analytics.local_tasks", "analytics", "task graph", _local_tasks)
    found += _local(run, "cdc.local_dynamic_tables", "cdc", "dynamic tables", lambda rows: _local_cdc(rows, names))
    found.append(unavailable("analytics", "dynamic tables (enriched_orders, …)"))
    for f in names.feeds:
        found += _local(run, f"{f.scope}.local_pipe", "ingestion", f.pipe, lambda rows, f=f: _local_pipe(rows, f.pipe))
    found.append(unavailable("analytics", "streams' staleness"))
    return found


def _local(run: Run, key: str, cap: str, what: str, judge: Callable[[list[Row]], list[Signal]]) -> list[Signal]:
    try:
        rows = run(key)
    except ReadError:  # the rehearsal's table does not exist yet
        return [unavailable(cap, what, NOT_REHEARSED)]
    return judge(rows) if rows else [unavailable(cap, what, NOT_REHEARSED)]


def _local_tasks(rows: list[Row]) -> list[Signal]:
    return [task("analytics", r["task_name"], r["state"], r["reason"], r["finished_at"]) for r in rows]


def _local_cdc(rows: list[Row], names: Names) -> list[Signal]:
    row = rows[0]
    refreshed = row["refreshed_at"]
    when = f"last local refresh {refreshed:%Y-%m-%d %H:%M}" if refreshed else "no local refresh yet"
    found = []
    for name in names.cdc_tables:
        lag = row[f"{name.lower()}_lag_seconds"]
        found.append(dynamic_table("cdc", name, lag, names.dynamic_tables[name][1], "", when))
    return found


def _local_pipe(rows: list[Row], name: str) -> list[Signal]:
    """The local pipe has no state of its own: n/a, but red when its last load failed (as Snowpipe's
    COPY_HISTORY would show a LOAD_FAILED file)."""
    r = rows[0]
    detail = f"pipe state {STANDIN}; last load {r['status']} of {r['file_name']} at {r['loaded_at']:%Y-%m-%d %H:%M}"
    return [Signal("ingestion", name, detail, RED if str(r["status"]).upper() == "LOAD_FAILED" else NA)]
