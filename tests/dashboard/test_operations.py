"""The Operations tab: the monitor's queries and rules inside the app. Its bundle carries the monitor's SQL
and the shared judgement; in Snowflake it reads the stack's metadata (planted rows here, a missing grant
red with Snowflake's message); on the stand-in a planted failed task run is red on the page, and what the
stand-in cannot give is n/a."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from infra import monitoring
from infra.dashboard import bundle
from infra.sqlfiles import named_queries
from scripts.analytics import loads as analytics
from services.features import health
from tests.dashboard.conftest import APP, copy_db

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_the_bundle_carries_the_monitor_sql_and_the_shared_judgement():
    by_path = {f.path: f.source for f in bundle.files()}
    for cap, path in monitoring.FILES.items():
        assert by_path[f"sql/monitor/{cap}.sql"].read_text() == (bundle.ROOT / "sql" / path).read_text()
    for rel in ("services/__init__.py", "services/features/__init__.py", "services/features/health.py"):
        assert by_path[rel] == bundle.ROOT / rel
    assert by_path["monitor.json"] == bundle.APP_DIR / "monitor.json"
    assert "operations.py" in by_path


def test_monitor_json_is_what_infra_describes():
    """Regenerate with: python -c "from infra import monitoring; print(monitoring.app_json(), end='')"
    > services/dashboard/monitor.json"""
    assert (bundle.APP_DIR / "monitor.json").read_text() == monitoring.app_json()


@pytest.fixture
def ops(monkeypatch):
    """The app's own modules, imported as Streamlit imports them (its directory on the path)."""
    monkeypatch.syspath_prepend(str(bundle.APP_DIR))
    yield importlib.import_module("operations")
    for name in ("operations", "queries"):
        sys.modules.pop(name, None)


def _answers(grant_missing: bool):
    """A Snowflake session's answers to the stack queries: a failed task, a dynamic table behind."""
    rows = {
        "TASK_HISTORY": (
            ["NAME", "STATE", "ERROR_MESSAGE", "COMPLETED_TIME"],
            [("ANALYTICS_FACTS_TASK", "FAILED", "division by zero", NOW)],
        ),
        "DYNAMIC_TABLE_REFRESH_HISTORY": (
            ["NAME", "STATE", "STATE_MESSAGE", "REFRESH_END_TIME", "LAG_SECONDS"],
            [("ORDERS_DERIVED", "UPSTREAM_FAILED", "", NOW, 90)],
        ),
        "PIPE_STATUS": (["STATUS"], [(json.dumps({"executionState": "RUNNING", "pendingFileCount": 0}),)]),
        "SHOW STREAMS": (["name", "stale", "stale_after"], [("ORDERS_STREAM", "false", NOW + timedelta(days=9))]),
    }
    seen: list[str] = []

    def run(sql: str):
        seen.append(sql)
        key = next(k for k in rows if k in sql)
        if grant_missing and key == "PIPE_STATUS":
            raise RuntimeError("SQL access control error: Insufficient privileges to operate on pipe\nmore")
        names, found = rows[key]
        return found, names

    return run, seen


def test_in_snowflake_the_tab_runs_the_monitors_stack_queries_and_rules(ops):
    run, seen = _answers(grant_missing=False)
    found = ops.signals(ops.queries.Source("RDP_DEV_RETAIL", run, "Snowflake"), NOW)
    stack = {k: v for k, v in monitoring.queries("RDP_DEV_RETAIL").items() if ".stack_" in k}
    assert sorted(seen) == sorted(stack.values())  # the monitor's own statements, filled the same way
    status = {s.name: s for s in found}
    assert (
        status["ANALYTICS_FACTS_TASK"].status == health.RED
        and "division by zero" in status["ANALYTICS_FACTS_TASK"].detail
    )
    assert status["ORDERS_DERIVED"].status == health.RED  # its last refresh failed upstream
    assert status["ORDERS_AGGREGATED"].status == health.RED  # declared, never refreshed
    assert "stack's config" in status["ENRICHED_ORDERS"].detail  # the app does not guess the target lag
    assert status["WORK_CUSTOMER_SRC_TO_SL_PIPE"].status == health.OK
    for feed in monitoring.feeds():  # every feed's pipe is read; its task and stream, not in the planted rows, red
        assert (status[feed["pipe"]].status, status[feed["task"]].status) == (health.OK, health.RED), feed
    assert status["ORDERS_STREAM"].status == health.OK
    assert {s.capability for s in found if s.status == health.NA} == {"serving", "api"}


def test_in_snowflake_a_missing_grant_is_red_with_snowflakes_message(ops):
    run, _ = _answers(grant_missing=True)
    found = ops.signals(ops.queries.Source("RDP_DEV_RETAIL", run, "Snowflake"), NOW)
    pipe = next(s for s in found if s.name == "WORK_CUSTOMER_SRC_TO_SL_PIPE")
    assert pipe.status == health.RED and pipe.detail == "cannot read: SQL access control error: Insufficient " + (
        "privileges to operate on pipe"
    )


def _plant_failed_run(db: str) -> None:
    history = analytics.fq(db, "task_history")
    q = named_queries("analytics/local/tasks.sql", history=history)
    with closing(analytics.local_target("dev", database=db).connect()) as conn:
        cur = conn.cursor()
        cur.execute(q["create_history"])
        cur.execute(q["next_run"])
        run_id = cur.fetchone()[0]
        cur.execute(q["record"], (run_id, "facts_task", "FAILED", "ValueError: planted", NOW, NOW))


def _ops_tab(at: AppTest):
    return next(t for t in at.tabs if t.label == ":material/monitor_heart: Operations")


def test_on_the_stand_in_a_planted_failed_task_is_red_on_the_page(app_env, stand_ins, analytics_db):
    db = "T_DASH_OPS_" + uuid.uuid4().hex[:6].upper()
    copy_db(stand_ins, analytics_db, db)
    app_env.setenv("RDP_DASHBOARD_DATABASE", db)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    tab = _ops_tab(at)
    assert not tab.error and tab.success, [e.value for e in tab.error]
    _plant_failed_run(db)
    at.sidebar.button[0].click().run()  # the refresh button: past the cache
    tab = _ops_tab(at)
    assert [e.value for e in tab.error] == [
        "analytics: facts_task — last run FAILED at 2026-12-02 06:00:00: ValueError: planted"
    ]
    tables = {t.value["OBJECT"].iloc[0]: t.value for t in tab.dataframe}
    tasks = next(df for df in tables.values() if "facts_task" in set(df["OBJECT"]))
    assert tasks.set_index("OBJECT").loc["facts_task", "STATUS"] == health.RED
    shown = {o: (r, s) for df in tables.values() for o, r, s in df.itertuples(index=False)}
    assert shown["streams' staleness"] == (health.STANDIN, health.NA)  # the stand-in has none: n/a, not a number
    assert shown["WORK_CUSTOMER_SRC_TO_SL_PIPE"] == (health.NOT_REHEARSED, health.NA)
    assert shown["dynamic tables"] == (health.NOT_REHEARSED, health.NA)  # no CDC rehearsal in this database
