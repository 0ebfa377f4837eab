"""The ingestion feeds (customers, sales, inventory): names, columns, file format and SQL of each, shared
by the Pulumi component and the local path (scripts/ingestion), so the objects the program declares are
the ones the rehearsal fills. A feed is data (`Feed`), the machinery that builds it is one for all."""

from __future__ import annotations

from dataclasses import dataclass

from infra.ingestion.config import REJECTED_PREFIX  # where rejected files are kept (expired by a lifecycle rule)
from infra.naming import Catalog
from infra.sqlfiles import render_macro, render_sql

# What every Bronze table has after the file's own columns: where the row came from and when.
LOAD_COLUMNS: list[tuple[str, str]] = [
    ("_FILE_NAME", "VARCHAR"),
    ("_FILE_ROW_NUMBER", "NUMBER(38,0)"),
    ("_LOADED_AT", "TIMESTAMP_NTZ"),
    # Load order, for "latest version wins, then load order" (FEED_MACROS' feed_xfm). Snowpipe fills the
    # file's last-modified time (METADATA$FILE_LAST_MODIFIED); the local pipe also fills _LOAD_SEQ,
    # its load sequence, which increases with every loaded file and row (Snowpipe leaves it NULL).
    ("_FILE_LAST_MODIFIED", "TIMESTAMP_NTZ"),
    ("_LOAD_SEQ", "NUMBER(38,0)"),
]
SOURCE_COLUMNS: list[tuple[str, str]] = [("SOURCE_FILE", "VARCHAR"), ("SOURCE_ROW", "NUMBER(38,0)")]
# The CSV format Snowpipe parses with (every feed's); the local loader parses with the same settings.
CSV_FORMAT = {
    "field_delimiter": ",",
    "skip_header": 1,
    "field_optionally_enclosed_by": '"',
    "null_ifs": ["", "NULL", "null", "\\N"],
    "empty_field_as_null": True,
    "trim_space": True,
    "error_on_column_count_mismatch": True,
    "encoding": "UTF8",
    "multi_line": False,  # one record per line, so one bad line never swallows the next
}


@dataclass(frozen=True)
class Feed:
    """One feed: its CSV columns, typed Silver columns and key, and where each of its objects lives.

    `logical` is the infix of its Pulumi logical names: empty for customers, whose resources were
    released before the other feeds existed and keep their names (`ingestion-pipe`)."""

    key: str
    noun: str  # in comments and messages: "customer"
    raw_columns: tuple[str, ...]
    typed_columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...]
    catalog: Catalog
    logical: str
    version: str  # the column whose later value wins (a key's version), in the xfm and the MERGE
    schedule_note: str = "on its schedule"

    @property
    def bronze_columns(self) -> list[tuple[str, str]]:
        return [(c, "VARCHAR") for c in self.raw_columns] + LOAD_COLUMNS

    @property
    def xfm_columns(self) -> list[tuple[str, str]]:
        return [*self.typed_columns, *SOURCE_COLUMNS]

    @property
    def silver_columns(self) -> list[tuple[str, str]]:
        return [*self.xfm_columns, ("MERGED_AT", "TIMESTAMP_NTZ")]

    @property
    def has_view(self) -> bool:
        return "view" in self.catalog.objects

    def fq(self, database: str, key: str) -> str:
        """Fully qualified, quoted name of one of the feed's objects."""
        return self.catalog.fq(database, key)

    def xfm_select_sql(self, source: str) -> str:
        """Bronze rows of `source` to typed, cleaned, one-per-key rows: the feed's macro in FEED_MACROS,
        which dbt's silver model calls too."""
        return render_macro(FEED_MACROS, f"{self.key}_xfm", source)

    def merge_sql(self, database: str) -> str:
        """The upsert of the work table into Silver (sql/ingestion/merge.sql, filled with the feed's columns)."""
        values = [c for c, _ in self.typed_columns if c not in self.primary_key]
        carried = [*values, *(c for c, _ in SOURCE_COLUMNS)]
        inserted = [*(c for c, _ in self.xfm_columns), "MERGED_AT"]
        return render_sql(
            "ingestion/merge.sql",
            target=self.fq(database, "silver"),
            xfm=self.fq(database, "xfm"),
            on=" AND ".join(f"t.{c} = s.{c}" for c in self.primary_key),
            version=self.version,
            changed="\n    OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in values),
            update=_wrap([*(f"{c} = s.{c}" for c in carried), "MERGED_AT = CURRENT_TIMESTAMP()"], 4, "  "),
            columns=_wrap(inserted, 8, "  "),
            values=_wrap([*(f"s.{c}" for c in inserted[:-1]), "CURRENT_TIMESTAMP()"], 8, "  "),
        )

    def procedure_sql(self, database: str) -> str:
        """The procedure body: the same xfm and merge files the local path runs."""
        return render_sql(
            "ingestion/transform_procedure.sql",
            procedure=self.catalog.name("procedure"),
            xfm=self.fq(database, "xfm"),
            xfm_columns=_wrap([c for c, _ in self.xfm_columns], 9, "    "),
            xfm_select=self.xfm_select_sql(self.fq(database, "stream")),
            merge=self.merge_sql(database),
        )

    def pipe_copy_sql(self, database: str) -> str:
        load = [c for c, _ in LOAD_COLUMNS[:-1]]  # _LOAD_SEQ is the local pipe's
        return render_sql(
            "ingestion/pipe_copy.sql",
            bronze_table=self.fq(database, "bronze"),
            stage=self.fq(database, "stage"),
            file_format=self.fq(database, "file_format"),
            columns=_wrap(list(self.raw_columns), 8, "  ", tail=load),
            fields=", ".join(f"t.${i}" for i in range(1, len(self.raw_columns) + 1)),
        )

    def task_when_sql(self, database: str) -> str:
        return render_sql("ingestion/task_when.sql", stream=self.fq(database, "stream")).strip()

    def task_call_sql(self, database: str) -> str:
        return render_sql("ingestion/task_call.sql", procedure=self.fq(database, "procedure")).strip()

    def gold_view_sql(self, database: str) -> str:
        return render_sql(f"ingestion/gold_{self.key}_view.sql", silver=self.fq(database, "silver"))


