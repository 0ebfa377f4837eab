"""Pair features of (customer, candidate product), shared by the ranking model's training
(scripts/recommendations/ranking.py) and the orchestrator, so the model sees at serving time exactly
the columns it was trained on.

Inputs are the same on both sides: the product catalogue, the region's stock and delivery days, the
products' recent popularity (serving.product_popularity / FEATURE_STORE.PRODUCT_POPULARITY), the
customer's category propensity and the customer's own history per product
(serving.customer_product_interactions / FEATURE_STORE.CUSTOMER_PRODUCT_INTERACTIONS). Everything the
model reads about the customer (brand shares, price level, typical price per category) is derived
here from that history, once, for both. The taste features (taste.py) also weigh each candidate
against the region's whole shelf, with two more per-product signals from the same popularity table
(views by everyone, the category's repeat rate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.features.taste import TASTE_FEATURES, Shelf, taste_matrix

PAIR_FEATURES = [
    "propensity",
    "category_rank",
    "category_idx",
    "price",
    "price_rank",
    "price_gap",
    "price_gap_abs",
    "price_vs_typical",
    "est_delivery_days",
    "log_qty",
    "pop_30d",
    "pop_90d",
    "pop_365d",
    "brand_view_share",
    "brand_buy_share",
    "product_views",
    "product_buys",
    "days_since_product_purchase",
    *TASTE_FEATURES,
]
BASE = len(PAIR_FEATURES) - len(TASTE_FEATURES)
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


def region_sql(zip_column: str) -> str:
    """region_for_zip as a SQL CASE expression over a ZIP code column (the warehouse's own checks)."""
    whens = " ".join(f"WHEN SUBSTR({zip_column}, 1, 1) = '{d}' THEN '{r}'" for d, r in ZIP_REGIONS.items())
    return f"CASE {whens} END"


def top_categories(propensity: Mapping[str, float], n: int) -> list[str]:
    """The customer's n best categories: propensity descending, then category id."""
    return sorted(propensity, key=lambda c: (-propensity[c], c))[:n]


@dataclass(frozen=True)
class Catalog:
    """The products as arrays sorted by id: category, brand code, price and the price's rank within
    its category (0 = cheapest, 1 = dearest), which makes prices comparable across categories."""

    ids: np.ndarray
    category: np.ndarray
    category_code: np.ndarray
    brand: np.ndarray
    price: np.ndarray
    price_rank: np.ndarray
    code_of: dict[str, int]  # category id -> its code (codes sort as the ids do)
    category_number: np.ndarray  # per code: the category's number, "CAT-007" -> 7.0 (category_idx)

    @classmethod
    def build(cls, rows: Iterable[Sequence]) -> Catalog:
        """From (product_id, category_id, brand, price) rows, in any order."""
        rows = sorted((int(r[0]), str(r[1]), r[2] or "", float(r[3] or 0.0)) for r in rows)
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        category = np.array([r[1] for r in rows], dtype=object)
        price = np.array([r[3] for r in rows], dtype=np.float64)
        _, brand = np.unique(np.array([r[2] for r in rows], dtype=object), return_inverse=True)
        cats, code = np.unique(category, return_inverse=True) if rows else (np.array([]), np.array([], int))
        rank = np.zeros(len(rows), dtype=np.float64)
        for k in range(len(cats)):
            members = np.flatnonzero(code == k)
            order = members[np.lexsort((ids[members], price[members]))]
            rank[order] = np.arange(len(order)) / max(len(order) - 1, 1)
        code_of = {str(c): k for k, c in enumerate(cats.tolist())}
        number = np.array([_category_number(str(c)) for c in cats.tolist()], dtype=np.float64)
        return cls(ids, category, code, brand.astype(np.int64), price, rank, code_of, number)

    def positions(self, product_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, known): where each id sits in the catalogue, and whether it is there at all."""
        ids = np.asarray(product_ids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.clip(np.searchsorted(self.ids, ids), 0, len(self.ids) - 1)
        return pos, self.ids[pos] == ids


def _category_number(category_id: str) -> float:
    """The number of a category id, CAT-007 -> 7.0; without one it is missing (NaN), and the catalogue
    still loads."""
    digits = category_id[4:]
    return float(int(digits)) if digits.isascii() and digits.isdigit() else np.nan


@dataclass(frozen=True)
class History:
    """One customer's past interactions per product (catalogue positions, sorted)."""

    pos: np.ndarray
    views: np.ndarray
    carts: np.ndarray
    purchases: np.ndarray
    days_since_purchase: np.ndarray

    @classmethod
    def empty(cls) -> History:
        """A customer with no history yet (features fall back to shares of 0 and missing prices)."""
        return cls(np.zeros(0, dtype=np.int64), *(np.zeros(0) for _ in range(4)))

    @classmethod
    def build(cls, catalog: Catalog, rows: Iterable[Sequence]) -> History:
        """From (product_id, views, carts, purchases, days_since_purchase) rows; unknown products dropped."""
        rows = list(rows)
        return cls.of_columns(catalog, *(zip(*rows, strict=True) if rows else ((),) * 5))

    @classmethod
    def of_columns(cls, catalog: Catalog, ids: Sequence, *counts: Sequence) -> History:
        """From the columns of those rows (as the API reads them, one array each); None is missing."""
        pos, known = catalog.positions(np.array(ids, dtype=np.int64))
        # dtype float turns None into NaN
        cols = [np.array(c, dtype=np.float64) if len(c) else np.zeros(0) for c in counts]
        order = np.argsort(pos[known], kind="stable")
        return cls(pos[known][order], *(c[known][order] for c in cols))


def _share(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    totals = np.bincount(codes, weights=weights, minlength=size)[:size]
    s = weights.sum()
    return totals / s if s > 0 else totals


def _customer_profile(catalog: Catalog, h: History) -> dict[str, object]:
    """Brand shares of views and of carts + purchases, the price level (mean price rank of what the
    customer put in a cart or bought) and the typical price per category."""
    n_brands = int(catalog.brand.max()) + 1 if len(catalog.brand) else 0
    n_cats = int(catalog.category_code.max()) + 1 if len(catalog.category_code) else 0
    buys = h.carts + h.purchases
    brands, cats = catalog.brand[h.pos], catalog.category_code[h.pos]
    weight = np.bincount(cats, weights=buys, minlength=n_cats)[:n_cats]
    spend = np.bincount(cats, weights=buys * catalog.price[h.pos], minlength=n_cats)[:n_cats]
    with np.errstate(invalid="ignore", divide="ignore"):
        typical = np.where(weight > 0, spend / weight, np.nan)
    level = float(np.average(catalog.price_rank[h.pos], weights=buys)) if buys.sum() > 0 else np.nan
    return {
        "brand_view": _share(brands, h.views, n_brands),
        "brand_buy": _share(brands, buys, n_brands),
        "typical": typical,
        "level": level,
    }


def pair_matrix(
    catalog: Catalog,
    positions: np.ndarray,
    qty: np.ndarray,
    delivery_days: np.ndarray,
    popularity: np.ndarray,
    propensity: Mapping[str, float],
    history: History,
    shelf: Shelf | None = None,
    taste: np.ndarray | None = None,
) -> np.ndarray:
    """One row per candidate (catalogue positions), PAIR_FEATURES order; vectorized over candidates.

    `popularity` is (n, 3): purchases over the last 30, 90 and 365 days, per candidate. The taste
    features need the region's whole shelf (taste.py); without it they are missing (NaN). `taste`:
    the candidates' rows of taste.whole_shelf when the retrieval already computed it."""
    n = len(positions)
    # per category code: the customer's propensity and its rank (13 when the customer has none)
    by_code = np.zeros(len(catalog.category_number), dtype=np.float64)
    rank_by_code = np.full(len(catalog.category_number), 13.0)
    for i, c in enumerate(top_categories(propensity, len(propensity))):
        k = catalog.code_of.get(c)
        if k is not None:
            by_code[k], rank_by_code[k] = propensity[c], i + 1
    profile = _customer_profile(catalog, history)
    price, price_rank = catalog.price[positions], catalog.price_rank[positions]
    brand, code = catalog.brand[positions], catalog.category_code[positions]
    at = np.clip(np.searchsorted(history.pos, positions), 0, max(len(history.pos) - 1, 0))
    seen = history.pos[at] == positions if len(history.pos) else np.zeros(n, dtype=bool)

    def per_product(values: np.ndarray, missing: float) -> np.ndarray:
        return np.where(seen, values[at], missing) if len(history.pos) else np.full(n, missing)

    out = np.empty((n, len(PAIR_FEATURES)), dtype=np.float32)
    out[:, 0] = by_code[code]
    out[:, 1] = rank_by_code[code]
    out[:, 2] = catalog.category_number[code]
    out[:, 3] = price
    out[:, 4] = price_rank
    out[:, 5] = price_rank - profile["level"]
    out[:, 6] = np.abs(price_rank - profile["level"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 7] = price / profile["typical"][code]
    out[:, 8] = delivery_days
    out[:, 9] = np.log1p(qty)
    out[:, 10:13] = np.log1p(np.asarray(popularity, dtype=np.float64).reshape(n, 3))
    out[:, 13] = profile["brand_view"][brand]
    out[:, 14] = profile["brand_buy"][brand]
    out[:, 15] = per_product(history.views, 0.0)
    out[:, 16] = per_product(history.carts + history.purchases, 0.0)
    out[:, 17] = per_product(history.days_since_purchase, np.nan)
    if taste is None and shelf is not None:
        taste = taste_matrix(catalog, shelf, positions, history)
    out[:, BASE:] = taste if taste is not None else np.nan
    return out
