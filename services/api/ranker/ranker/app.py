"""The ranking model served over HTTP in Snowflake's model-service format:
POST /predict {"data": [[row_index, f1, f2, …], …]} → {"data": [[row_index, score], …]}, and
POST /explain (same input) → {"features": [names], "data": [[row_index, [contribution per feature]], …]},
each feature's share of the row's score from XGBoost's own decomposition (pred_contribs), so a client
can show why an item ranks where it does.
The model file is the `train` step's ranking_model.json (mounted from the model stage in SPCS). It need
not exist at start-up (a fresh stack starts the service before the first `train`): until it appears,
/predict and /explain answer 503 (the orchestrator then ranks by propensity) and /health says
`model_loaded: false`; the file is looked at again at most every RANKER_MODEL_CHECK_SECONDS (30) and
loaded when it appears or changes."""

from __future__ import annotations

import logging
import os
import time
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

log = logging.getLogger("ranker")
NO_MODEL = {"error": "no ranking model published yet", "field": None}


class ModelFile:
    """The model file, loaded when it appears or changes (looked at at most every `check_seconds`)."""

    def __init__(self, path: str, check_seconds: float, clock=time.monotonic) -> None:
        self.path, self.check_seconds, self._clock = path, check_seconds, clock
        self.booster: Any = None
        self._seen: tuple[int, int] | None = None
        self._next = 0.0

    def current(self, force: bool = False) -> Any:
        now = self._clock()
        if force or now >= self._next:
            self._next = now + self.check_seconds
            self._reload()
        return self.booster

    def _reload(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError:
            if self.booster is None:
                log.warning("no ranking model at %s yet", self.path)
            return
        if (st.st_mtime_ns, st.st_size) == self._seen:
            return
        import xgboost as xgb

        booster = xgb.Booster()
        try:
            booster.load_model(self.path)
        except Exception as e:  # a half-written file: keep the loaded model, try again later
            log.warning("ranking model at %s did not load (%s); keeping the current one", self.path, e)
            return
        booster.set_param({"nthread": 1})
        self.booster, self._seen = booster, (st.st_mtime_ns, st.st_size)


class PredictRequest(BaseModel):
    data: list[list[Any]]


def _matrix(booster: Any, data: list[list[Any]]) -> np.ndarray | JSONResponse:
    """The feature rows of a request, or the 422 that says what is wrong with them. The orchestrator
    sends every pair feature in order; a model trained before features were appended reads its leading
    columns, so an upgraded orchestrator keeps being served until the next model is published."""
    width = booster.num_features()
    if any(len(r) < width + 1 for r in data):
        return JSONResponse(
            status_code=422,
            content={"error": f"data: each row is [row_index, at least {width} features]", "field": "data"},
        )
    try:
        rows = [[np.nan if v is None else float(v) for v in r[1 : width + 1]] for r in data]
        return np.array(rows, dtype=np.float32).reshape(len(data), width)
    except (TypeError, ValueError):
        return JSONResponse(status_code=422, content={"error": "data: features must be numbers", "field": "data"})


def create_app(model_path: str | None = None) -> FastAPI:
    state: dict[str, ModelFile] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        check = float(os.environ.get("RANKER_MODEL_CHECK_SECONDS") or 30)
        state["model"] = ModelFile(model_path or os.environ["RANKER_MODEL_PATH"], check)
        state["model"].current(force=True)
        yield

    app = FastAPI(title="retail ranker", version="1.0.0", lifespan=lifespan)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"error": f"internal error ({type(exc).__name__})"})

    @app.post("/predict")
    def predict(req: PredictRequest):
        booster = state["model"].current()
        if booster is None:
            return JSONResponse(status_code=503, content=NO_MODEL)
        if not req.data:
            return {"data": []}
        x = _matrix(booster, req.data)
        if isinstance(x, JSONResponse):
            return x
        scores = booster.inplace_predict(x)
        return {"data": [[r[0], float(s)] for r, s in zip(req.data, scores, strict=True)]}

    @app.post("/explain")
    def explain(req: PredictRequest):
        import xgboost as xgb

        booster = state["model"].current()
        if booster is None:
            return JSONResponse(status_code=503, content=NO_MODEL)
        names = list(booster.feature_names or [f"f{i}" for i in range(booster.num_features())])
        if not req.data:
            return {"features": names, "data": []}
        x = _matrix(booster, req.data)
        if isinstance(x, JSONResponse):
            return x
        contribs = booster.predict(xgb.DMatrix(x, feature_names=booster.feature_names), pred_contribs=True)
        rows = [[float(v) for v in c[:-1]] for c in contribs]
        return {"features": names, "data": [[r[0], c] for r, c in zip(req.data, rows, strict=True)]}

    @app.get("/health")
    def health() -> dict:
        b = state["model"].current()
        return {"status": "ok", "model_loaded": b is not None, "features": b.num_features() if b else 0}

    return app
