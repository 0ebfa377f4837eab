"""Train the real-time ranking model (XGBoost) the ranker serves.

A candidate is what the retrieval finds for the customer, in stock in their region
(services/features/candidates.py: the precomputed sources of sql/recommendations/candidates.sql, the
propensity and the taste picks); the label is whether the customer bought it in the LABEL_DAYS after the
cut-off; the features are services/features/pair.py's, the same code the orchestrator runs. The
objective is LambdaMART (`rank:ndcg`, one group per customer).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scripts.recommendations.propensity import held_out
from scripts.recommendations.snapshot import Snapshot, World
from services.features import candidates as retrieval
from services.features.pair import PAIR_FEATURES, Catalog, History, pair_matrix, top_categories
from services.features.taste import Shelf, whole_shelf

MODEL_FILE = "ranking_model.json"
METRICS_FILE = "ranking_metrics.json"
ROUNDS = 150
_COMMON = {
    "max_depth": 4,
    "min_child_weight": 50,
    "eta": 0.08,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "tree_method": "hist",
    "nthread": 2,
    "seed": 11,
}
# Each objective here is fitted and the better on validation customers kept (ranking.fit); its
# min_child_weight and pairs per sample were chosen on the validation window (README, Recommendations).
OBJECTIVES = {
    "rank:ndcg": {
        **_COMMON,
        "objective": "rank:ndcg",
        "eval_metric": "ndcg@5",
        "lambdarank_pair_method": "topk",
        "lambdarank_num_pair_per_sample": 128,
    },
}
# `binary:logistic` was fitted beside it and lost on every run; with ~700 candidates per customer one
# objective keeps the step's time bounded (add one here and `fit` compares them again).


class RankerRejectedError(RuntimeError):
    """The trained model ranks worse than the baseline it must beat; it is not published."""


@dataclass(frozen=True)
class Candidates:
    customer: int
    ids: np.ndarray
    x: np.ndarray


def candidates(world: World, snap: Snapshot, customer: int, exclude: Collection[str] = ()) -> Candidates | None:
    """What the API ranks for the customer at their home region (retrieval.select: the precomputed
    sources, the propensity and taste picks, in stock there), with the pair features."""
    prop, region = snap.propensity.get(customer, {}), world.region.get(customer)
    if region not in world.stock:
        return None
    pos, qty, days = world.stock[region]
    ids = world.catalog.ids[pos]
    codes = category_codes(world.catalog)
    top = [codes[c] for c in top_categories(prop, retrieval.PROPENSITY_CATEGORIES) if c in codes]
    picks = retrieval.propensity_picks(
        world.catalog.category_code[pos], snap.popularity[pos], ids, top, retrieval.PER_PROPENSITY_CATEGORY
    )
    if "propensity" in exclude:
        picks = picks[:0]
    history = snap.history.get(customer) or History.empty()
    here = shelf(world, snap, region)
    tasted = whole_shelf(world.catalog, here, history)
    if "taste" not in exclude:
        picks = np.concatenate([picks, retrieval.taste_picks(tasted)])
    at = retrieval.select(ids, retrieval.kept(snap.retrieved.get(customer, {}), exclude), picks)
    if not len(at):
        return None
    pos = pos[at]
    taste = tasted[at] if tasted is not None else None
    x = pair_matrix(world.catalog, pos, qty[at], days[at], snap.popularity[pos], prop, history, here, taste)
    return Candidates(customer, world.catalog.ids[pos], x)


def shelf(world: World, snap: Snapshot, region: str) -> Shelf | None:
    """The region's in-stock products with their popularity and taste signals (None without them),
    built once per region and snapshot: its customer-independent terms are computed as it is built."""
    if not len(snap.taste):
        return None
    if region not in snap.shelves:
        pos, qty, days = world.stock[region]
        pop, taste = snap.popularity[pos], snap.taste[pos]
        snap.shelves[region] = Shelf.build(world.catalog, pos, qty, days, pop[:, 1], pop[:, 2], *taste.T)
    return snap.shelves[region]


def category_codes(catalog: Catalog) -> dict[str, int]:
    """Category id -> the catalogue's category code."""
    return {str(c): int(k) for c, k in zip(catalog.category, catalog.category_code, strict=True)}


