"""The monitor's reads: a deployed stack's Snowflake metadata (as TRANSFORMER) or what the stand-ins'
local rehearsals record, each turned into signals by `checks`. SQL lives in sql/<cap>/monitor.sql."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from snowflake.connector.errors import ProgrammingError

from infra.analytics import catalog as analytics
from infra.cdc import catalog as cdc
from infra.config.stack import StackConfig
from infra.ingestion import catalog as ingestion
from infra.naming import quote
from infra.serving.config import SYNCED_TABLES
from infra.sqlfiles import named_queries
from scripts.core.target import Target
from scripts.monitor import checks
from scripts.monitor.checks import Signal

NOT_REHEARSED = "not rehearsed on the stand-in yet"


def lag_targets(cfg: StackConfig) -> dict[str, tuple[str, int | None]]:
    """Every dynamic table's physical name → (capability, target lag in seconds; None for DOWNSTREAM)."""
    found: dict[str, tuple[str, int | None]] = {}
    for cap, module, lags in (("analytics", analytics, cfg.analytics.lags), ("cdc", cdc, cfg.cdc.lags)):
        for key, dt in module.DYNAMIC_TABLES.items():
            lag = "DOWNSTREAM" if dt.lag == "DOWNSTREAM" else getattr(lags, dt.lag)
            found[module.CATALOG.name(key)] = (cap, checks.lag_seconds(lag))
    return found


def stack_queries(database: str) -> dict[str, str]:
    """The stack's Snowflake queries, by name (`capability.query`)."""
    db = quote(database)
    return {
        **{f"analytics.{k}": v for k, v in _analytics(db, database).items() if k.startswith("stack_")},
        **{f"cdc.{k}": v for k, v in _cdc(db, database).items() if k.startswith("stack_")},
        **{f"ingestion.{k}": v for k, v in _ingestion(database).items() if k.startswith("stack_")},
    }


def _analytics(db: str, database: str) -> dict[str, str]:
    return named_queries("analytics/monitor.sql", db=db, history=analytics.fq(database, "task_history"))


def _cdc(db: str, database: str) -> dict[str, str]:
    return named_queries(
        "cdc/monitor.sql",
        db=db,
        monitoring=cdc.fq(database, "monitoring"),
        refreshes=cdc.fq(database, "local_refreshes"),
    )


