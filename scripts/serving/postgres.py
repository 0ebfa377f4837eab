"""The Postgres serving schema: versioned migrations and the atomic staging-table sync.

Why a swap and not TRUNCATE + COPY: TRUNCATE holds an exclusive lock for the whole load, so the live
API would stall for seconds; here the new rows are COPYed into staging tables that nobody reads
(`stage`, one per table) and only the renames need locks (`switch`). Postgres validates the rows on the
way in (`staging`), not a Python pass over them. The switch puts every table of a sync live in one
transaction, so a failure or a kill at any point leaves all live tables as they were, and a reader sees
all old or all new tables. The switch waits for locks only briefly (`lock_timeout`)
and retries, so a long read delays the sync, not the API. The tables it replaces stay as `<table>__old`
until the next switch, so a bad load can be undone at once (`rollback`, also one transaction).
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from infra.serving.config import SERVING_TABLES
from infra.sqlfiles import SQL_DIR, render_sql
from scripts.core.errors import LoadError
from scripts.serving.staging import RowRefusedError, ServingTable, build_indexes, copy_rows

MIGRATIONS_DIR = SQL_DIR / "serving" / "migrations"
_MIGRATION = re.compile(r"^V(\d{3})__([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x52445053  # advisory lock: one migrator at a time


class ServingError(LoadError):
    """A sync or migration problem, worded with the table and row at fault."""


# SERVING_TABLES (infra/serving/config.py): their columns, types and keys are defined once, by the
# migrations in sql/serving/migrations; the sync reads them from the migrated table (`describe`).


def describe(conn: psycopg.Connection, schema: str, name: str) -> ServingTable:
    """A serving table as the migrations made it: columns in order, types and primary key."""
    described = conn.execute(
        "SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position",
        (schema, name),
    ).fetchall()
    if not described:
        raise ServingError(f"{schema}.{name} does not exist; run the migrations first")
    key = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.n",
        (f"{schema}.{name}",),
    ).fetchall()
    return ServingTable(
        name,
        tuple(c for c, _, _ in described),
        tuple(k for (k,) in key),
        {c: t for c, t, _ in described},
        {c: u for c, _, u in described},
    )


def select_columns(table: ServingTable, names: Sequence[str], rows: Iterable[Sequence]) -> Iterable[Sequence]:
    """Rows whose fields are named `names` (a warehouse query's columns, any case), put in the table's
    column order as they are read; a missing or unknown column is an error naming both lists."""
    lowered = [n.lower() for n in names]
    if sorted(lowered) != sorted(table.columns):
        missing = sorted(set(table.columns) - set(lowered))
        extra = sorted(set(lowered) - set(table.columns))
        raise ServingError(
            f"{table.name}: the query's columns do not match the table: missing {missing}, unknown {extra}"
        )
    order = [lowered.index(c) for c in table.columns]
    if order == list(range(len(order))):
        return rows
    pick = operator.itemgetter(*order)
    return map(pick, rows) if len(order) > 1 else ((pick(r),) for r in rows)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def body(self, schema: str) -> str:
        return render_sql(str(self.path.relative_to(SQL_DIR)), schema=_ident(schema))

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations() -> list[Migration]:
    found = []
    for p in sorted(MIGRATIONS_DIR.iterdir()):
        m = _MIGRATION.match(p.name)
        if not m:
            raise ServingError(f"{p}: migration files are named V<NNN>__<name>.sql")
        found.append(Migration(int(m.group(1)), m.group(2), p))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ServingError(f"migration versions must run 1..N without gaps, found {versions}")
    return found


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ServingError(f"schema {name!r}: use lower-case letters, digits and '_'")
    return name


def migrate(conninfo: str, schema: str = "serving") -> list[int]:
    """Apply pending migrations in order; each applies once, and an edited applied file is refused."""
    applied_now = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, "
                    "checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                ).format(sql.Identifier(schema))
            )
            done = dict(
                conn.execute(
                    sql.SQL("SELECT version, checksum FROM {}.schema_migrations").format(sql.Identifier(schema))
                ).fetchall()
            )
            for m in migrations():
                if m.version in done:
                    if done[m.version] != m.checksum:
                        raise ServingError(
                            f"migration V{m.version:03d}__{m.name} was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(m.body(schema))
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"
                        ).format(sql.Identifier(schema)),
                        (m.version, m.name, m.checksum),
                    )
                applied_now.append(m.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


# Memory for the index builds' sorts, shared among a parallel build's processes: with the 64MB default,
# the primary key of a 600k-row table is sorted in twice as many runs on disk.
MAINTENANCE_WORK_MEM = "256MB"


def sync_table(
    conninfo: str | psycopg.Connection,
    table_name: str,
    rows: Iterable[Sequence],
    schema: str = "serving",
    columns: Sequence[str] | None = None,
) -> int:
    """Replace one serving table's contents atomically (stage, then switch). `columns` names the rows'
    fields (any order); without it they are in the table's column order."""
    own = not isinstance(conninfo, psycopg.Connection)
    conn = psycopg.connect(conninfo) if own else conninfo
    try:
        n = stage(conn, table_name, rows, schema, columns)
        switch(conn, [table_name], schema)
        return n
    finally:
        if own:
            conn.close()


def stage(
    conn: psycopg.Connection,
    table_name: str,
    rows: Iterable[Sequence],
    schema: str = "serving",
    columns: Sequence[str] | None = None,
    timings: dict[str, float] | None = None,
) -> int:
    """Load the new contents of a serving table into `<table>__staging`, which nobody reads: COPY (checked
    by the table's types and constraints), then the live table's indexes (a repeated key is found here),
    statistics and grants. Committed, so `switch` can be retried without a reload; the live table is not
    touched (a leftover staging table of a killed run is replaced). `timings` receives each phase's
    seconds. A refused row is a ServingError naming the table and the row; nothing is left staged."""
    if table_name not in SERVING_TABLES:
        raise ServingError(f"{table_name!r} is not a serving table ({', '.join(SERVING_TABLES)})")
    table = describe(conn, schema, table_name)
    conn.commit()
    lap = _stopwatch(timings)
    live, staging_name = sql.Identifier(schema, table.name), f"{table.name}__staging"
    staging = sql.Identifier(schema, staging_name)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging))
        # Indexes are built after the load (faster than maintaining them row by row).
        cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)").format(staging, live))
        try:
            n = copy_rows(cur, table, schema, staging_name, select_columns(table, columns, rows) if columns else rows)
            lap("copy")
            _pause_hook(table.name)
            cur.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(MAINTENANCE_WORK_MEM)))
            build_indexes(cur, schema, table, staging_name)
            lap("indexes")
        except RowRefusedError as e:
            raise ServingError(str(e)) from None
        cur.execute(sql.SQL("ANALYZE {}").format(staging))
        grants = cur.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = %s AND table_name = %s AND grantee <> current_user",
            (schema, table.name),
        ).fetchall()
        for grantee, privilege in grants:
            cur.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), staging, sql.Identifier(grantee)))
        lap("analyze + grants")
    lap("commit")
    return n