def all_candidates(world: World, snap: Snapshot) -> Iterator[Candidates]:
    for customer in sorted(world.region):
        c = candidates(world, snap, customer)
        if c is not None:
            yield c


def training_set(world: World, snap: Snapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, labels, customer of each row) for the customers who bought one of their candidates."""
    xs, ys, groups = [], [], []
    for c in all_candidates(world, snap):
        bought = snap.bought_after.get(c.customer, set())
        y = np.isin(c.ids, list(bought)).astype(np.float32)
        if y.any():
            xs.append(c.x)
            ys.append(y)
            groups.append(np.full(len(y), c.customer, dtype=np.int64))
    if not xs:
        raise ValueError("ranking: no customer bought one of their candidates; generate more customers")
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def train(x: np.ndarray, y: np.ndarray, customers: np.ndarray, objective: str) -> Any:
    """Rows arrive grouped by customer, ids ascending: the groups of the ranking objective."""
    import xgboost as xgb

    data = xgb.DMatrix(x, label=y, qid=customers, feature_names=PAIR_FEATURES)
    return xgb.train(OBJECTIVES[objective], data, ROUNDS)


def group_ndcg(scores: np.ndarray, y: np.ndarray, customers: np.ndarray, k: int = 5) -> float:
    """Mean NDCG@k over the customers' groups of candidate rows (binary labels)."""
    starts = np.flatnonzero(np.r_[True, customers[1:] != customers[:-1]])
    total = 0.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    for lo, hi in zip(starts, np.r_[starts[1:], len(customers)], strict=True):
        order = np.argsort(-scores[lo:hi], kind="stable")[:k]
        ideal = discount[: int(min(k, y[lo:hi].sum()))].sum()
        total += (y[lo:hi][order] * discount[: len(order)]).sum() / ideal if ideal else 0.0
    return total / max(len(starts), 1)


def fit(x: np.ndarray, y: np.ndarray, customers: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """Fit every objective on 80% of the customers, keep the one that ranks the other 20% better
    (NDCG@5), and refit it on all of them."""
    val = np.array([held_out(f"rank-{c}") for c in customers.tolist()])
    if len(OBJECTIVES) == 1 or not val.any() or val.all():
        val = np.zeros(len(y), dtype=bool)
    validation = {}
    for objective in OBJECTIVES:
        if not val.any():
            break
        model = train(x[~val], y[~val], customers[~val], objective)
        validation[objective] = round(float(group_ndcg(score(model, x[val]), y[val], customers[val])), 4)
    best = max(validation, key=lambda o: (validation[o], o)) if validation else next(iter(OBJECTIVES))
    return train(x, y, customers, best), {"objective": best, "validation_ndcg@5": validation}


def score(booster: Any, x: np.ndarray) -> np.ndarray:
    return booster.inplace_predict(x)


def save_candidate(booster: Any, out_dir: Path) -> Path:
    """The trained model, next to (not over) the published one."""
    path = out_dir / "candidate" / MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path))
    return path


def write_metrics(metrics: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return path


def check_gate(evaluation: dict) -> None:
    """A model whose validation NDCG@5 is below the best baseline's never reaches the API (the test
    window is not looked at, so the gate is not tuned on it)."""
    val, best = evaluation["validation"], evaluation["best_baseline"]
    ranker, baseline = val["ranker"], val[best]
    if ranker < baseline:
        short = (1 - ranker / baseline) if baseline else 0.0
        raise RankerRejectedError(
            f"ranking model refused: validation NDCG@5 {ranker:.4f} on {val['customers']:,} customers is "
            f"{short:.1%} below the best baseline's {baseline:.4f} ({best}); the published model is unchanged"
        )


def publish(candidate: Path, out_dir: Path) -> Path:
    """Locally the API reads <artifacts>/ranking/ranking_model.json: replace it atomically."""
    target = out_dir / MODEL_FILE
    tmp = target.with_suffix(".json.tmp")
    shutil.copyfile(candidate, tmp)
    tmp.replace(target)
    return target
