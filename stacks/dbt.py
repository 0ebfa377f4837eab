"""The ingestion capability's dbt layer in a stack: its schemas and DBT role beside the customer feed's
tables (its sources), held by the stack's transformer service user (kept apart from stacks/platform.py)."""

from __future__ import annotations

from typing import Any

from infra.ingestion.component import Ingestion
from infra.ingestion.dbt import DbtLayer, DbtLayerArgs


def dbt_layer(b: Any, ingestion: Ingestion) -> DbtLayer:
    """DBT_SILVER, DBT_GOLD and the DBT role, reading the Bronze and Silver customer tables (`b`: the stack's
    Base, untyped here so this module does not import stacks.platform, which imports it)."""
    cfg, customer = b.config, ingestion.feeds["customer"]
    return DbtLayer(
        "dbt",
        DbtLayerArgs(
            naming=cfg.naming,
            providers=b.providers,
            protect=cfg.protect,
            database=b.database,
            data_retention_days=cfg.data_retention_days,
            transform_warehouse=b.warehouses["transform"],
            transformer_user=b.access.service_users["transformer"].name,
            sources={"bronze": customer.bronze, "silver": customer.silver},
            analyst_role=b.roles["ANALYST"],
            preview_role=b.ci.preview_role if b.ci else None,
        ),
        b.after_foundation,
    )
