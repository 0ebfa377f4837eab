"""Filling a serving table's staging copy, validated by Postgres rather than by a Python pass over the rows.

The staging table has the live table's types and constraints (NOT NULL, CHECK). One binary COPY sends
the rows: a value psycopg cannot send as its column's type fails in Python, a row Postgres refuses fails
in COPY with the row's number; the primary key, built after the COPY, finds a repeated key, whose row is
then looked up. Every refusal is a `RowRefusedError` naming the table and the row.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import pq, sql
from psycopg.types.bool import BoolBinaryDumper
from psycopg.types.numeric import Int2BinaryDumper, Int4BinaryDumper, Int8BinaryDumper


@dataclass(frozen=True)
class ServingTable:
    """A serving table as the migrations made it: columns in order, primary key, types."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)  # column → information_schema data_type
    udt: dict[str, str] = field(default_factory=dict)  # column → Postgres type name (for binary COPY)


class RowRefusedError(ValueError):
    """A row the serving table cannot take; the message names the table, the row and the reason."""


def integral(value: object) -> int:
    """An int, also from a float or Decimal without a fraction (a warehouse's NUMBER aggregates arrive as
    6.0); anything else (1.5, '6', NaN) is refused."""
    if type(value) is int:
        return value
    number = int(value)  # type: ignore[call-overload]
    if number != value:
        raise TypeError(f"{value!r} is not an integer")
    return number


_INT2, _INT4, _INT8 = (struct.Struct(f"!{code}").pack for code in "hiq")


# Integers and booleans go through these pure-Python dumpers, not psycopg's C ones, which refuse 6.0 in
# an integer column, send the low bits of an int too large for int2/int4 (2**40 arrives as 0) and any
# object's truth as a boolean ('false' arrives as true). Each costs ~0.1 µs a value.
class _CheckedInt2(Int2BinaryDumper):
    def dump(self, obj: object) -> bytes:
        return _INT2(obj if type(obj) is int else integral(obj))


class _CheckedInt4(Int4BinaryDumper):
    def dump(self, obj: object) -> bytes:
        return _INT4(obj if type(obj) is int else integral(obj))


class _CheckedInt8(Int8BinaryDumper):
    def dump(self, obj: object) -> bytes:
        return _INT8(obj if type(obj) is int else integral(obj))


class _StrictBool(BoolBinaryDumper):
    def dump(self, obj: object) -> bytes:
        if not isinstance(obj, bool):
            raise TypeError(f"{type(obj).__name__} is not a bool")
        return b"\x01" if obj else b"\x00"


STRICT_DUMPERS = (_CheckedInt2, _CheckedInt4, _CheckedInt8, _StrictBool)


def copy_type(udt: str) -> str:
    """psycopg's name of a column's type: information_schema names an array of int8 `_int8`."""
    return f"{udt[1:]}[]" if udt.startswith("_") else udt


def copy_rows(cur: psycopg.Cursor, table: ServingTable, schema: str, staging: str, rows: Iterable[Sequence]) -> int:
    """Binary COPY (FREEZE: the table is new in this transaction, so readers need no hint-bit writes)
    of `rows`, in the table's column order, into the empty staging table; the number of rows."""
    for dumper in STRICT_DUMPERS:
        cur.adapters.register_dumper(None, dumper)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY, FREEZE)").format(sql.Identifier(schema, staging), cols)
    n, row = 0, None
    try:
        with cur.copy(query) as copy:
            copy.set_types([copy_type(table.udt[c]) for c in table.columns])
            for row in rows:
                n += 1
                copy.write_row(row)
    except psycopg.Error as e:
        if e.sqlstate and e.sqlstate[:2] in ("22", "23"):  # Postgres refused a row: data or constraint
            raise RowRefusedError(_refused(table, staging, e)) from None
        if e.sqlstate or not isinstance(e, psycopg.DataError):  # not about the rows (a lost connection)
            raise
        raise RowRefusedError(_unsendable(cur, table, n, row, e)) from None  # psycopg's own check (the width)
    except (TypeError, ValueError, OverflowError, struct.error) as e:
        raise RowRefusedError(_unsendable(cur, table, n, row, e)) from None
    return n


_COPY_LINE = re.compile(r"line (\d+)(?:, column (\w+))?")


