"""candidates.select against a plain set-based reading of what it promises (the retrieved ids still in
stock plus the picks, as sorted unique indexes into the region's in-stock ids); the catalogue's category
numbers."""

from __future__ import annotations

import numpy as np
import pytest

from services.features import candidates as retrieval
from services.features.pair import PAIR_FEATURES, Catalog, History, pair_matrix


def _reference(ids: np.ndarray, retrieved: list[int], picks: np.ndarray) -> list[int]:
    where = {int(p): i for i, p in enumerate(ids.tolist())}
    return sorted({where[p] for p in retrieved if p in where} | {int(i) for i in picks})


@pytest.mark.parametrize("seed", range(20))
def test_select_is_the_in_stock_retrieved_ids_and_the_picks_sorted_and_unique(seed):
    rng = np.random.default_rng(seed)
    ids = np.unique(rng.integers(0, 500, int(rng.integers(0, 300))))
    retrieved = rng.integers(-5, 520, int(rng.integers(0, 400))).tolist()  # out of stock, duplicates, past the end
    picks = rng.integers(0, len(ids), int(rng.integers(0, 40))) if len(ids) else np.zeros(0, dtype=np.int64)
    got = retrieval.select(ids, retrieved, picks)
    assert got.tolist() == _reference(ids, retrieved, picks)


def test_select_with_nothing_in_stock_is_empty():
    got = retrieval.select(np.zeros(0, dtype=np.int64), [1, 2, 3], np.zeros(0, dtype=np.int64))
    assert got.tolist() == []


def test_a_category_without_a_number_is_a_missing_category_idx_not_a_failed_catalogue():
    catalog = Catalog.build([(1, "CAT-007", "b", 10.0), (2, "SPECIAL", "b", 5.0)])
    x = pair_matrix(catalog, np.array([0, 1]), np.ones(2), np.ones(2), np.zeros((2, 3)), {}, History.empty())
    column = x[:, PAIR_FEATURES.index("category_idx")]
    assert column[0] == 7.0 and np.isnan(column[1])
