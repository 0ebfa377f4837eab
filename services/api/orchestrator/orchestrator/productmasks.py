"""The product features' part of the tree walk, tabulated once per shelf and model rather than on
every request.

Of the pair features, eight depend on the product and the region's stock only (category, price, price
rank, delivery days, stock, popularity): for every in-stock product of a region, the leaves they leave
possible in each tree (scores.py's masks) are the same for every customer. They are computed when a
region is first asked for after the shelf or the model changed, and a request walks only the
customer's features from there. A sync that swaps a table makes a new shelf, a new model a new scorer:
either one, compared by identity, drops the tables.
"""

from __future__ import annotations

import numpy as np

from services.features.pair import PAIR_FEATURES, History, pair_matrix

from .ranking import Ranker
from .scores import TreeScores
from .shelf import RegionStock, Shelf

PRODUCT_FEATURES = (
    "category_idx",
    "price",
    "price_rank",
    "est_delivery_days",
    "log_qty",
    "pop_30d",
    "pop_90d",
    "pop_365d",
)
PRODUCT_COLUMNS = frozenset(PAIR_FEATURES.index(name) for name in PRODUCT_FEATURES)


class ProductMasks:
    """Per region, the product features' masks of every in-stock product, for one shelf and one model."""

    def __init__(self) -> None:
        self.shelf: Shelf | None = None
        self.scorer: TreeScores | None = None
        self.regions: dict[str, np.ndarray] = {}
        self.builds = 0

    def get(self, shelf: Shelf, region: str, scorer: TreeScores) -> np.ndarray:
        """(in-stock products of the region, trees): RegionStock's order."""
        if shelf is not self.shelf or scorer is not self.scorer:
            self.shelf, self.scorer, self.regions = shelf, scorer, {}
        masks = self.regions.get(region)
        if masks is None:
            stock: RegionStock = shelf.region(region)
            cols = pair_matrix(shelf.catalog, stock.pos, stock.qty, stock.days, stock.popularity, {}, History.empty())
            masks = self.regions[region] = scorer.masks(cols, PRODUCT_COLUMNS)
            self.builds += 1
        return masks

    def top(
        self, ranker: Ranker, shelf: Shelf, region: str, at: np.ndarray, x: np.ndarray, ids: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ranker's n best candidates (`at`: their places in the region's stock, `x`: their pair
        features) and their scores, walking only the customer's features when the model has tables."""
        ranker.poll()
        scorer = ranker.scores  # read once: a model reload replaces it whole
        if scorer is None:
            return ranker.top(x, ids, n)
        return scorer.top(x, ids, n, (self.get(shelf, region, scorer).take(at, axis=0), PRODUCT_COLUMNS))
