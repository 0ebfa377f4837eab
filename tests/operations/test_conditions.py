"""Each operations alert's condition, run on the fakesnow stand-in against planted failures: the text is
the one the plan declares (infra/operations/catalog.conditions), with Snowflake's metadata functions
replaced by fixture tables of the same columns and the alert's run times by fixed ones."""

from __future__ import annotations

import uuid

import pytest

from infra.ingestion.catalog import CATALOG as INGESTION
from infra.operations import catalog
from infra.operations.catalog import LagTarget, Sources, Thresholds
from infra.serving.catalog import CATALOG as SERVING
from scripts.core.connections import connect_local

THIS_RUN, LAST_RUN = "2026-01-02 12:00:00", "2026-01-02 11:00:00"
PIPE = (INGESTION.schema("pipe"), INGESTION.name("pipe"))
REFRESH = (SERVING.schema("refresh_task"), SERVING.name("refresh_task"))
FIXTURES = {  # shaped like TASK_HISTORY, DYNAMIC_TABLE_REFRESH_HISTORY, COPY_HISTORY and SHOW STREAMS
    "TASKS": "SCHEMA_NAME VARCHAR, NAME VARCHAR, STATE VARCHAR, ERROR_MESSAGE VARCHAR, "
    "SCHEDULED_TIME TIMESTAMP_LTZ, COMPLETED_TIME TIMESTAMP_LTZ",
    "REFRESHES": "SCHEMA_NAME VARCHAR, NAME VARCHAR, STATE VARCHAR, STATE_MESSAGE VARCHAR, "
    "REFRESH_START_TIME TIMESTAMP_LTZ, REFRESH_END_TIME TIMESTAMP_LTZ, DATA_TIMESTAMP TIMESTAMP_LTZ",
    "COPIES": "FILE_NAME VARCHAR, STATUS VARCHAR, ROW_COUNT NUMBER, ERROR_COUNT NUMBER, FIRST_ERROR_MESSAGE VARCHAR, "
    "LAST_LOAD_TIME TIMESTAMP_LTZ, PIPE_SCHEMA_NAME VARCHAR, PIPE_NAME VARCHAR",
    "STREAMS": ", ".join(f"{c} {t}" for c, t in catalog.STREAM_STATE_COLUMNS),
}
TARGET = LagTarget("cdc", "orders_derived", "SILVER", "ORDERS_DERIVED", 3600)  # twice: 2 h
THRESHOLDS = Thresholds(lag_targets=(TARGET,), silence_hours=24, max_age_hours=26)


@pytest.fixture()
def run(stand_ins):
    """Plant rows in fresh fixture tables, then run one alert's condition: its rows."""
    db = "T_OPS_" + uuid.uuid4().hex[:8].upper()
    conn = connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port, None, None)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE {db}")
    cur.execute(f"CREATE SCHEMA {db}.FIX")
    for table, columns in FIXTURES.items():
        cur.execute(f"CREATE TABLE {db}.FIX.{table} ({columns})")
    sources = Sources(
        **{k: f"{db}.FIX.{t}" for k, t in (("task_history", "TASKS"), ("refresh_history", "REFRESHES"))},
        copy_history=f"{db}.FIX.COPIES",
        streams=f"{db}.FIX.STREAMS",
        this_run=f"'{THIS_RUN}'::TIMESTAMP_LTZ",
        last_run=f"'{LAST_RUN}'::TIMESTAMP_LTZ",
    )

    def condition(key: str, rows: dict[str, list[tuple]], last_run: str | None = LAST_RUN) -> list[tuple]:
        for table, values in rows.items():
            for row in values:
                marks = ", ".join("%s" for _ in row)
                cur.execute(f"INSERT INTO {db}.FIX.{table} VALUES ({marks})", row)
        src = sources if last_run else Sources(**{**sources.__dict__, "last_run": "NULL"})
        cur.execute(catalog.conditions(src, THRESHOLDS)[key])
        return cur.fetchall()

    yield condition
    conn.close()


def test_the_conditions_are_the_plan_text_with_only_the_sources_replaced():
    stack = catalog.stack_conditions("RDP_DEV", THRESHOLDS)
    assert set(stack) == set(catalog.ALERTS)
    assert "SNOWFLAKE.ALERT.LAST_SUCCESSFUL_SCHEDULED_TIME()" in stack["task_failed"]
    assert '"RDP_DEV".INFORMATION_SCHEMA.TASK_HISTORY(' in stack["serving_stale"]
    assert 'TABLE("RDP_DEV"."STREAMS_TASKS"."STREAM_STATES"())' in stack["stream_stale"]
    assert "COPY_HISTORY(TABLE_NAME => 'RDP_DEV.BRONZE.WORK_CUSTOMER_COPY'" in stack["pipe_unhealthy"]


def test_a_task_failure_alerts_once(run):
    failed = ("STREAMS_TASKS", "T", "FAILED", "boom", "2026-01-02 11:20:00", "2026-01-02 11:30:00")
    earlier = ("STREAMS_TASKS", "T", "FAILED", "old", "2026-01-02 10:20:00", "2026-01-02 10:30:00")  # alerted then
    fine = ("STREAMS_TASKS", "U", "SUCCEEDED", None, "2026-01-02 11:20:00", "2026-01-02 11:40:00")
    assert run("task_failed", {"TASKS": [earlier, fine]}) == []
    rows = run("task_failed", {"TASKS": [failed]})
    assert [(r[1], r[2], r[3]) for r in rows] == [("T", "FAILED", "boom")]


