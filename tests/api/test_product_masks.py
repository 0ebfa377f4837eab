"""The product features' masks tabulated per shelf: the columns they cover do not depend on the
customer, they give XGBoost's scores, and a sync (a new shelf) or a new model drops them."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from services.api.orchestrator.orchestrator.productmasks import PRODUCT_COLUMNS, ProductMasks
from services.api.orchestrator.orchestrator.scores import TreeScores
from services.api.orchestrator.orchestrator.shelf import Shelf
from services.features.pair import PAIR_FEATURES, History, pair_matrix

REGION = "Northeast"


def shelf(seed: int, versions: tuple) -> Shelf:
    """60 products in 4 categories, all in stock in one region; `seed` draws stock and popularity."""
    rng = np.random.default_rng(seed)
    products = [
        (p, f"p{p}", f"CAT_{p % 4:03d}", "dept", f"cat {p % 4}", float(5 + p % 17), f"b{p % 5}") for p in range(60)
    ]
    ids = list(range(60))
    stock = [
        (
            REGION,
            ids,
            rng.integers(1, 500, 60).tolist(),
            rng.integers(1, 9, 60).tolist(),
            *(rng.integers(0, 50 * k, 60).tolist() for k in (1, 3, 12)),
            rng.integers(0, 900, 60).tolist(),
            rng.random(60).round(2).tolist(),
        )
    ]
    return Shelf.build(versions, products, stock)


def customer(seed: int) -> tuple[dict[str, float], list[tuple]]:
    rng = np.random.default_rng(seed)
    propensity = {f"CAT_{c:03d}": float(rng.random()) for c in range(4)}
    history = [
        (int(p), int(rng.integers(0, 5)), int(rng.integers(0, 2)), int(rng.integers(0, 2)), float(rng.integers(1, 90)))
        for p in rng.choice(60, 12, replace=False)
    ]
    return propensity, history


def features(s: Shelf, seed: int) -> np.ndarray:
    stock = s.region(REGION)
    propensity, history = customer(seed)
    return pair_matrix(
        s.catalog, stock.pos, stock.qty, stock.days, stock.popularity, propensity, History.build(s.catalog, history)
    )


@pytest.fixture(scope="module")
def model() -> tuple[xgb.Booster, TreeScores]:
    """A model that splits on product features (stock, popularity, price) and customer ones."""
    x = np.concatenate([features(shelf(s, (s, 0, 0)), s) for s in range(30)])
    y = (x[:, PAIR_FEATURES.index("log_qty")] + x[:, 0] * 3 + x[:, PAIR_FEATURES.index("pop_30d")] > 6).astype(float)
    booster = xgb.train({"max_depth": 4, "objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y), 30)
    return booster, TreeScores.of(booster)


def test_the_product_columns_do_not_depend_on_the_customer():
    s = shelf(1, (1, 0, 0))
    a, b = features(s, 1), features(s, 2)
    cols = sorted(PRODUCT_COLUMNS)
    np.testing.assert_array_equal(a[:, cols], b[:, cols])
    others = sorted(set(range(len(PAIR_FEATURES))) - PRODUCT_COLUMNS)
    assert not np.array_equal(a[:, others], b[:, others])  # the customers differ: the check means something


def served_margin(masks: ProductMasks, s: Shelf, scorer: TreeScores, seed: int) -> np.ndarray:
    x = features(s, seed)
    at = np.arange(len(x))[::-1]  # candidates in another order than the stock's
    return scorer.margin(x[at], (masks.get(s, REGION, scorer).take(at, axis=0), PRODUCT_COLUMNS))


def test_scores_from_the_tabulated_masks_are_xgboosts_across_a_sync(model):
    booster, scorer = model
    masks = ProductMasks()
    for s in (shelf(1, (1, 0, 0)), shelf(2, (2, 0, 0))):  # a sync: new stock and popularity
        want = booster.inplace_predict(features(s, 7)[::-1], predict_type="margin")
        np.testing.assert_array_equal(served_margin(masks, s, scorer, 7), want)
    assert masks.builds == 2


def test_a_stale_table_after_a_sync_is_caught(model):
    """Planted: the cache believes it already holds the new shelf's tables."""
    booster, scorer = model
    masks = ProductMasks()
    old, new = shelf(1, (1, 0, 0)), shelf(2, (2, 0, 0))
    served_margin(masks, old, scorer, 7)
    masks.shelf = new  # the fault: the old shelf's tables kept as the new one's
    want = booster.inplace_predict(features(new, 7)[::-1], predict_type="margin")
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(served_margin(masks, new, scorer, 7), want)


def test_a_new_model_drops_the_tables(model):
    booster, scorer = model
    masks = ProductMasks()
    s = shelf(1, (1, 0, 0))
    masks.get(s, REGION, scorer)
    other = TreeScores.of(booster)
    masks.get(s, REGION, other)
    assert masks.builds == 2 and masks.scorer is other
