"""The foundation's names, with no Pulumi import so the scripts and the stand-ins can use them: the
database's layer schemas, the warehouses' purposes, and the statement timeout every warehouse carries."""

from __future__ import annotations

from infra.naming import Naming

# Medallion layer schemas plus the ML and orchestration schemas.
SCHEMAS: dict[str, str] = {
    "BRONZE": "raw landing data, as loaded",
    "SILVER": "cleaned and typed data (staging)",
    "GOLD": "analytics-ready views and tables",
    "FEATURE_STORE": "customer features for training and serving",
    "ML_REGISTRY": "model artifacts and metrics",
    "STREAMS_TASKS": "streams and tasks that move data between layers",
}
WAREHOUSE_PURPOSES = ("load", "transform", "serve")
# What each warehouse's credits pay for: its comment in Snowflake, so a bill names the work.
WAREHOUSE_COMMENTS = {
    "load": "the loader's work: post-deploy data loads into BRONZE and the order change generator",
    "transform": "the transformer's work: tasks, procedures, dynamic-table refreshes, alerts and training",
    "serve": "reads: the dashboard, analysts and the recommendation API's warehouse fallback",
}
# A runaway statement is cancelled after an hour instead of Snowflake's default two days (the policy
# pack caps it: 3600 s outside prod, 7200 s in prod).
STATEMENT_TIMEOUT_SECONDS = 3600


def warehouse_name(naming: Naming, purpose: str) -> str:
    """`RDP_DEV_LOAD_WH`: a warehouse's name, for the foundation that declares it and the account stack
    whose monitor procedure accepts exactly these."""
    return naming.sf(purpose.upper(), "WH")
