"""The recommendation API on loopback against the stand-ins: latency percentiles and req/s."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from scripts import standins
from scripts.api import serve
from scripts.recommendations.loads import run_all
from scripts.recommendations.target import local_target


def _load(url: str, ids: list[int], requests: int, concurrency: int) -> dict[str, float]:
    """`concurrency` client threads with keep-alive connections share `requests` GETs."""
    server: list[float] = []
    client: list[float] = []
    backends: dict[str, int] = {}
    lock = threading.Lock()
    local = threading.local()

    def one(i: int) -> None:
        c = getattr(local, "c", None) or httpx.Client(base_url=url, timeout=30)
        local.c = c
        t0 = time.perf_counter()
        body = c.get("/recommend", params={"customer_id": ids[i % len(ids)], "zip_code": "10001"}).json()
        elapsed = (time.perf_counter() - t0) * 1000
        with lock:
            client.append(elapsed)
            server.append(body["timings"]["total_ms"])
            backends[body["backend"]] = backends.get(body["backend"], 0) + 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(min(300, requests))))  # warm-up, not measured
        server.clear()
        client.clear()
        backends.clear()
        t0 = time.perf_counter()
        list(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - t0

    def pct(xs: list[float], q: int) -> float:
        return statistics.quantiles(xs, n=100, method="inclusive")[q - 1]

    return {
        "backend": ", ".join(f"{k} x{v}" for k, v in backends.items()),
        "server total_ms p50": pct(server, 50),
        "server total_ms p95": pct(server, 95),
        "server total_ms p99": pct(server, 99),
        "client ms p50": pct(client, 50),
        "client ms p95": pct(client, 95),
        "client ms p99": pct(client, 99),
        "req/s": requests / elapsed,
    }


def bench_api(requests: int = 5000, concurrency: int = 32) -> dict[str, dict]:
    """The orchestrator on loopback (uvicorn, 1 worker) against the stand-ins: the Postgres path and the
    DynamoDB fallback path (Postgres pointed at a closed port), same load, same run.
    Goal: server p50 <= 5 ms, p99 <= 20 ms, >= 200 req/s on 2 cores (the reference: 77.7 ms, one sample)."""
    standins.start()
    t = local_target("dev", database=f"BENCH_API_{int(time.time())}", pg_schema="bench_api")
    t.scale = t.scale.updated(customers=2000)
    run_all(t)
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT CUSTOMER_ID FROM {t.q('CUSTOMER_360')} ORDER BY CUSTOMER_ID")
        ids = [int(r[0]) for r in cur.fetchall()]
    out = {}
    for label, env in (
        ("Postgres path", serve.api_env(t)),
        ("fallback path (Postgres down → DynamoDB)", {**serve.api_env(t), "PG_PORT": str(standins.free_port())}),
    ):
        api = serve.start("orchestrator", env, workers=1)
        try:
            out[f"API, 1,000 requests one at a time: {label}"] = _load(api.url, ids, 1000, 1)
            out[f"API, {requests:,} requests at concurrency {concurrency}: {label}"] = _load(
                api.url, ids, requests, concurrency
            )
        finally:
            api.stop()
    return out