def _stopwatch(timings: dict[str, float] | None) -> Callable[[str], None]:
    last = [time.perf_counter()]

    def lap(phase: str) -> None:
        now = time.perf_counter()
        if timings is not None:
            timings[phase] = timings.get(phase, 0.0) + now - last[0]
        last[0] = now

    return lap


# How long the switch may wait for a table's lock before it gives up and retries: it bounds how long
# the API's reads queue behind the switch; the retries outlast the BI role's statement timeout.
LOCK_TIMEOUT = "500ms"
SWITCH_PATIENCE_SECONDS = 120.0


def switch(
    conn: psycopg.Connection,
    tables: Sequence[str],
    schema: str = "serving",
    lock_timeout: str = LOCK_TIMEOUT,
    patience: float = SWITCH_PATIENCE_SECONDS,
) -> None:
    """Put every staged table live in ONE transaction, so readers see all old or all new tables; the
    replaced ones stay as `<table>__old` (the previous `__old` is dropped). Each attempt waits at most
    `lock_timeout` for a lock (a long read holds it), then rolls back and is retried with backoff for
    up to `patience` seconds; the staged tables stay for the next attempt."""
    missing = [t for t in tables if not exists(conn, schema, f"{t}__staging")]
    if missing:
        raise ServingError(f"nothing staged for {', '.join(missing)}: stage them before the switch")

    def swap_all(cur: psycopg.Cursor) -> None:
        for name in tables:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, f"{name}__old")))
            _rename(cur, schema, name, f"{name}__old")
            _rename(cur, schema, f"{name}__staging", name)

    _locked(conn, swap_all, f"switch {', '.join(tables)}", "the staged ones are kept", lock_timeout, patience)


