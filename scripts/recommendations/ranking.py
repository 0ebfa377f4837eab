"""Train the real-time ranking model (XGBoost) the ranker serves.

A candidate is an in-stock product of the customer's region in one of the customer's top
categories, the label is whether the customer bought it in the 30 days before AS_OF, and the features
are services/features/pair.py's pair features, the same code the orchestrator runs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from infra.sqlfiles import named_queries
from scripts.recommendations.propensity import held_out
from services.features.pair import PAIR_FEATURES, pair_matrix, region_for_zip

TOP_CATEGORIES = 3
MAX_CUSTOMERS = 5000
MODEL_FILE = "ranking_model.json"
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 5,
    "eta": 0.1,
    "tree_method": "hist",
    "nthread": 2,
    "seed": 11,
}


def training_rows(cur: Any, q: Any, as_of) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sql = named_queries(
        "recommendations/ranking_training.sql",
        customer_360=q("CUSTOMER_360"),
        propensity=q("CUSTOMER_PROPENSITY"),
        products=q("PRODUCT_CATALOG"),
        inventory=q("INVENTORY"),
        events=q("EVENT_STREAM"),
        max_customers=str(MAX_CUSTOMERS),
    )
    cur.execute(sql["customers"])
    customers = cur.fetchall()
    cur.execute(sql["propensity"])
    prop: dict[int, dict[str, float]] = defaultdict(dict)
    for cid, cat, score in cur.fetchall():
        prop[int(cid)][cat] = float(score)
    cur.execute(sql["products"])
    products = {int(p): (c, float(pr)) for p, c, pr in cur.fetchall()}
    cur.execute(sql["in_stock"])
    stock: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for region, pid, qty, days in cur.fetchall():
        cat, price = products[int(pid)]
        stock[(region, cat)].append((int(pid), cat, price, float(days), float(qty)))
    cur.execute(sql["bought_since"], (f"{(as_of - timedelta(days=30)).isoformat()} 00:00:00",))
    bought = {(int(c), int(p)) for c, p in cur.fetchall()}
    xs, ys, groups = [], [], []
    for cid, zip_code, aov, eng, tier, orders, days in customers:
        cid = int(cid)
        scores = prop.get(cid)
        if not scores or not zip_code or not str(zip_code)[:1].isdigit():
            continue
        top = sorted(scores, key=lambda c: (-scores[c], c))[:TOP_CATEGORIES]
        region = region_for_zip(str(zip_code))
        cands = [row for cat in top for row in stock[(region, cat)]]
        if not cands:
            continue
        customer = {
            "avg_order_value": aov,
            "engagement_score": eng,
            "loyalty_tier_num": tier,
            "total_orders": orders,
            "days_since_purchase": days,
        }
        x = pair_matrix(
            customer,
            scores,
            np.array([c[1] for c in cands]),
            np.array([c[2] for c in cands], dtype=np.float32),
            np.array([c[3] for c in cands], dtype=np.float32),
            np.array([c[4] for c in cands], dtype=np.float32),
        )
        xs.append(x)
        ys.append(np.array([1.0 if (cid, c[0]) in bought else 0.0 for c in cands], dtype=np.float32))
        groups.append(np.full(len(cands), cid))
    if not xs:
        raise ValueError("ranking: no candidates; run generate, build and the propensity training first")
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def train(x: np.ndarray, y: np.ndarray, customers: np.ndarray) -> tuple[Any, dict]:
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    test = np.array([held_out(f"rank-{int(c)}") for c in customers])
    if y[~test].min() == y[~test].max() or y[test].min() == y[test].max():
        raise ValueError("ranking: the label has a single class in a split; generate more customers")
    booster = xgb.train(PARAMS, xgb.DMatrix(x[~test], label=y[~test], feature_names=PAIR_FEATURES), 120)
    pred = booster.predict(xgb.DMatrix(x[test], feature_names=PAIR_FEATURES))
    return booster, {
        "auc_holdout": round(float(roc_auc_score(y[test], pred)), 4),
        "train_pairs": int((~test).sum()),
        "test_pairs": int(test.sum()),
        "positive_rate": round(float(y.mean()), 4),
        "features": PAIR_FEATURES,
        "params": PARAMS,
    }


def save(booster: Any, metrics: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MODEL_FILE
    booster.save_model(str(path))
    (out_dir / "ranking_metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return path
