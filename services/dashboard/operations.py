"""The Operations tab's reads: the monitor's own queries (sql/<cap>/monitor.sql, shipped in the app's
bundle) run through the dashboard's session and judged by services/features/health.py, so the tab is
red exactly when `python -m scripts.monitor` is.

monitor.json (written from infra/monitoring.py, checked by a test) names what the queries are filled
with; the target lags stay in the stack's config, which the app does not have, so a dynamic table
here is judged by its refreshes alone and the monitor judges its lag.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import queries

from services.features import health

HERE = Path(__file__).resolve().parent
DESCRIPTION = HERE / "monitor.json"
NOT_HERE = "not read by the dashboard: python -m scripts.monitor --stack S reads it"


def description() -> dict[str, Any]:
    try:
        return json.loads(DESCRIPTION.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise queries.DataError(f"cannot read {DESCRIPTION.name}: {e}") from None


def names(desc: dict[str, Any]) -> health.Names:
    """The feeds' pipes, streams and tasks and the dynamic tables to judge; a target the app cannot know
    is said so, not guessed."""
    targets = {n: (cap, None if lag == "DOWNSTREAM" else lag) for n, (cap, lag) in desc["dynamic_tables"].items()}
    return health.Names([health.FeedNames(**f) for f in desc["feeds"]], targets, desc["cdc_tables"])


def _plain(value: Any) -> Any:
    """NaN and NaT (pandas' empty values, from the Snowpark session) are None, as the connector gives."""
    if value is None or isinstance(value, str):
        return value
    try:
        return None if value != value else value  # only NaN and NaT differ from themselves
    except (TypeError, ValueError):
        return value


def runner(source: queries.Source, desc: dict[str, Any]) -> health.Run:
    """Runs a monitor query (`analytics.stack_tasks`, `ingestion:sales.stack_pipe`: its scope, then its
    name) through the dashboard's source; a scope's file is its capability's."""
    database = source.database

    def run(key: str) -> list[dict[str, Any]]:
        scope, name = key.split(".", 1)
        params = {k: v.replace("{database}", database) for k, v in desc["params"][scope].items()}
        sql = queries.monitor_queries(scope.split(":", 1)[0], params)[name]
        try:
            rows, columns = source.run(sql)
        except Exception as e:  # a missing grant on Snowflake, a table the stand-in has not got
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise health.ReadError(first) from e
        lower = [c.lower() for c in columns]
        return [{c: _plain(v) for c, v in zip(lower, row, strict=True)} for row in rows]

    return run


def signals(source: queries.Source, now: datetime) -> list[health.Signal]:
    """Every signal the dashboard can give: Snowflake's metadata in Snowflake, the rehearsals' records
    on the stand-in (n/a for the rest); the Postgres and API signals are the monitor's alone."""
    desc = description()
    run = runner(source, desc)
    if source.local:
        found = health.local_signals(run, names(desc))
    else:
        found = health.stack_signals(run, names(desc), now)
    found.append(health.unavailable("serving", "Postgres serving tables", NOT_HERE))
    found.append(health.unavailable("api", "/health", NOT_HERE))
    return found