def discard(conn: psycopg.Connection, schema: str, tables: Iterable[str]) -> None:
    """Drop the staged copies of `tables` (a load refused before its switch leaves nothing staged)."""
    with conn.transaction():
        for name in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, f"{name}__staging")))


def rollback(
    conn: psycopg.Connection,
    schema: str = "serving",
    tables: Sequence[str] = SERVING_TABLES,
    lock_timeout: str = LOCK_TIMEOUT,
    patience: float = SWITCH_PATIENCE_SECONDS,
) -> list[str]:
    """Put every `<table>__old` of `tables` back live in ONE transaction (readers see all current or
    all previous tables); the tables it replaces become the `__old` ones, so a second rollback undoes
    the first. A previous table whose columns differ (a migration since) is refused. The tables
    rolled back."""
    back = [t for t in tables if exists(conn, schema, f"{t}__old")]
    if not back:
        raise ServingError(f"nothing to roll back in {schema}: no <table>__old is left by a sync")
    for name in back:
        now, before = describe(conn, schema, name), describe(conn, schema, f"{name}__old")
        conn.commit()
        if (now.columns, now.types) != (before.columns, before.types):
            raise ServingError(f"{name}__old has other columns than {name} (a migration since); not rolled back")

    def rotate(cur: psycopg.Cursor) -> None:
        for name in back:
            _rename(cur, schema, name, f"{name}__undo")
            _rename(cur, schema, f"{name}__old", name)
            _rename(cur, schema, f"{name}__undo", f"{name}__old")

    _locked(conn, rotate, f"roll back {', '.join(back)}", "nothing was rolled back", lock_timeout, patience)
    return back


def _locked(
    conn: psycopg.Connection,
    body: Callable[[psycopg.Cursor], None],
    what: str,
    kept: str,
    lock_timeout: str,
    patience: float,
) -> None:
    """`body` in one transaction that waits at most `lock_timeout` for each lock, retried with backoff
    for up to `patience` seconds."""

    @retry(
        retry=retry_if_exception_type(psycopg.errors.LockNotAvailable),
        wait=wait_exponential(multiplier=0.1, max=5),
        stop=stop_after_delay(patience),
        reraise=True,
    )
    def attempt() -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout)))
            body(cur)

    try:
        attempt()
    except psycopg.errors.LockNotAvailable:
        raise ServingError(
            f"could not {what} within {patience:g} s: a long query holds their locks "
            f"(each try waited {lock_timeout}); the live tables are unchanged and {kept}"
        ) from None


def exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{name}",)).fetchone()
    conn.commit()
    return bool(found and found[0])


def _rename(cur: psycopg.Cursor, schema: str, old: str, new: str) -> None:
    """Rename a table and the indexes named after it (a constraint follows its index), so the live
    table's indexes always carry the live names."""
    indexes = cur.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        (f"{schema}.{old}",),
    ).fetchall()
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(schema, old), sql.Identifier(new)))
    for (index,) in indexes:
        if index.startswith(old):
            cur.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(schema, index), sql.Identifier(new + index[len(old) :])
                )
            )


def _pause_hook(table: str) -> None:
    """Test hook: RDP_SYNC_PAUSE=<table> stops mid-load (after COPY, before the swap) so a test can
    kill the process at the worst moment."""
    if os.environ.get("RDP_SYNC_PAUSE") == table:
        print(f"PAUSED {table}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("RDP_SYNC_PAUSE_SECONDS", "60")))


def live_counts(conn: psycopg.Connection, schema: str, tables: Iterable[str]) -> dict[str, int]:
    """Rows per live table (0 for one not created yet), for the sync's floors."""
    counts = {}
    for name in tables:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.{name}",)).fetchone()[0]
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
        counts[name] = conn.execute(query).fetchone()[0] if exists else 0
    conn.commit()
    return counts


def table_counts(conninfo: str, schema: str = "serving") -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return {
            name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0]
            for name in SERVING_TABLES
        }
