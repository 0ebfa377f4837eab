"""The HTTP side of the recommendation API: the documented response, JSON rendering, the errors every
route shares, and Snowflake's service-function batch format."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .inputs import ApiError, RecommendRequest, batch_requests
from .tracing import request_id

log = logging.getLogger("orchestrator")


class Reason(BaseModel):
    feature: str
    value: float | None
    contribution: float


class Item(BaseModel):
    rank: int
    product_id: int
    product_name: str
    category: str | None
    category_id: str
    department: str | None
    price: float | None
    score: float
    in_stock_qty: int | None
    est_delivery_days: int | None
    why: list[Reason]


class RecommendResponse(BaseModel):
    request_id: str
    customer_id: int
    zip_code: str
    region: str
    backend: str
    recommendations: list[Item]
    timings: dict[str, Any]


class FastJSON(JSONResponse):
    """orjson instead of json.dumps: a recommendation's body is serialized on every request."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def server_error(status: int, message: str) -> ApiError:
    """A 5xx for the client: what happened in general and the request id to quote; the cause is logged."""
    rid = request_id()
    return ApiError(status, f"{message} (request id {rid})", extra={"request_id": rid})


def overloaded(retry_after: int) -> ApiError:
    """A 503 that sheds load: the client may retry after `retry_after` seconds."""
    err = server_error(503, "busy: try again shortly")
    err.headers = {"Retry-After": str(retry_after)}
    return err


def install_error_handlers(app: FastAPI) -> None:
    """Every error is JSON that names the field at fault; nothing leaks a traceback."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", []) if p not in ("query", "body")]
        field = ".".join(loc) or "request"
        return ApiError(422, f"{field}: {first.get('msg', 'invalid input')}", field).response()

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s: unexpected error", request_id())
        return server_error(500, "internal error").response()


async def service_function(body: dict, run, concurrency: int) -> dict:
    """Snowflake's service-function format: {"data": [[row_index, customer_id, zip_code, top_n], …]},
    answered as {"data": [[row_index, response or {"error", "field", "status"}], …]} in input order.
    Rows run concurrently, at most `concurrency` at a time (they share the Postgres pool)."""
    rows = batch_requests(body)
    gate = asyncio.Semaphore(concurrency)

    async def one(req: RecommendRequest | ApiError) -> dict:
        if isinstance(req, ApiError):
            return {**req.body(), "status": req.status}
        async with gate:
            try:
                return await run(req)
            except ApiError as e:
                return {**e.body(), "status": e.status}

    answers = await asyncio.gather(*(one(req) for _, req in rows))
    return {"data": [[index, answer] for (index, _), answer in zip(rows, answers, strict=True)]}
