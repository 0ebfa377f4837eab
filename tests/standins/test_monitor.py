"""`python -m scripts.monitor`: the red/green rules on hand-made rows, the stack's queries as built, and
`--local` on the stand-ins (healthy, then with a planted failed task run and stale serving tables)."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from snowflake.connector.errors import ProgrammingError
from typer.testing import CliRunner

from infra.analytics import catalog as analytics
from infra.config.reader import stack_config
from infra.sqlfiles import named_queries
from scripts import standins
from scripts.monitor import __main__ as cli
from scripts.monitor import signals
from services.features import health as checks

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_rules_on_hand_made_rows():
    assert checks.lag_seconds("60 minutes") == 3600 and checks.lag_seconds("DOWNSTREAM") is None
    assert checks.task("analytics", "T", "FAILED", "boom", None).status == checks.RED
    assert checks.task("analytics", "T", "SUCCEEDED", "", NOW).status == checks.OK
    assert checks.dynamic_table("cdc", "D", 7200, 3600).status == checks.OK  # exactly 2x is still green
    assert checks.dynamic_table("cdc", "D", 7201, 3600).status == checks.RED
    assert checks.dynamic_table("cdc", "D", 10**6, None).status == checks.OK  # DOWNSTREAM: no target
    assert checks.dynamic_table("cdc", "D", 10, 3600, "FAILED").status == checks.RED
    assert checks.dynamic_table("cdc", "D", None, 3600).status == checks.RED  # never refreshed
    assert checks.stream("S", "false", NOW + timedelta(hours=23), NOW).status == checks.RED
    assert checks.stream("S", "false", NOW + timedelta(days=3), NOW).status == checks.OK
    assert checks.stream("S", "true", NOW + timedelta(days=3), NOW).status == checks.RED
    assert checks.pipe("P", json.dumps({"executionState": "RUNNING", "pendingFileCount": 0})).status == checks.OK
    assert checks.pipe("P", json.dumps({"executionState": "STOPPED_CLONED"})).status == checks.RED
    assert checks.serving("s.t", 27 * 3600, 26 * 3600).status == checks.RED
    assert checks.serving("s.t", 3600, 26 * 3600).status == checks.OK
    assert checks.serving("s.t", None, 26 * 3600).status == checks.RED
    assert checks.exit_code([checks.unavailable("api", "/health")]) == 0


def test_stack_queries_name_the_database_functions_and_pipe():
    q = signals.stack_queries("RDP_DEV_RETAIL")
    assert 'TABLE("RDP_DEV_RETAIL".INFORMATION_SCHEMA.TASK_HISTORY(' in q["analytics.stack_tasks"]
    assert 'TABLE("RDP_DEV_RETAIL".INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(' in q["cdc.stack_dynamic_tables"]
    pipe = "RDP_DEV_RETAIL.BRONZE.WORK_CUSTOMER_SRC_TO_SL_PIPE"
    assert q["ingestion:customer.stack_pipe"] == f"SELECT SYSTEM$PIPE_STATUS('{pipe}') AS STATUS"
    assert q["analytics.stack_streams"] == 'SHOW STREAMS IN DATABASE "RDP_DEV_RETAIL"'


class FakeCursor:
    """Answers each stack query with planted rows, as Snowflake's connector would."""

    def __init__(self, answers: dict[str, tuple[list[str], list[tuple]] | None]):
        self.answers, self.description, self.rows = answers, None, []

    def execute(self, sql: str) -> None:
        key = next(k for k in self.answers if k in sql)
        if self.answers[key] is None:
            raise ProgrammingError("Insufficient privileges to operate on pipe")
        names, self.rows = self.answers[key]
        self.description = [(n,) for n in names]

    def fetchall(self):
        return self.rows

    def fetchone(self):
        return self.rows[0]


def test_stack_signals_from_planted_metadata():
    cfg = stack_config("dev")  # every target lag is 60 minutes
    cur = FakeCursor(
        {
            "TASK_HISTORY": (
                ["NAME", "STATE", "ERROR_MESSAGE", "COMPLETED_TIME"],
                [
                    ("ANALYTICS_FACTS_TASK", "FAILED", "division by zero", NOW),
                    ("ANALYTICS_ROOT", "SUCCEEDED", None, NOW),
                ],
            ),
            "DYNAMIC_TABLE_REFRESH_HISTORY": (
                ["NAME", "STATE", "STATE_MESSAGE", "REFRESH_END_TIME", "LAG_SECONDS"],
                [("ORDERS_DERIVED", "SUCCEEDED", "", NOW, 9000), ("ENRICHED_ORDERS", "SUCCEEDED", "", NOW, 600)],
            ),
            "PIPE_STATUS": (["STATUS"], [(json.dumps({"executionState": "RUNNING", "pendingFileCount": 0}),)]),
            "SHOW STREAMS": (["name", "stale", "stale_after"], [("ORDERS_STREAM", "false", NOW + timedelta(hours=5))]),
        }
    )
    status = {s.name: s.status for s in signals.stack_signals(cur, "RDP_DEV_RETAIL", cfg, NOW)}
    assert status["ANALYTICS_FACTS_TASK"] == checks.RED and status["ANALYTICS_ROOT"] == checks.OK
    assert status["ORDERS_DERIVED"] == checks.RED  # 9000 s > 2 x 3600 s
    assert status["ENRICHED_ORDERS"] == checks.OK
    assert status["ORDERS_AGGREGATED"] == checks.RED  # declared, never refreshed
    assert status["WORK_CUSTOMER_SRC_TO_SL_PIPE"] == checks.OK
    assert status["ORDERS_STREAM"] == checks.RED  # stale within a day


