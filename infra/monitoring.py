"""What the platform's health queries (sql/<cap>/monitor.sql) are filled with, and the objects their
rows are judged against: one description for `python -m scripts.monitor` and the dashboard's
Operations tab, which reads it from services/dashboard/monitor.json (written from here, checked by a
test) because the app carries no infra code."""

from __future__ import annotations

import json
from typing import Any

from infra.analytics import catalog as analytics
from infra.cdc import catalog as cdc
from infra.config.stack import StackConfig
from infra.ingestion import catalog as ingestion
from infra.naming import quote
from infra.sqlfiles import named_queries

FILES = {"analytics": "analytics/monitor.sql", "cdc": "cdc/monitor.sql", "ingestion": "ingestion/monitor.sql"}
DATABASE = "{database}"  # the app's stand-in for its database, filled when it renders a query
APP_TARGET = "kept in the stack's config (python -m scripts.monitor judges the lag)"


def scope(feed: ingestion.Feed) -> str:
    """The prefix of a feed's own monitor queries: ingestion/monitor.sql is filled once per feed."""
    return f"ingestion:{feed.key}"


def capability(scope_name: str) -> str:
    """The capability (and so the monitor file) of a query scope: `ingestion:sales` → `ingestion`."""
    return scope_name.split(":", 1)[0]


def params(database: str) -> dict[str, dict[str, str]]:
    """Each query scope's placeholders for a database: one per capability, one per ingestion feed."""
    return {
        "analytics": {"db": quote(database), "history": analytics.fq(database, "task_history")},
        "cdc": {
            "db": quote(database),
            "monitoring": cdc.fq(database, "monitoring"),
            "refreshes": cdc.fq(database, "local_refreshes"),
        },
        **{
            scope(feed): {
                "pipe": ".".join((database, *feed.catalog.objects["pipe"])),
                "load_history": feed.fq(database, "load_history"),
            }
            for feed in ingestion.FEEDS.values()
        },
    }


def queries(database: str) -> dict[str, str]:
    """Every monitor query of a database, by `scope.name` (stack_* on a stack, local_* on the stand-in)."""
    found: dict[str, str] = {}
    for name, values in params(database).items():
        found |= {f"{name}.{k}": v for k, v in named_queries(FILES[capability(name)], **values).items()}
    return found


def feeds() -> list[dict[str, str]]:
    """Every ingestion feed's query scope and the names of its pipe, stream and task (the catalog's)."""
    return [
        {"scope": scope(f), **{k: f.catalog.name(k) for k in ("pipe", "stream", "task")}}
        for f in ingestion.FEEDS.values()
    ]


def dynamic_tables() -> dict[str, tuple[str, str]]:
    """Every declared dynamic table's physical name → (capability, its lag: DOWNSTREAM or a config key)."""
    return {
        module.CATALOG.name(key): (cap, dt.lag)
        for cap, module in (("analytics", analytics), ("cdc", cdc))
        for key, dt in module.DYNAMIC_TABLES.items()
    }


def lags(cfg: StackConfig) -> dict[str, tuple[str, str]]:
    """Every dynamic table's physical name → (capability, its target lag from the stack's config)."""
    configured = {"analytics": cfg.analytics.lags, "cdc": cfg.cdc.lags}
    return {
        name: (cap, lag if lag == "DOWNSTREAM" else getattr(configured[cap], lag))
        for name, (cap, lag) in dynamic_tables().items()
    }


def cdc_tables() -> list[str]:
    """The CDC tables in the order local_dynamic_tables reports their lags."""
    return [cdc.CATALOG.name(k) for k in cdc.DYNAMIC_TABLES]


def app_description() -> dict[str, Any]:
    """What the dashboard needs to run and judge the same queries: each file's placeholders with the
    database left as `{database}`, the feeds' pipes, streams and tasks, and the dynamic tables (their
    targets stay in the config)."""
    return {
        "params": params(DATABASE),
        "feeds": feeds(),
        "dynamic_tables": {
            name: [cap, "DOWNSTREAM" if lag == "DOWNSTREAM" else APP_TARGET]
            for name, (cap, lag) in dynamic_tables().items()
        },
        "cdc_tables": cdc_tables(),
    }


def app_json() -> str:
    """services/dashboard/monitor.json as it must read."""
    return json.dumps(app_description(), indent=2, sort_keys=True) + "\n"
