"""`copy_db` stands in for `fill` in the tests that change their database: the copy must hold every table,
column (and its declared type) and row of its source, or those tests would pass on less than `fill` makes."""

from __future__ import annotations

import uuid

from scripts.core.connections import connect_local
from tests.dashboard.conftest import copy_db

COLUMNS = (
    "SELECT table_schema, table_name, column_name, data_type, character_maximum_length, numeric_precision, "
    "numeric_scale, ordinal_position FROM {0}.information_schema.columns WHERE table_catalog = '{0}'"
)


def differences(stand_ins, source: str, db: str) -> list[str]:
    """What `db` lacks or has beyond `source`: tables, columns with their types, rows (as multisets)."""
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        cur = conn.cursor()
        cols: dict[str, dict[tuple[str, str], list[tuple]]] = {}
        for name in (source, db):
            cur.execute(COLUMNS.format(name) + " ORDER BY table_schema, table_name, ordinal_position")
            for r in cur.fetchall():
                cols.setdefault(name, {}).setdefault((r[0], r[1]), []).append(r[2:])
        a, b = cols.get(source, {}), cols.get(db, {})
        found = [f"columns of {k[0]}.{k[1]}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
        for schema, table in sorted(k for k in a if a[k] == b.get(k)):
            one, other = (
                f'(SELECT *, COUNT(*) AS N FROM "{d}"."{schema}"."{table}" GROUP BY ALL)' for d in (source, db)
            )
            cur.execute(
                f"SELECT COUNT(*) FROM ({one} EXCEPT {other}) UNION ALL SELECT COUNT(*) FROM ({other} EXCEPT {one})"
            )
            if any(n for (n,) in cur.fetchall()):
                found.append(f"rows of {schema}.{table}")
    return found


def test_a_copy_holds_every_table_column_and_row_and_a_lost_row_is_seen(stand_ins, analytics_db):
    db = "T_DASH_COPY_" + uuid.uuid4().hex[:6].upper()
    copy_db(stand_ins, analytics_db, db)
    assert differences(stand_ins, analytics_db, db) == []
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:  # the planted fault
        facts = f'"{db}".GOLD.FACT_SALES'
        conn.cursor().execute(f"DELETE FROM {facts} WHERE ORDER_ITEM_ID = (SELECT MIN(ORDER_ITEM_ID) FROM {facts})")
        conn.cursor().execute(f'ALTER TABLE "{db}".SILVER.CURRENT_INVENTORY DROP COLUMN STOCK_ON_HAND')
    assert differences(stand_ins, analytics_db, db) == [
        "columns of SILVER.CURRENT_INVENTORY",
        "rows of GOLD.FACT_SALES",
    ]