def test_a_first_run_reports_every_failure_it_can_see(run):
    earlier = ("STREAMS_TASKS", "T", "FAILED_AND_AUTO_SUSPENDED", "old", "2026-01-01 10:20:00", "2026-01-01 10:30:00")
    assert [r[2] for r in run("task_failed", {"TASKS": [earlier]}, last_run=None)] == ["FAILED_AND_AUTO_SUSPENDED"]


def refresh(name: tuple[str, str], state: str, at: str, data: str | None = None) -> tuple:
    """A refresh history row: started at `at`, ended a minute later, with its data timestamp."""
    end = at[:-5] + "01:00"
    return (*name, state, state.lower() if state != "SUCCEEDED" else None, at, end, data)


DERIVED, AGGREGATED = ("SILVER", "ORDERS_DERIVED"), ("GOLD", "ORDERS_AGGREGATED")


def test_a_failed_refresh_since_the_last_run_alerts(run):
    good = refresh(DERIVED, "SUCCEEDED", "2026-01-02 10:30:00", "2026-01-02 10:30:00")
    assert run("dynamic_table_behind", {"REFRESHES": [good]}) == []  # 1.5 h behind: under 2 h
    failed = refresh(AGGREGATED, "UPSTREAM_FAILED", "2026-01-02 11:40:00")
    assert [r[:3] for r in run("dynamic_table_behind", {"REFRESHES": [failed]})] == [
        ("GOLD", "ORDERS_AGGREGATED", "UPSTREAM_FAILED")
    ]


def test_a_table_whose_last_good_data_passed_twice_its_target_since_the_last_run_alerts(run):
    stale = refresh(DERIVED, "SUCCEEDED", "2026-01-02 09:30:00", "2026-01-02 09:30:00")  # 2.5 h now, 1.5 h before
    assert [r[:3] for r in run("dynamic_table_behind", {"REFRESHES": [stale]})] == [
        ("SILVER", "ORDERS_DERIVED", "LAGGING")
    ]


def test_a_lag_already_reported_does_not_alert_again(run):
    long_ago = refresh(DERIVED, "SUCCEEDED", "2026-01-02 07:00:00", "2026-01-02 07:00:00")  # over 2 h before
    assert run("dynamic_table_behind", {"REFRESHES": [long_ago]}) == []


def load(status: str, rows: int, errors: int, at: str, pipe: tuple[str, str] = PIPE) -> tuple:
    return ("f.csv", status, rows, errors, "bad row" if errors else None, at, *pipe)


def test_a_failed_load_of_the_pipe_alerts(run):
    assert run("pipe_unhealthy", {"COPIES": [load("Loaded", 10, 0, "2026-01-02 11:30:00")]}) == []
    other = load("Load failed", 0, 3, "2026-01-02 11:30:00", ("BRONZE", "SOME_OTHER_PIPE"))
    assert run("pipe_unhealthy", {"COPIES": [other]}) == []
    rows = run("pipe_unhealthy", {"COPIES": [load("Partially loaded", 8, 2, "2026-01-02 11:40:00")]})
    assert [r[1:] for r in rows] == [("Partially loaded", "bad row")]


def test_a_pipe_gone_silent_since_the_last_run_alerts(run):
    quiet = load("Loaded", 10, 0, "2026-01-01 11:30:00")  # 24.5 h ago now, 23.5 h at the last run
    assert [r[:2] for r in run("pipe_unhealthy", {"COPIES": [quiet]})] == [(PIPE[1], "SILENT")]


def test_a_pipe_loading_within_the_window_is_quiet(run):
    assert run("pipe_unhealthy", {"COPIES": [load("Loaded", 10, 0, "2026-01-01 12:30:00")]}) == []


def test_a_stream_going_stale_within_a_day_alerts(run):
    soon = ("STREAMS_TASKS", "S", "false", "2026-01-03 11:30:00")  # 23.5 h left now, 24.5 h at the last run
    later = ("STREAMS_TASKS", "L", "false", "2026-01-05 00:00:00")
    assert run("stream_stale", {"STREAMS": [later]}) == []
    assert [r[1] for r in run("stream_stale", {"STREAMS": [soon]})] == ["S"]


def test_a_stale_stream_alerts_on_a_first_run(run):
    stale = ("STREAMS_TASKS", "S", "true", "2025-12-30 00:00:00")
    assert [r[1:3] for r in run("stream_stale", {"STREAMS": [stale]}, last_run=None)] == [("S", "true")]


def task(name: tuple[str, str], state: str, at: str) -> tuple:
    return (*name, state, None, at, at)


def test_serving_older_than_its_max_age_alerts(run):
    fresh = task(REFRESH, "SUCCEEDED", "2026-01-01 12:00:00")  # 24 h: under 26 h
    assert run("serving_stale", {"TASKS": [fresh]}) == []


def test_serving_whose_last_successful_refresh_passed_the_max_age_since_the_last_run_alerts(run):
    old = task(REFRESH, "SUCCEEDED", "2026-01-01 09:30:00")  # 26.5 h now, 25.5 h at the last run
    failed_since = task(REFRESH, "FAILED", "2026-01-02 05:00:00")  # a failed run does not refresh
    other = task(("STREAMS_TASKS", "SOME_TASK"), "SUCCEEDED", "2026-01-02 11:00:00")
    assert [r[0] for r in run("serving_stale", {"TASKS": [old, failed_since, other]})] == [REFRESH[1]]
