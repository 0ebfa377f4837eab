"""The ranking model served over HTTP in Snowflake's model-service format:
POST /predict {"data": [[row_index, f1, f2, …], …]} → {"data": [[row_index, score], …]}.
The model file is the `train` step's ranking_model.json (mounted from the model stage in SPCS)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class PredictRequest(BaseModel):
    data: list[list[Any]]


def create_app(model_path: str | None = None) -> FastAPI:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(model_path or os.environ["RANKER_MODEL_PATH"])
        booster.set_param({"nthread": 1})
        state["booster"] = booster
        yield

    app = FastAPI(title="retail ranker", version="1.0.0", lifespan=lifespan)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"error": f"internal error ({type(exc).__name__})"})

    @app.post("/predict")
    def predict(req: PredictRequest):
        booster = state["booster"]
        width = booster.num_features()
        if not req.data:
            return {"data": []}
        if any(len(r) != width + 1 for r in req.data):
            return JSONResponse(
                status_code=422,
                content={"error": f"data: each row is [row_index, {width} features]", "field": "data"},
            )
        try:
            x = np.array([[np.nan if v is None else float(v) for v in r[1:]] for r in req.data], dtype=np.float32)
        except (TypeError, ValueError):
            return JSONResponse(status_code=422, content={"error": "data: features must be numbers", "field": "data"})
        scores = booster.inplace_predict(x)
        return {"data": [[r[0], float(s)] for r, s in zip(req.data, scores, strict=True)]}

    @app.get("/health")
    def health() -> dict:
        b = state.get("booster")
        return {"status": "ok", "model_loaded": b is not None, "features": b.num_features() if b else 0}

    return app
