"""Names, thresholds and condition SQL of the operations alerts, shared by the component and the tests
that run each condition on the stand-in against planted failures.

Each condition is a named query of sql/operations/alerts.sql. What it reads is a placeholder (`Sources`):
Snowflake's metadata functions and the alert's own run times on a stack, fixture tables and fixed times
in a test; the judging text between them is the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from infra.analytics import catalog as analytics
from infra.cdc import catalog as cdc
from infra.ingestion import catalog as ingestion
from infra.naming import Catalog, quote
from infra.serving.catalog import CATALOG as SERVING
from infra.sqlfiles import named_queries, render_sql

SCHEMA = "STREAMS_TASKS"  # beside the tasks they watch: the scheduled work of the stack, owned by its admin role
# The monitor's and the dashboard's red rules (services/features/health.py), which tests/operations hold these equal to.
FAILED_TASK_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED", "CANCELLED")
FAILED_REFRESH_STATES = ("FAILED", "UPSTREAM_FAILED", "CANCELLED")
LAG_FACTOR = 2  # a dynamic table further behind than twice its target lag
STALE_WITHIN_HOURS = 24  # a stream that goes stale within a day
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}


def pipe_alert(feed: str) -> str:
    """The alert key of a feed's pipe."""
    return "pipe_unhealthy" if feed == "customer" else f"pipe_unhealthy_{feed}"


# alert key → what it watches (its comment, and the message it sends)
ALERTS = {
    "task_failed": "a task of the stack failed",
    "dynamic_table_behind": f"a dynamic table refresh failed, or a table lag passed {LAG_FACTOR}x its target",
    # one per feed: `pipe_unhealthy` (customers, released so), `pipe_unhealthy_sales`, …
    **{
        pipe_alert(key): f"the {feed.noun} pipe failed to load a file, or has loaded nothing for too long"
        for key, feed in ingestion.FEEDS.items()
    },
    "stream_stale": f"a stream is stale or will be within {STALE_WITHIN_HOURS} hours",
    "serving_stale": "the last successful refresh of the serving stores is too old",
}
CATALOG = Catalog(
    {
        **{key: (SCHEMA, f"ALERT_{key.upper()}") for key in ALERTS},
        "stream_states": (SCHEMA, "STREAM_STATES"),  # SHOW STREAMS as a table (sql/operations/stream_states.sql)
    }
)
# Columns STREAM_STATES returns (its RETURNS TABLE), as the stream_stale condition reads them.
STREAM_STATE_COLUMNS = [
    ("SCHEMA_NAME", "VARCHAR"),
    ("NAME", "VARCHAR"),
    ("STALE", "VARCHAR"),
    ("STALE_AFTER", "TIMESTAMP_LTZ"),
]


@dataclass(frozen=True)
class LagTarget:
    """A dynamic table with a target lag: its capability and catalog key, where it is, the target."""

    capability: str
    key: str
    schema: str
    name: str
    seconds: int


@dataclass(frozen=True, kw_only=True)
class Sources:
    """What the conditions read: relations shaped like Snowflake's metadata, and the alert's run times."""

    task_history: str
    refresh_history: str
    copy_history: str  # of the Bronze table `{table}` (a fixture holding every pipe's loads has no `{table}`)
    streams: str
    this_run: str
    last_run: str


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    lag_targets: tuple[LagTarget, ...]
    silence_hours: int
    max_age_hours: int


def lag_seconds(lag: str) -> int | None:
    """A config lag (`60 minutes`) in seconds; None for DOWNSTREAM, which has no target of its own."""
    if lag.strip().upper() == "DOWNSTREAM":
        return None
    count, unit = lag.split()
    return int(count) * _UNITS[unit.lower().rstrip("s")]


def lag_targets(analytics_lags: object, cdc_lags: object) -> tuple[LagTarget, ...]:
    """Every dynamic table with a target lag of its own, from the stack's config (DOWNSTREAM ones have
    none: their failures still alert)."""
    found = []
    for cap, module, lags in (("analytics", analytics, analytics_lags), ("cdc", cdc, cdc_lags)):
        for key, dt in module.DYNAMIC_TABLES.items():
            if dt.lag != "DOWNSTREAM" and (seconds := lag_seconds(getattr(lags, dt.lag))) is not None:
                found.append(LagTarget(cap, key, module.CATALOG.schema(key), module.CATALOG.name(key), seconds))
    return tuple(found)