def _refused(table: ServingTable, staging: str, error: psycopg.Error) -> str:
    """Postgres's own refusal, worded with the serving table and the row (COPY counts rows as lines)."""
    found = _COPY_LINE.search(error.diag.context or "")
    where = f"row {found.group(1)}" if found else "COPY"
    if found and found.group(2):
        where += f" column {found.group(2)}"
    what = (error.diag.message_primary or str(error)).replace(f'"{staging}"', f'"{table.name}"')
    return f"{table.name}: {where}: {what}"


def _unsendable(cur: psycopg.Cursor, table: ServingTable, n: int, row: Sequence | None, error: Exception) -> str:
    """Which value of row `n` cannot be sent as its column's type: each is tried again alone, which only
    this error path pays for."""
    width = len(table.columns)
    if row is None or len(row) != width:
        got = f"has {len(row)} values" if row is not None else "cannot be read"
        return f"{table.name}: row {n} {got}, expected {width} ({', '.join(table.columns)}): {error}"
    for name, value in zip(table.columns, row, strict=True):
        info = cur.adapters.types.get(copy_type(table.udt[name]))
        dumper = cur.adapters.get_dumper_by_oid(info.oid, pq.Format.BINARY) if info else None
        try:
            if value is not None and dumper:
                dumper(type(value), cur).dump(value)
        except Exception as e:  # the value at fault, whatever psycopg raised for it
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            return f"{table.name}: row {n} column {name} is {shown}, not a valid {table.types[name]} ({e})"
    return f"{table.name}: row {n}: {error}"


def build_indexes(cur: psycopg.Cursor, schema: str, table: ServingTable, staging: str) -> None:
    """Recreate the live table's primary key and indexes on the loaded staging table, under names that the
    swap renames back to the live ones. In a savepoint: after a repeated key the rows are still there to
    find its row in."""
    rows = cur.execute(
        "SELECT ic.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid) "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass",
        (f"{schema}.{table.name}",),
    ).fetchall()
    try:
        with cur.connection.transaction():
            for index, indexdef, conname, condef in rows:
                new_name = staging + index[len(table.name) :] if index.startswith(table.name) else f"{staging}_{index}"
                cur.execute(_index_statement(schema, table.name, staging, new_name, indexdef, conname, condef))
    except psycopg.errors.UniqueViolation as e:
        raise RowRefusedError(_repeated_key(cur, schema, table, staging, e)) from None


def _index_statement(
    schema: str, table: str, staging: str, new_name: str, indexdef: str, conname: str | None, condef: str | None
) -> sql.Composed:
    if conname:
        return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(schema, staging), sql.Identifier(new_name), sql.SQL(condef or "")
        )
    head, _, tail = indexdef.partition(" ON ")
    unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
    tail = tail.replace(f"{schema}.{table} ", f"{schema}.{staging} ", 1)
    return sql.SQL(f"CREATE {unique}INDEX {{}} ON {tail}").format(sql.Identifier(new_name))


def _repeated_key(cur: psycopg.Cursor, schema: str, table: ServingTable, staging: str, error: psycopg.Error) -> str:
    """The first row whose primary key an earlier row has. Rows are numbered in COPY order, which is the
    staging table's physical order (one COPY into a new table)."""
    if not table.key:  # a unique index, but no primary key to number the rows by
        return f"{table.name}: {error.diag.message_primary} ({error.diag.message_detail})"
    key = sql.SQL(", ").join(sql.Identifier(k) for k in table.key)
    found = cur.execute(
        sql.SQL(
            "SELECT row_n, first_n, {key} FROM (SELECT *, min(row_n) OVER (PARTITION BY {key}) AS first_n FROM "
            "(SELECT {key}, row_number() OVER (ORDER BY ctid) AS row_n FROM {staging}) numbered) keyed "
            "WHERE row_n > first_n ORDER BY row_n LIMIT 1"
        ).format(key=key, staging=sql.Identifier(schema, staging))
    ).fetchone()
    if not found:  # a unique index other than the primary key
        return f"{table.name}: {error.diag.message_primary} ({error.diag.message_detail})"
    n, first, *values = found
    return f"{table.name}: row {n} repeats key {dict(zip(table.key, values, strict=True))} of row {first}"
