"""The review stack's smoke test: the tables its loads filled answer, and are not empty. It reads as the
TRANSFORMER duty (which reads BRONZE and writes the layers above it), so it needs no API and no Postgres,
which a review stack does not have."""

from __future__ import annotations

from typing import Any

from infra.analytics import catalog as analytics
from infra.cdc import catalog as cdc
from infra.recommendations import catalog as recommendations
from scripts.core.connections import count


def loaded_tables(database: str) -> dict[str, str]:
    """What each load of review-stack.yml fills, by the step that fills it → the table's quoted name."""
    return {
        "analytics generate: SHOP_ORDERS": analytics.fq(database, "orders"),
        "analytics generate: SHOP_ORDER_ITEMS": analytics.fq(database, "order_items"),
        "cdc all: ORDER_CHANGES": cdc.fq(database, "changes"),
        "cdc all: ORDERS_AGGREGATED": cdc.fq(database, "orders_aggregated"),
        "recommendations all: CUSTOMERS": recommendations.q(database, "CUSTOMERS"),
        "recommendations all: CUSTOMER_360": recommendations.q(database, "CUSTOMER_360"),
        "recommendations all: USER_PRODUCT_RECOMMENDATIONS": recommendations.q(
            database, "USER_PRODUCT_RECOMMENDATIONS"
        ),
        "recommendations all: CUSTOMER_PROPENSITY": recommendations.q(database, "CUSTOMER_PROPENSITY"),
    }


def smoke(cur: Any, database: str) -> dict[str, int]:
    """Rows of every loaded table; a table that cannot be read raises (the stack does not answer)."""
    return {label: count(cur, table) for label, table in loaded_tables(database).items()}
