"""The in-flight cap: beyond MAX_IN_FLIGHT requests to /recommend in flight, the next is answered 503
with Retry-After at once, while /health still answers."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from services.api.orchestrator.orchestrator.app import create_app
from services.api.orchestrator.orchestrator.shedding import in_flight_limit
from tests.api.conftest import settings_for

SLOW = 1.0


def test_requests_beyond_the_cap_are_answered_503_at_once(env):
    app = create_app(settings_for(env, max_in_flight=2, retry_after_seconds=3))
    rec = app.state.recommender
    started = threading.Semaphore(0)

    async def slow(req):
        """A planted slow backend: each request holds its slot for SLOW seconds."""
        started.release()
        await asyncio.sleep(SLOW)
        return {"customer_id": req.customer_id, "backend": "planted"}

    rec.recommend = slow
    params = {"customer_id": 1, "zip_code": "10001"}

    def get(c: TestClient):
        t0 = time.perf_counter()
        r = c.get("/recommend", params=params)
        return r, time.perf_counter() - t0

    with TestClient(app, raise_server_exceptions=False) as c, ThreadPoolExecutor(6) as pool:
        holders = [pool.submit(get, c) for _ in range(2)]
        assert started.acquire(timeout=5) and started.acquire(timeout=5)  # both slots taken
        shed = [pool.submit(get, c) for _ in range(4)]
        health = c.get("/health")
        answers = [f.result(timeout=10) for f in shed]
        held = [f.result(timeout=10) for f in holders]
        assert [r.status_code for r, _ in held] == [200, 200]
        assert [r.status_code for r, _ in answers] == [503] * 4
        assert all(r.headers["Retry-After"] == "3" and "request_id" in r.json() for r, _ in answers)
        assert max(t for _, t in answers) < SLOW / 2  # not queued behind the slow ones
        assert health.status_code in (200, 503) and "postgres" in health.text  # /health is not capped
        assert c.get("/recommend", params=params).status_code == 200  # slots free again


def test_the_cap_defaults_to_four_requests_per_pooled_connection():
    assert in_flight_limit(0, 6) == 24 and in_flight_limit(0, 0) == 4 and in_flight_limit(10, 6) == 10
