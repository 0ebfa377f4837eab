"""The monitor (`python -m scripts.monitor`) and the dashboard's Operations tab watch every ingestion feed:
each feed's pipe, stream and task as the plan declares them, read from the feeds' catalog, never a list of
their own; a planted fault on one feed (a sales pipe error, an inventory task that never ran, a stale sales
stream, a failed local load) is red on that feed's object alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from snowflake.connector.errors import ProgrammingError

from infra import monitoring
from infra.config.reader import stack_config
from infra.ingestion.catalog import FEEDS
from scripts.monitor import signals
from services.features import health

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
RUNNING = json.dumps({"executionState": "RUNNING", "pendingFileCount": 0})
TASK_COLUMNS = ["NAME", "STATE", "ERROR_MESSAGE", "COMPLETED_TIME"]
STREAM_COLUMNS = ["name", "stale", "stale_after"]


def _declared(plan: list[dict], kind: str, schema: str) -> set[str]:
    return {
        str(r["inputs"]["name"]).upper()
        for r in plan
        if r["type"] == f"snowflake:index/{kind}" and str(r["inputs"].get("schema", "")).upper() == schema
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_monitor_watches_every_pipe_and_the_feeds_streams_and_tasks_the_plan_declares(plans, stack):
    feeds = signals.names(stack_config(stack)).feeds
    assert {f.pipe for f in feeds} == _declared(plans[stack], "pipe:Pipe", "BRONZE")
    assert len(feeds) == len(FEEDS) >= 3
    streams, tasks = (
        _declared(plans[stack], "streamOnTable:StreamOnTable", "STREAMS_TASKS"),
        _declared(plans[stack], "task:Task", "STREAMS_TASKS"),
    )
    assert {f.stream for f in feeds} <= streams and {f.task for f in feeds} <= tasks
    # each feed's pipe is read by its own query, naming that pipe
    q = signals.stack_queries("RDP_DEV_RETAIL")
    for f in feeds:
        assert f"BRONZE.{f.pipe}')" in q[f"{f.scope}.stack_pipe"]


class FakeCursor:
    """Snowflake's answers to the stack queries: every task and stream healthy, each pipe RUNNING unless
    a planted status names it."""

    def __init__(self, pipes: dict[str, str | None], tasks: list[tuple], streams: list[tuple]):
        self.pipes, self.tasks, self.streams = pipes, tasks, streams
        self.description, self.rows = None, []

    def execute(self, sql: str) -> None:
        if "PIPE_STATUS" in sql:
            name = sql.split("'")[1].rsplit(".", 1)[1]
            status = self.pipes.get(name, RUNNING)
            if status is None:
                raise ProgrammingError("Insufficient privileges to operate on pipe")
            names, self.rows = ["STATUS"], [(status,)]
        elif "TASK_HISTORY" in sql:
            names, self.rows = TASK_COLUMNS, self.tasks
        elif "SHOW STREAMS" in sql:
            names, self.rows = STREAM_COLUMNS, self.streams
        else:
            names, self.rows = ["NAME", "STATE", "STATE_MESSAGE", "REFRESH_END_TIME", "LAG_SECONDS"], []
        self.description = [(n,) for n in names]

    def fetchall(self):
        return self.rows


def _healthy(feeds) -> tuple[list[tuple], list[tuple]]:
    tasks = [(f.task, "SUCCEEDED", None, NOW) for f in feeds] + [("ANALYTICS_ROOT", "SUCCEEDED", None, NOW)]
    streams = [(f.stream, "false", NOW + timedelta(days=10)) for f in feeds]
    return tasks, [*streams, ("ORDERS_STREAM", "false", NOW + timedelta(days=10))]


def _ingestion(found: list[health.Signal]) -> dict[str, str]:
    return {s.name: s.status for s in found if s.capability == "ingestion"}


def test_every_feed_is_green_when_healthy_and_a_sales_pipe_error_is_red_on_the_sales_pipe():
    cfg = stack_config("dev")
    feeds = signals.names(cfg).feeds
    tasks, streams = _healthy(feeds)
    found = signals.stack_signals(FakeCursor({}, tasks, streams), "RDP_DEV_RETAIL", cfg, NOW)
    every = {n for f in feeds for n in (f.pipe, f.stream, f.task)}
    assert _ingestion(found) == dict.fromkeys(every, health.OK)
    assert next(s for s in found if s.name == "ORDERS_STREAM").capability == "analytics"
    error = json.dumps({"executionState": "RUNNING", "pendingFileCount": 3, "error": "planted: notification lost"})
    sales = FEEDS["sales"].catalog.name("pipe")
    found = signals.stack_signals(FakeCursor({sales: error}, tasks, streams), "RDP_DEV_RETAIL", cfg, NOW)
    assert _ingestion(found) == {**dict.fromkeys(every, health.OK), sales: health.RED}
    assert "planted: notification lost" in next(s for s in found if s.name == sales).detail


def test_a_feeds_missing_task_run_stale_stream_and_unreadable_pipe_are_red():
    cfg = stack_config("dev")
    feeds = {f.scope: f for f in signals.names(cfg).feeds}
    inventory, sales, customer = feeds["ingestion:inventory"], feeds["ingestion:sales"], feeds["ingestion:customer"]
    tasks, streams = _healthy(feeds.values())
    tasks = [t for t in tasks if t[0] != inventory.task]  # suspended: no run in the past week
    streams = [(n, "true", a) if n == sales.stream else (n, s, a) for n, s, a in streams]
    cur = FakeCursor({customer.pipe: None}, tasks, streams)
    found = signals.stack_signals(cur, "RDP_DEV_RETAIL", cfg, NOW)
    red = {s.name: s.detail for s in found if s.status == health.RED and s.capability == "ingestion"}
    assert set(red) == {inventory.task, sales.stream, customer.pipe}
    assert red[inventory.task].startswith("no run in the past week")
    assert red[sales.stream] == "stale"
    assert "Insufficient privileges" in red[customer.pipe]


def test_on_the_stand_in_each_feeds_last_load_is_read_and_a_failed_sales_load_is_red():
    names = signals.names(stack_config("dev"))
    loads = {
        "ingestion:customer": [{"file_name": "c.csv", "status": "LOADED", "loaded_at": NOW}],
        "ingestion:sales": [{"file_name": "s.csv", "status": "LOAD_FAILED", "loaded_at": NOW}],
        "ingestion:inventory": [],  # not rehearsed yet
    }
    asked: list[str] = []

    def run(key: str) -> list[dict]:
        asked.append(key)
        scope, name = key.split(".", 1)
        if name == "local_pipe":
            return loads[scope]
        raise health.ReadError("not rehearsed")

    found = {s.name: s for s in health.local_signals(run, names) if s.capability == "ingestion"}
    assert {k for k in asked if k.endswith(".local_pipe")} == {f"{s}.local_pipe" for s in loads}
    pipe = {f.scope: f.pipe for f in names.feeds}
    assert found[pipe["ingestion:sales"]].status == health.RED and "LOAD_FAILED of s.csv" in (
        found[pipe["ingestion:sales"]].detail
    )
    assert found[pipe["ingestion:customer"]].status == health.NA  # the stand-in has no pipe state
    assert found[pipe["ingestion:inventory"]].detail == health.NOT_REHEARSED


def test_the_dashboard_reads_the_same_feeds():
    desc = monitoring.app_description()
    assert [f["pipe"] for f in desc["feeds"]] == [f.catalog.name("pipe") for f in FEEDS.values()]
    assert set(desc["params"]) == {"analytics", "cdc", *(f"ingestion:{k}" for k in FEEDS)}