def _ingestion(database: str) -> dict[str, str]:
    pipe = ".".join((database, *ingestion.CATALOG.objects["pipe"]))
    return named_queries("ingestion/monitor.sql", pipe=pipe, load_history=ingestion.fq(database, "load_history"))


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [d[0].lower() for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def stack_signals(cur: Any, database: str, cfg: StackConfig, now: datetime) -> list[Signal]:
    """A deployed stack's Snowflake signals, read through `cur` (the TRANSFORMER session's cursor); a
    query the session may not run (a missing MONITOR grant) is red with Snowflake's message."""
    q, pipe = stack_queries(database), ingestion.CATALOG.name("pipe")

    def tasks(rows: list[dict]) -> list[Signal]:
        return [checks.task("analytics", r["name"], r["state"], r["error_message"], r["completed_time"]) for r in rows]

    def lags(rows: list[dict]) -> list[Signal]:
        return dynamic_tables(rows, lag_targets(cfg))

    def streams(rows: list[dict]) -> list[Signal]:
        return [checks.stream(r["name"], r.get("stale"), r.get("stale_after"), now) for r in rows]

    return [
        *_read(cur, q["analytics.stack_tasks"], "analytics", "tasks", tasks),
        *_read(cur, q["cdc.stack_dynamic_tables"], "cdc", "dynamic tables", lags),
        *_read(cur, q["ingestion.stack_pipe"], "ingestion", pipe, lambda r: [checks.pipe(pipe, r[0]["status"])]),
        *_read(cur, q["analytics.stack_streams"], "analytics", "streams", streams),
    ]


def _read(cur: Any, sql: str, cap: str, what: str, judge: Callable[[list[dict]], list[Signal]]) -> list[Signal]:
    try:
        cur.execute(sql)
        rows = _dicts(cur)
    except ProgrammingError as e:
        return [Signal(cap, what, f"cannot read: {e}", checks.RED)]
    return judge(rows)


def dynamic_tables(rows: list[dict[str, Any]], targets: dict[str, tuple[str, int | None]]) -> list[Signal]:
    """DYNAMIC_TABLE_REFRESH_HISTORY's last refresh per table, judged against the config's target lags;
    a declared dynamic table with no refresh at all is red."""
    seen = {r["name"]: r for r in rows}
    found = []
    for name, (cap, target) in targets.items():
        r = seen.get(name)
        if r is None:
            found.append(checks.dynamic_table(cap, name, None, target, "", "no refresh in the history"))
            continue
        when = f"at {r['refresh_end_time']:%Y-%m-%d %H:%M}" if r.get("refresh_end_time") else ""
        found.append(checks.dynamic_table(cap, name, r["lag_seconds"], target, r["state"], when))
    return found


def local_signals(cur: Any, database: str, cfg: StackConfig) -> list[Signal]:
    """What the stand-ins' rehearsals record; a signal they cannot give is n/a, never made up."""
    db = quote(database)
    a, c, i = _analytics(db, database), _cdc(db, database), _ingestion(database)
    found = _local(cur, a["local_tasks"], "analytics", "task graph", lambda rows: _local_tasks(rows))
    found += _local(cur, c["local_dynamic_tables"], "cdc", "dynamic tables", lambda rows: _local_cdc(rows, cfg))
    found += [checks.unavailable("analytics", "dynamic tables (enriched_orders, …)")]
    found += _local(cur, i["local_pipe"], "ingestion", ingestion.CATALOG.name("pipe"), _local_pipe)
    found.append(checks.unavailable("analytics", "streams' staleness"))
    return found


def _local(cur: Any, sql: str, cap: str, what: str, judge: Callable[[list[tuple]], list[Signal]]) -> list[Signal]:
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    except ProgrammingError:  # the rehearsal's table does not exist yet
        return [checks.unavailable(cap, what, NOT_REHEARSED)]
    return judge(rows) if rows else [checks.unavailable(cap, what, NOT_REHEARSED)]


def _local_tasks(rows: list[tuple]) -> list[Signal]:
    return [checks.task("analytics", name, state, reason, when) for name, state, reason, when in rows]


def _local_cdc(rows: list[tuple], cfg: StackConfig) -> list[Signal]:
    *lags, refreshed = rows[0]
    targets = lag_targets(cfg)
    when = f"last local refresh {refreshed:%Y-%m-%d %H:%M}" if refreshed else "no local refresh yet"
    names = [cdc.CATALOG.name(k) for k in cdc.DYNAMIC_TABLES]
    return [checks.dynamic_table("cdc", n, lag, targets[n][1], "", when) for n, lag in zip(names, lags, strict=True)]


def _local_pipe(rows: list[tuple]) -> list[Signal]:
    (file_name, status, when), name = rows[0], ingestion.CATALOG.name("pipe")
    detail = f"pipe state {checks.STANDIN}; last load {status} of {file_name} at {when:%Y-%m-%d %H:%M}"
    return [checks.Signal("ingestion", name, detail, checks.NA)]


def serving_signals(t: Target, max_age: float) -> list[Signal]:
    """The Postgres serving tables' age since their last sync, and the DynamoDB export (which records
    no time of its own)."""
    sql = named_queries("serving/monitor.sql")["serving_age"]
    with psycopg.connect(t.pg_dsn) as conn:
        ages = dict(conn.execute(sql, (t.pg_schema, list(SYNCED_TABLES))).fetchall())
    found = []
    for table in SYNCED_TABLES:
        if table not in ages and t.local:
            found.append(checks.unavailable("serving", f"{t.pg_schema}.{table}", NOT_REHEARSED))
        else:
            age = ages.get(table)
            found.append(checks.serving(f"{t.pg_schema}.{table}", None if age is None else float(age), max_age))
    found.append(checks.unavailable("serving", t.dynamodb_table, "the export records no time of its own"))
    return found
