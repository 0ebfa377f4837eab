"""A plug-in estimate of how likely a customer is to buy each product on their region's shelf, shaped
like the way purchases arise: a category first (the customer's share of their own interactions in it),
then a product of it in proportion to exp(appeal + favourite brand - price distance - delivery days -
low stock + trend), or, in a category whose purchases often repeat, one they bought before.

Every term comes from what the ranker already reads or from per-product signals the loads precompute:
appeal from everyone's views of the product (views follow appeal and are not moved by price, stock or
the season), the trend from its purchases over 90 days against the year, the favourite brand and the
price level from the customer's own history, the repeat rate of the category from everyone's
purchases. The weights were chosen on the validation window (scripts/recommendations/ranking.py).
The shares are normalised over the whole shelf of the category, not the candidates, so a category
with few candidates is not overrated; hence the shelf is an input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASTE_FEATURES = ["taste_log_prob", "taste_log_share_in_category", "taste_log_category_share"]
APPEAL = 1.4  # per unit of log(1 + views by everyone)
BRAND = 2.5  # the customer's most touched brand of a department, when it has FAVOURITE_SHARE of it
FAVOURITE_SHARE = 0.3
PRICE = 3.0  # per unit of price-rank distance from the customer's price level
DELIVERY = 0.5  # per delivery day beyond the first
LOW_STOCK_QTY, LOW_STOCK = 40, 0.7
TREND = 1.0  # per unit of log purchase rate, last 90 days against the year
REPEATING = 0.1  # a category's repeat rate above which purchases come back to earlier products
REPEAT = 0.55  # then, the share of the category's purchases that are a product bought before


@dataclass(frozen=True)
class Shelf:
    """A region's in-stock products (catalogue positions, ascending), their quantity and delivery
    days, and per product: purchases over 90 and 365 days, views by everyone over 365 days and the
    repeat rate of its category."""

    pos: np.ndarray
    qty: np.ndarray
    days: np.ndarray
    pop_90d: np.ndarray
    pop_365d: np.ndarray
    views_365d: np.ndarray
    repeat_rate: np.ndarray


def _favourite_brands(brand: np.ndarray, code: np.ndarray, touched: np.ndarray, touched_cat: np.ndarray) -> np.ndarray:
    """Per brand 1.0 if it is the customer's most touched brand among the brands sold in the same
    categories (a department) and holds FAVOURITE_SHARE of the department's interactions, else 0."""
    n_brands, n_cats = len(touched), len(touched_cat)
    sold = np.zeros((n_brands, n_cats), dtype=bool)
    sold[brand, code] = True
    fav = np.zeros(n_brands)
    groups: dict[bytes, list[int]] = {}
    for b in range(n_brands):
        groups.setdefault(sold[b].tobytes(), []).append(b)
    for members in groups.values():
        total = touched_cat[sold[members[0]]].sum()
        best = max(members, key=lambda b: (touched[b], -b))
        if total > 0 and touched[best] / total > FAVOURITE_SHARE:
            fav[best] = 1.0
    return fav


def taste_matrix(catalog, shelf: Shelf, positions: np.ndarray, history) -> np.ndarray:
    """(n, 3) in TASTE_FEATURES order for the candidates at catalogue `positions` (all on the shelf)."""
    n_cats = int(catalog.category_code.max()) + 1 if len(catalog.category_code) else 0
    n_brands = int(catalog.brand.max()) + 1 if len(catalog.brand) else 0
    touched = history.views + history.carts + history.purchases
    own_cat = catalog.category_code[history.pos]
    cat_touched = np.bincount(own_cat, weights=touched, minlength=n_cats)[:n_cats]
    brand_touched = np.bincount(catalog.brand[history.pos], weights=touched, minlength=n_brands)[:n_brands]
    fav = _favourite_brands(catalog.brand, catalog.category_code, brand_touched, cat_touched)
    buys = history.carts + history.purchases
    level = float(np.average(catalog.price_rank[history.pos], weights=buys)) if buys.sum() > 0 else 0.5
    pos = shelf.pos
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = np.log1p(shelf.pop_90d / 3) - np.log1p(shelf.pop_365d / 12)
    score = (
        APPEAL * np.log1p(shelf.views_365d)
        + BRAND * fav[catalog.brand[pos]]
        - PRICE * np.abs(catalog.price_rank[pos] - level)
        - DELIVERY * (shelf.days - 1)
        - LOW_STOCK * (shelf.qty < LOW_STOCK_QTY)
        + TREND * trend
    )
    weight = np.exp(score - score.max()) if len(score) else score
    code = catalog.category_code[pos]
    share = weight / np.bincount(code, weights=weight, minlength=n_cats)[code]
    bought_cat = np.bincount(own_cat, weights=history.purchases, minlength=n_cats)[:n_cats]
    mine = np.zeros(len(catalog.ids))
    np.add.at(mine, history.pos, history.purchases)
    again = (shelf.repeat_rate > REPEATING) & (bought_cat[code] > 0)
    share = np.where(again, REPEAT * mine[pos] / np.maximum(bought_cat[code], 1) + (1 - REPEAT) * share, share)
    category = (cat_touched + 1.0) / (cat_touched.sum() + n_cats)
    at = np.searchsorted(pos, positions)
    out = np.empty((len(positions), len(TASTE_FEATURES)), dtype=np.float64)
    out[:, 1] = np.log(share[at] + 1e-9)
    out[:, 2] = np.log(category[catalog.category_code[positions]])
    out[:, 0] = np.log(category[catalog.category_code[positions]] * share[at] + 1e-9)
    return out
