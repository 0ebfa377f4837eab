"""The ranking model: in process (saves a network hop) or the ranker service's /predict and /explain.

In process, the model file need not exist at start-up: on a fresh stack the service starts before the
`train` step has published a model to the stage mounted at /models, so until one appears the ranker is
"not loaded" and requests are ranked by propensity (`postgres+propensity`, the seed's rule). The file
is looked at again at most every `RANKER_MODEL_CHECK_SECONDS` (30) and loaded when it appears or
changes (a newly published model is picked up without a restart); a file that does not load (a
half-written one) keeps the model already loaded.

Loading takes 0.6-3 s (XGBoost's parse and the scoring tables), so a request never waits for it: the
request that finds a new file starts the load on a thread and is answered with the model in place; the
first request after the load finishes puts the new model in, whole (scores, `why` tables and feature
names from one file).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.features.pair import PAIR_FEATURES

from .backends import BackendUnavailableError, Settings
from .contributions import TreeContributions, UnsupportedModelError
from .scores import TreeScores

log = logging.getLogger("orchestrator")


@dataclass(frozen=True)
class Model:
    """One model file's booster and the tables built from it, swapped in together."""

    booster: Any
    names: list[str]
    contributions: TreeContributions | None  # the same numbers as pred_contribs, faster
    scores: TreeScores | None  # the same scores as inplace_predict, faster
    seen: tuple[int, int]  # (mtime_ns, size) of the file it came from
    sha256: str  # of the bytes loaded: what a precomputed ranking was scored with (precompute.py)


NO_MODEL = Model(None, [], None, None, (0, -1), "")


class Ranker:
    """The ranking model, in process or over HTTP."""

    def __init__(self, s: Settings, clock=time.monotonic) -> None:
        self.mode = s.ranker_mode
        self.model = NO_MODEL
        self._pending: Model | None = None  # loaded on a thread, put in by the next request
        self._loading = threading.Lock()  # one load at a time
        self._handover = threading.Lock()  # the loader's model handed to the next request
        self._refused: tuple[int, int] | None = None  # (mtime_ns, size) of a file refused for its features
        self.url = s.ranker_url.rstrip("/")
        self.http = None
        self.path = s.ranker_model_path if self.mode == "inprocess" else ""
        self.check_seconds = s.ranker_model_check_seconds
        self._clock = clock
        self._next_check = 0.0
        self.loads = 0
        if self.path:
            self.refresh(force=True)
        elif self.mode == "http" and self.url:
            import httpx

            self.http = httpx.Client(timeout=httpx.Timeout(1.0, connect=0.5))

    @property
    def booster(self) -> Any:
        return self.model.booster

    @property
    def names(self) -> list[str]:
        return self.model.names

    @property
    def contributions(self) -> TreeContributions | None:
        return self.model.contributions

    @property
    def scores(self) -> TreeScores | None:
        return self.model.scores

    @property
    def loaded(self) -> bool:
        return self.booster is not None or self.http is not None

    def refresh(self, force: bool = False) -> bool:
        """Load the model file now if it appeared or changed since last looked at (at most every
        `check_seconds` unless `force`); True when a new model was loaded. Start-up and tests; requests
        call `poll`, which never waits."""
        if not self._due(force):
            return False
        with self._loading:
            model = self._load_if_changed()
        if model is None:
            return False
        self._install(model)
        return True

    def poll(self) -> None:
        """The request path: put in a model loaded since, and start loading the file on a thread when
        it appeared or changed (at most every `check_seconds`)."""
        with self._handover:
            pending, self._pending = self._pending, None
        if pending is not None:
            self._install(pending)
        if self._due(False) and self._loading.acquire(blocking=False):
            try:
                threading.Thread(target=self._load_in_background, name="ranking-model-load", daemon=True).start()
            except RuntimeError:  # no thread to be had: try again at the next check
                self._loading.release()
                raise

    def _due(self, force: bool) -> bool:
        now = self._clock()
        if not self.path or (not force and now < self._next_check):
            return False
        self._next_check = now + self.check_seconds
        return True

    def _load_in_background(self) -> None:
        try:
            model = self._load_if_changed()
            if model is not None:
                with self._handover:
                    self._pending = model
        finally:
            self._loading.release()

    def _install(self, model: Model) -> None:
        self.model = model
        self.loads += 1
        log.info("ranking model loaded from %s (%d features)", self.path, len(model.names))

    def _load_if_changed(self) -> Model | None:
        """The file's model when it differs from the one in place (and from one waiting to go in)."""
        try:
            st = os.stat(self.path)
        except OSError:
            if self.booster is None:
                log.warning("no ranking model at %s yet: ranking by propensity until one is published", self.path)
            return None
        seen = (st.st_mtime_ns, st.st_size)
        pending = self._pending
        if seen in (self.model.seen, self._refused) or (pending is not None and seen == pending.seen):
            return None
        try:
            return _load(self.path, seen)
        except UnsupportedModelError as e:  # another model's features: not parsed again until it changes
            self._refused = seen
            log.warning("ranking model at %s refused: %s; keeping the current one", self.path, e)
            return None
        except Exception as e:  # a half-written file: keep what is loaded, try again later
            kind = type(e).__name__
            log.warning("ranking model at %s did not load (%s: %s); keeping the current one", self.path, kind, e)
            return None

    def score(self, x: np.ndarray) -> np.ndarray:
        self.poll()
        booster = self.booster
        if booster is not None:
            return booster.inplace_predict(x[:, : booster.num_features()])
        if self.path:
            raise BackendUnavailableError(f"ranker: no model at {self.path} yet")
        return np.array([row[1] for row in self._post("/predict", x)["data"]], dtype=np.float32)

    def top(self, x: np.ndarray, ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n best rows by (score desc, product id asc) and their scores: from scores.py's tables in
        process (XGBoost's numbers), else every row scored and sorted."""
        self.poll()
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
        m = self.model  # read once: a model reload replaces it whole
        if m.contributions is not None:
            return m.names, m.contributions(x)
        if m.booster is not None:
            import xgboost as xgb

            x = x[:, : m.booster.num_features()]
            contribs = m.booster.predict(xgb.DMatrix(x, feature_names=m.names or None), pred_contribs=True)
            return m.names, np.asarray(contribs)[:, :-1]
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


def _load(path: str, seen: tuple[int, int]) -> Model:
    """The model file, refused when its features are not the leading pair features: the API builds
    every row in PAIR_FEATURES order, so a model trained before features were appended reads its own
    columns and is served until the next one is published, and any other would score the wrong ones."""
    import xgboost as xgb

    with open(path, "rb") as f:  # read once: the digest is of the very bytes parsed
        data = f.read()
    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    booster.set_param({"nthread": 1})
    names = list(booster.feature_names or [])
    if names and names != PAIR_FEATURES[: len(names)]:
        raise UnsupportedModelError(f"its features {names} are not the leading pair features {PAIR_FEATURES}")
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
    return Model(booster, names, contributions, scores, seen, hashlib.sha256(data).hexdigest())