def stack_sources(database: str) -> Sources:
    """Snowflake's own metadata of `database` (INFORMATION_SCHEMA table functions) and the alert's times."""
    db = quote(database)
    return Sources(
        task_history=f"TABLE({db}.INFORMATION_SCHEMA.TASK_HISTORY(SCHEDULED_TIME_RANGE_START => "
        "DATEADD('hour', -167, CURRENT_TIMESTAMP()), RESULT_LIMIT => 10000))",  # under its 7 days
        refresh_history=f"TABLE({db}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(RESULT_LIMIT => 10000))",
        copy_history=f"TABLE({db}.INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => '{database}.{{table}}', "
        "START_TIME => DATEADD('hour', -335, CURRENT_TIMESTAMP())))",  # under COPY_HISTORY's 14 days
        streams=f"TABLE({CATALOG.fq(database, 'stream_states')}())",
        this_run="SNOWFLAKE.ALERT.SCHEDULED_TIME()",
        last_run="SNOWFLAKE.ALERT.LAST_SUCCESSFUL_SCHEDULED_TIME()",
    )


def _targets_sql(targets: Iterable[LagTarget]) -> str:
    rows = [f"SELECT '{t.schema}' AS SCHEMA_NAME, '{t.name}' AS NAME, {t.seconds} AS TARGET_SECONDS" for t in targets]
    return (
        "\n    UNION ALL ".join(rows) or "SELECT NULL AS SCHEMA_NAME, NULL AS NAME, NULL AS TARGET_SECONDS WHERE FALSE"
    )


def _states(states: Iterable[str]) -> str:
    return ", ".join(f"'{s}'" for s in states)


def conditions(sources: Sources, thresholds: Thresholds) -> dict[str, str]:
    """Every alert's condition, by alert key, reading `sources` (without the file's comment lines): one
    pipe alert per feed, each the pipe_unhealthy query over that feed's pipe and Bronze load history."""
    common = {
        "task_history": sources.task_history,
        "refresh_history": sources.refresh_history,
        "streams": sources.streams,
        "this_run": sources.this_run,
        "last_run": sources.last_run,
        "failed_task_states": _states(FAILED_TASK_STATES),
        "failed_refresh_states": _states(FAILED_REFRESH_STATES),
        "lag_factor": str(LAG_FACTOR),
        "lag_targets": _targets_sql(thresholds.lag_targets),
        "silence_hours": str(thresholds.silence_hours),
        "stale_within_hours": str(STALE_WITHIN_HOURS),
        "refresh_schema": SERVING.schema("refresh_task"),
        "refresh_task": SERVING.name("refresh_task"),
        "max_age_hours": str(thresholds.max_age_hours),
    }
    found: dict[str, str] = {}
    for key, feed in ingestion.FEEDS.items():
        queries = named_queries(
            "operations/alerts.sql",
            **common,
            copy_history=sources.copy_history.replace("{table}", ".".join(feed.catalog.objects["bronze"])),
            pipe_schema=feed.catalog.schema("pipe"),
            pipe_name=feed.catalog.name("pipe"),
        )
        found |= {k: sql for k, sql in queries.items() if k != "pipe_unhealthy"} | {
            pipe_alert(key): queries["pipe_unhealthy"]
        }
    return {key: _code(sql) for key, sql in found.items()}


def _code(sql: str) -> str:
    return "\n".join(ln for ln in sql.splitlines() if ln.strip() and not ln.lstrip().startswith("--"))


def stack_conditions(database: str, thresholds: Thresholds) -> dict[str, str]:
    return conditions(stack_sources(database), thresholds)


def stream_states_sql(database: str) -> str:
    return render_sql("operations/stream_states.sql", db=quote(database))


def action_sql(key: str, database: str, integration: str) -> str:
    """The alert's action: a JSON message naming the alert and what it watches, to the error integration."""
    message = json.dumps(
        {"alert": ".".join((database, *CATALOG.objects[key])), "problem": ALERTS[key], "database": database},
        sort_keys=True,
    )
    if "'" in message or "'" in integration:
        raise ValueError(f"{key}: a single quote would end the SQL string literal")
    return _code(render_sql("operations/notify.sql", message=message, integration=integration))
