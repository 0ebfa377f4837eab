"""The CDC dynamic tables on fakesnow, which has none (a dynamic table there is a one-shot CREATE TABLE
AS). What Snowflake does is reproduced explicitly from the same SQL files: the first refresh builds each
table from its query; every later one is incremental, recomputing only the orders with changes not
applied yet and the aggregate groups they touch (sql/cdc/local/refresh.sql), in one transaction. The
run log LOCAL_CDC_REFRESHES records what each refresh read and recomputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from infra.cdc import catalog
from infra.cdc.catalog import DYNAMIC_TABLES, fq
from infra.sqlfiles import named_queries
from scripts.cdc.generate import utc_now
from scripts.core.connections import count, ensure_foundation, fetch_dicts, transaction
from scripts.core.rehearsal import LocalRun, run_cli

TITLE = "order CDC: generator → ORDER_CHANGES → ORDERS_CURRENT → ORDERS_DERIVED → ORDERS_AGGREGATED"
# the refresh file's placeholders → the catalog's keys of what they name
REFRESH_OBJECTS = {
    "current": "orders_current",
    "derived": "orders_derived",
    "aggregated": "orders_aggregated",
    "changed": "local_changed",
    "groups": "local_groups",
    "refreshes": "local_refreshes",
    "applied": "local_applied",
    "new": "local_new",
}


def rehearse(run: LocalRun) -> None:
    """`make local`: generate → refresh → generate → incremental refresh → show, three seconds of changes."""
    run_cli("cdc", "all", "--local", "--duration", "1.5", "--stack", run.stack)


@dataclass
class Refresh:
    mode: str  # FULL, INCREMENTAL, NO_DATA
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

    def queries(self) -> dict[str, str]:
        return named_queries(
            "cdc/local/refresh.sql",
            changes=fq(self.db, "changes"),
            **{k: fq(self.db, key) for k, key in REFRESH_OBJECTS.items()},
            change_segment=catalog.value_segment("AMOUNT"),
        )

    def setup(self) -> None:
        """What `pulumi up` declares, created if missing: the change log, its sequences, the run log."""
        cur = self.cursor()
        ensure_foundation(cur, self.db)
        cur.execute(catalog.create_change_log(self.db))
        for statement in catalog.create_sequences(self.db):
            cur.execute(statement)
        q = self.queries()
        cur.execute(q["create_refreshes"])
        cur.execute(q["create_applied"])

    def refresh(self, full: bool = False) -> Refresh:
        """One refresh of the three dynamic tables, in dependency order, of everything logged now."""
        t0 = time.perf_counter()
        q, cur = self.queries(), self.cursor()
        cur.execute(q["refreshes_so_far"])
        first = int(cur.fetchone()[0]) == 0
        with transaction(cur):
            cur.execute(q["new_changes"])
            cur.execute(q["count_new"])
            changes_read = int(cur.fetchone()[0])
            if full or first:
                result = self._full(q, changes_read)
            elif changes_read == 0:
                result = Refresh("NO_DATA", 0, 0, 0, 0.0)
            else:
                result = self._incremental(q, changes_read)
            result.seconds = time.perf_counter() - t0
            cur.execute(
                q["record"],
                (result.mode, result.changes_read, result.orders_recomputed, result.groups_recomputed, utc_now()),
            )
        return result

    def _full(self, q: dict[str, str], changes_read: int) -> Refresh:
        cur = self.cursor()
        for key in DYNAMIC_TABLES:
            cur.execute(f"CREATE OR REPLACE TABLE {fq(self.db, key)} AS {catalog.dynamic_table_sql(self.db, key)}")
        self._create_views()  # the views exist as soon as the tables it reads do, as after `pulumi up`
        cur.execute(q["mark_all_applied"])
        cur.execute(f"SELECT COUNT(DISTINCT ORDER_ID) FROM {fq(self.db, 'changes')}")
        orders = int(cur.fetchone()[0])
        return Refresh("FULL", changes_read, orders, count(cur, fq(self.db, "orders_aggregated")), 0.0)

    def _incremental(self, q: dict[str, str], changes_read: int) -> Refresh:
        cur = self.cursor()
        partial = {
            "orders_current": {"changes": q["changes_of_changed_orders"]},
            "orders_derived": {"orders_current": q["current_of_changed_orders"]},
            "orders_aggregated": {"orders_derived": q["derived_in_groups"], "changes": q["changes_in_groups"]},
        }

        def recompute(key: str) -> None:
            sql = catalog.dynamic_table_sql(self.db, key, lambda k: partial[key].get(k) or fq(self.db, k))
            cur.execute(f"INSERT INTO {fq(self.db, key)} {sql}")

        for step in ("changed_orders", "groups_left", "delete_current"):
            cur.execute(q[step])
        recompute("orders_current")
        cur.execute(q["delete_derived"])
        recompute("orders_derived")
        for step in ("groups_entered", "distinct_groups", "delete_aggregated"):
            cur.execute(q[step])
        recompute("orders_aggregated")
        cur.execute(q["mark_new_applied"])
        cur.execute(q["count_changed"])
        orders, groups = (int(v) for v in cur.fetchone())
        return Refresh("INCREMENTAL", changes_read, orders, groups, 0.0)

    # ------------------------------------------------------------------ report
    def table(self, key: str, order_by: str = "1") -> list[dict]:
        cur = self.cursor()
        cur.execute(f"SELECT * FROM {fq(self.db, key)} ORDER BY {order_by}")
        return fetch_dicts(cur)

    def monitoring(self) -> list[dict]:
        """CDC_MONITORING's rows, from the view's own SQL (created as a view on the stand-in too)."""
        self._create_views()
        return self.table("monitoring", "CHANGE_HOUR DESC, CHANGE_TYPE")

    def _create_views(self) -> None:
        cur = self.cursor()
        cur.execute(f"CREATE OR REPLACE VIEW {fq(self.db, 'monitoring')} AS {catalog.monitoring_sql(self.db)}")
        cur.execute(
            f"CREATE OR REPLACE VIEW {fq(self.db, 'orders_with_age')} AS {catalog.orders_with_age_sql(self.db)}"
        )
