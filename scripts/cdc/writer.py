"""Where the generator's changes go: the deployed change log (PUT + COPY through its stage), the
stand-in (one INSERT per batch), or, to measure against, one statement and one commit per event."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from infra.cdc.catalog import CATALOG, CHANGE_COLUMNS, fq, next_block_sql
from infra.naming import quote
from infra.sqlfiles import named_queries

COLUMNS = ", ".join(c for c, _, _ in CHANGE_COLUMNS)


class Writer(Protocol):
    def reserve(self, sequence: str) -> int: ...

    def write(self, batch: pa.Table) -> None: ...


class _Session:
    def __init__(self, conn: Any, database: str) -> None:
        self.conn, self.db = conn, database
        self.cur = conn.cursor()
        self.tmp = Path(tempfile.mkdtemp(prefix="rdp-cdc-"))
        # the batch files are removed one by one; the folder goes with the writer
        weakref.finalize(self, shutil.rmtree, self.tmp, True)

    def reserve(self, sequence: str) -> int:
        """The first value of a fresh block of `sequence` (NEXTVAL, the USAGE the writer role has)."""
        self.cur.execute(next_block_sql(self.db, sequence))
        return int(self.cur.fetchone()[0])

    def _file(self, batch: pa.Table) -> Path:
        # named after the batch's first change: a retried batch has the same name, which COPY has loaded
        path = self.tmp / f"changes-{batch.column('CHANGE_SEQ')[0].as_py()}.parquet"
        pq.write_table(batch, path)
        return path

    def _queries(self, **params: str) -> dict[str, str]:
        base = {"changes": fq(self.db, "changes"), "stage": fq(self.db, "stage"), "columns": COLUMNS}
        defaults = {"path": "", "folder": "", "markers": ""}
        return named_queries("cdc/load.sql", **base, **{**defaults, **params})


class LocalWriter(_Session):
    """The stand-in: each batch is one INSERT … SELECT from a Parquet file."""

    def reserve(self, sequence: str) -> int:
        # fakesnow resolves NEXTVAL in the current schema whatever the qualification: make it the sequence's
        self.cur.execute(f"USE SCHEMA {quote(self.db, CATALOG.schema(sequence))}")
        return super().reserve(sequence)

    def write(self, batch: pa.Table) -> None:
        path = self._file(batch)
        try:
            self.cur.execute(self._queries()["insert_file"], (str(path),))
        finally:
            path.unlink(missing_ok=True)


class StageWriter(_Session):
    """A deployed stack: PUT the batch to the change log's stage and COPY it in. File and folder are named
    after the batch's first CHANGE_SEQ, and COPY skips a file its load history has, so a retried batch is
    not loaded twice; PURGE removes a file once it is loaded."""

    def write(self, batch: pa.Table) -> None:
        path = self._file(batch)
        folder = f"batch-{batch.column('CHANGE_SEQ')[0].as_py()}"
        try:
            q = self._queries(path=path.as_posix(), folder=folder)
            self.cur.execute(q["put"])
            self.cur.execute(q["copy"])
        finally:
            path.unlink(missing_ok=True)


class OneByOneWriter(_Session):
    """One INSERT and one commit per event, the way a naive producer writes: the baseline of the bench."""

    def write(self, batch: pa.Table) -> None:
        sql = self._queries(markers=", ".join(["%s"] * len(CHANGE_COLUMNS)))["one_event"]
        for row in batch.to_pylist():
            self.cur.execute(sql, tuple(row[c] for c, _, _ in CHANGE_COLUMNS))
            self.conn.commit()
