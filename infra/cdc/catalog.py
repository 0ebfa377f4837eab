"""Names, columns and SQL of the order change-data-capture pipeline, shared by the Pulumi component, the
generator and the local rehearsal (scripts/cdc), so the objects declared are the ones the rehearsal fills.

The change log is append-only: every insert, update and delete of an order is a row carrying the order's
full image after the change (its last image for a delete), the change type, and CHANGE_SEQ, the
source's commit order. Everything downstream is a dynamic table derived from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.naming import Catalog, quote
from infra.sqlfiles import render_sql

Cols = list[tuple[str, str, bool]]  # name, type, nullable
ID, MONEY, TS = "NUMBER(38,0)", "NUMBER(12,2)", "TIMESTAMP_NTZ"

ORDER_COLUMNS: Cols = [
    ("ORDER_ID", ID, False),
    ("CUSTOMER_ID", ID, True),
    ("PRODUCT_ID", ID, True),
    ("ORDER_DATE", TS, False),
    ("STATUS", "VARCHAR", True),
    ("AMOUNT", MONEY, True),
    ("QUANTITY", ID, True),
]
CHANGE_COLUMNS: Cols = [
    *ORDER_COLUMNS,
    ("CHANGE_TYPE", "VARCHAR", False),
    ("CHANGE_SEQ", ID, False),
    ("CHANGED_AT", TS, False),
    ("RECORD_SOURCE", "VARCHAR", False),
]
CHANGE_TYPES = ("INSERT", "UPDATE", "DELETE")
STATUSES = ("PENDING", "PROCESSING", "SHIPPED", "DELIVERED", "CANCELLED")
# The only moves an order's status makes: forward, or to CANCELLED before it ships.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "PENDING": ("PROCESSING", "CANCELLED"),
    "PROCESSING": ("SHIPPED", "CANCELLED"),
    "SHIPPED": ("DELIVERED",),
}
RECORD_SOURCE = "ORDER_CDC_GENERATOR"
# Order ids and change sequence numbers come from Snowflake sequences in blocks: one NEXTVAL reserves
# BLOCK values, so a writer never reads the log to continue a sequence and two writers never collide.
BLOCK = 100_000


@dataclass(frozen=True)
class DynamicTable:
    sql: str
    sources: tuple[str, ...]  # placeholder names, which are also catalog keys
    lag: str  # the CdcLags field with its target lag, or DOWNSTREAM


# In dependency order: each reads the log or the dynamic tables before it.
DYNAMIC_TABLES: dict[str, DynamicTable] = {
    "orders_current": DynamicTable("cdc/orders_current.sql", ("changes",), "DOWNSTREAM"),
    "orders_derived": DynamicTable("cdc/orders_derived.sql", ("orders_current",), "orders_derived"),
    "orders_aggregated": DynamicTable("cdc/orders_aggregated.sql", ("orders_derived", "changes"), "orders_aggregated"),
}
SEQUENCES = {"order_ids": "ORDER_ID_BLOCKS", "change_seqs": "ORDER_CHANGE_SEQ_BLOCKS"}

CATALOG = Catalog(
    {
        "changes": ("BRONZE", "ORDER_CHANGES"),
        "stage": ("BRONZE", "ORDER_CHANGES_STAGE"),
        **{k: ("BRONZE", name) for k, name in SEQUENCES.items()},
        "orders_current": ("SILVER", "ORDERS_CURRENT"),
        "orders_derived": ("SILVER", "ORDERS_DERIVED"),
        "orders_aggregated": ("GOLD", "ORDERS_AGGREGATED"),
        "orders_with_age": ("SILVER", "ORDERS_WITH_AGE"),
        "monitoring": ("GOLD", "CDC_MONITORING"),
        "refresh_task": ("STREAMS_TASKS", "REFRESH_ORDERS_AGGREGATED"),
        # only on the local path: the refresh run log, the changes already applied, and the refresh's work tables
        "local_refreshes": ("STREAMS_TASKS", "LOCAL_CDC_REFRESHES"),
        "local_applied": ("STREAMS_TASKS", "LOCAL_CDC_APPLIED_CHANGES"),
        "local_new": ("STREAMS_TASKS", "LOCAL_CDC_NEW_CHANGES"),
        "local_changed": ("STREAMS_TASKS", "LOCAL_CDC_CHANGED_ORDERS"),
        "local_groups": ("STREAMS_TASKS", "LOCAL_CDC_GROUPS"),
    }
)


def fq(database: str, key: str) -> str:
    """Fully qualified, quoted name of one of the CDC objects."""
    return CATALOG.fq(database, key)


def value_segment(amount: str) -> str:
    """The value segment of an amount: one rule for the derived table and the change statistics."""
    return render_sql("cdc/value_segment.sql", amount=amount).strip()


def dynamic_table_sql(database: str, key: str, source: Callable[[str], str] | None = None) -> str:
    """A dynamic table's query; `source` maps a source key to what it reads (default: the declared objects)."""
    dt = DYNAMIC_TABLES[key]
    resolve = source or (lambda k: fq(database, k))
    params = {s: resolve(s) for s in dt.sources}
    if key != "orders_current":
        params["value_segment"] = value_segment("AMOUNT")
    if key == "orders_derived":
        params["value_category"] = value_category("AMOUNT")
    return render_sql(dt.sql, **params)


def value_category(amount: str) -> str:
    """High Value / Low Value (threshold 100): the category the High/Low Value totals are summed by."""
    return render_sql("cdc/value_category.sql", amount=amount).strip()


def orders_with_age_sql(database: str) -> str:
    """ORDERS_WITH_AGE: ORDERS_DERIVED plus DAYS_SINCE_ORDER, a view because the age changes every day."""
    return render_sql("cdc/orders_with_age.sql", orders_derived=fq(database, "orders_derived"))


def monitoring_sql(database: str) -> str:
    return render_sql(
        "cdc/monitoring.sql",
        changes=fq(database, "changes"),
        **{k: fq(database, k) for k in DYNAMIC_TABLES},
    )


def refresh_task_sql(database: str) -> str:
    """The task's one statement, without the file's comment lines."""
    text = render_sql("cdc/refresh_task.sql", table=fq(database, "orders_aggregated"))
    return "\n".join(ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("--"))


def create_change_log(database: str) -> str:
    """ORDER_CHANGES on the local path, from the same column specs as the declared table."""
    cols = ", ".join(f"{quote(c)} {t}{'' if null else ' NOT NULL'}" for c, t, null in CHANGE_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {fq(database, 'changes')} ({cols})"


def create_sequences(database: str) -> list[str]:
    """The block sequences on the local path (DuckDB's sequences are ordered, as ORDER makes Snowflake's)."""
    return [f"CREATE SEQUENCE IF NOT EXISTS {fq(database, k)} START = 1 INCREMENT = {BLOCK}" for k in SEQUENCES]


def next_block_sql(database: str, key: str) -> str:
    """Reserve the next block of a sequence: its first value; the block is [first, first + BLOCK)."""
    return f"SELECT {fq(database, key)}.NEXTVAL"
