"""The CDC dynamic tables on fakesnow, which has none (a dynamic table there is a one-shot CREATE TABLE
AS). What Snowflake does is reproduced explicitly from the same SQL files: the first refresh builds each
table from its query; every later one is incremental, recomputing only the orders changed since the
last refresh's watermark and the aggregate groups they touch (sql/cdc/local/refresh.sql), in one
transaction. The run log LOCAL_CDC_REFRESHES records what each refresh read and recomputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from infra.cdc import catalog
from infra.cdc.catalog import DYNAMIC_TABLES, fq
from infra.sqlfiles import named_queries
from scripts.cdc.generate import utc_now
from scripts.connections import ensure_foundation


@dataclass
class Refresh:
    mode: str  # FULL, INCREMENTAL, NO_DATA
    since: int
    upto: int
    changes_read: int
    orders_recomputed: int
    groups_recomputed: int
    seconds: float


class LocalCdc:
    """The CDC objects of one database on a fakesnow connection, and their behaviour."""

    def __init__(self, conn: Any, database: str) -> None:
        self.conn, self.db = conn, database

    def cursor(self) -> Any:
        return self.conn.cursor()

    def queries(self, since: int = 0, upto: int = 0) -> dict[str, str]:
        names = {"current": "orders_current", "derived": "orders_derived", "aggregated": "orders_aggregated",
                 "changed": "local_changed", "groups": "local_groups", "refreshes": "local_refreshes"}  # fmt: skip
        return named_queries(
            "cdc/local/refresh.sql",
            changes=fq(self.db, "changes"),
            **{k: fq(self.db, key) for k, key in names.items()},
            change_segment=catalog.value_segment("AMOUNT"),
            since=str(int(since)),
            upto=str(int(upto)),
        )

    def setup(self) -> None:
        """What `pulumi up` declares, created if missing: the change log, its sequences, the run log."""
        cur = self.cursor()
        ensure_foundation(cur, self.db)
        cur.execute(catalog.create_change_log(self.db))
        for statement in catalog.create_sequences(self.db):
            cur.execute(statement)
        cur.execute(self.queries()["create_refreshes"])

    def refresh(self, full: bool = False) -> Refresh:
        """One refresh of the three dynamic tables, in dependency order, up to the log's head now."""
        t0 = time.perf_counter()
        cur = self.cursor()
        cur.execute(self.queries()["last_refresh"])
        refreshes, since = (int(v) for v in cur.fetchone())
        cur.execute(self.queries(since)["log_head"])
        upto, changes_read = (int(v) for v in cur.fetchone())
        q = self.queries(since, upto)
        if full or refreshes == 0:
            result = self._full(q, upto)
        elif changes_read == 0:
            result = Refresh("NO_DATA", since, since, 0, 0, 0, 0.0)
        else:
            result = self._incremental(q, since, upto, changes_read)
        result.seconds = time.perf_counter() - t0
        cur.execute(q["record"], (result.mode, result.changes_read, result.orders_recomputed,
                                  result.groups_recomputed, utc_now()))  # fmt: skip
        return result

    def _full(self, q: dict[str, str], upto: int) -> Refresh:
        cur = self.cursor()
        for key in DYNAMIC_TABLES:
            source = {"changes": q["changes_upto"]}
            sql = catalog.dynamic_table_sql(self.db, key, lambda k, s=source: s.get(k) or fq(self.db, k))
            cur.execute(f"CREATE OR REPLACE TABLE {fq(self.db, key)} AS {sql}")
        cur.execute(f"SELECT COUNT(*) FROM {fq(self.db, 'changes')} WHERE CHANGE_SEQ <= {int(upto)}")
        read = int(cur.fetchone()[0])
        cur.execute(f"SELECT COUNT(DISTINCT ORDER_ID) FROM {fq(self.db, 'changes')} WHERE CHANGE_SEQ <= {int(upto)}")
        orders = int(cur.fetchone()[0])
        cur.execute(f"SELECT COUNT(*) FROM {fq(self.db, 'orders_aggregated')}")
        return Refresh("FULL", 0, upto, read, orders, int(cur.fetchone()[0]), 0.0)

    def _incremental(self, q: dict[str, str], since: int, upto: int, changes_read: int) -> Refresh:
        cur = self.cursor()
        partial = {
            "orders_current": {"changes": q["changes_of_changed_orders"]},
            "orders_derived": {"orders_current": q["current_of_changed_orders"]},
            "orders_aggregated": {"orders_derived": q["derived_in_groups"], "changes": q["changes_in_groups"]},
        }

        def recompute(key: str) -> None:
            sql = catalog.dynamic_table_sql(self.db, key, lambda k: partial[key].get(k) or fq(self.db, k))
            cur.execute(f"INSERT INTO {fq(self.db, key)} {sql}")

        cur.execute("BEGIN TRANSACTION")
        try:
            for step in ("changed_orders", "groups_left", "delete_current"):
                cur.execute(q[step])
            recompute("orders_current")
            cur.execute(q["delete_derived"])
            recompute("orders_derived")
            for step in ("groups_entered", "distinct_groups", "delete_aggregated"):
                cur.execute(q[step])
            recompute("orders_aggregated")
            cur.execute(q["count_changed"])
            orders, groups = (int(v) for v in cur.fetchone())
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        return Refresh("INCREMENTAL", since, upto, changes_read, orders, groups, 0.0)

    # ------------------------------------------------------------------ report
    def table(self, key: str, order_by: str = "1") -> list[dict]:
        cur = self.cursor()
        cur.execute(f"SELECT * FROM {fq(self.db, key)} ORDER BY {order_by}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def monitoring(self) -> list[dict]:
        """CDC_MONITORING's rows, from the view's own SQL (created as a view on the stand-in too)."""
        cur = self.cursor()
        cur.execute(f"CREATE OR REPLACE VIEW {fq(self.db, 'monitoring')} AS {catalog.monitoring_sql(self.db)}")
        return self.table("monitoring", "CHANGE_HOUR DESC, CHANGE_TYPE")
