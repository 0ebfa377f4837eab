"""The recommendations' steps as Snowflake runs them on a deployed stack: the generator UDTFs fill the
base tables, the dynamic table and the task are refreshed now, the propensity UDF scores from the
model stage. The stand-ins' counterpart is rehearsal.py (same functions)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from infra.recommendations import catalog
from infra.sqlfiles import render_sql, split_statements
from scripts.core.connections import transaction
from scripts.recommendations import propensity, ranking
from scripts.recommendations.target import BASE_TABLES, RecommendationsTarget


def generate(cur: Any, t: RecommendationsTarget) -> None:
    """The base tables from the generator UDTFs, replaced together in one transaction."""
    with transaction(cur):
        for stmt in split_statements(generate_sql(t)):
            cur.execute(stmt)


def generate_sql(t: RecommendationsTarget) -> str:
    """sql/recommendations/generate_in_warehouse.sql at the target's scale."""
    return render_sql(
        "recommendations/generate_in_warehouse.sql",
        **t.names(stores="STORES", **BASE_TABLES),
        gen_store=t.q("GENERATE_STORE"),
        gen_product=t.q("GENERATE_PRODUCT"),
        gen_inventory=t.q("GENERATE_INVENTORY"),
        gen_customer=t.q("GENERATE_RETAIL_CUSTOMER"),
        gen_events=t.q("GENERATE_RETAIL_EVENTS"),
        n_stores=str(t.scale.stores),
        n_products=str(t.scale.products),
        n_customers=str(t.scale.customers),
        seed=str(t.scale.seed),
        as_of=t.scale.as_of.isoformat(),
    )


def build(cur: Any, t: RecommendationsTarget) -> None:
    """The dynamic table, the views and the task own these: refreshed now."""
    cur.execute(f"ALTER DYNAMIC TABLE {t.q('CUSTOMER_360')} REFRESH")
    cur.execute(catalog.refresh_recommendations_sql(t.database))


def score(cur: Any, t: RecommendationsTarget, booster: Any, model_path: Path) -> None:
    """The model to its stage; the propensity UDF scores every (customer, category) pair."""
    publish(cur, t, model_path)
    cur.execute(catalog.refresh_propensity_sql(t.database, propensity.udf_module().FEATURES))


def publish(cur: Any, t: RecommendationsTarget, path: Path) -> None:
    """A model file to the model stage."""
    cur.execute(f"PUT 'file://{path}' @{t.q('MODEL_STAGE')} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")


def published_at(cur: Any, t: RecommendationsTarget) -> datetime | None:
    """When the ranking model the API reads was last uploaded to the model stage (LIST's last_modified,
    an HTTP date in GMT), or None when none is there yet."""
    pattern = ".*" + ranking.MODEL_FILE.replace(".", "[.]")
    cur.execute(f"LIST @{t.q('MODEL_STAGE')} PATTERN = '{pattern}'")
    columns = [d[0].lower() for d in cur.description]
    stamps = [parsedate_to_datetime(str(row[columns.index("last_modified")])) for row in cur.fetchall()]
    return max(stamps) if stamps else None
