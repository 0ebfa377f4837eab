"""The taste features (services/features/taste.py) on a hand-made shelf: shares normalised over the
whole shelf of a category, the favourite brand, the price level, the repeat mixture, the category
share; and pair_matrix leaving them missing without a shelf."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.features import taste
from services.features.pair import PAIR_FEATURES, Catalog, History, pair_matrix
from services.features.taste import TASTE_FEATURES, Shelf, taste_matrix

# two departments: brands A/B sell in CAT-001 and CAT-002, brands C/D in CAT-003
ROWS = [
    (1, "CAT-001", "A", 10.0),
    (2, "CAT-001", "B", 20.0),
    (3, "CAT-002", "A", 10.0),
    (4, "CAT-002", "B", 20.0),
    (5, "CAT-003", "C", 10.0),
    (6, "CAT-003", "D", 20.0),
]


def shelf(catalog: Catalog, views=(1, 1, 1, 1, 1, 1), repeat=(0, 0, 0, 0, 0.3, 0.3), qty=100.0) -> Shelf:
    n = len(catalog.ids)
    ones = np.ones(n)
    return Shelf.build(
        catalog, np.arange(n), ones * qty, ones, np.zeros(n), np.zeros(n), np.array(views, float), np.array(repeat)
    )


def features(catalog: Catalog, s: Shelf, history: History, positions=None) -> dict[str, np.ndarray]:
    positions = np.arange(len(catalog.ids)) if positions is None else positions
    x = taste_matrix(catalog, s, positions, history)
    return {name: x[:, i] for i, name in enumerate(TASTE_FEATURES)}


def test_shares_are_normalised_over_the_shelf_not_the_candidates():
    catalog = Catalog.build(ROWS)
    s = shelf(catalog, views=(9, 0, 3, 3, 1, 1))
    everything = features(catalog, s, History.empty())
    share = np.exp(everything["taste_log_share_in_category"])
    for members in ([0, 1], [2, 3], [4, 5]):
        assert share[members].sum() == pytest.approx(1.0)
    assert share[0] > share[1] and share[2] == pytest.approx(0.5)
    one = features(catalog, s, History.empty(), positions=np.array([1]))
    assert one["taste_log_share_in_category"][0] == pytest.approx(everything["taste_log_share_in_category"][1])
    # no history: every category weighs the same (1/12 smoothing over the 3 categories here: 1/3)
    assert np.exp(everything["taste_log_category_share"]) == pytest.approx([1 / 3] * 6)


def test_favourite_brand_price_level_and_category_share():
    catalog = Catalog.build(ROWS)
    # brand B viewed 4 times in its department (CAT-001/CAT-002), A once; carted product 2 (price rank 1)
    history = History.build(catalog, [(2, 2, 1, 0, None), (4, 2, 0, 0, None), (1, 1, 0, 0, None)])
    f = features(catalog, shelf(catalog), history)
    share = np.exp(f["taste_log_share_in_category"])
    # B: favourite (+BRAND) and at the customer's level (rank 1); A: price distance 1
    expected = math.exp(taste.BRAND) / (math.exp(taste.BRAND) + math.exp(-taste.PRICE))
    assert share[1] == pytest.approx(expected) and share[3] == pytest.approx(expected)
    # CAT-003 untouched: neither C nor D is a favourite; C (rank 0) is at distance 1, D at the level
    assert share[4] == pytest.approx(math.exp(-taste.PRICE) / (1 + math.exp(-taste.PRICE)))
    # touched: CAT-001 4 times (views 2 + 1 and a cart), CAT-002 twice, CAT-003 never; smoothed by +1 each
    assert np.exp(f["taste_log_category_share"][[0, 2, 4]]) == pytest.approx([5 / 9, 3 / 9, 1 / 9])
    assert f["taste_log_prob"] == pytest.approx(f["taste_log_category_share"] + f["taste_log_share_in_category"])


def test_repeats_only_in_repeating_categories_and_low_stock():
    catalog = Catalog.build(ROWS)
    history = History.build(catalog, [(5, 0, 0, 2, 3), (1, 0, 0, 2, 3)])  # bought 5 and 1 twice each
    share = np.exp(features(catalog, shelf(catalog), history)["taste_log_share_in_category"])
    # CAT-003 repeats (rate 0.3): REPEAT of its purchases go back to product 5
    new5 = share[5] / (1 - taste.REPEAT)
    assert share[4] == pytest.approx(taste.REPEAT + (1 - taste.REPEAT) * (1 - new5))
    # CAT-001 does not repeat: product 1 only for its brand (A, the favourite) and being at the level
    both = math.exp(taste.BRAND)
    assert share[0] == pytest.approx(both / (both + math.exp(-taste.PRICE)))
    low = shelf(catalog, qty=10.0)
    assert np.exp(features(catalog, low, History.empty())["taste_log_share_in_category"]) == pytest.approx([0.5] * 6)


def test_pair_matrix_taste_columns_missing_without_a_shelf():
    catalog = Catalog.build(ROWS)
    pos = np.arange(3)
    args = (catalog, pos, np.ones(3), np.ones(3), np.zeros((3, 3)), {"CAT-001": 0.2}, History.empty())
    cols = [PAIR_FEATURES.index(n) for n in TASTE_FEATURES]
    assert np.isnan(pair_matrix(*args)[:, cols]).all()
    with_shelf = pair_matrix(*args, shelf(catalog))
    assert not np.isnan(with_shelf[:, cols]).any()
    assert with_shelf[:, cols] == pytest.approx(taste_matrix(catalog, shelf(catalog), pos, History.empty()), abs=1e-6)


def test_the_taste_source_takes_the_shelfs_most_likely_products_ties_by_product_id(monkeypatch):
    """candidates.taste_picks: TASTE_SHARE of the shelf, at most TASTE_PICKS, by taste_log_prob
    descending then product id (the shelf's order); nothing without the taste signals."""
    from services.features import candidates as retrieval

    catalog = Catalog.build(ROWS)
    s = shelf(catalog, views=(0, 9, 3, 3, 1, 1))
    log_prob = features(catalog, s, History.empty())["taste_log_prob"]
    expected = np.lexsort((catalog.ids, -log_prob))  # ids ascending = shelf order; 2 and 3 tie
    monkeypatch.setattr(retrieval, "TASTE_SHARE", 0.5)
    tasted = taste.whole_shelf(catalog, s, History.empty())
    got = retrieval.taste_picks(tasted)
    assert got.tolist() == expected[:3].tolist() and got[0] == 1
    assert got[1:].tolist() == [2, 3]  # the tie goes to the lower product id
    monkeypatch.setattr(retrieval, "TASTE_PICKS", 2)
    assert retrieval.taste_picks(tasted).tolist() == expected[:2].tolist()
    assert retrieval.taste_picks(taste.whole_shelf(catalog, None, History.empty())).tolist() == []
