"""Post-deploy steps of the analytics pipeline: `generate` the sources' history, apply a day of
`changes`, and `run` the pipeline. Against a deployed stack the task graph and the dynamic tables are
Snowflake's (`run` executes the root task and refreshes the dynamic tables now); `--local` runs the
same SQL on the stand-in through the rehearsal.

On a stack each step runs as the duty that owns its writes: `generate` and `changes` write the BRONZE
sources as LOADER (bulk rows PUT to the declared load stage and COPY'd in, no temporary stage); `run`
operates the task graph and the dynamic tables as TRANSFORMER.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from infra.analytics.catalog import DYNAMIC_TABLES, TABLES, fq
from infra.analytics.config import AnalyticsConfig
from infra.config.reader import stack_config
from infra.sqlfiles import named_queries
from scripts.analytics.generate import Batch, day_of_changes, history
from scripts.analytics.graphs import run_graphs
from scripts.analytics.rehearsal import LocalAnalytics, TaskRun
from scripts.core.connections import connect_standin, count, loader_session, stack_outputs, transformer_session
from scripts.core.errors import LoadError
from scripts.core.guard import guard_synthetic

SOURCES = ("customers", "products", "orders", "order_items", "movements")


class AnalyticsError(LoadError):
    """An analytics step failed; the message names the step and the cause."""


@dataclass
class AnalyticsTarget:
    """Where the steps run: a deployed stack, or the stand-in."""

    stack: str
    local: bool
    database: str
    connect: Callable[[], Any]  # who operates the pipeline (`run`): TRANSFORMER on a stack
    config: AnalyticsConfig
    connect_loader: Callable[[], Any] | None = None  # who writes the sources: LOADER (default: `connect`)
    timings: dict[str, float] = field(default_factory=dict)

    def writer(self) -> Any:
        """A session of the duty that writes the BRONZE sources."""
        return (self.connect_loader or self.connect)()


def local_target(
    stack: str = "dev", database: str | None = None, config: AnalyticsConfig | None = None
) -> AnalyticsTarget:
    """The stand-in, with the stack's database (or `database`) and analytics config (or `config`)."""
    cfg = stack_config(stack)
    db = database or cfg.naming.database
    return AnalyticsTarget(stack, True, db, lambda: connect_standin(db), config or cfg.analytics)


def stack_target(stack: str) -> AnalyticsTarget:
    """A deployed stack: the loader service user writes the sources, the transformer runs the pipeline."""
    cfg = stack_config(stack)
    out = stack_outputs(stack, ("database", "serviceUsers", "functionalRoles", "warehouses"))
    return AnalyticsTarget(
        stack,
        False,
        out["database"],
        lambda: transformer_session(cfg, out),
        cfg.analytics,
        connect_loader=lambda: loader_session(cfg, out),
    )


def _load(t: AnalyticsTarget, cur: Any, batch: Batch) -> dict[str, int]:
    """Append a batch's rows to the source tables from Parquet: one INSERT of the file on the stand-in;
    in Snowflake PUT to the declared load stage, in a folder of this load's own, and COPY'd by column
    name, the files purged once loaded."""
    counts = {}
    run = uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory(prefix="rdp-analytics-") as tmp:
        for key, table in batch.tables.items():
            path = Path(tmp) / f"{key}.parquet"
            pq.write_table(table, path)
            q = load_queries(t.database, key, path.as_posix(), f"{key}-{run}")
            if t.local:
                cur.execute(q["insert_file"], (str(path),))
            else:
                cur.execute(q["put"])
                cur.execute(q["copy"])
            counts[TABLES[key][1]] = table.num_rows
    return counts


def load_queries(database: str, key: str, path: str = "", folder: str = "") -> dict[str, str]:
    """sql/analytics/load.sql for one source table: PUT, COPY (Snowflake) and the stand-in's INSERT."""
    return named_queries(
        "analytics/load.sql", table=fq(database, key), stage=fq(database, "load_stage"), path=path, folder=folder
    )


def generate(t: AnalyticsTarget, replace: bool = False, first_fill: bool = False) -> dict[str, int]:
    """The sources' history. Refuses to add it twice: sources that hold rows stay as they are unless
    `replace` (which empties them first; the streams then carry the deletions too). Never into a prod
    stack, but as the --first-fill of empty sources."""
    with t.writer() as conn:
        cur = conn.cursor()
        filled = {key: count(cur, fq(t.database, key)) for key in SOURCES}
        guard_synthetic(t.stack, t.local, "generate", first_fill, lambda: not any(filled.values()))
        if any(filled.values()) and not replace:
            have = ", ".join(f"{TABLES[k][1]} {n:,}" for k, n in filled.items() if n)
            raise AnalyticsError(f"generate: the sources already hold rows ({have}); pass --replace to start over")
        if replace:
            for key in SOURCES:
                cur.execute(f"DELETE FROM {fq(t.database, key)}")
        return _load(t, cur, history(t.config.scale))


def changes(t: AnalyticsTarget, day: date | None = None) -> dict[str, int]:
    """One day of changes: new rows appended, then status, segment and price updates (never into prod)."""
    guard_synthetic(t.stack, t.local, "changes", False, lambda: False)  # never: a simulated day
    batch = day_of_changes(t.config.scale, day)
    q = named_queries(
        "analytics/changes.sql",
        orders=fq(t.database, "orders"),
        customers=fq(t.database, "customers"),
        products=fq(t.database, "products"),
    )
    with t.writer() as conn:
        cur = conn.cursor()
        counts = _load(t, cur, batch)
        for name, rows in (
            ("order_status", batch.status_changes),
            ("customer_segment", batch.customer_changes),
            ("product_price", batch.price_changes),
        ):
            if rows:
                cur.executemany(q[name], rows)
            counts[f"updates: {name}"] = len(rows)
    return counts


def run(t: AnalyticsTarget) -> list[TaskRun]:
    """The pipeline now: locally the rehearsal's task graphs and dynamic tables; in Snowflake, a refresh
    of each dynamic table, then the facts graph and, once it has ended, the summary graph (graphs.py)."""
    with t.connect() as conn:
        if t.local:
            la = LocalAnalytics(conn, t.database, t.config)
            t0 = time.perf_counter()
            runs = la.run_task_graph()
            t.timings["task graph s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            la.refresh_dynamic_tables()
            t.timings["dynamic tables s"] = time.perf_counter() - t0
            return runs
        cur = conn.cursor()
        for key in DYNAMIC_TABLES:
            cur.execute(f"ALTER DYNAMIC TABLE {fq(t.database, key)} REFRESH")
        return run_graphs(cur, t.database)


def prepare_local(t: AnalyticsTarget) -> None:
    """Locally, what `pulumi up` creates in Snowflake."""
    with t.connect() as conn:
        LocalAnalytics(conn, t.database, t.config).setup()


def counts(t: AnalyticsTarget) -> dict[str, int]:
    """Rows per table of the pipeline, on the stand-in."""
    with t.connect() as conn:
        return LocalAnalytics(conn, t.database, t.config).counts()
