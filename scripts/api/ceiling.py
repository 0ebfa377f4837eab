"""The framework's ceiling: a bare FastAPI app answering the API's URL with a fixed JSON body (a real
answer, read once at start from CEILING_BODY_FILE), under the same server.py, so `make bench` can say
what share of FastAPI + uvicorn's own throughput the API reaches."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import Response


def create_app() -> FastAPI:
    """GET /recommend (the same query parameters, parsed and validated) and GET /health."""
    body = Path(os.environ["CEILING_BODY_FILE"]).read_bytes()
    app = FastAPI()

    @app.get("/recommend")
    async def recommend(customer_id: int = Query(ge=1), zip_code: str = Query(pattern=r"^[0-9]{5}$")) -> Response:
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
