"""The ranking model's scores for a request's candidates, bit for bit XGBoost's, at a fraction of
`inplace_predict`'s cost (its per-call set-up: a JSON config, array interfaces, a result copy).

The trees are walked QuickScorer's way, vectorised over rows: every split on a feature is sorted by
threshold, and a row goes right at exactly the splits whose threshold is <= its value (a prefix of
that order; a missing value follows each split's default). Going right rules out the split's left
subtree, so each (feature, number of splits passed) has, per tree, the mask of the leaves still
possible, tabulated at load; a row's leaf in a tree is the lowest bit left after AND-ing its features'
masks. Leaf values are then added as XGBoost adds them: in float32, the base margin first, then
tree after tree; and the logistic link is XGBoost's own (float32, libm's expf), applied only to the
rows that can reach the top N (it is monotone, so the margin's order decides the rest).

The result is checked against XGBoost at load (margins and final scores, equal as float32); a model
this cannot describe (categorical splits, several outputs, leaves beyond MAX_LEAVES, another
objective) or that does not reproduce XGBoost is scored by XGBoost instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
from collections.abc import Iterable
from typing import Any

import numpy as np

from .contributions import UnsupportedModelError

MAX_LEAVES = 16  # one uint16 mask per tree (depth <= 4)
LINKS = {"binary:logistic": "logistic", "reg:logistic": "logistic", "rank:ndcg": "identity"}
LINKS |= {"rank:pairwise": "identity", "rank:map": "identity", "reg:squarederror": "identity"}
_LOWEST_BIT = np.array([0] + [(v & -v).bit_length() - 1 for v in range(1, 1 << MAX_LEAVES)], dtype=np.uint8)
_F32 = np.float32
_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.expf.restype, _libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
_libm.logf.restype, _libm.logf.argtypes = ctypes.c_float, [ctypes.c_float]


def _logistic(margin: float) -> float:
    """XGBoost's Sigmoid on float32: 1 / (expf(min(-x, 88.7)) + 1 + 1e-16), each step rounded to float32."""
    e = _F32(_libm.expf(min(_F32(-margin), _F32(88.7))))
    return float(_F32(_F32(1.0) / (_F32(e + _F32(1.0)) + _F32(1e-16))))


