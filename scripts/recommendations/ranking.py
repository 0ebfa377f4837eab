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
    cur.execute(
        f"SELECT CUSTOMER_ID, ZIP_CODE, AVG_ORDER_VALUE, ENGAGEMENT_SCORE, CASE LOYALTY_TIER WHEN 'Bronze' THEN 0 "
        f"WHEN 'Silver' THEN 1 WHEN 'Gold' THEN 2 WHEN 'Platinum' THEN 3 END, TOTAL_ORDERS, DAYS_SINCE_PURCHASE "
        f"FROM {q('CUSTOMER_360')} ORDER BY CUSTOMER_ID LIMIT {MAX_CUSTOMERS}"
    )
    customers = cur.fetchall()
    cur.execute(f"SELECT CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE FROM {q('CUSTOMER_PROPENSITY')}")
    prop: dict[int, dict[str, float]] = defaultdict(dict)
    for cid, cat, score in cur.fetchall():
        prop[int(cid)][cat] = float(score)
    cur.execute(f"SELECT PRODUCT_ID, CATEGORY_ID, PRICE FROM {q('PRODUCT_CATALOG')}")
    products = {int(p): (c, float(pr)) for p, c, pr in cur.fetchall()}
    cur.execute(
        f"SELECT REGION, PRODUCT_ID, QTY_ON_HAND, EST_DELIVERY_DAYS FROM {q('INVENTORY')} WHERE QTY_ON_HAND > 0"
    )
    stock: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for region, pid, qty, days in cur.fetchall():
        cat, price = products[int(pid)]
        stock[(region, cat)].append((int(pid), cat, price, float(days), float(qty)))
    since = (as_of - timedelta(days=30)).isoformat()
    cur.execute(
        f"SELECT DISTINCT CUSTOMER_ID, PRODUCT_ID FROM {q('EVENT_STREAM')} WHERE EVENT_TYPE IN "
        f"('order_complete', 'pos_purchase') AND EVENT_TIMESTAMP >= CAST('{since} 00:00:00' AS TIMESTAMP)"
    )
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
