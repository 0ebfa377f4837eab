"""The recommendations' steps as Snowflake runs them on a deployed stack: the generator UDTFs fill the
base tables, the dynamic table and the task are refreshed now, the feature views and both models are
registered (scripts/recommendations/registry.py), the propensity UDF scores from the model stage. The
stand-ins' counterpart is rehearsal.py (same functions)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from infra.recommendations import catalog
from infra.sqlfiles import render_sql, split_statements
from scripts.core.connections import transaction
from scripts.recommendations import propensity, ranking, registry
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
    """The feature views registered, the propensity model logged and promoted (it has no gate: its
    production version's file is what the UDF reads); the UDF scores every (customer, category) pair."""
    registry.register_features(cur, t)
    registry.release(cur, t, "propensity", model_path, promote=True)
    cur.execute(catalog.refresh_propensity_sql(t.database, propensity.udf_module().FEATURES))


def publish(cur: Any, t: RecommendationsTarget, path: Path) -> None:
    """The ranking model passed the publish gate: logged, promoted to production, its file published."""
    registry.release(cur, t, "ranking", path, promote=True)


def refused(cur: Any, t: RecommendationsTarget, path: Path) -> None:
    """The ranking model failed the publish gate: logged as the candidate; production is unchanged."""
    registry.release(cur, t, "ranking", path, promote=False)


def published_at(cur: Any, t: RecommendationsTarget) -> datetime | None:
    """When the ranking model the API reads was last uploaded to the model stage (LIST's last_modified,
    an HTTP date in GMT), or None when none is there yet."""
    pattern = ".*" + ranking.MODEL_FILE.replace(".", "[.]")
    cur.execute(f"LIST @{t.q('MODEL_STAGE')} PATTERN = '{pattern}'")
    columns = [d[0].lower() for d in cur.description]
    rows = [r for r in cur.fetchall() if "/runs/" not in f"/{r[columns.index('name')]}"]  # not a run's file
    stamps = [parsedate_to_datetime(str(row[columns.index("last_modified")])) for row in rows]
    return max(stamps) if stamps else None
