"""The analytics pipeline on fakesnow, which has no streams, tasks, procedures or dynamic tables.

What Snowflake does for them is reproduced explicitly, from the same SQL files the Pulumi program
deploys: each stream is the net change of its table since its offset (sql/analytics/local/stream.sql),
each procedure runs its statements in order and only then moves the offsets of the streams it reads,
dynamic tables are rebuilt in dependency order, and the task graphs run root → children in `after`
order, with each root's WHEN evaluated and every run written to a run log.

fakesnow cannot run MERGE inside an explicit transaction, so where Snowflake commits a procedure as one
transaction the rehearsal relies on its statements being idempotent: a failure leaves the offsets where
they were, and the retry produces the same tables as one clean run (tested).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra.analytics import catalog
from infra.analytics.catalog import DYNAMIC_TABLES, PROCEDURES, STREAMS, TASKS, fq
from infra.analytics.config import AnalyticsConfig
from infra.sqlfiles import named_queries
from scripts.core.connections import count, ensure_foundation
from scripts.core.rehearsal import LocalRun, run_cli

TITLE = "analytics: sources → streams → SCD2 dimensions → facts → summary; dynamic tables"


def rehearse(run: LocalRun) -> None:
    """`make local`: the sources' history, the task graph, a day of changes, the task graph again."""
    run_cli("analytics", "all", "--local", "--replace", "--stack", run.stack)


@dataclass
class TaskRun:
    task: str
    state: str  # SUCCEEDED, FAILED, SKIPPED
    reason: str
    seconds: float


class LocalAnalytics:
    """The pipeline's objects of one database on a fakesnow connection, and their behaviour."""

    def __init__(self, conn: Any, database: str, config: AnalyticsConfig) -> None:
        self.conn, self.db, self.cfg = conn, database, config
        self.streams = {
            key: named_queries(
                "analytics/local/stream.sql",
                table=fq(database, s.table),
                offset=fq(database, f"{key}_offset"),
                key=s.key,
            )
            for key, s in STREAMS.items()
        }
        self.history = named_queries("analytics/local/tasks.sql", history=fq(database, "task_history"))

    def cursor(self) -> Any:
        return self.conn.cursor()

    def setup(self) -> None:
        """What `pulumi up` declares, created if missing: schemas, tables, stream offsets, the run log."""
        cur = self.cursor()
        ensure_foundation(cur, self.db)
        for statement in catalog.create_table_statements(self.db):
            cur.execute(statement)
        for q in self.streams.values():
            cur.execute(q["create_offset"])
        cur.execute(self.history["create_history"])

    # ------------------------------------------------------------------ streams
    def stream(self, key: str) -> str:
        """The stream's current contents as a subquery, where Snowflake would read the stream."""
        return self.streams[key]["append_only" if STREAMS[key].append_only else "standard"]

    def stream_rows(self, key: str) -> int:
        """SYSTEM$STREAM_HAS_DATA, counted."""
        return count(self.cursor(), self.stream(key))

    def _advance(self, proc: str) -> None:
        cur = self.cursor()
        for key, s in STREAMS.items():
            if s.consumer == proc:
                cur.execute(self.streams[key]["clear_offset"])
                cur.execute(self.streams[key]["advance_offset"])

    # ------------------------------------------------------------------ procedures, dynamic tables, tasks
    def run_procedure(self, proc: str, fail_after: int | None = None) -> None:
        """The procedure's statements in order; the streams it read move only after the last one.
        `fail_after` stops after that many statements (tests: a failure mid-procedure)."""
        statements = catalog.procedure_statements(self.db, proc, self.stream, self.cfg.date_horizon_days)
        cur = self.cursor()
        for i, statement in enumerate(statements):
            if fail_after is not None and i == fail_after:
                raise RuntimeError(f"injected failure in {PROCEDURES[proc][0]} before statement {i + 1}")
            cur.execute(statement)
        self._advance(proc)

    def refresh_dynamic_tables(self) -> dict[str, int]:
        """Each dynamic table rebuilt from its query, inputs before the tables that read them."""
        cur = self.cursor()
        counts = {}
        for key in DYNAMIC_TABLES:
            cur.execute(f"CREATE OR REPLACE TABLE {fq(self.db, key)} AS {catalog.dynamic_table_sql(self.db, key)}")
            counts[key] = count(cur, fq(self.db, key))
        return counts

    def run_task_graph(self) -> list[TaskRun]:
        """One tick at which both graphs are due: each root's WHEN, then each task after its
        predecessor; the summary graph's root after the facts committed, as its later minute does."""
        cur = self.cursor()
        cur.execute(self.history["next_run"])
        run_id = int(cur.fetchone()[0])
        runs: dict[str, TaskRun] = {}
        for key, task in TASKS.items():
            started = datetime.now()
            t0 = time.perf_counter()
            before = runs.get(task.after) if task.after else None
            if task.after is None and not any(self.stream_rows(s) for s in task.when):
                runs[key] = TaskRun(task.name, "SKIPPED", "WHEN: no stream has data", 0.0)
            elif before is not None and before.state != "SUCCEEDED":
                runs[key] = TaskRun(task.name, "SKIPPED", f"predecessor {before.task} {before.state}", 0.0)
            else:
                try:
                    self.run_procedure(task.procedure)
                    runs[key] = TaskRun(task.name, "SUCCEEDED", "", time.perf_counter() - t0)
                except Exception as e:  # a failed task is logged and stops its successors, as in Snowflake
                    reason = f"{type(e).__name__}: {e}"[:500]
                    runs[key] = TaskRun(task.name, "FAILED", reason, time.perf_counter() - t0)
            r = runs[key]
            cur.execute(self.history["record"], (run_id, key, r.state, r.reason, started, datetime.now()))
        return list(runs.values())

    # ------------------------------------------------------------------ report
    def counts(self) -> dict[str, int]:
        """Rows per table, work tables aside."""
        cur = self.cursor()
        keys = [
            k
            for k in (*catalog.TABLES, *DYNAMIC_TABLES)
            if k not in ("work_customers", "work_products", "order_changes", "summary_dates")
        ]
        return {catalog.CATALOG.name(key): count(cur, fq(self.db, key)) for key in keys}
