"""Train, evaluate and save the category propensity model (XGBoost), and score with it.

Training rows come from sql/recommendations/customer_category_features.sql with a feature cut-off
30 days before AS_OF, the label being a purchase in the category in those 30 days; the held-out
split is by customer, so no customer is in both. Scoring uses the same file with the cut-off at AS_OF
and the same `predict_propensity.py` the Snowflake UDF runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from infra.recommendations import catalog
from infra.sqlfiles import load_module

PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 4,
    "eta": 0.1,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "min_child_weight": 5,
    "tree_method": "hist",
    "nthread": 2,
    "seed": 7,
}
ROUNDS = 150


def udf_module() -> ModuleType:
    return load_module(catalog.PROPENSITY_UDF_FILE)


def held_out(key: str) -> bool:
    """The 20% hold-out split of both models: a stable hash of the customer key."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 5 == 0


def matrix(rows: list[tuple], columns: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X in FEATURES order, labels, customer ids) from feature-query rows."""
    features = udf_module().FEATURES
    idx = [columns.index(f) for f in features]
    data = np.array([[np.nan if r[i] is None else float(r[i]) for i in idx] for r in rows], dtype=np.float32)
    labels = np.array([r[columns.index("LABEL")] for r in rows], dtype=np.float32)
    ids = np.array([r[columns.index("CUSTOMER_ID")] for r in rows], dtype=np.int64)
    return data, labels, ids


def train(rows: list[tuple], columns: list[str]) -> tuple[Any, dict]:
    """Fit on 80% of customers and report AUC on the other 20%."""
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    features = udf_module().FEATURES
    x, y, ids = matrix(rows, columns)
    if len(rows) == 0:
        raise ValueError("train: no feature rows; run `generate` and `build` first")
    test = np.array([held_out(str(int(i))) for i in ids])
    if y[~test].min() == y[~test].max() or y[test].min() == y[test].max():
        raise ValueError("train: the label has a single class in the train or test split; generate more customers")
    dtrain = xgb.DMatrix(x[~test], label=y[~test], feature_names=features)
    dtest = xgb.DMatrix(x[test], label=y[test], feature_names=features)
    booster = xgb.train(PARAMS, dtrain, num_boost_round=ROUNDS)
    pred = booster.predict(dtest)
    gain = booster.get_score(importance_type="gain")
    metrics = {
        "auc_holdout": round(float(roc_auc_score(y[test], pred)), 4),
        "train_rows": int((~test).sum()),
        "test_rows": int(test.sum()),
        "test_customers": len(set(ids[test].tolist())),
        "positive_rate": round(float(y.mean()), 4),
        "features": features,
        "params": PARAMS,
        "rounds": ROUNDS,
        "feature_gain": {k: round(v, 3) for k, v in sorted(gain.items(), key=lambda kv: -kv[1])},
    }
    return booster, metrics


def save(booster: Any, metrics: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / udf_module().MODEL_FILE
    booster.save_model(str(model_path))
    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return model_path, metrics_path


def score(booster: Any, rows: list[tuple], columns: list[str]) -> list[tuple[int, str, float]]:
    """(customer_id, category_id, probability) for every feature row, through the UDF's code."""
    udf = udf_module()
    idx = [columns.index(f) for f in udf.FEATURES]
    probs = udf.score_rows(booster, [tuple(r[i] for i in idx) for r in rows])
    ci, ki = columns.index("CUSTOMER_ID"), columns.index("CATEGORY_ID")
    return [(int(r[ci]), r[ki], round(float(p), 6)) for r, p in zip(rows, probs, strict=True)]
