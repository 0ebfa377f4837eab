"""Each feature's contribution to a tree model's score for a few rows, as XGBoost's `pred_contribs`
computes it (path-dependent TreeSHAP), at a sixth of its cost per request.

TreeSHAP walks every tree for every row (about 0.1 ms a row for the ranking model). Here the walk is
done once, when the model loads: for each leaf, the distinct features on its path, the interval of
values that follows the path on each (several splits on one feature narrow one interval), whether a
missing value follows it, and the share of the training cover that reaches the leaf through each
feature's splits. A leaf's part in the Shapley values depends on the row only through which of its
path features the row satisfies, so the values for every such pattern (at most 2^4 for depth-4
trees) are tabulated at load. Per request: compare the rows with every leaf's intervals, read each
leaf's pattern, look up and add up. The tables are checked against XGBoost's own `pred_contribs` at
load; a model they cannot describe (categorical splits, several outputs, a deeper path than
MAX_PATH_FEATURES) is explained by XGBoost instead.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

MAX_PATH_FEATURES = 4  # distinct features on a leaf's path; 2^4 patterns a leaf
CHECK_TOLERANCE = 1e-4  # agreement with XGBoost's pred_contribs required at load (float32 arithmetic)


class UnsupportedModelError(ValueError):
    """The model is not a single-output tree ensemble of numeric splits of shallow enough paths."""


@dataclass(frozen=True)
class _Leaf:
    value: float
    path: tuple[tuple[int, float, float, bool, float], ...]  # (feature, lo, hi, missing follows, cover share)


def _leaves(tree: dict[str, Any]) -> list[_Leaf]:
    """Every leaf of one tree of XGBoost's JSON model, with its path's distinct features."""
    if any(tree.get("split_type", [])) or tree.get("categories"):
        raise UnsupportedModelError("categorical splits")
    left, right = tree["left_children"], tree["right_children"]
    feature, cond, default_left = tree["split_indices"], tree["split_conditions"], tree["default_left"]
    cover = tree["sum_hessian"]
    out: list[_Leaf] = []
    stack: list[tuple[int, dict[int, tuple]]] = [(0, {})]
    while stack:
        node, path = stack.pop()
        if left[node] == -1:  # a leaf's value is kept in split_conditions
            out.append(_Leaf(float(cond[node]), tuple(path.values())))
            continue
        f, c = int(feature[node]), float(np.float32(cond[node]))
        for child, goes_left in ((left[node], True), (right[node], False)):
            lo, hi = (-math.inf, c) if goes_left else (c, math.inf)
            missing = bool(default_left[node]) == goes_left
            share = cover[child] / cover[node] if cover[node] else 0.0
            step = dict(path)
            if f in step:  # the same feature again: one narrower interval, shares multiplied
                _, plo, phi, pmissing, pshare = step[f]
                step[f] = (f, max(lo, plo), min(hi, phi), missing and pmissing, share * pshare)
            else:
                step[f] = (f, lo, hi, missing, share)
            stack.append((child, step))
    return out


def _shapley_table(value: float, shares: list[float]) -> np.ndarray:
    """(2^d, d): for each pattern of satisfied path features (bit k: feature k), each feature's Shapley
    value in the leaf's game v(S) = value * prod(satisfied if in S else cover share)."""
    d = len(shares)
    table = np.zeros((2**d, d))
    weight = [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    for pattern in range(2**d):
        one = [(pattern >> k) & 1 for k in range(d)]
        for k in range(d):
            others = [j for j in range(d) if j != k]
            total = 0.0
            for size in range(d):
                for subset in combinations(others, size):
                    term = weight[size]
                    for j in others:
                        term *= one[j] if j in subset else shares[j]
                    total += term
            table[pattern, k] = value * (one[k] - shares[k]) * total
    return table


class TreeContributions:
    """Exact per-feature contributions of a loaded model; `TreeContributions.of(booster)` builds it."""

    def __init__(self, leaves: list[_Leaf], n_features: int) -> None:
        n, width = len(leaves), MAX_PATH_FEATURES
        self.n_features = n_features
        feature = np.zeros((n, width), dtype=np.int64)
        lo = np.full((n, width), np.inf, dtype=np.float32)  # an unused slot is never satisfied
        hi = np.full((n, width), np.inf, dtype=np.float32)
        missing = np.zeros((n, width), dtype=bool)
        table = np.zeros((n, 2**width, width))
        for i, leaf in enumerate(leaves):
            d = len(leaf.path)
            for k, (f, a, b, m, _) in enumerate(leaf.path):
                feature[i, k], lo[i, k], hi[i, k], missing[i, k] = f, a, b, m
            table[i, : 2**d, :d] = _shapley_table(leaf.value, [p[4] for p in leaf.path])
        self.feature, self.lo, self.hi, self.missing = feature.ravel(), lo.ravel(), hi.ravel(), missing.ravel()
        self.table = table.reshape(n * 2**width, width)
        self.leaf_row = np.arange(n) * 2**width
        # slots grouped by feature, so each feature's sum is one reduceat segment
        self.order = np.argsort(self.feature, kind="stable")
        used = np.unique(self.feature)
        self.used, self.starts = used, np.searchsorted(self.feature[self.order], used)

    @classmethod
    def of(cls, booster: Any) -> TreeContributions:
        """From an xgboost.Booster; raises UnsupportedModelError if the tables cannot describe it or do
        not reproduce XGBoost's pred_contribs."""
        model = json.loads(booster.save_raw("json"))["learner"]
        params = model["learner_model_param"]
        gbm = model["gradient_booster"]
        if gbm.get("name") != "gbtree" or int(params.get("num_target", 1)) > 1 or int(params["num_class"]) > 1:
            raise UnsupportedModelError(f"{gbm.get('name')} with {params.get('num_target')} targets")
        leaves = [leaf for tree in gbm["model"]["trees"] for leaf in _leaves(tree)]
        deepest = max((len(leaf.path) for leaf in leaves), default=0)
        if deepest > MAX_PATH_FEATURES:
            raise UnsupportedModelError(f"a leaf's path has {deepest} distinct features (> {MAX_PATH_FEATURES})")
        explainer = cls(leaves, int(params["num_feature"]))
        explainer.check(booster)
        return explainer

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(rows, features): each feature's contribution to each row's margin (the bias not included)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        rows = x.shape[0]
        value = x.take(self.feature, axis=1)  # (rows, leaves * 4)
        satisfied = (value >= self.lo) & (value < self.hi)
        absent = np.isnan(value)
        if absent.any():
            satisfied |= absent & self.missing
        word = satisfied.view(np.uint32)  # (rows, leaves): a leaf's four slots, one byte each
        pattern = (word | word >> 7 | word >> 14 | word >> 21) & 0xF
        parts = self.table.take(self.leaf_row + pattern, axis=0).reshape(rows, -1)
        out = np.zeros((rows, self.n_features))
        out[:, self.used] = np.add.reduceat(parts.take(self.order, axis=1), self.starts, axis=1)
        return out

    def check(self, booster: Any) -> None:
        """Rows at and around every split threshold, and missing values, against XGBoost."""
        import xgboost as xgb

        rng = np.random.default_rng(0)
        cuts = [
            np.unique(np.concatenate([self.lo[self.feature == f], self.hi[self.feature == f]]))
            for f in range(self.n_features)
        ]
        cuts = [c[np.isfinite(c)] if np.isfinite(c).any() else np.zeros(1, np.float32) for c in cuts]
        x = np.stack([rng.choice(c, 64) + rng.choice([-1e-3, 0, 1e-3], 64) for c in cuts], axis=1)
        x[rng.random(x.shape) < 0.1] = np.nan
        x = x.astype(np.float32)
        want = booster.predict(xgb.DMatrix(x), pred_contribs=True, validate_features=False)[:, :-1]
        gap = float(np.abs(self(x) - want).max())
        if gap > CHECK_TOLERANCE:
            raise UnsupportedModelError(f"the tables differ from XGBoost's pred_contribs by {gap:.2g}")
