"""The ranking model: in process (saves a network hop) or the ranker service's /predict and /explain.

In process, the model file need not exist at start-up: on a fresh stack the service starts before the
`train` step has published a model to the stage mounted at /models, so until one appears the ranker is
"not loaded" and requests are ranked by propensity (`postgres+propensity`, the seed's rule). The file
is looked at again at most every `RANKER_MODEL_CHECK_SECONDS` (30) and loaded when it appears or
changes (a newly published model is picked up without a restart); a file that does not load (a
half-written one) keeps the model already loaded.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from .backends import BackendUnavailableError, Settings
from .contributions import TreeContributions, UnsupportedModelError
from .scores import TreeScores

log = logging.getLogger("orchestrator")


class Ranker:
    """The ranking model, in process or over HTTP."""

    def __init__(self, s: Settings, clock=time.monotonic) -> None:
        self.mode = s.ranker_mode
        self.booster = None
        self.names: list[str] = []
        self.contributions: TreeContributions | None = None  # the same numbers as pred_contribs, faster
        self.scores: TreeScores | None = None  # the same scores as inplace_predict, faster
        self.url = s.ranker_url.rstrip("/")
        self.http = None
        self.path = s.ranker_model_path if self.mode == "inprocess" else ""
        self.check_seconds = s.ranker_model_check_seconds
        self._clock = clock
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file last loaded
        self._next_check = 0.0
        self.loads = 0
        if self.path:
            self.refresh(force=True)
        elif self.mode == "http" and self.url:
            import httpx

            self.http = httpx.Client(timeout=httpx.Timeout(1.0, connect=0.5))

    @property
    def loaded(self) -> bool:
        return self.booster is not None or self.http is not None

    def refresh(self, force: bool = False) -> bool:
        """Load the model file if it appeared or changed since last looked at (at most every
        `check_seconds` unless `force`); True when a new model was loaded."""
        now = self._clock()
        if not self.path or (not force and now < self._next_check):
            return False
        self._next_check = now + self.check_seconds
        try:
            st = os.stat(self.path)
        except OSError:
            if self.booster is None:
                log.warning("no ranking model at %s yet: ranking by propensity until one is published", self.path)
            return False
        if (st.st_mtime_ns, st.st_size) == self._seen:
            return False
        try:
            self._load(self.path)
        except Exception as e:  # a half-written or foreign file: keep what is loaded, try again later
            kind = type(e).__name__
            log.warning("ranking model at %s did not load (%s: %s); keeping the current one", self.path, kind, e)
            return False
        self._seen = (st.st_mtime_ns, st.st_size)
        self.loads += 1
        log.info("ranking model loaded from %s (%d features)", self.path, len(self.names))
        return True

    def _load(self, path: str) -> None:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(path)
        booster.set_param({"nthread": 1})
        names = list(booster.feature_names or [])
        try:
            contributions = TreeContributions.of(booster)
        except UnsupportedModelError as e:
            log.warning("ranking model explained by XGBoost's TreeSHAP (slower): %s", e)
            contributions = None
        try:
            scores = TreeScores.of(booster)
        except UnsupportedModelError as e:
            log.warning("ranking model scored by XGBoost's inplace_predict (slower): %s", e)
            scores = None
        self.booster, self.names, self.contributions, self.scores = booster, names, contributions, scores

    def score(self, x: np.ndarray) -> np.ndarray:
        self.refresh()
        if self.booster is not None:
            return self.booster.inplace_predict(x)
        if self.path:
            raise BackendUnavailableError(f"ranker: no model at {self.path} yet")
        return np.array([row[1] for row in self._post("/predict", x)["data"]], dtype=np.float32)

    def top(self, x: np.ndarray, ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n best rows by (score desc, product id asc) and their scores: from scores.py's tables in
        process (XGBoost's numbers), else every row scored and sorted."""
        self.refresh()
        scores = self.scores  # read once: a model reload replaces it whole
        if scores is not None:
            return scores.top(x, ids, n)
        score = self.score(x)
        rows = np.lexsort((ids, -score))[:n]
        return rows, score[rows]

    def explain(self, x: np.ndarray) -> tuple[list[str], np.ndarray]:
        """(feature names, each row's per-feature contributions to its score): XGBoost's own
        decomposition (pred_contribs, path-dependent TreeSHAP; the bias column dropped), so they add up
        to the score's margin; in process, from contributions.py's tables."""
        if self.contributions is not None:
            return self.names, self.contributions(x)
        if self.booster is not None:
            import xgboost as xgb

            contribs = self.booster.predict(xgb.DMatrix(x, feature_names=self.names or None), pred_contribs=True)
            return self.names, np.asarray(contribs)[:, :-1]
        body = self._post("/explain", x)
        return list(body["features"]), np.array([row[1] for row in body["data"]], dtype=np.float32)

    def _post(self, path: str, x: np.ndarray) -> dict:
        if self.http is None:
            raise BackendUnavailableError("ranker: not configured")
        try:
            rows = [[None if v != v else v for v in row] for row in x.tolist()]  # NaN (missing) as null
            r = self.http.post(f"{self.url}{path}", json={"data": [[i, *row] for i, row in enumerate(rows)]})
            r.raise_for_status()
            return r.json()
        except Exception as e:
            raise BackendUnavailableError(f"ranker: {type(e).__name__}: {e}") from e