FEED_MACROS = "ingestion/dbt/macros/feeds.sql"  # every feed's cleaning, shared with dbt's silver model


def _wrap(items: list[str], per_line: int, indent: str, tail: list[str] = ()) -> str:
    """A column list, `per_line` columns a line, `tail` (the load columns) after the last one."""
    lines = [items[i : i + per_line] for i in range(0, len(items), per_line)]
    lines[-1] = [*lines[-1], *tail]
    return ",\n".join(indent + ", ".join(line) for line in lines)


def _catalog(word: str, silver: str, view: str | None = None, **overrides: tuple[str, str]) -> Catalog:
    """The seed's object names (WORK_<WORD>_…) for a feed; `overrides` keep names released otherwise."""
    objects = {
        "stage": ("BRONZE", f"SOURCE_DATA_{word}_STAGE"),
        "file_format": ("BRONZE", f"{word}_CSV_FORMAT"),
        "bronze": ("BRONZE", f"WORK_{word}_COPY"),
        "pipe": ("BRONZE", f"WORK_{word}_SRC_TO_SL_PIPE"),
        "stream": ("STREAMS_TASKS", f"WORK_{word}_SRC_TO_SL_STREAM"),
        "xfm": ("SILVER", f"WORK_{word}_XFM"),
        "silver": ("SILVER", silver),
        "procedure": ("STREAMS_TASKS", f"WORK_{word}_SRC_TO_SL_SP"),
        "task": ("STREAMS_TASKS", f"WORK_{word}_SRC_TO_SL_TASK"),
        # Only on the local path: what Snowflake keeps in COPY_HISTORY and the stream's offset.
        "rejects": ("BRONZE", f"WORK_{word}_REJECTS"),
        "load_history": ("BRONZE", f"LOCAL_{word}_LOAD_HISTORY"),
        "consumed": ("STREAMS_TASKS", f"LOCAL_{word}_STREAM_CONSUMED"),
        **({"view": ("GOLD", view)} if view else {}),
    }
    return Catalog({**objects, **overrides})


