"""Load is shed, not failed over: with every pooled connection busy the API answers 503 with
Retry-After at once, the breaker stays closed and no fallback is asked."""

from __future__ import annotations

import asyncio
import threading

from fastapi.testclient import TestClient

from services.api.orchestrator.orchestrator.app import create_app
from tests.api.conftest import customers, settings_for


def test_an_exhausted_pool_answers_503_with_retry_after_without_failover(env, target):
    app = create_app(settings_for(env, pg_pool_size=1, retry_after_seconds=2))
    rec = app.state.recommender
    (cid, zip_code), *_ = customers(target, 1)
    params = {"customer_id": cid, "zip_code": zip_code}
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/recommend", params=params).json()["backend"] == "postgres"
        asked = []
        rec.dynamo.get = lambda *a: asked.append(("dynamodb", a))
        rec.warehouse.get = lambda *a: asked.append(("warehouse", a))
        held, release = threading.Event(), threading.Event()

        async def hold() -> None:
            """The pool's one connection, held by something else in flight."""
            async with rec.pg.connection(timeout=3):
                held.set()
                while not release.is_set():
                    await asyncio.sleep(0.01)

        task = c.portal.start_task_soon(hold)
        try:
            assert held.wait(5)
            r = c.get("/recommend", params=params)
        finally:
            release.set()
            task.result(timeout=5)
        assert r.status_code == 503 and r.headers["Retry-After"] == "2", (r.status_code, r.headers)
        assert "request_id" in r.json()
        assert rec.pg.down is False and asked == []  # the breaker is closed; no fallback was asked
        assert c.get("/recommend", params=params).json()["backend"] == "postgres"
