"""The recommendation API: the orchestrator of the real-time recommendations.

GET/POST /recommend: zip → region; features, propensity and in-stock inventory from Postgres in
parallel; candidates = in-stock products of the customer's top categories; vectorized pair features;
the ranking model's score blended with propensity; top N. Fallbacks are flagged in `backend`:
ranker down → propensity only; Postgres down → DynamoDB's precomputed list, then the warehouse.
Fixes: no NameError (products are cached at start-up), candidates are filtered by stock, per-stage
timings are true durations, an unknown customer is a 404, and every error is JSON; what is accepted
(strict types, ASCII ZIP codes, body, batch and URL limits) is in inputs.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from services.features.pair import pair_matrix, region_for_zip

from .backends import BackendUnavailableError, DynamoRecs, Postgres, Ranker, Settings, UnknownCustomerError, Warehouse
from .inputs import (
    MAX_CUSTOMER_ID,
    ApiError,
    RecommendRequest,
    UrlLimit,
    batch_requests,
    read_json,
    single_request,
)
from .tracing import RequestId, request_id

log = logging.getLogger("orchestrator")


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


class RecommendResponse(BaseModel):
    request_id: str
    customer_id: int
    zip_code: str
    region: str
    backend: str
    recommendations: list[Item]
    timings: dict[str, Any]


class Recommender:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.pg = Postgres(settings)
        self.dynamo = DynamoRecs(settings)
        self.warehouse = Warehouse(settings)
        self.ranker = Ranker(settings)
        self.products: dict[int, tuple] = {}
        self.pg_ok = False

    async def start(self) -> None:
        try:
            await self.pg.open()
            rows = await self.pg.products()
            self.pg_ok = True
        except BackendUnavailableError as e:
            log.warning("postgres unavailable at start-up (%s); caching products from the warehouse", e)
            try:
                rows = await run_in_threadpool(self.warehouse.products)
            except BackendUnavailableError as e2:
                log.warning("warehouse unavailable too (%s); no product cache", e2)
                rows = []
        self.products = {int(r[0]): tuple(r) for r in rows}
        self._arrays()

    def _arrays(self) -> None:
        ids = sorted(self.products)
        self.p_ids = np.array(ids, dtype=np.int64)
        self.p_price = np.array([float(self.products[p][5] or 0) for p in ids], dtype=np.float32)
        self.p_cat = np.array([self.products[p][2] for p in ids])

    async def stop(self) -> None:
        await self.pg.close()

    async def health(self) -> tuple[int, dict]:
        """Each backend asked now: ok when Postgres answers and the model is loaded, degraded when only a
        fallback can serve (or ranking is off), down (503) when nothing can. The warehouse, the costly last
        resort, is asked only when Postgres and DynamoDB both fail."""
        pg, dynamo = await asyncio.gather(self.pg.ping(), run_in_threadpool(self.dynamo.ping))
        wh = "not checked" if (pg or dynamo) else await run_in_threadpool(self.warehouse.ping)
        self.pg_ok = pg
        backends = {
            "postgres": _up(pg),
            "dynamodb": _up(dynamo) if self.dynamo.table else "not configured",
            "warehouse": wh if isinstance(wh, str) else _up(wh),
        }
        serving = "postgres" if pg else "dynamodb" if dynamo else "warehouse" if wh is True else None
        status = "down" if serving is None else "ok" if pg and self.ranker.loaded else "degraded"
        return (503 if serving is None else 200), {
            "status": status,
            "backend": serving,
            "backends": backends,
            "products_cached": len(self.products),
            "model_loaded": self.ranker.loaded,
            "ranker_mode": self.s.ranker_mode,
        }

    async def recommend(self, req: RecommendRequest) -> dict:
        t_start = time.perf_counter()
        region = region_for_zip(req.zip_code)
        timings: dict[str, Any] = {}
        try:
            items, backend = await self._postgres_path(req, region, timings)
            self.pg_ok = True
        except BackendUnavailableError as e:
            self.pg_ok = False
            log.warning("request %s: postgres unavailable, falling back: %s", request_id(), e)
            timings["postgres_ok"] = False
            items, backend = await run_in_threadpool(self._fallback, req, timings)
        timings["total_ms"] = round((time.perf_counter() - t_start) * 1000, 3)
        return {
            "request_id": request_id(),
            "customer_id": req.customer_id,
            "zip_code": req.zip_code,
            "region": region,
            "backend": backend,
            "recommendations": items,
            "timings": {k: round(v, 3) if isinstance(v, float) else v for k, v in timings.items()},
        }

    async def _postgres_path(self, req: RecommendRequest, region: str, timings: dict) -> tuple[list[dict], str]:
        t0 = time.perf_counter()
        features, propensity, (ids, qty, days), fetch_t = await self.pg.fetch(req.customer_id, region)
        timings.update(fetch_t)
        timings["fetch_ms"] = (time.perf_counter() - t0) * 1000
        if features is None:
            raise UnknownCustomerError(req.customer_id)
        t0 = time.perf_counter()
        top = sorted(propensity, key=lambda c: (-propensity[c], c))[: self.s.top_categories]
        # candidates: in-stock products (the query's filter) that are known and in a top category
        pos = np.searchsorted(self.p_ids, ids)
        pos = np.clip(pos, 0, max(len(self.p_ids) - 1, 0))
        known = (self.p_ids[pos] == ids) if len(self.p_ids) else np.zeros(len(ids), dtype=bool)
        keep = known & np.isin(self.p_cat[pos], top)
        pos, ids, qty, days = pos[keep], ids[keep], qty[keep], days[keep]
        timings["candidates"] = len(ids)
        if not len(ids):
            timings["pair_features_ms"] = (time.perf_counter() - t0) * 1000
            return [], "postgres"
        x = pair_matrix(features, propensity, self.p_cat[pos], self.p_price[pos], days, qty)
        prop = x[:, 0]
        timings["pair_features_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        backend = "postgres"
        try:
            if self.ranker.booster is not None:
                model = self.ranker.score(x)
            else:
                model = await run_in_threadpool(self.ranker.score, x)
            score = self.s.blend * model + (1 - self.s.blend) * prop
            timings["model_ok"] = True
        except BackendUnavailableError as e:
            score = prop.copy()
            backend = "postgres+propensity"
            timings["model_ok"] = False
            log.warning("request %s: ranker unavailable, ranking by propensity: %s", request_id(), e)
        timings["model_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        n = min(req.top_n, len(ids))
        order = np.lexsort((ids, -score))[:n]  # score desc, then product id: deterministic
        items = []
        for rank, j in enumerate(order, start=1):
            pid = int(ids[j])
            p = self.products[pid]
            items.append(
                {
                    "rank": rank,
                    "product_id": pid,
                    "product_name": p[1],
                    "category_id": p[2],
                    "category": p[4],
                    "department": p[3],
                    "price": float(p[5]) if p[5] is not None else None,
                    "score": round(float(score[j]), 6),
                    "in_stock_qty": int(qty[j]),
                    "est_delivery_days": int(days[j]),
                }
            )
        timings["rank_ms"] = (time.perf_counter() - t0) * 1000
        return items, backend

    def _fallback(self, req: RecommendRequest, timings: dict) -> tuple[list[dict], str]:
        for name, source in (("dynamodb", self.dynamo), ("warehouse", self.warehouse)):
            if name == "dynamodb" and not self.dynamo.table:
                continue  # not configured (in SPCS: no AWS credentials, no egress to AWS)
            t0 = time.perf_counter()
            try:
                ids = source.get(req.customer_id)
            except BackendUnavailableError as e:
                timings[f"{name}_ok"] = False
                log.warning("request %s: %s unavailable: %s", request_id(), name, e)
                continue
            finally:
                timings[f"{name}_ms"] = (time.perf_counter() - t0) * 1000
            if ids is None:
                raise UnknownCustomerError(req.customer_id)
            items = []
            for rank, pid in enumerate(ids[: req.top_n], start=1):
                p = self.products.get(pid)
                items.append(
                    {
                        "rank": rank,
                        "product_id": pid,
                        "product_name": p[1] if p else f"product {pid}",
                        "category_id": p[2] if p else "",
                        "category": p[4] if p else None,
                        "department": p[3] if p else None,
                        "price": float(p[5]) if p and p[5] is not None else None,
                        "score": round(1.0 / rank, 6),
                        "in_stock_qty": None,
                        "est_delivery_days": None,
                    }
                )
            return items, name
        raise BackendUnavailableError("no backend available (postgres, dynamodb, warehouse)")


def _up(ok: bool) -> str:
    return "up" if ok else "down"


def server_error(status: int, message: str) -> ApiError:
    """A 5xx for the client: what happened in general and the request id to quote; the cause is logged."""
    rid = request_id()
    return ApiError(status, f"{message} (request id {rid})", extra={"request_id": rid})


def _install_error_handlers(app: FastAPI) -> None:
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


async def _service_function(body: dict, run, concurrency: int) -> dict:
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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    rec = Recommender(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await rec.start()
        yield
        await rec.stop()

    app = FastAPI(title="retail recommendations", version="1.0.0", lifespan=lifespan)
    app.state.recommender = rec
    app.add_middleware(UrlLimit)
    app.add_middleware(RequestId)  # outermost: every response, a 414 too, carries the id
    _install_error_handlers(app)
    batch_concurrency = max(1, settings.pg_pool_size)

    async def run(req: RecommendRequest) -> dict:
        try:
            return await rec.recommend(req)
        except UnknownCustomerError:
            raise ApiError(404, f"customer {req.customer_id} not found", "customer_id") from None
        except BackendUnavailableError as e:
            log.error("request %s: no backend can serve: %s", request_id(), e)
            raise server_error(503, "no backend can serve this request now") from None

    # The documented model is RecommendResponse; the body is built to it and sent without a second
    # validation pass (it is on the hot path).
    @app.get(
        "/recommend",
        response_class=JSONResponse,
        responses={200: {"model": RecommendResponse}, 404: {}, 422: {}, 503: {}},
    )
    async def recommend_get(
        customer_id: int = Query(ge=1, le=MAX_CUSTOMER_ID),
        zip_code: str = Query(pattern=r"^[0-9]{5}$"),
        top_n: int = Query(default=5, ge=1, le=50),
    ):
        return JSONResponse(await run(RecommendRequest(customer_id=customer_id, zip_code=zip_code, top_n=top_n)))

    @app.post("/recommend", responses={404: {}, 413: {}, 415: {}, 422: {}, 503: {}})
    async def recommend_post(request: Request):
        body = await read_json(request)
        if isinstance(body, dict) and "data" in body:
            return await _service_function(body, run, batch_concurrency)
        return await run(single_request(body))

    @app.get("/health", responses={503: {}})
    async def health() -> JSONResponse:
        status, body = await rec.health()
        return JSONResponse(body, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    return app
