"""The API's tabulated TreeSHAP gives XGBoost's own pred_contribs, and hands a model it cannot
describe back to XGBoost."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from services.api.orchestrator.orchestrator.backends import Settings
from services.api.orchestrator.orchestrator.contributions import TreeContributions, UnsupportedModelError
from services.api.orchestrator.orchestrator.ranking import Ranker
from services.features.pair import PAIR_FEATURES


def train(objective: str, depth: int, seed: int = 0) -> xgb.Booster:
    """A small model on rows with missing values, integer-valued features (values on the thresholds)
    and features split again deeper in the same path."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, 7)).astype(np.float32)
    x[:, 2] = rng.integers(0, 6, 3000)
    x[rng.random(x.shape) < 0.15] = np.nan
    signal = np.nan_to_num(x[:, 0]) * 2 - np.abs(np.nan_to_num(x[:, 1])) + (x[:, 2] == 3) + np.isnan(x[:, 4])
    y = (signal + rng.normal(size=3000) > 0.5).astype(np.float32)
    params = {"objective": objective, "max_depth": depth, "eta": 0.3, "seed": seed, "nthread": 1}
    dtrain = xgb.DMatrix(x, label=y)
    if objective.startswith("rank:"):
        dtrain.set_group([30] * 100)
    return xgb.train(params, dtrain, num_boost_round=40)


def rows(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 7)).astype(np.float32)
    x[:, 2] = rng.integers(0, 6, 200)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:5] = np.nan  # rows with nothing known
    return x


def xgboost_contributions(booster: xgb.Booster, x: np.ndarray) -> np.ndarray:
    return booster.predict(xgb.DMatrix(x), pred_contribs=True)[:, :-1]


@pytest.mark.parametrize("objective", ["binary:logistic", "rank:ndcg", "reg:squarederror"])
def test_the_tables_give_xgboosts_pred_contribs(objective):
    booster = train(objective, depth=4)
    x = rows()
    got = TreeContributions.of(booster)(x)
    want = xgboost_contributions(booster, x)
    assert got.shape == want.shape == (200, 7)
    np.testing.assert_allclose(got, want, atol=2e-6)
    assert np.abs(want).max() > 0.1  # the features matter: the comparison means something


def test_a_row_on_a_threshold_follows_the_split_as_xgboost_does():
    booster = train("binary:logistic", depth=3)
    explainer = TreeContributions.of(booster)
    cuts = explainer.lo[np.isfinite(explainer.lo)]
    x = np.tile(rows()[:1], (len(cuts), 1))
    x[np.arange(len(cuts)), explainer.feature[np.isfinite(explainer.lo)]] = cuts  # each value exactly a cut
    np.testing.assert_allclose(explainer(x), xgboost_contributions(booster, x), atol=2e-6)


def test_a_model_too_deep_for_the_tables_is_refused():
    with pytest.raises(UnsupportedModelError, match="distinct features"):
        TreeContributions.of(train("binary:logistic", depth=7))


def test_tables_that_do_not_reproduce_xgboost_are_refused(monkeypatch):
    booster = train("binary:logistic", depth=4)
    real = TreeContributions.__init__

    def corrupt(self, leaves, n_features):
        real(self, leaves, n_features)
        self.table = self.table * 1.01

    monkeypatch.setattr(TreeContributions, "__init__", corrupt)
    with pytest.raises(UnsupportedModelError, match="differ from XGBoost"):
        TreeContributions.of(booster)


@pytest.mark.parametrize("depth", [4, 7])
def test_the_ranker_explains_with_xgboosts_numbers_either_way(tmp_path, depth):
    """Depth 4: the tables; depth 7: XGBoost's TreeSHAP (the tables cannot describe it)."""
    booster = train("binary:logistic", depth=depth)
    booster.feature_names = PAIR_FEATURES[:7]  # the leading pair features: a model the API serves
    path = tmp_path / "model.json"
    booster.save_model(path)
    ranker = Ranker(Settings(ranker_model_path=str(path)))
    assert (ranker.contributions is not None) == (depth == 4)
    x = rows()[:5]
    names, contribs = ranker.explain(x)
    assert names == booster.feature_names
    want = booster.predict(xgb.DMatrix(x, feature_names=names), pred_contribs=True)[:, :-1]
    np.testing.assert_allclose(contribs, want, atol=2e-6)