CUSTOMER = Feed(
    key="customer",
    noun="customer",
    raw_columns=(
        "CUSTOMER_ID",
        "FIRST_NAME",
        "LAST_NAME",
        "EMAIL",
        "PHONE",
        "CITY",
        "STATE",
        "ZIP_CODE",
        "SIGNUP_DATE",
        "LOYALTY_TIER",
        "UPDATED_AT",
    ),
    typed_columns=(
        ("CUSTOMER_ID", "NUMBER(38,0)"),
        ("FIRST_NAME", "VARCHAR"),
        ("LAST_NAME", "VARCHAR"),
        ("EMAIL", "VARCHAR"),
        ("PHONE", "VARCHAR"),
        ("CITY", "VARCHAR"),
        ("STATE", "VARCHAR"),
        ("ZIP_CODE", "VARCHAR"),
        ("SIGNUP_DATE", "DATE"),
        ("LOYALTY_TIER", "VARCHAR"),
        ("UPDATED_AT", "TIMESTAMP_NTZ"),
    ),
    primary_key=("CUSTOMER_ID",),
    # the local tables kept the names of the time customers were the only feed
    catalog=_catalog(
        "CUSTOMER",
        "CUSTOMER",
        view="CUSTOMER_VIEW",
        load_history=("BRONZE", "LOCAL_LOAD_HISTORY"),
        consumed=("STREAMS_TASKS", "LOCAL_STREAM_CONSUMED"),
    ),
    logical="",
    version="UPDATED_AT",
    schedule_note="nightly",
)
# Point-of-sale lines: one row per sale line, corrected by a later version of the same SALE_ID
# (a return is a line of negative quantity with its own id).
SALES = Feed(
    key="sales",
    noun="sales",
    raw_columns=("SALE_ID", "CUSTOMER_ID", "PRODUCT_ID", "STORE_ID", "QUANTITY", "UNIT_PRICE", "SOLD_AT", "UPDATED_AT"),
    typed_columns=(
        ("SALE_ID", "NUMBER(38,0)"),
        ("CUSTOMER_ID", "NUMBER(38,0)"),
        ("PRODUCT_ID", "NUMBER(38,0)"),
        ("STORE_ID", "VARCHAR"),
        ("QUANTITY", "NUMBER(38,0)"),
        ("UNIT_PRICE", "NUMBER(12,2)"),
        ("AMOUNT", "NUMBER(14,2)"),
        ("SOLD_AT", "TIMESTAMP_NTZ"),
        ("UPDATED_AT", "TIMESTAMP_NTZ"),
    ),
    primary_key=("SALE_ID",),
    catalog=_catalog("SALES", "SALES"),
    logical="sales",
    version="UPDATED_AT",
)
# Stock counts: the latest count of a product in a store replaces the one before.
INVENTORY = Feed(
    key="inventory",
    noun="inventory",
    raw_columns=("PRODUCT_ID", "STORE_ID", "QUANTITY_ON_HAND", "REORDER_LEVEL", "LAST_UPDATED"),
    typed_columns=(
        ("PRODUCT_ID", "NUMBER(38,0)"),
        ("STORE_ID", "VARCHAR"),
        ("QUANTITY_ON_HAND", "NUMBER(38,0)"),
        ("REORDER_LEVEL", "NUMBER(38,0)"),
        ("LAST_UPDATED", "TIMESTAMP_NTZ"),
    ),
    primary_key=("PRODUCT_ID", "STORE_ID"),
    catalog=_catalog("INVENTORY", "INVENTORY"),
    logical="inventory",
    version="LAST_UPDATED",
)
__all__ = ["REJECTED_PREFIX"]
FEEDS: dict[str, Feed] = {f.key: f for f in (CUSTOMER, SALES, INVENTORY)}

# The customer feed's, under the names the monitor and the operations alerts used before the other feeds.
CATALOG = CUSTOMER.catalog
RAW_COLUMNS = list(CUSTOMER.raw_columns)
BRONZE_COLUMNS = CUSTOMER.bronze_columns
XFM_COLUMNS = CUSTOMER.xfm_columns
SILVER_COLUMNS = CUSTOMER.silver_columns


def feed(key: str) -> Feed:
    """The feed named `key`; an unknown name fails listing the feeds there are."""
    try:
        return FEEDS[key]
    except KeyError:
        raise KeyError(f"no ingestion feed {key!r} (feeds: {', '.join(FEEDS)})") from None


def fq(database: str, key: str) -> str:
    """Fully qualified, quoted name of one of the customer feed's objects."""
    return CATALOG.fq(database, key)
