"""The Postgres serving schema: versioned migrations and the atomic staging-table sync.

Why a swap and not TRUNCATE + COPY: TRUNCATE holds an exclusive lock for the whole load, so the live
API would stall for seconds; here the new rows are COPYed into staging tables that nobody reads
(`stage`, one per table) and only the renames need locks (`switch`). The switch puts every table of a
sync live in one transaction, so a failure or a kill at any point leaves all live tables as they were,
and a reader sees all old or all new tables. The switch waits for locks only briefly (`lock_timeout`)
and retries, so a long read delays the sync, not the API.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from infra.sqlfiles import SQL_DIR, render_sql

MIGRATIONS_DIR = SQL_DIR / "serving" / "migrations"
_MIGRATION = re.compile(r"^V(\d{3})__([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x52445053  # advisory lock: one migrator at a time


class ServingError(RuntimeError):
    """A sync or migration problem, worded with the table and row at fault."""


# The serving tables. Their columns, types and keys are defined once, by the migrations in
# sql/serving/migrations; the sync reads them from the migrated table (`describe`).
SERVING_TABLES = ("customer_features", "customer_propensity", "inventory", "products", "customer_profiles")


@dataclass(frozen=True)
class ServingTable:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)  # column → information_schema data_type
    udt: dict[str, str] = field(default_factory=dict)  # column → Postgres type name (for binary COPY)


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


def select_columns(table: ServingTable, names: Sequence[str], rows: Iterable[Sequence]) -> list[tuple]:
    """Rows whose fields are named `names` (a warehouse query's columns, any case) in the table's
    column order; a missing or unknown column is an error naming both lists."""
    lowered = [n.lower() for n in names]
    if sorted(lowered) != sorted(table.columns):
        missing = sorted(set(table.columns) - set(lowered))
        extra = sorted(set(lowered) - set(table.columns))
        raise ServingError(
            f"{table.name}: the query's columns do not match the table: missing {missing}, unknown {extra}"
        )
    order = [lowered.index(c) for c in table.columns]
    if order == list(range(len(order))):
        return [tuple(r) for r in rows]
    return [tuple(r[i] for i in order) for r in rows]


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


_INT_TYPES = {"integer", "bigint", "smallint"}


def _coerce_int(value: object, table: str, row: int, column: str) -> object:
    if value is None or isinstance(value, int):
        return value
    try:
        f = float(value)  # the warehouse hands NUMBER aggregates over as floats or Decimals
    except (TypeError, ValueError):
        raise ServingError(f"{table}: row {row} column {column} is {value!r}, not an integer") from None
    if not f.is_integer():
        raise ServingError(f"{table}: row {row} column {column} is {value!r}, not an integer")
    return int(f)


def validate_rows(table: ServingTable, rows: Iterable[Sequence]) -> list[tuple]:
    """Refuse the whole batch on a malformed row (wrong width, NULL or duplicate key, a non-integer in
    an integer column), naming the row; integral floats are made integers. Column-wise, so the checks
    cost little next to the COPY."""
    width = len(table.columns)
    data = [tuple(r) for r in rows]
    for i, row in enumerate(data, start=1):
        if len(row) != width:
            raise ServingError(
                f"{table.name}: row {i} has {len(row)} values, expected {width} ({', '.join(table.columns)})"
            )
    if not data:
        return data
    cols = list(zip(*data, strict=True))
    changed = False
    for j, name in enumerate(table.columns):
        if table.types.get(name) not in _INT_TYPES:
            continue
        col = cols[j]
        if all(type(v) is int or v is None for v in col):
            continue
        cols[j] = tuple(_coerce_int(v, table.name, i, name) for i, v in enumerate(col, start=1))
        changed = True
    key_cols = [cols[table.columns.index(k)] for k in table.key]
    keys = key_cols[0] if len(key_cols) == 1 else list(zip(*key_cols, strict=True))
    nulls = [i for i, k in enumerate(keys, start=1) if k is None or (type(k) is tuple and None in k)]
    if nulls:
        i = nulls[0]
        raise ServingError(f"{table.name}: row {i} has a NULL key {_key(table, data[i - 1])}")
    if len(set(keys)) != len(keys):
        seen: set = set()
        for i, k in enumerate(keys, start=1):
            if k in seen:
                raise ServingError(f"{table.name}: row {i} repeats key {_key(table, data[i - 1])}")
            seen.add(k)
    return list(zip(*cols, strict=True)) if changed else data


def _key(table: ServingTable, row: tuple) -> dict:
    return {k: row[table.columns.index(k)] for k in table.key}


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
) -> int:
    """Load the new contents of a serving table into `<table>__staging`, which nobody reads: COPY, then
    the live table's indexes, statistics and grants. Committed, so `switch` can be retried without a
    reload; the live table is not touched (a leftover staging table of a killed run is replaced)."""
    if table_name not in SERVING_TABLES:
        raise ServingError(f"{table_name!r} is not a serving table ({', '.join(SERVING_TABLES)})")
    table = describe(conn, schema, table_name)
    conn.commit()
    data = validate_rows(table, select_columns(table, columns, rows) if columns else rows)
    live, staging_name = sql.Identifier(schema, table.name), f"{table.name}__staging"
    staging = sql.Identifier(schema, staging_name)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging))
        # Indexes are built after the load (faster than maintaining them row by row).
        cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)").format(staging, live))
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(staging, cols)) as copy:
            copy.set_types([table.udt[c] for c in table.columns])
            for row in data:
                copy.write_row(row)
        _pause_hook(table.name)
        _build_indexes(cur, schema, table.name, staging_name)
        cur.execute(sql.SQL("ANALYZE {}").format(staging))
        grants = cur.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = %s AND table_name = %s AND grantee <> current_user",
            (schema, table.name),
        ).fetchall()
        for grantee, privilege in grants:
            cur.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), staging, sql.Identifier(grantee)))
    return len(data)


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
    """Put every staged table live in ONE transaction, so readers see all old or all new tables. Each
    attempt waits at most `lock_timeout` for a lock (a long read holds it), then rolls back and is
    retried with backoff for up to `patience` seconds; the staged tables stay for the next attempt."""
    missing = [t for t in tables if not _exists(conn, schema, f"{t}__staging")]
    if missing:
        raise ServingError(f"nothing staged for {', '.join(missing)}: stage them before the switch")

    @retry(
        retry=retry_if_exception_type(psycopg.errors.LockNotAvailable),
        wait=wait_exponential(multiplier=0.1, max=5),
        stop=stop_after_delay(patience),
        reraise=True,
    )
    def attempt() -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout)))
            for name in tables:
                _swap(cur, schema, name)

    try:
        attempt()
    except psycopg.errors.LockNotAvailable:
        raise ServingError(
            f"could not switch {', '.join(tables)} within {patience:g} s: a long query holds their locks "
            f"(each try waited {lock_timeout}); the live tables are unchanged and the staged ones are kept"
        ) from None


def _exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{name}",)).fetchone()
    conn.commit()
    return bool(found and found[0])


def _swap(cur: psycopg.Cursor, schema: str, name: str) -> None:
    staging_name = f"{name}__staging"
    old = sql.Identifier(f"{name}__old")
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(schema, name), old))
    cur.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(schema, staging_name), sql.Identifier(name))
    )
    cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, f"{name}__old")))
    for (index,) in cur.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        (f"{schema}.{name}",),
    ).fetchall():
        if index.startswith(staging_name):
            cur.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(schema, index), sql.Identifier(name + index[len(staging_name) :])
                )
            )


def _build_indexes(cur: psycopg.Cursor, schema: str, table: str, staging: str) -> None:
    """Recreate the live table's primary key and indexes on the loaded staging table, under names
    that the swap renames back to the live ones."""
    rows = cur.execute(
        "SELECT ic.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid) "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass",
        (f"{schema}.{table}",),
    ).fetchall()
    for index, indexdef, conname, condef in rows:
        new_name = staging + index[len(table) :] if index.startswith(table) else f"{staging}_{index}"
        if conname:
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(schema, staging), sql.Identifier(new_name), sql.SQL(condef)
                )
            )
        else:
            head, _, tail = indexdef.partition(" ON ")
            unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
            tail = tail.replace(f"{schema}.{table} ", f"{schema}.{staging} ", 1)
            cur.execute(sql.SQL(f"CREATE {unique}INDEX {{}} ON {tail}").format(sql.Identifier(new_name)))


def _pause_hook(table: str) -> None:
    """Test hook: RDP_SYNC_PAUSE=<table> stops mid-load (after COPY, before the swap) so a test can
    kill the process at the worst moment."""
    if os.environ.get("RDP_SYNC_PAUSE") == table:
        print(f"PAUSED {table}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("RDP_SYNC_PAUSE_SECONDS", "60")))


def table_counts(conninfo: str, schema: str = "serving") -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return {
            name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0]
            for name in SERVING_TABLES
        }
