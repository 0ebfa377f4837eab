"""Names, columns, file format and SQL of customer ingestion, shared by the Pulumi components and
the local path (scripts/ingestion), so the objects the program declares are the ones the rehearsal fills."""

from __future__ import annotations

from infra.naming import Catalog
from infra.sqlfiles import render_sql

RAW_COLUMNS = [
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
]
BRONZE_COLUMNS: list[tuple[str, str]] = [(c, "VARCHAR") for c in RAW_COLUMNS] + [
    ("_FILE_NAME", "VARCHAR"),
    ("_FILE_ROW_NUMBER", "NUMBER(38,0)"),
    ("_LOADED_AT", "TIMESTAMP_NTZ"),
    # Load order, for "latest version wins, then load order" (xfm_select.sql). Snowpipe fills the
    # file's last-modified time (METADATA$FILE_LAST_MODIFIED); the local pipe also fills _LOAD_SEQ,
    # its load sequence, which increases with every loaded file and row (Snowpipe leaves it NULL).
    ("_FILE_LAST_MODIFIED", "TIMESTAMP_NTZ"),
    ("_LOAD_SEQ", "NUMBER(38,0)"),
]
XFM_COLUMNS: list[tuple[str, str]] = [
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
    ("SOURCE_FILE", "VARCHAR"),
    ("SOURCE_ROW", "NUMBER(38,0)"),
]
SILVER_COLUMNS = [*XFM_COLUMNS, ("MERGED_AT", "TIMESTAMP_NTZ")]
# The CSV format Snowpipe parses with; the local loader parses with the same settings.
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
# Where the pipe's rejected files are kept (the bucket expires them by a lifecycle rule).
REJECTED_PREFIX = "rejected/"

CATALOG = Catalog(
    {
        "stage": ("BRONZE", "SOURCE_DATA_CUSTOMER_STAGE"),
        "file_format": ("BRONZE", "CUSTOMER_CSV_FORMAT"),
        "bronze": ("BRONZE", "WORK_CUSTOMER_COPY"),
        "pipe": ("BRONZE", "WORK_CUSTOMER_SRC_TO_SL_PIPE"),
        "stream": ("STREAMS_TASKS", "WORK_CUSTOMER_SRC_TO_SL_STREAM"),
        "xfm": ("SILVER", "WORK_CUSTOMER_XFM"),
        "silver": ("SILVER", "CUSTOMER"),
        "procedure": ("STREAMS_TASKS", "WORK_CUSTOMER_SRC_TO_SL_SP"),
        "task": ("STREAMS_TASKS", "WORK_CUSTOMER_SRC_TO_SL_TASK"),
        "view": ("GOLD", "CUSTOMER_VIEW"),
        # Only on the local path: what Snowflake keeps in COPY_HISTORY and the stream's offset.
        "rejects": ("BRONZE", "WORK_CUSTOMER_REJECTS"),
        "load_history": ("BRONZE", "LOCAL_LOAD_HISTORY"),
        "consumed": ("STREAMS_TASKS", "LOCAL_STREAM_CONSUMED"),
    }
)


def fq(database: str, key: str) -> str:
    """Fully qualified, quoted name of one of the ingestion objects."""
    return CATALOG.fq(database, key)


def procedure_sql(database: str, source: str | None = None) -> str:
    """The procedure body: the same xfm_select and merge files the local path runs."""
    xfm_select = render_sql("ingestion/xfm_select.sql", source=source or fq(database, "stream"))
    merge = render_sql("ingestion/merge_customer.sql", target=fq(database, "silver"), xfm=fq(database, "xfm"))
    return render_sql("ingestion/transform_procedure.sql", xfm=fq(database, "xfm"), xfm_select=xfm_select, merge=merge)


def pipe_copy_sql(database: str) -> str:
    return render_sql(
        "ingestion/pipe_copy.sql",
        bronze_table=fq(database, "bronze"),
        stage=fq(database, "stage"),
        file_format=fq(database, "file_format"),
    )


def task_when_sql(database: str) -> str:
    return render_sql("ingestion/task_when.sql", stream=fq(database, "stream")).strip()


def task_call_sql(database: str) -> str:
    return render_sql("ingestion/task_call.sql", procedure=fq(database, "procedure")).strip()


def gold_view_sql(database: str) -> str:
    return render_sql("ingestion/gold_customer_view.sql", silver_customer=fq(database, "silver"))
