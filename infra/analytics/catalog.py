"""Names, columns and SQL of the e-commerce analytics pipeline, shared by the Pulumi component and the
local rehearsal (scripts/analytics), so the objects the program declares are the ones the rehearsal fills.

Every procedure body is a list of statements from sql/analytics/; Snowflake runs them in one
transaction, the local path runs the same statements with each stream replaced by its emulation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infra.analytics.tasks import PROCEDURES, STREAMS, TASKS
from infra.naming import Catalog, quote, unquote
from infra.sqlfiles import named_queries, read_sql, render_sql

Cols = list[tuple[str, str]]
ID, MONEY, TS = "NUMBER(38,0)", "NUMBER(12,2)", "TIMESTAMP_NTZ"

CUSTOMERS: Cols = [
    ("CUSTOMER_ID", ID),
    ("FIRST_NAME", "VARCHAR"),
    ("LAST_NAME", "VARCHAR"),
    ("EMAIL", "VARCHAR"),
    ("COUNTRY", "VARCHAR"),
    ("CITY", "VARCHAR"),
    ("SEGMENT", "VARCHAR"),
    ("SIGNUP_DATE", "DATE"),
    ("UPDATED_AT", TS),
]
PRODUCTS: Cols = [
    ("PRODUCT_ID", ID),
    ("PRODUCT_NAME", "VARCHAR"),
    ("CATEGORY", "VARCHAR"),
    ("BRAND", "VARCHAR"),
    ("UNIT_PRICE", MONEY),
    ("UNIT_COST", MONEY),
    ("REORDER_LEVEL", ID),
    ("UPDATED_AT", TS),
]
ORDERS: Cols = [
    ("ORDER_ID", ID),
    ("CUSTOMER_ID", ID),
    ("ORDER_TS", TS),
    ("ORDER_STATUS", "VARCHAR"),
    ("PAYMENT_METHOD", "VARCHAR"),
    ("SHIPPING_COUNTRY", "VARCHAR"),
    ("UPDATED_AT", TS),
]
ORDER_ITEMS: Cols = [
    ("ORDER_ITEM_ID", ID),
    ("ORDER_ID", ID),
    ("PRODUCT_ID", ID),
    ("QUANTITY", ID),
    ("UNIT_PRICE", MONEY),
    ("DISCOUNT_PCT", "NUMBER(5,2)"),
    ("CREATED_AT", TS),
]
INVENTORY_MOVEMENTS: Cols = [
    ("MOVEMENT_ID", ID),
    ("PRODUCT_ID", ID),
    ("MOVEMENT_TYPE", "VARCHAR"),
    ("QUANTITY", ID),
    ("MOVED_AT", TS),
]
CHANGE: Cols = [("CHANGE_ACTION", "VARCHAR"), ("CHANGE_IS_UPDATE", "BOOLEAN"), ("CAPTURED_AT", TS)]
VERSION: Cols = [("VALID_FROM", TS), ("VALID_TO", TS), ("IS_CURRENT", "BOOLEAN")]
CUSTOMER_TRACKED = ["FIRST_NAME", "LAST_NAME", "EMAIL", "COUNTRY", "CITY", "SEGMENT"]
PRODUCT_TRACKED = ["PRODUCT_NAME", "CATEGORY", "BRAND", "UNIT_PRICE", "UNIT_COST"]


def _pick(cols: Cols, names: list[str]) -> Cols:
    types = dict(cols)
    return [(n, types[n]) for n in names]


# table key → (schema, name, columns); every table the program declares and the rehearsal fills.
TABLES: dict[str, tuple[str, str, Cols]] = {
    "customers": ("BRONZE", "SHOP_CUSTOMERS", CUSTOMERS),
    "products": ("BRONZE", "SHOP_PRODUCTS", PRODUCTS),
    "orders": ("BRONZE", "SHOP_ORDERS", ORDERS),
    "order_items": ("BRONZE", "SHOP_ORDER_ITEMS", ORDER_ITEMS),
    "movements": ("BRONZE", "SHOP_INVENTORY_MOVEMENTS", INVENTORY_MOVEMENTS),
    "rejects": (
        "BRONZE",
        "SHOP_REJECTS",
        [
            ("SOURCE_TABLE", "VARCHAR"),
            ("SOURCE_KEY", "VARCHAR"),
            ("REASON", "VARCHAR"),
            ("RECORD", "VARCHAR"),
            ("REJECTED_AT", TS),
        ],
    ),
    "work_customers": ("STREAMS_TASKS", "WORK_DIM_CUSTOMER_CHANGES", CUSTOMERS + CHANGE),
    "work_products": ("STREAMS_TASKS", "WORK_DIM_PRODUCT_CHANGES", PRODUCTS + CHANGE),
    "order_changes": (
        "STREAMS_TASKS",
        "WORK_ORDER_CHANGES",
        [*ORDERS, ("CHANGE_ACTION", "VARCHAR"), ("CAPTURED_AT", TS)],
    ),
    "pending": ("STREAMS_TASKS", "PENDING_ORDER_ITEMS", [*ORDER_ITEMS, ("CAPTURED_AT", TS)]),
    "summary_dates": ("STREAMS_TASKS", "WORK_SUMMARY_DATES", [("DATE_KEY", ID)]),
    "dim_customer": (
        "GOLD",
        "DIM_CUSTOMER",
        [("CUSTOMER_SK", ID), ("CUSTOMER_ID", ID), *_pick(CUSTOMERS, CUSTOMER_TRACKED), *VERSION],
    ),
    "dim_product": (
        "GOLD",
        "DIM_PRODUCT",
        [("PRODUCT_SK", ID), ("PRODUCT_ID", ID), *_pick(PRODUCTS, PRODUCT_TRACKED), *VERSION],
    ),
    "dim_date": (
        "GOLD",
        "DIM_DATE",
        [
            ("DATE_KEY", ID),
            ("FULL_DATE", "DATE"),
            ("YEAR", ID),
            ("QUARTER", ID),
            ("MONTH", ID),
            ("MONTH_NAME", "VARCHAR"),
            ("DAY_OF_MONTH", ID),
            ("DAY_OF_WEEK", ID),
            ("DAY_NAME", "VARCHAR"),
            ("IS_WEEKEND", "BOOLEAN"),
        ],
    ),
    "facts": (
        "GOLD",
        "FACT_SALES",
        [
            ("ORDER_ITEM_ID", ID),
            ("ORDER_ID", ID),
            ("DATE_KEY", ID),
            ("CUSTOMER_SK", ID),
            ("PRODUCT_SK", ID),
            ("CUSTOMER_ID", ID),
            ("PRODUCT_ID", ID),
            ("ORDER_TS", TS),
            ("ORDER_STATUS", "VARCHAR"),
            ("PAYMENT_METHOD", "VARCHAR"),
            ("QUANTITY", ID),
            ("UNIT_PRICE", MONEY),
            ("DISCOUNT_PCT", "NUMBER(5,2)"),
            ("GROSS_AMOUNT", MONEY),
            ("NET_AMOUNT", MONEY),
            ("COST_AMOUNT", MONEY),
            ("PROFIT", MONEY),
            ("IS_CANCELLED", "BOOLEAN"),
            ("LOADED_AT", TS),
        ],
    ),
    "summary": (
        "GOLD",
        "DAILY_SALES_SUMMARY",
        [
            ("DATE_KEY", ID),
            ("SALES_DATE", "DATE"),
            ("ORDERS", ID),
            ("ORDER_ITEMS", ID),
            ("UNITS", ID),
            ("REVENUE", MONEY),
            ("COST", MONEY),
            ("PROFIT", MONEY),
            ("MARGIN", "NUMBER(9,6)"),
            ("AVG_ORDER_VALUE", MONEY),
            ("CANCELLED_ORDERS", ID),
            ("CANCELLED_REVENUE", MONEY),
            ("CUSTOMERS", ID),
            ("REFRESHED_AT", TS),
        ],
    ),
}
# What the loader's steps do to each source (generate appends, or empties first with --replace; changes
# appends and updates customers, products and orders): granted on each table, so it holds from the moment
# the table exists (a schema's future grant made beside the table may come after it).
LOADER_WRITES: dict[str, list[str]] = {
    "customers": ["INSERT", "UPDATE", "DELETE"],
    "products": ["INSERT", "UPDATE", "DELETE"],
    "orders": ["INSERT", "UPDATE", "DELETE"],
    "order_items": ["INSERT", "DELETE"],
    "movements": ["INSERT", "DELETE"],
}
# Tables keyed for MERGE and for the SCD2 surrogate keys.
PRIMARY_KEYS = {"facts": "ORDER_ITEM_ID", "dim_date": "DATE_KEY", "summary": "DATE_KEY"}
# Clustering keys, on the large tables only (as the analytics reference asks): FACT_SALES grows with
# every order line and is read by day (the summary's days, the dashboard's date ranges).
CLUSTER_BY: dict[str, list[str]] = {"facts": ["DATE_KEY"]}


@dataclass(frozen=True)
class DynamicTable:
    sql: str
    sources: tuple[str, ...]  # placeholder names, which are also table or dynamic-table keys
    lag: str  # the config field with its target lag, or DOWNSTREAM


# In dependency order: a dynamic table only reads tables and the dynamic tables before it.
DYNAMIC_TABLES: dict[str, DynamicTable] = {
    "order_lines": DynamicTable("analytics/order_lines.sql", ("order_items", "products"), "DOWNSTREAM"),
    "enriched_orders": DynamicTable(
        "analytics/enriched_orders.sql", ("orders", "customers", "order_lines"), "enriched_orders"
    ),
    "product_performance": DynamicTable(
        "analytics/product_performance.sql", ("products", "order_lines", "orders"), "product_performance"
    ),
    "current_inventory": DynamicTable(
        "analytics/current_inventory.sql", ("products", "movements"), "current_inventory"
    ),
}


@dataclass(frozen=True)
class Dimension:
    work: str
    stream: str
    dim: str
    key: str
    surrogate: str
    tracked: list[str]
    rules: str


DIMENSIONS: dict[str, Dimension] = {
    "customers": Dimension(
        "work_customers",
        "customers_stream",
        "dim_customer",
        "CUSTOMER_ID",
        "CUSTOMER_SK",
        CUSTOMER_TRACKED,
        "customers",
    ),
    "products": Dimension(
        "work_products", "products_stream", "dim_product", "PRODUCT_ID", "PRODUCT_SK", PRODUCT_TRACKED, "products"
    ),
}

CATALOG = Catalog(
    {
        **{k: (schema, name) for k, (schema, name, _) in TABLES.items()},
        # the loader's bulk loads of the sources: Parquet PUT here, COPY'd into the tables and purged
        "load_stage": ("BRONZE", "SHOP_LOAD_STAGE"),
        **{k: ("STREAMS_TASKS", f"{TABLES[s.table][1]}_STREAM") for k, s in STREAMS.items()},
        **{k: ("SILVER", k.upper()) for k in DYNAMIC_TABLES},
        **{f"{k}_procedure": ("STREAMS_TASKS", name) for k, (name, _) in PROCEDURES.items()},
        **{k: ("STREAMS_TASKS", t.name) for k, t in TASKS.items()},
        # only on the local path: each stream's offset copy and the task graph's run log
        **{f"{k}_offset": ("STREAMS_TASKS", f"{TABLES[s.table][1]}_STREAM__OFFSET") for k, s in STREAMS.items()},
        "task_history": ("STREAMS_TASKS", "LOCAL_TASK_HISTORY"),
    }
)


def fq(database: str, key: str) -> str:
    """Fully qualified, quoted name of one of the analytics objects."""
    return CATALOG.fq(database, key)


def columns(key: str) -> Cols:
    return TABLES[key][2]


def _rule(name: str) -> str:
    return "\n".join(ln for ln in read_sql(f"analytics/rules/{name}.sql").splitlines() if not ln.startswith("--"))


def _record(cols: Cols) -> str:
    return "CONCAT_WS('|', " + ", ".join(f"COALESCE(TO_VARCHAR(w.{c}), '')" for c, _ in cols) + ")"


# How each procedure reads a stream: Snowflake reads the stream object; the local path passes its emulation.
StreamSource = Callable[[str], str]


def scd2_statements(database: str, dim_key: str, stream: StreamSource) -> list[str]:
    d = DIMENSIONS[dim_key]
    source_cols = columns(dim_key)  # a dimension's key is its source table's key
    q = named_queries(
        "analytics/scd2.sql",
        work=fq(database, d.work),
        stream=stream(d.stream),
        dim=fq(database, d.dim),
        rejects=fq(database, "rejects"),
        source_name=TABLES[dim_key][1],
        key=d.key,
        surrogate=d.surrogate,
        columns=", ".join(c for c, _ in source_cols),
        tracked=", ".join(d.tracked),
        latest_tracked=", ".join(f"l.{c}" for c in d.tracked),
        unchanged=" AND ".join(f"EQUAL_NULL(d.{c}, l.{c})" for c in d.tracked),
        reason=_rule(d.rules),
        record=_record(source_cols),
    )
    return list(q.values())


def facts_statements(database: str, stream: StreamSource, horizon_days: int) -> list[str]:
    q = named_queries(
        "analytics/facts.sql",
        pending=fq(database, "pending"),
        facts=fq(database, "facts"),
        rejects=fq(database, "rejects"),
        items_stream=stream("items_stream"),
        orders_stream=stream("orders_stream"),
        order_changes=fq(database, "order_changes"),
        orders=fq(database, "orders"),
        dim_customer=fq(database, "dim_customer"),
        dim_product=fq(database, "dim_product"),
        dim_date=fq(database, "dim_date"),
        items_name=TABLES["order_items"][1],
        orders_name=TABLES["orders"][1],
        item_reason=_rule("order_items"),
        item_record=_record(ORDER_ITEMS),
        order_reason=_rule("orders"),
        order_record=_record(ORDERS),
        horizon_days=str(int(horizon_days)),
    )
    return list(q.values())


def summary_statements(database: str, stream: StreamSource) -> list[str]:
    q = named_queries(
        "analytics/summary.sql",
        summary=fq(database, "summary"),
        dates=fq(database, "summary_dates"),
        facts_stream=stream("facts_stream"),
        facts=fq(database, "facts"),
        dim_date=fq(database, "dim_date"),
    )
    return list(q.values())


def procedure_statements(database: str, proc: str, stream: StreamSource, horizon_days: int) -> list[str]:
    """The statements of one procedure, in order, with each stream read through `stream`."""
    if proc == "dimensions":
        return [s for dim in DIMENSIONS for s in scd2_statements(database, dim, stream)]
    if proc == "facts":
        return facts_statements(database, stream, horizon_days)
    if proc == "summary":
        return summary_statements(database, stream)
    raise KeyError(f"no analytics procedure {proc!r} (known: {', '.join(PROCEDURES)})")


def procedure_sql(database: str, proc: str, horizon_days: int) -> str:
    """The Snowflake Scripting body: the statements in one transaction, rolled back on any error."""
    name, purpose = PROCEDURES[proc]
    statements = procedure_statements(database, proc, lambda key: fq(database, key), horizon_days)
    body = "\n".join(f"  {s.replace(chr(10), chr(10) + '  ')};" for s in statements)
    return render_sql("analytics/procedure.sql", name=name, purpose=purpose, statements=body)


def dynamic_table_sql(database: str, key: str, source: Callable[[str], str] | None = None) -> str:
    """A dynamic table's query; `source` maps a source key to its table (default: the declared ones)."""
    dt = DYNAMIC_TABLES[key]
    resolve = source or (lambda k: fq(database, k))
    return render_sql(dt.sql, **{s: resolve(s) for s in dt.sources})


def root_when_sql(database: str, task: str) -> str:
    """A root task runs only when one of the streams its graph consumes has data."""
    conditions = " OR ".join(f"SYSTEM$STREAM_HAS_DATA('{unquote(fq(database, k))}')" for k in TASKS[task].when)
    return render_sql("analytics/root_when.sql", conditions=conditions).strip()


def task_call_sql(database: str, task: str) -> str:
    return render_sql("analytics/call.sql", procedure=fq(database, f"{TASKS[task].procedure}_procedure")).strip()


def create_table_statements(database: str, keys: Mapping[str, Cols] | None = None) -> list[str]:
    """What each declared table is on the local path, from the same column specs."""
    return [
        f"CREATE TABLE IF NOT EXISTS {fq(database, k)} (" + ", ".join(f"{quote(c)} {t}" for c, t in cols) + ")"
        for k, cols in (keys or {k: v[2] for k, v in TABLES.items()}).items()
    ]
