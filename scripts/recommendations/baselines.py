"""The recommenders a data scientist would try first, scored like the ranker (offline evaluation):
each gives every (customer, product) a score from the events before the cut-off, and the evaluation
takes the top K among what is in stock at the customer's home.

- `best_sellers`: purchases over the last 30 days;
- `item_knn`: cosine similarity of products over customers' purchases + carts, a customer's score
  the sum of the similarities to what they bought or carted;
- `ease`: EASE (Steck 2019), a closed-form item-item linear model B = I - P diagMat(1/diag(P)),
  P = (XᵀX + λI)⁻¹, λ chosen on validation;
- `als`: implicit-feedback matrix factorisation (Hu, Koren, Volinsky 2008; the `implicit` package's
  AlternatingLeastSquares) on purchases + carts (views at a tenth), factors and regularisation chosen on
  validation;
- `repeat_popularity`: rebuy what was bought in categories people buy again (the customer's
  purchases x the category's repeat rate), then best sellers weighted by the customer's share of
  events in the category and of carts + purchases of the brand; weights chosen on validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scripts.recommendations.snapshot import Snapshot, World

EASE_LAMBDAS = (50.0, 200.0, 800.0)
ALS_GRID = tuple((f, r) for f in (32, 64) for r in (0.1, 10.0))
ALS_ITERATIONS = 15
HEURISTIC_GRID = tuple((r, b) for r in (1.0, 5.0, 25.0) for b in (0.0, 1.0, 3.0))


@dataclass(frozen=True)
class Interactions:
    """Customers x catalogue positions: purchases, carts and all events (views included) before the
    cut-off, rows in `customers` order (every customer: the item-item models learn from all of them)."""

    customers: list[int]
    purchases: np.ndarray
    carts: np.ndarray
    views: np.ndarray

    @classmethod
    def of(cls, world: World, snap: Snapshot, customers: list[int]) -> Interactions:
        n = len(world.catalog.ids)
        mats = [np.zeros((len(customers), n), dtype=np.float32) for _ in range(3)]
        for row, c in enumerate(customers):
            h = snap.history.get(c)
            if h is not None and len(h.pos):
                mats[0][row, h.pos] = np.nan_to_num(h.purchases)
                mats[1][row, h.pos] = np.nan_to_num(h.carts)
                mats[2][row, h.pos] = np.nan_to_num(h.views)
        return cls(customers, *mats)

    def rows(self, customers: list[int]) -> Interactions:
        """The same matrices for some of the customers."""
        at = {c: i for i, c in enumerate(self.customers)}
        idx = np.array([at[c] for c in customers], dtype=np.int64)
        return Interactions(customers, self.purchases[idx], self.carts[idx], self.views[idx])

    @property
    def bought_or_carted(self) -> np.ndarray:
        return ((self.purchases + self.carts) > 0).astype(np.float32)


def best_sellers(world: World, snap: Snapshot, x: Interactions) -> np.ndarray:
    return np.broadcast_to(snap.popularity[:, 0] + 1e-3 * snap.popularity[:, 2], x.purchases.shape)


def item_knn(world: World, snap: Snapshot, x: Interactions, fit: Interactions | None = None) -> np.ndarray:
    m = (fit or x).bought_or_carted
    norm = np.sqrt(m.sum(axis=0)) + 1e-9
    sim = (m.T @ m) / norm[:, None] / norm[None, :]
    np.fill_diagonal(sim, 0.0)
    return x.bought_or_carted @ sim + 1e-6 * snap.popularity[:, 2]


def ease(world: World, snap: Snapshot, x: Interactions, lam: float, fit: Interactions | None = None) -> np.ndarray:
    m = (fit or x).bought_or_carted
    g = (m.T @ m).astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return x.bought_or_carted @ b + 1e-6 * snap.popularity[:, 2]


def als(world: World, snap: Snapshot, x: Interactions, factors: int, reg: float, fit: Interactions) -> np.ndarray:
    """Every customer's factors fitted on `fit` (all customers), scores of `x`'s rows (its customers
    are among them); one thread and a fixed seed, so a run is repeatable."""
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix
    from threadpoolctl import threadpool_limits

    confidence = csr_matrix(fit.purchases + fit.carts + 0.1 * fit.views)
    with threadpool_limits(1, "blas"):  # implicit's advice: its own loop, not OpenBLAS's threads
        model = AlternatingLeastSquares(
            factors=factors, regularization=reg, alpha=1.0, iterations=ALS_ITERATIONS, random_state=7, num_threads=1
        )
        model.fit(confidence, show_progress=False)
    at = {c: i for i, c in enumerate(fit.customers)}
    users = np.asarray(model.user_factors)[[at[c] for c in x.customers]]
    return users @ np.asarray(model.item_factors).T + 1e-6 * snap.popularity[:, 2]


def repeat_rates(world: World, snap: Snapshot) -> np.ndarray:
    """Per catalogue position: its category's share of purchases that repeat a product the buyer had
    bought (over every customer's history before the cut-off)."""
    codes = world.catalog.category_code
    n_cats = int(codes.max()) + 1
    again, total = np.zeros(n_cats), np.zeros(n_cats)
    for h in snap.history.values():
        p = np.nan_to_num(h.purchases)
        bought = p > 0
        np.add.at(total, codes[h.pos[bought]], p[bought])
        np.add.at(again, codes[h.pos[bought]], p[bought] - 1)
    return (again / np.maximum(total, 1))[codes]


def repeat_popularity(world: World, snap: Snapshot, x: Interactions, rebuy: float, brand: float) -> np.ndarray:
    codes, brands = world.catalog.category_code, world.catalog.brand
    events = x.views + x.carts + x.purchases
    n_cats, n_brands = int(codes.max()) + 1, int(brands.max()) + 1
    onehot_cat = np.eye(n_cats, dtype=np.float32)[codes]
    onehot_brand = np.eye(n_brands, dtype=np.float32)[brands]
    cat_share = (events @ onehot_cat) / np.maximum(events.sum(axis=1, keepdims=True), 1)
    buys = x.carts + x.purchases
    brand_share = (buys @ onehot_brand) / np.maximum(buys.sum(axis=1, keepdims=True), 1)
    pop = np.log1p(snap.popularity[:, 1])
    pop = pop / max(pop.max(), 1e-9)
    base = cat_share[:, codes] * (1.0 + brand * brand_share[:, brands]) * pop[None, :]
    return base + rebuy * x.purchases * repeat_rates(world, snap)[None, :]
