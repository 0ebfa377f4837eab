"""One feed's Snowflake side on the stand-in (fakesnow): its tables, its pipe's bookkeeping (load history,
rejects, the bulk load into Bronze) and its stream and task, all from the SQL files the stack deploys.

fakesnow has no streams, tasks or procedures, so the task is reproduced explicitly: the stream is the set
of Bronze rows not yet consumed (tracked in a table), and the procedure's steps run from the same xfm and
merge files as the procedure (see `run_task` for how atomicity is kept)."""

from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from infra.ingestion.catalog import Feed
from infra.recommendations.catalog import create_table_if_missing
from infra.sqlfiles import named_queries
from scripts.core.connections import ensure_foundation, transaction


@dataclass
class TaskResult:
    batch: int
    consumed: int
    staged: int
    silver_rows: int


class LocalFeed:
    """`feed`'s objects in database `db` over the open connection `conn`."""

    def __init__(self, feed: Feed, db: str, conn, work: Path) -> None:
        self.feed, self.db, self.conn, self.work = feed, db, conn, work
        self.pipe_sql = named_queries(
            "ingestion/local/pipe.sql",
            rejects=self.fq("rejects"),
            load_history=self.fq("load_history"),
            bronze=self.fq("bronze"),
            bronze_columns=", ".join(c for c, _ in feed.bronze_columns),
        )
        self.stream_sql = named_queries(
            "ingestion/local/stream.sql", consumed=self.fq("consumed"), bronze=self.fq("bronze")
        )

    def fq(self, key: str) -> str:
        return self.feed.fq(self.db, key)

    def create(self) -> None:
        """Create (idempotently) the feed's tables and its Gold view, as `pulumi up` declares them."""
        cur = self.conn.cursor()
        ensure_foundation(cur, self.db)
        f = self.feed
        for key, cols in (("bronze", f.bronze_columns), ("xfm", f.xfm_columns), ("silver", f.silver_columns)):
            cur.execute(create_table_if_missing(self.fq(key), cols))
        for col, kind in f.bronze_columns:  # a Bronze table of an earlier run gets the columns added since
            cur.execute(f"ALTER TABLE {self.fq('bronze')} ADD COLUMN IF NOT EXISTS {col} {kind}")
        for statement in ("create_rejects", "create_load_history"):
            cur.execute(self.pipe_sql[statement])
        cur.execute(self.stream_sql["create_consumed"])
        if f.has_view:
            cur.execute(f"CREATE OR REPLACE VIEW {self.fq('view')} AS " + f.gold_view_sql(self.db))

    # ------------------------------------------------------------------ pipe bookkeeping
    def seen_before(self, name: str, etag: str) -> str | None:
        cur = self.conn.cursor()
        cur.execute(self.pipe_sql["seen_before"], (name, etag))
        row = cur.fetchone()
        return row[0] if row else None

    def copy_into_bronze(self, name: str, rows: list[tuple[int, list[str | None]]], last_modified) -> int:
        """Stage the clean rows as a file and bulk-load them, as Snowpipe's COPY does from the stage.

        Each row gets the next number of the load sequence (_LOAD_SEQ), so a later load of a key
        wins a tie on its version time whatever the file names and however close in time the loads are.
        fakesnow's COPY INTO cannot bind files wider than ten columns (it names them column00…),
        so the stand-in reads the staged file with DuckDB's read_csv, which fakesnow passes through.
        """
        cur = self.conn.cursor()
        cur.execute(self.pipe_sql["last_load_seq"])
        last_seq = int(cur.fetchone()[0])
        batch = self.work / f"{time.time_ns()}.csv"
        loaded_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        modified = last_modified.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with open(batch, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            for seq, (number, values) in enumerate(rows, start=last_seq + 1):
                w.writerow([*("" if v is None else v for v in values), name, number, loaded_at, modified, seq])
        try:
            cur.execute(self.pipe_sql["load_file"], (str(batch),))
            return int(cur.fetchone()[0])
        finally:
            batch.unlink()

    def reject(self, name: str, bad: list[tuple[int, str, str]]) -> None:
        cur = self.conn.cursor()
        cur.executemany(self.pipe_sql["record_reject"], [(name, n, reason, raw) for n, reason, raw in bad])

    def history(self, name: str, etag: str, status: str, loaded: int, rejected: int) -> None:
        self.conn.cursor().execute(self.pipe_sql["record_load"], (name, etag, status, loaded, rejected))

    # ------------------------------------------------------------------ stream + task
    def stream_has_data(self) -> bool:
        """SYSTEM$STREAM_HAS_DATA for the local stream: Bronze rows not consumed yet."""
        cur = self.conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {self.stream_sql['unconsumed']} AS stream")
        return cur.fetchone()[0] > 0

    def run_task(self, fail_before_commit: bool = False) -> TaskResult | None:
        """The task: WHEN the stream has data, run the procedure's steps from the same SQL files.

        In Snowflake the procedure stages and MERGEs in one transaction. fakesnow cannot run MERGE
        inside an explicit transaction, so locally the batch is claimed and staged in one
        transaction, merged, and only then marked consumed. A failure before that mark leaves the
        rows in the stream, and because the MERGE is a no-op on rows it already applied, the retry
        gives the same Silver table as one clean run.
        """
        cur = self.conn.cursor()
        q = self.stream_sql
        cur.execute(q["drop_dead_claims"])  # claims of a batch that died
        if not self.stream_has_data():
            return None
        cur.execute(q["next_batch"])
        batch = int(cur.fetchone()[0])
        xfm_cols = ", ".join(c for c, _ in self.feed.xfm_columns)
        with transaction(cur):
            cur.execute(q["claim"], (batch,))
            consumed = cur.fetchone()[0]
            cur.execute(f"DELETE FROM {self.fq('xfm')}")
            cur.execute(
                f"INSERT INTO {self.fq('xfm')} ({xfm_cols}) " + self.feed.xfm_select_sql(f"{q['claimed']} AS stream")
            )
            staged = cur.fetchone()[0]
        cur.execute(self.feed.merge_sql(self.db))
        if fail_before_commit:
            raise RuntimeError("injected failure after the MERGE, before the stream offset moved")
        cur.execute(q["commit_batch"], (batch,))
        cur.execute(f"SELECT COUNT(*) FROM {self.fq('silver')}")
        return TaskResult(batch, consumed, staged, cur.fetchone()[0])

    # ------------------------------------------------------------------ report
    def counts(self) -> dict[str, int]:
        """Rows per layer: Bronze, rejected, not yet consumed, Silver (and the Gold view where there is one)."""
        cur = self.conn.cursor()
        out = {}
        relations = [
            ("bronze", self.fq("bronze")),
            ("rejected", self.fq("rejects")),
            ("stream (unconsumed)", f"{self.stream_sql['unconsumed']} AS stream"),
            ("silver", self.fq("silver")),
        ]
        if self.feed.has_view:
            relations.append(("gold view", self.fq("view")))
        for label, rel in relations:
            cur.execute(f"SELECT COUNT(*) FROM {rel}")
            out[label] = cur.fetchone()[0]
        return out

    def rejected_rows(self, limit: int = 20) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(self.pipe_sql["first_rejects"], (limit,))
        return cur.fetchall()
