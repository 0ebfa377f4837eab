"""The recommendation API: the orchestrator of the real-time recommendations.

GET/POST /recommend: zip → region; the customer's answer as the sync precomputed it when it holds
for the request (precompute.py; the same bytes the rest of this path gives). Otherwise the full
path: the customer's features, propensity, product history and
retrieved candidates from Postgres in one statement; the catalogue and each region's in-stock
inventory with popularity from memory (shelf.py: reloaded when a sync swapped those tables);
candidates = the retrieval's, in stock in the region, and the best sellers of the customer's top
propensity categories (services/features/candidates.py, as in training); vectorized pair features
(services/features, shared with training); the ranking model's score; top N, each with the features
that moved its score most (`why`). Fallbacks are flagged in `backend`: ranker down → propensity only;
Postgres down → DynamoDB's precomputed list, then the warehouse's, without what is out of stock in
the request's region when that is known.
An unknown customer is a 404 and every error is JSON; what is accepted (strict types, ASCII ZIP
codes, body, batch and URL limits) is in inputs.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, TypeVar

import numpy as np
import orjson
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from services.features.pair import History, pair_matrix, region_for_zip

from .backends import (
    PRECOMPUTED_TOP_N,
    BackendUnavailableError,
    DynamoRecs,
    MissingTableError,
    OverloadedError,
    Postgres,
    Settings,
    UnknownCustomerError,
)
from .fingerprint import answered_by
from .inputs import MAX_CUSTOMER_ID, ApiError, RecommendRequest, UrlLimit, read_json, single_request
from .items import item, reasons
from .productmasks import ProductMasks
from .ranking import Ranker
from .shedding import InFlightCap, in_flight_limit
from .shelf import UNKNOWN, Shelf, Shelves, Versions
from .tracing import RequestId, request_id
from .warehouse import Warehouse
from .web import (
    FastJSON,
    RecommendResponse,
    install_error_handlers,
    overloaded,
    server_error,
    service_function,
)

log = logging.getLogger("orchestrator")
T = TypeVar("T")


class Recommender:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.pg = Postgres(settings)
        self.dynamo = DynamoRecs(settings)
        self.warehouse = Warehouse(settings)
        self.ranker = Ranker(settings)
        self.masks = ProductMasks()  # the product features' part of scoring, per shelf
        self.shelves = Shelves(self._load_shelf, settings.shelf_max_age_seconds, settings.stock_fresh_seconds)
        self.pg_ok = False
        self.precomputed_top_n = min(settings.precomputed_top_n, PRECOMPUTED_TOP_N)  # what a row holds at most

    async def _load_shelf(self) -> Shelf:
        shelf = Shelf.build(*await self.pg.shared())
        if not shelf.has_candidates:
            log.warning("serving.customer_candidates does not exist yet (run the sync): ranking the picks only")
        return shelf

    async def start(self) -> None:
        """Open the pool and load the shelf; without Postgres, the products from the warehouse (for the
        fallbacks' names) and no stock: the first request that reaches Postgres loads the shelf."""
        try:
            await self.pg.open()
            await self.shelves.reload()
            self.pg_ok = True
        except (BackendUnavailableError, OverloadedError) as e:
            log.warning("postgres unavailable at start-up (%s); caching products from the warehouse", e)
            try:
                rows = await run_in_threadpool(self.warehouse.products)
            except BackendUnavailableError as e2:
                log.warning("warehouse unavailable too (%s); no product cache", e2)
                rows = []
            self.shelves.shelf = Shelf.build(UNKNOWN, rows)

    async def stop(self) -> None:
        await self.pg.close()
        await run_in_threadpool(self.warehouse.close)

    async def health(self) -> tuple[int, dict]:
        """Each backend asked now: ok when Postgres answers and the model is loaded, degraded when only a
        fallback can serve (or ranking is off), down (503) when nothing can. The warehouse, the costly last
        resort, is asked only when Postgres and DynamoDB both fail."""
        pg, dynamo = await asyncio.gather(self.pg.ping(), run_in_threadpool(self.dynamo.ping))
        self.ranker.poll()  # a model published since start-up: loaded on a thread, never waited for
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
            "products_cached": len(self.shelves.shelf.products),
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
            items, backend = await run_in_threadpool(self._fallback, req, region, timings)
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

    async def _postgres_path(self, req: RecommendRequest, region: str, timings: dict) -> tuple[Any, str]:
        """The customer's precomputed ranking when it holds for this request (backends.q_ranked), else
        the full path; both answer the same bytes (the precomputed items are the full path's own)."""
        self.ranker.poll()  # a hit never reaches the model: a newly published one is still picked up
        model = self.ranker.model
        if model.booster is not None and req.top_n <= self.precomputed_top_n and self.shelves.shelf.has_rankings:
            t0 = time.perf_counter()
            try:
                ranked, versions = await self.pg.ranked(req.customer_id, region, answered_by(model.sha256), req.top_n)
            except MissingTableError:  # dropped since the shelf saw it: the full path, Postgres is up
                ranked, versions = None, ()
            timings["precomputed"] = ranked is not None
            if ranked is not None:
                await self.shelves.current(versions)  # confirms the stock the fallbacks filter by
                timings["fetch_ms"] = (time.perf_counter() - t0) * 1000
                return orjson.Fragment("[" + ",".join(ranked) + "]"), "postgres"
            timings["precomputed_miss_ms"] = (time.perf_counter() - t0) * 1000
        items, backend, _ = await self.rank(req.customer_id, region, req.top_n, timings)
        return items, backend

    async def rank(self, customer_id: int, region: str, top_n: int, timings: dict) -> tuple[list[dict], str, Versions]:
        """The full path: the customer's rows, their candidates in the region, pair features, the model's
        scores, top N with `why`; and the versions of the tables it read (precompute.py records them)."""
        t0 = time.perf_counter()
        got = await self.pg.customer(customer_id, self.shelves.shelf.has_candidates)
        timings["fetch_ms"] = (time.perf_counter() - t0) * 1000
        if not got.known:
            raise UnknownCustomerError(customer_id)
        t0 = time.perf_counter()
        loads = self.shelves.loads
        shelf = await self.shelves.current(got.versions)  # reloaded first if a sync swapped a table
        timings["shelf_ms"] = (time.perf_counter() - t0) * 1000
        timings["shelf_reloaded"] = self.shelves.loads != loads
        t0 = time.perf_counter()
        history = History.of_columns(shelf.catalog, *got.history)
        stock, at, taste = shelf.candidates(region, got.candidates, got.propensity, history)  # as trained
        pos, ids, qty, days = stock.pos[at], stock.ids[at], stock.qty[at], stock.days[at]
        timings["candidates"] = len(ids)
        if not len(ids):
            timings["pair_features_ms"] = (time.perf_counter() - t0) * 1000
            return [], "postgres", got.versions
        x = pair_matrix(
            shelf.catalog, pos, qty, days, stock.popularity[at], got.propensity, history, stock.taste, taste
        )
        timings["pair_features_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        n = min(top_n, len(ids))
        try:  # the n best candidates by score desc, then product id
            order, score = await self._model(lambda r: self.masks.top(self.ranker, shelf, region, at, r, ids, n), x)
            backend = "postgres"
            timings["model_ok"] = True
        except BackendUnavailableError as e:
            order = np.lexsort((ids, -x[:, 0]))[:n]
            score, backend = x[order, 0], "postgres+propensity"
            timings["model_ok"] = False
            log.warning("request %s: ranker unavailable, ranking by propensity: %s", request_id(), e)
        timings["model_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        why = await self._why(x[order], backend)
        items = [
            item(r, int(ids[j]), shelf.products[int(ids[j])], s, qty[j], days[j], w)
            for r, (j, s, w) in enumerate(zip(order.tolist(), score.tolist(), why, strict=True), start=1)
        ]
        timings["rank_ms"] = (time.perf_counter() - t0) * 1000
        return items, backend, got.versions

    async def _model(self, fn: Callable[[np.ndarray], T], x: np.ndarray) -> T:
        """In-process scoring stays on the event loop (it is fast); HTTP goes to a thread."""
        return fn(x) if self.ranker.booster is not None else await run_in_threadpool(fn, x)

    async def _why(self, x: np.ndarray, backend: str) -> list[list[dict]]:
        """The model's contributions for the listed items; propensity alone when the ranker is down."""
        if backend == "postgres":
            try:
                names, contribs = await self._model(self.ranker.explain, x)
                return reasons(names, contribs, x)
            except BackendUnavailableError as e:
                log.warning("request %s: ranker could not explain: %s", request_id(), e)
        return [
            [{"feature": "propensity", "value": round(float(p), 4), "contribution": round(float(p), 4)}]
            for p in x[:, 0]
        ]

    def _fallback(self, req: RecommendRequest, region: str, timings: dict) -> tuple[list[dict], str]:
        """The precomputed top N (in stock in the customer's home region), without what is out of stock
        in the request's region: the warehouse knows current stock; for DynamoDB, the shelf's stock if
        Postgres confirmed it current recently enough."""
        for name, source in (("dynamodb", self.dynamo), ("warehouse", self.warehouse)):
            if name == "dynamodb" and not self.dynamo.table:
                continue  # not configured (in SPCS: no AWS credentials, no egress to AWS)
            t0 = time.perf_counter()
            try:
                if name == "warehouse":
                    listed = source.get(req.customer_id, region)
                else:
                    ids = source.get(req.customer_id)
                    qty = None if ids is None else self.shelves.stock(region, ids)
                    listed = None if ids is None else list(zip(ids, qty or [None] * len(ids), strict=True))
            except BackendUnavailableError as e:
                timings[f"{name}_ok"] = False
                log.warning("request %s: %s unavailable: %s", request_id(), name, e)
                continue
            finally:
                timings[f"{name}_ms"] = (time.perf_counter() - t0) * 1000
            if listed is None:
                raise UnknownCustomerError(req.customer_id)
            kept = [(p, q) for p, q in listed if q is None or q > 0]
            timings["dropped_out_of_stock"] = len(listed) - len(kept)
            return [
                item(r, p, self.shelves.shelf.products.get(p), 1.0 / r, q, None, [])
                for r, (p, q) in enumerate(kept[: req.top_n], start=1)
            ], name
        raise BackendUnavailableError("no backend available (postgres, dynamodb, warehouse)")


def _up(ok: bool) -> str:
    return "up" if ok else "down"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    rec = Recommender(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await rec.start()
        # Start-up's ~200,000 objects (numpy, xgboost, the shelf) live for good: frozen, a full garbage
        # collection skips them instead of stalling a request for ~100 ms.
        gc.collect()
        gc.freeze()
        yield
        await rec.stop()

    app = FastAPI(title="retail recommendations", version="1.0.0", lifespan=lifespan)
    app.state.recommender = rec
    app.add_middleware(UrlLimit)
    cap = in_flight_limit(settings.max_in_flight, settings.pg_pool_size)
    app.add_middleware(InFlightCap, limit=cap, retry_after=settings.retry_after_seconds)
    app.add_middleware(RequestId)  # outermost: every response, a 414 too, carries the id
    install_error_handlers(app)
    batch_concurrency = max(1, settings.pg_pool_size)

    async def run(req: RecommendRequest) -> dict:
        try:
            return await rec.recommend(req)
        except UnknownCustomerError:
            raise ApiError(404, f"customer {req.customer_id} not found", "customer_id") from None
        except BackendUnavailableError as e:
            log.error("request %s: no backend can serve: %s", request_id(), e)
            raise server_error(503, "no backend can serve this request now") from None
        except OverloadedError as e:
            log.warning("request %s: shed: %s", request_id(), e)
            raise overloaded(settings.retry_after_seconds) from None

    # The documented model is RecommendResponse; the body is built to it and sent without a second
    # validation pass (it is on the hot path).
    @app.get(
        "/recommend",
        response_class=FastJSON,
        responses={200: {"model": RecommendResponse}, 404: {}, 422: {}, 503: {}},
    )
    async def recommend_get(
        customer_id: int = Query(ge=1, le=MAX_CUSTOMER_ID),
        zip_code: str = Query(pattern=r"^[0-9]{5}$"),
        top_n: int = Query(default=5, ge=1, le=50),
    ):
        return FastJSON(await run(RecommendRequest(customer_id=customer_id, zip_code=zip_code, top_n=top_n)))

    @app.post("/recommend", responses={404: {}, 413: {}, 415: {}, 422: {}, 503: {}})
    async def recommend_post(request: Request):
        body = await read_json(request)
        if isinstance(body, dict) and "data" in body:
            return FastJSON(await service_function(body, run, batch_concurrency))
        return FastJSON(await run(single_request(body)))

    @app.get("/health", responses={503: {}})
    async def health() -> JSONResponse:
        status, body = await rec.health()
        return JSONResponse(body, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    return app