def test_stack_signal_the_session_cannot_read_is_red():
    cur = FakeCursor(
        {
            "TASK_HISTORY": (["NAME", "STATE", "ERROR_MESSAGE", "COMPLETED_TIME"], []),
            "DYNAMIC_TABLE_REFRESH_HISTORY": (["NAME", "STATE"], []),
            "PIPE_STATUS": None,
            "SHOW STREAMS": (["name", "stale", "stale_after"], []),
        }
    )
    found = signals.stack_signals(cur, "RDP_DEV_RETAIL", stack_config("dev"), NOW)
    pipe = next(s for s in found if s.name == "WORK_CUSTOMER_SRC_TO_SL_PIPE")
    assert pipe.status == checks.RED and "cannot read" in pipe.detail and "Insufficient privileges" in pipe.detail


@pytest.fixture
def task_log(target):
    """The task graph's run log in the loads' database, as the analytics rehearsal keeps it; dropped after."""
    history = analytics.fq(target.database, "task_history")
    q = named_queries("analytics/local/tasks.sql", history=history)
    with closing(target.connect_snowflake()) as conn:
        cur = conn.cursor()
        cur.execute(q["create_history"])
        cur.execute(f"DELETE FROM {history}")
        cur.execute(q["record"], (1, "facts_task", "SUCCEEDED", "", NOW, NOW))

        def plant(state: str, reason: str) -> None:
            cur.execute(q["record"], (2, "facts_task", state, reason, NOW, NOW))

        yield plant
        cur.execute(f"DROP TABLE {history}")


def _run(monkeypatch, target, *args: str):
    monkeypatch.setattr(cli, "local_target", lambda stack: target)
    return CliRunner().invoke(cli.app, ["--local", *args], catch_exceptions=False)


def test_local_healthy_stand_in_exits_0(monkeypatch, target, task_log):
    result = _run(monkeypatch, target)
    assert result.exit_code == 0, result.output
    assert "RED" not in result.output and "all green" in result.output
    assert "facts_task" in result.output and "last run SUCCEEDED" in result.output
    assert "not available on the stand-in" in result.output  # streams, the pipe's state, the API
    assert "t_loads.products" in result.output


def test_local_failed_task_run_is_red(monkeypatch, target, task_log):
    task_log("FAILED", "ValueError: planted")
    result = _run(monkeypatch, target)
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "facts_task" in line)
    assert "RED" in line and "FAILED" in line


def test_local_serving_older_than_threshold_is_red(monkeypatch, target, task_log):
    result = _run(monkeypatch, target, "--serving-max-age-hours", "0")
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "t_loads.products " in line)
    assert "RED" in line


@pytest.fixture
def health_server():
    """A stand-in API on 127.0.0.1 whose /health answers with the status the test sets."""
    import http.server
    import threading

    state = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"status": "ok"}' if state["status"] == 200 else b'{"error": "planted"}'
            self.send_response(state["status"] if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_the_api_health_is_read_and_a_failing_one_is_red(health_server):
    url, state = health_server
    ok = signals.api_signal(url, None)
    assert ok.status == checks.OK and ok.detail.startswith("200 in ")
    state["status"] = 503  # planted: the API answers but is not healthy
    assert signals.api_signal(url, None).status == checks.RED
    state["status"] = 401
    red = signals.api_signal(url, None)
    assert red.status == checks.RED and signals.API_TOKEN in red.detail
    url_of_nothing = f"http://127.0.0.1:{standins.free_port()}"
    assert signals.api_signal(url_of_nothing, None, timeout=2).status == checks.RED


def test_the_local_target_finds_the_api_make_local_registered(stand_ins, health_server):
    import os

    from scripts.core.target import local_target

    url, _ = health_server
    assert local_target("dev").api_url == ""  # none registered: the monitor says n/a
    standins.register_app("orchestrator", os.getpid(), int(url.rsplit(":", 1)[1]))
    try:
        assert local_target("dev").api_url == url
    finally:
        state = standins._load()
        state.get("apps", {}).pop("orchestrator", None)
        standins._save(state)
