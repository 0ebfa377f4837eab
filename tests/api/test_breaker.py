"""While Postgres is down, requests go straight to a fallback instead of each waiting for a pooled
connection first; one request tries again after `pg_retry_seconds`, and health always asks."""

from __future__ import annotations

import asyncio

import pytest

from services.orchestrator.orchestrator import backends
from services.orchestrator.orchestrator.backends import BackendUnavailableError, Postgres, Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def down(monkeypatch):
    """A Postgres client whose every attempt fails, counting the attempts, on a clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(backends.time, "monotonic", clock.monotonic)
    pg = Postgres(Settings(pg_port=1, pg_retry_seconds=2.0))
    attempts = []
    up = {"value": False}

    async def attempt(query, params, as_dict):
        attempts.append(query)
        if not up["value"]:
            raise BackendUnavailableError("postgres: connection refused")
        return [(1,)]

    monkeypatch.setattr(pg, "_attempt", attempt)
    return pg, attempts, clock, up


def _run(coro):
    """Run on a private loop: asyncio.run would reset the thread's current loop, which the Pulumi mocks
    of other test modules hold on to."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _requests(pg: Postgres, n: int) -> int:
    async def run() -> int:
        failed = 0
        for _ in range(n):
            try:
                await pg._one(pg.q_ping, ())
            except BackendUnavailableError:
                failed += 1
        return failed

    return _run(run())


def test_requests_skip_postgres_while_it_is_down_and_one_tries_again_later(down):
    pg, attempts, clock, up = down
    assert _requests(pg, 20) == 20
    assert len(attempts) == 1  # the first request tried; the next 19 went straight to the fallback
    clock.now += 2.5
    assert _requests(pg, 5) == 5
    assert len(attempts) == 2  # one retry after the window, then skipping again
    up["value"] = True
    clock.now += 2.5
    assert _requests(pg, 5) == 0 and len(attempts) == 7  # back: every request reads Postgres again


def test_health_always_asks_postgres(down):
    pg, attempts, _clock, up = down
    _requests(pg, 3)
    assert _run(pg.ping()) is False and len(attempts) == 2
    up["value"] = True
    assert _run(pg.ping()) is True
    assert _requests(pg, 2) == 0  # a successful probe ends the skipping at once


def test_concurrent_requests_all_read_postgres_while_it_is_up(down):
    """Requests in flight together are not skipped: skipping starts only after a failure."""
    pg, attempts, _clock, up = down
    up["value"] = True
    release = asyncio.Event()

    async def slow(query, params, as_dict):
        attempts.append(query)
        await release.wait()  # every request is in flight before any answers
        return [(1,)]

    pg._attempt = slow

    async def run() -> list:
        tasks = [asyncio.ensure_future(pg._one(pg.q_ping, ())) for _ in range(16)]
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    answers = _run(run())
    assert answers == [[(1,)]] * 16 and len(attempts) == 16


def test_concurrent_requests_while_down_send_one_retry(down):
    pg, attempts, clock, _up = down
    assert _requests(pg, 1) == 1
    clock.now += 2.5
    release = asyncio.Event()

    async def slow_failure(query, params, as_dict):
        attempts.append(query)
        await release.wait()
        raise BackendUnavailableError("postgres: connection refused")

    pg._attempt = slow_failure

    async def run() -> list:
        tasks = [asyncio.ensure_future(pg._one(pg.q_ping, ())) for _ in range(8)]
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    answers = _run(run())
    assert all(isinstance(a, BackendUnavailableError) for a in answers)
    assert len(attempts) == 2  # the first failure, then one retry for the eight concurrent requests
