"""The monitor's reads: a deployed stack's Snowflake metadata (as TRANSFORMER) or what the stand-ins'
local rehearsals record, judged by services/features/health.py (the rules the dashboard's Operations
tab uses too). SQL lives in sql/<cap>/monitor.sql; infra/monitoring.py fills it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from snowflake.connector.errors import ProgrammingError

from infra import monitoring
from infra.config.stack import StackConfig
from infra.serving.config import SYNCED_TABLES
from infra.sqlfiles import named_queries
from scripts.core.target import API_TOKEN_VARIABLE, Target, api_headers
from services.features import health
from services.features.health import Signal


def lag_targets(cfg: StackConfig) -> dict[str, tuple[str, int | None]]:
    """Every dynamic table's physical name → (capability, target lag in seconds; None for DOWNSTREAM)."""
    return {name: (cap, health.lag_seconds(lag)) for name, (cap, lag) in monitoring.lags(cfg).items()}


def names(cfg: StackConfig) -> health.Names:
    feeds = [health.FeedNames(**f) for f in monitoring.feeds()]
    return health.Names(feeds, lag_targets(cfg), monitoring.cdc_tables())


def stack_queries(database: str) -> dict[str, str]:
    """The stack's Snowflake queries, by name (`capability.query`)."""
    return {k: v for k, v in monitoring.queries(database).items() if k.split(".", 1)[1].startswith("stack_")}


def runner(cur: Any, database: str) -> health.Run:
    """Runs a monitor query through `cur`; what Snowflake refuses becomes health.ReadError."""
    q = monitoring.queries(database)

    def run(key: str) -> list[dict[str, Any]]:
        try:
            cur.execute(q[key])
            columns = [d[0].lower() for d in cur.description]
            return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        except ProgrammingError as e:
            raise health.ReadError(str(e)) from e

    return run


def stack_signals(cur: Any, database: str, cfg: StackConfig, now: datetime) -> list[Signal]:
    """A deployed stack's Snowflake signals, read through `cur` (the TRANSFORMER session's cursor); a
    query the session may not run (a missing MONITOR grant) is red with Snowflake's message."""
    return health.stack_signals(runner(cur, database), names(cfg), now)


def local_signals(cur: Any, database: str, cfg: StackConfig) -> list[Signal]:
    """What the stand-ins' rehearsals record; a signal they cannot give is n/a, never made up."""
    return health.local_signals(runner(cur, database), names(cfg))


def serving_signals(t: Target, max_age: float) -> list[Signal]:
    """The Postgres serving tables' age since their last sync, and the DynamoDB export (which records
    no time of its own)."""
    sql = named_queries("serving/monitor.sql")["serving_age"]
    with psycopg.connect(t.pg_dsn) as conn:
        ages = dict(conn.execute(sql, (t.pg_schema, list(SYNCED_TABLES))).fetchall())
    found = []
    for table in SYNCED_TABLES:
        if table not in ages and t.local:
            found.append(health.unavailable("serving", f"{t.pg_schema}.{table}", health.NOT_REHEARSED))
        else:
            age = ages.get(table)
            found.append(health.serving(f"{t.pg_schema}.{table}", None if age is None else float(age), max_age))
    found.append(health.unavailable("serving", t.dynamodb_table, "the export records no time of its own"))
    return found


API_TOKEN = API_TOKEN_VARIABLE  # the Snowflake OAuth token SPCS public endpoints take (README: the API's smoke test)


def api_signal(url: str, token: str | None, timeout: float = 10.0) -> Signal:
    """GET /health of the API: red unless it answers 200 (a public SPCS endpoint without a token answers
    with a login redirect or 401: red, saying so)."""
    import time

    import httpx

    name = f"{url.rstrip('/')}/health"
    headers = api_headers(token)
    started = time.perf_counter()
    try:
        r = httpx.get(name, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as e:
        return Signal("api", name, f"no answer: {type(e).__name__}: {e}", health.RED)
    ms = (time.perf_counter() - started) * 1000
    detail = f"{r.status_code} in {ms:.0f} ms: {r.text[:80].strip()}"
    if r.status_code in (302, 401, 403) and not token:
        detail += f" (set {API_TOKEN}: the endpoint takes a Snowflake OAuth token)"
    return Signal("api", name, detail, health.OK if r.status_code == 200 else health.RED)
