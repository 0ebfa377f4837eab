"""Pair features of (customer, candidate product), shared by the ranking model's training
(scripts/recommendations/ranking.py) and the orchestrator, so the model sees at serving time exactly
the columns it was trained on."""

from __future__ import annotations

import numpy as np

PAIR_FEATURES = [
    "propensity",
    "category_rank",
    "price",
    "price_to_aov",
    "est_delivery_days",
    "log_qty",
    "category_idx",
    "engagement_score",
    "loyalty_tier_num",
    "total_orders",
    "days_since_purchase",
]
CUSTOMER_KEYS = ("avg_order_value", "engagement_score", "loyalty_tier_num", "total_orders", "days_since_purchase")

# First digit of a US ZIP code -> fulfilment region (the five INVENTORY regions).
ZIP_REGIONS = {
    "0": "Northeast",
    "1": "Northeast",
    "2": "Southeast",
    "3": "Southeast",
    "4": "Midwest",
    "5": "Midwest",
    "6": "Midwest",
    "7": "South",
    "8": "West",
    "9": "West",
}


def region_for_zip(zip_code: str) -> str:
    """The region of a ZIP code by its first character, which must be an ASCII digit."""
    region = ZIP_REGIONS.get(zip_code[:1])
    if region is None:
        raise ValueError(f"zip_code must start with an ASCII digit 0-9, not {zip_code[:1]!r}")
    return region


def pair_matrix(
    customer: dict,
    propensity: dict[str, float],
    category_ids: np.ndarray,
    prices: np.ndarray,
    delivery_days: np.ndarray,
    qty: np.ndarray,
) -> np.ndarray:
    """One row per candidate, PAIR_FEATURES order; vectorized over the candidates."""
    n = len(category_ids)
    ranked = sorted(propensity, key=lambda c: (-propensity[c], c))
    rank_of = {c: i + 1 for i, c in enumerate(ranked)}
    # per distinct category (at most 12), then spread to the candidates: no Python loop per candidate
    cats, inverse = np.unique(np.asarray(category_ids), return_inverse=True)
    prop = np.array([propensity.get(c, 0.0) for c in cats], dtype=np.float32)[inverse]
    crank = np.array([rank_of.get(c, 13) for c in cats], dtype=np.float32)[inverse]
    cidx = np.array([int(c[4:]) for c in cats], dtype=np.float32)[inverse]
    aov = float(customer.get("avg_order_value") or 0.0)
    out = np.empty((n, len(PAIR_FEATURES)), dtype=np.float32)
    out[:, 0] = prop
    out[:, 1] = crank
    out[:, 2] = prices
    out[:, 3] = prices / aov if aov > 0 else 0.0
    out[:, 4] = delivery_days
    out[:, 5] = np.log1p(qty)
    out[:, 6] = cidx
    for j, key in enumerate(("engagement_score", "loyalty_tier_num", "total_orders", "days_since_purchase"), start=7):
        v = customer.get(key)
        out[:, j] = np.nan if v is None else float(v)
    return out
