"""A model is served only when its features are the leading pair features: one trained before
features were appended (the model a stack keeps until the next `train`) reads its own columns of the
API's rows, with XGBoost's scores and contributions; any other model is refused, not mis-scored."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from services.api.orchestrator.orchestrator.backends import Settings
from services.api.orchestrator.orchestrator.ranking import Ranker
from services.features.pair import PAIR_FEATURES


def model(tmp_path, names: list[str], depth: int) -> tuple[str, np.ndarray]:
    """A model over `names`, saved; and rows with every pair feature (the API's width)."""
    rng = np.random.default_rng(depth)
    x = rng.normal(size=(2000, len(PAIR_FEATURES))).astype(np.float32)
    y = (x[:, 0] + x[:, 3] - x[:, len(names) - 1] + rng.normal(size=2000) > 0).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": depth, "eta": 0.3, "seed": 0, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(x[:, : len(names)], label=y, feature_names=names), 30)
    path = tmp_path / "ranking_model.json"
    booster.save_model(path)
    return str(path), x[:300]


@pytest.mark.parametrize("depth", [4, 6])  # the tables; XGBoost itself
def test_a_model_of_the_leading_features_ranks_and_explains_the_full_rows(tmp_path, depth):
    width = len(PAIR_FEATURES) - 3  # trained before three features were appended
    path, x = model(tmp_path, PAIR_FEATURES[:width], depth)
    ranker = Ranker(Settings(ranker_model_path=path))
    assert ranker.loaded and ranker.names == PAIR_FEATURES[:width]
    booster = xgb.Booster(model_file=path)
    want = booster.inplace_predict(x[:, :width])
    ids = np.arange(len(x)) + 1000
    rows, score = ranker.top(x, ids, 10)
    np.testing.assert_array_equal(rows, np.lexsort((ids, -want))[:10])
    np.testing.assert_array_equal(score, want[rows])
    names, contribs = ranker.explain(x[rows])
    dm = xgb.DMatrix(x[rows, :width], feature_names=PAIR_FEATURES[:width])
    np.testing.assert_allclose(contribs, booster.predict(dm, pred_contribs=True)[:, :-1], atol=1e-6)
    assert names == PAIR_FEATURES[:width]


@pytest.mark.parametrize(
    "names",
    [PAIR_FEATURES[1:], list(reversed(PAIR_FEATURES)), [*PAIR_FEATURES, "feature_from_elsewhere"]],
    ids=["shifted", "reordered", "wider"],
)
def test_a_model_of_other_features_is_refused_and_propensity_ranks(tmp_path, names):
    if len(names) > len(PAIR_FEATURES):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(500, len(names))).astype(np.float32)
        booster = xgb.train({"nthread": 1}, xgb.DMatrix(x, label=x[:, 0] > 0, feature_names=names), 5)
        path = str(tmp_path / "ranking_model.json")
        booster.save_model(path)
    else:
        path, _ = model(tmp_path, names, 4)
    ranker = Ranker(Settings(ranker_model_path=path))
    assert not ranker.loaded and ranker.loads == 0


def test_a_refused_file_is_not_parsed_again_until_it_changes(tmp_path, monkeypatch):
    from services.api.orchestrator.orchestrator import ranking

    path, _ = model(tmp_path, PAIR_FEATURES[1:], 4)
    parsed = []
    real = ranking._load
    monkeypatch.setattr(ranking, "_load", lambda *a: parsed.append(a) or real(*a))
    ranker = Ranker(Settings(ranker_model_path=path, ranker_model_check_seconds=0))
    assert ranker.refresh() is False and ranker.refresh() is False and not ranker.loaded
    assert len(parsed) == 1
    model(tmp_path, PAIR_FEATURES, 4)  # the next train publishes a model of the pair features
    assert ranker.refresh() is True and ranker.loaded and len(parsed) == 2


def test_the_ranker_service_reads_the_leading_columns_of_wider_rows(tmp_path, monkeypatch):
    """HTTP mode: the orchestrator sends every pair feature; an older, narrower model is served."""
    from fastapi.testclient import TestClient

    from services.api.ranker.ranker.app import create_app

    width = len(PAIR_FEATURES) - 3
    path, x = model(tmp_path, PAIR_FEATURES[:width], 4)
    want = xgb.Booster(model_file=path).inplace_predict(x[:3, :width])
    monkeypatch.setenv("RANKER_MODEL_CHECK_SECONDS", "0")
    with TestClient(create_app(path)) as client:
        wide = [[i, *map(float, row)] for i, row in enumerate(x[:3])]
        got = client.post("/predict", json={"data": wide})
        assert got.status_code == 200, got.text
        np.testing.assert_allclose([r[1] for r in got.json()["data"]], want, rtol=1e-6)
        narrow = [[0, *map(float, x[0, : width - 1])]]
        r = client.post("/predict", json={"data": narrow})
        assert r.status_code == 422 and r.json()["field"] == "data"
