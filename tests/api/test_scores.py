"""The API's tree tables score exactly as XGBoost's inplace_predict does (equal float32, not close),
pick the same top N, and hand a model they cannot reproduce back to XGBoost."""

from __future__ import annotations

import numpy as np
import pytest

from services.api.orchestrator.orchestrator.backends import Settings
from services.api.orchestrator.orchestrator.contributions import UnsupportedModelError
from services.api.orchestrator.orchestrator.ranking import Ranker
from services.api.orchestrator.orchestrator.scores import TreeScores
from tests.api.test_contributions import rows, train


def rows_with_ties(seed: int = 2) -> np.ndarray:
    """Rows at the split thresholds, missing values, and repeated rows (equal scores, so the product
    id decides their order)."""
    x = rows(seed)
    x[50:80] = x[20:50]
    return x


@pytest.mark.parametrize("objective", ["binary:logistic", "rank:ndcg", "reg:squarederror"])
def test_the_tables_give_xgboosts_scores_bit_for_bit(objective):
    booster = train(objective, depth=4)
    scorer = TreeScores.of(booster)
    x = rows_with_ties()
    np.testing.assert_array_equal(scorer.margin(x), booster.inplace_predict(x, predict_type="margin"))
    np.testing.assert_array_equal(scorer(x), booster.inplace_predict(x))
    assert len(np.unique(booster.inplace_predict(x))) > 50  # the trees split these rows: the test means something


@pytest.mark.parametrize("n", [1, 5, 50, 500])
def test_the_top_n_is_xgboosts_order_with_ties_by_product_id(n):
    booster = train("binary:logistic", depth=4)
    scorer = TreeScores.of(booster)
    x = rows_with_ties()
    ids = np.random.default_rng(3).permutation(len(x)) + 1000
    want_score = booster.inplace_predict(x)
    want = np.lexsort((ids, -want_score))[:n]
    got, score = scorer.top(x, ids, n)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(score, want_score[want])


def test_tables_that_do_not_reproduce_xgboost_exactly_are_refused(monkeypatch):
    """One leaf off by a float32 ulp: the load-time check catches it."""
    booster = train("binary:logistic", depth=4)
    real = TreeScores.__init__

    def corrupt(self, *args):
        real(self, *args)
        self.leaf_value[0, 0] = np.nextafter(self.leaf_value[0, 0], np.float32(1))

    monkeypatch.setattr(TreeScores, "__init__", corrupt)
    with pytest.raises(UnsupportedModelError, match="do not reproduce"):
        TreeScores.of(booster)


def test_a_model_too_deep_for_the_tables_is_refused():
    with pytest.raises(UnsupportedModelError, match="leaves"):
        TreeScores.of(train("binary:logistic", depth=6))


@pytest.mark.parametrize("depth", [4, 6])
def test_the_ranker_ranks_with_xgboosts_scores_either_way(tmp_path, depth):
    """Depth 4: the tables; depth 6: inplace_predict (the tables cannot describe it)."""
    booster = train("binary:logistic", depth=depth)
    path = tmp_path / "model.json"
    booster.save_model(path)
    ranker = Ranker(Settings(ranker_model_path=str(path)))
    assert (ranker.scores is not None) == (depth == 4)
    x = rows_with_ties()
    ids = np.arange(len(x))
    want_score = booster.inplace_predict(x)
    want = np.lexsort((ids, -want_score))[:5]
    got, score = ranker.top(x, ids, 5)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(score, want_score[want])