class TreeScores:
    """Exact scores of a loaded model; `TreeScores.of(booster)` builds and checks it."""

    def __init__(self, trees: list[dict[str, Any]], n_features: int, base_margin: float, link: str) -> None:
        self.n_trees, self.link, self.base = len(trees), link, _F32(base_margin)
        splits: dict[int, list[tuple[float, int, int, bool]]] = {}  # feature -> (threshold, tree, left mask, NaN right)
        self.leaf_value = np.zeros((len(trees), MAX_LEAVES), dtype=np.float32)
        for t, tree in enumerate(trees):
            for f, split in _splits(tree, t, self.leaf_value[t]):
                splits.setdefault(f, []).append(split)
        self.features = np.array(sorted(splits), dtype=np.int64)
        self.thresholds: list[np.ndarray] = []
        self.tables: list[np.ndarray] = []  # per feature: (splits + 2, trees); the last row: a missing value
        for f in self.features:
            ordered = sorted(splits[int(f)], key=lambda s: s[0])
            table = np.full((len(ordered) + 2, len(trees)), 0xFFFF, dtype=np.uint16)
            for k, (_, t, left, nan_right) in enumerate(ordered):
                table[k + 1 : len(ordered) + 1, t] &= np.uint16(~left & 0xFFFF)
                if nan_right:
                    table[-1, t] &= np.uint16(~left & 0xFFFF)
            self.thresholds.append(np.array([s[0] for s in ordered] + [np.nan], dtype=np.float32))
            self.tables.append(table)
        self.leaf_at = (np.arange(len(trees)) * MAX_LEAVES).astype(np.intp)
        self.n_features = n_features

    @classmethod
    def of(cls, booster: Any) -> TreeScores:
        """From an xgboost.Booster; UnsupportedModelError when it cannot be described or reproduced."""
        learner = json.loads(booster.save_raw("json"))["learner"]
        params, gbm = learner["learner_model_param"], learner["gradient_booster"]
        objective = learner.get("objective", {}).get("name", "")
        if gbm.get("name") != "gbtree" or int(params.get("num_target", 1)) > 1 or int(params["num_class"]) > 1:
            raise UnsupportedModelError(f"{gbm.get('name')} with {params.get('num_target')} targets")
        if objective not in LINKS:
            raise UnsupportedModelError(f"objective {objective!r}")
        base = _F32(float(str(params["base_score"]).strip("[]")))
        link = LINKS[objective]
        # XGBoost's ProbToMargin in float32: -logf(1 / base - 1)
        base_margin = -_libm.logf(_F32(_F32(1.0) / base) - _F32(1.0)) if link == "logistic" else base
        scorer = cls(gbm["model"]["trees"], int(params["num_feature"]), base_margin, link)
        scorer.check(booster)
        return scorer

    def masks(
        self, x: np.ndarray, features: Iterable[int] | None = None, start: np.ndarray | None = None
    ) -> np.ndarray:
        """(rows, trees) uint16: the leaves each row can still reach, as far as `features` (default: all
        the model splits on) tell, AND-ed into `start` (masks tabulated earlier for the other features)."""
        x = np.asarray(x, dtype=np.float32)
        alive = np.full((len(x), self.n_trees), 0xFFFF, dtype=np.uint16) if start is None else start.copy()
        wanted = None if features is None else set(features)
        for f, thresholds, masks in zip(self.features.tolist(), self.thresholds, self.tables, strict=True):
            if wanted is not None and f not in wanted:
                continue
            # the thresholds end with NaN, which numpy sorts last: a missing value lands on the last row
            alive &= masks.take(thresholds.searchsorted(x[:, f], side="right"), axis=0)
        return alive

    def margin(self, x: np.ndarray, fixed: tuple[np.ndarray, frozenset[int]] | None = None) -> np.ndarray:
        """(rows,) float32: base margin + each tree's leaf, summed in XGBoost's order. `fixed`: masks
        already tabulated for some features (`masks(x, those)`, e.g. per product) and those features."""
        if fixed is None:
            alive = self.masks(x)
        else:
            start, done = fixed
            alive = self.masks(x, (f for f in self.features.tolist() if f not in done), start)
        # (trees, rows), made contiguous by the cast; the leaves are then read in that order, and `clip`
        # (every index is in range) spares the buffered copy that take's default mode makes with `out`
        leaf = _LOWEST_BIT.take(alive).T.astype(np.intp)
        leaf += self.leaf_at[:, None]
        parts = np.empty((self.n_trees + 1, len(alive)), dtype=np.float32)
        parts[0] = self.base
        self.leaf_value.take(leaf, out=parts[1:], mode="clip")
        return np.add.reduce(parts, axis=0, dtype=np.float32)  # along the outer axis: row by row, in order

    def link_one(self, margin: float) -> float:
        return _logistic(margin) if self.link == "logistic" else float(margin)

    def top(
        self, x: np.ndarray, ids: np.ndarray, n: int, fixed: tuple[np.ndarray, frozenset[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n best rows by (score desc, id asc), as XGBoost's scores would order them, and their scores."""
        m = self.margin(x, fixed)
        order = np.lexsort((ids, -m))
        picked: list[tuple[float, int]] = []
        for j in order.tolist():
            s = self.link_one(m[j])
            if len(picked) >= n and s < picked[n - 1][0]:
                break  # every later row scores at most this (the link is monotone)
            picked.append((s, j))
        picked.sort(key=lambda p: (-p[0], ids[p[1]]))
        rows = np.array([j for _, j in picked[:n]], dtype=np.intp)
        return rows, np.array([s for s, _ in picked[:n]], dtype=np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Every row's score (as inplace_predict gives it)."""
        m = self.margin(x)
        return np.array([self.link_one(v) for v in m.tolist()], dtype=np.float32)

    def check(self, booster: Any) -> None:
        """Rows at and around every threshold, and missing values: margins and scores equal to XGBoost's."""
        rng = np.random.default_rng(0)
        cuts = {int(f): t[:-1] for f, t in zip(self.features, self.thresholds, strict=True)}
        cols = []
        for f in range(self.n_features):
            c = cuts.get(f, np.zeros(1, np.float32))
            cols.append(rng.choice(c, 512) + rng.choice([-1e-3, 0, 1e-3], 512))
        x = np.stack(cols, axis=1).astype(np.float32)
        x[rng.random(x.shape) < 0.1] = np.nan
        margin = booster.inplace_predict(x, predict_type="margin")
        score = booster.inplace_predict(x)
        if not np.array_equal(self.margin(x), margin) or not np.array_equal(self(x), score):
            raise UnsupportedModelError("the tree tables do not reproduce XGBoost's scores exactly")


def _splits(tree: dict[str, Any], t: int, leaf_value: np.ndarray):
    """(feature, (threshold, tree, mask of the left subtree's leaves, missing goes right)) per split of
    one tree; fills `leaf_value` with its leaves' values, leaves numbered left to right."""
    if any(tree.get("split_type", [])) or tree.get("categories"):
        raise UnsupportedModelError("categorical splits")
    left, right = tree["left_children"], tree["right_children"]
    feature, cond, default_left = tree["split_indices"], tree["split_conditions"], tree["default_left"]
    out: list[tuple[int, tuple[float, int, int, bool]]] = []
    leaves: list[int] = []

    def walk(node: int) -> int:
        if left[node] == -1:
            if len(leaves) == MAX_LEAVES:
                raise UnsupportedModelError(f"a tree has more than {MAX_LEAVES} leaves")
            leaves.append(node)
            return 1 << (len(leaves) - 1)
        lmask, rmask = walk(left[node]), walk(right[node])
        out.append((int(feature[node]), (float(_F32(cond[node])), t, lmask, not default_left[node])))
        return lmask | rmask

    walk(0)
    leaf_value[: len(leaves)] = [cond[n] for n in leaves]
    return out
