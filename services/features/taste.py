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
from typing import Protocol

import numpy as np


class Catalog(Protocol):
    """What the taste features read of pair.Catalog (pair.py imports this module, not the reverse)."""

    category_code: np.ndarray
    brand: np.ndarray
    price_rank: np.ndarray


class History(Protocol):
    """What they read of pair.History: per product touched (catalogue positions), the counts."""

    pos: np.ndarray
    views: np.ndarray
    carts: np.ndarray
    purchases: np.ndarray


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
    """A region's in-stock products (catalogue positions, ascending) with their customer-independent
    terms, computed once when the shelf is built: the score without brand and price, each product's
    category, brand and price rank, whether its category repeats; and the catalogue's departments (a
    department: the brands that sell in exactly the same categories) for the favourite brand."""

    pos: np.ndarray
    base: np.ndarray
    code: np.ndarray
    brand: np.ndarray
    price_rank: np.ndarray
    repeating: np.ndarray
    n_cats: int
    n_brands: int
    department: np.ndarray  # per brand
    department_cats: np.ndarray  # (departments, categories): 1.0 where the department sells

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        pos: np.ndarray,
        qty: np.ndarray,
        days: np.ndarray,
        pop_90d: np.ndarray,
        pop_365d: np.ndarray,
        views_365d: np.ndarray,
        repeat_rate: np.ndarray,
    ) -> Shelf:
        """From the in-stock products' quantity and delivery days, and per product: purchases over 90
        and 365 days, views by everyone over 365 days and the repeat rate of its category."""
        n_cats = int(catalog.category_code.max()) + 1 if len(catalog.category_code) else 0
        n_brands = int(catalog.brand.max()) + 1 if len(catalog.brand) else 0
        sold = np.zeros((n_brands, n_cats), dtype=bool)
        sold[catalog.brand, catalog.category_code] = True
        cats, department = np.unique(sold, axis=0, return_inverse=True)
        trend = np.log1p(pop_90d / 3) - np.log1p(pop_365d / 12)
        base = APPEAL * np.log1p(views_365d) - DELIVERY * (days - 1) - LOW_STOCK * (qty < LOW_STOCK_QTY) + TREND * trend
        return cls(
            pos,
            base,
            catalog.category_code[pos],
            catalog.brand[pos],
            catalog.price_rank[pos],
            repeat_rate > REPEATING,
            n_cats,
            n_brands,
            department.reshape(-1),
            cats.astype(np.float64),
        )

    def favourites(self, touched: np.ndarray, touched_cat: np.ndarray) -> np.ndarray:
        """Per brand 1.0 if it is the customer's most touched brand of its department (ties: the lowest
        brand code) and holds more than FAVOURITE_SHARE of the department's interactions, else 0."""
        fav = np.zeros(self.n_brands)
        if not self.n_brands:
            return fav
        order = np.lexsort((np.arange(self.n_brands), -touched, self.department))
        dept = self.department[order]
        best = order[np.r_[True, dept[1:] != dept[:-1]]]  # one per department, in department order
        total = self.department_cats @ touched_cat
        held = np.divide(touched[best], total, out=np.zeros(len(best)), where=total > 0)
        fav[best[held > FAVOURITE_SHARE]] = 1.0
        return fav


def whole_shelf(catalog: Catalog, shelf: Shelf | None, history: History) -> np.ndarray | None:
    """taste_matrix of every product on the shelf (None without the shelf's signals): the retrieval's
    taste source picks from it, and the candidates' rows are taken from it, so it is computed once."""
    return taste_matrix(catalog, shelf, shelf.pos, history) if shelf is not None else None


def taste_matrix(catalog: Catalog, shelf: Shelf, positions: np.ndarray, history: History) -> np.ndarray:
    """(n, 3) in TASTE_FEATURES order for the candidates at catalogue `positions` (all on the shelf)."""
    touched = history.views + history.carts + history.purchases
    own_cat = catalog.category_code[history.pos]
    cat_touched = np.bincount(own_cat, weights=touched, minlength=shelf.n_cats)[: shelf.n_cats]
    brand_touched = np.bincount(catalog.brand[history.pos], weights=touched, minlength=shelf.n_brands)[: shelf.n_brands]
    fav = shelf.favourites(brand_touched, cat_touched)
    buys = history.carts + history.purchases
    weights = buys.sum()
    level = float((catalog.price_rank[history.pos] * buys).sum() / weights) if weights > 0 else 0.5
    score = shelf.base + BRAND * fav[shelf.brand] - PRICE * np.abs(shelf.price_rank - level)
    weight = np.exp(score - score.max()) if len(score) else score
    in_category = np.bincount(shelf.code, weights=weight, minlength=shelf.n_cats)
    at = np.searchsorted(shelf.pos, positions)
    code = shelf.code[at]
    share = weight[at] / in_category[code]
    bought_cat = np.bincount(own_cat, weights=history.purchases, minlength=shelf.n_cats)[: shelf.n_cats]
    again = shelf.repeating[at] & (bought_cat[code] > 0)
    if again.any():  # in a repeating category: the customer's own purchases take REPEAT of the share
        h = np.clip(np.searchsorted(history.pos, positions), 0, max(len(history.pos) - 1, 0))
        mine = np.where(history.pos[h] == positions, history.purchases[h], 0.0) if len(history.pos) else 0.0
        share = np.where(again, REPEAT * mine / np.maximum(bought_cat[code], 1) + (1 - REPEAT) * share, share)
    category = ((cat_touched + 1.0) / (cat_touched.sum() + shelf.n_cats))[code]
    out = np.empty((len(positions), len(TASTE_FEATURES)), dtype=np.float64)
    out[:, 0] = np.log(category * share + 1e-9)
    out[:, 1] = np.log(share + 1e-9)
    out[:, 2] = np.log(category)
    return out
