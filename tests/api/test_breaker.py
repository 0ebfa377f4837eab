"""While Postgres is down, requests go straight to a fallback instead of each waiting for a pooled
connection first; a background task pings it every `pg_retry_seconds`, requests read it again once a
ping answers, and /health always asks."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from services.api.orchestrator.orchestrator.backends import (
    BackendUnavailableError,
    OverloadedError,
    Postgres,
    Settings,
)

RETRY = 0.05


@pytest.fixture
def down(monkeypatch):
    """A Postgres client whose every attempt fails until `up` says otherwise, counting the attempts."""
    pg = Postgres(Settings(pg_port=1, pg_retry_seconds=RETRY))
    attempts = []
    up = {"value": False}

    async def attempt(query, params, as_dict, optional=False):
        attempts.append(query)
        if not up["value"]:
            raise BackendUnavailableError("postgres: connection refused")
        return [(1,)]

    monkeypatch.setattr(pg, "_attempt", attempt)
    return pg, attempts, up


def _run(coro):
    """Run on a private loop: asyncio.run would reset the thread's current loop, which the Pulumi mocks
    of other test modules hold on to."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _requests(pg: Postgres, n: int) -> int:
    failed = 0
    for _ in range(n):
        try:
            await pg._one(pg.q_ping, ())
        except BackendUnavailableError:
            failed += 1
    return failed


async def until(condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / (RETRY / 5))):
        if condition():
            return
        await asyncio.sleep(RETRY / 5)
    raise AssertionError("not within the timeout")


def test_requests_skip_postgres_while_it_is_down_and_a_background_ping_brings_it_back(down):
    pg, attempts, up = down

    async def scenario() -> None:
        assert await _requests(pg, 20) == 20
        assert len(attempts) == 1  # the first request tried; the next 19 went straight to the fallback
        await until(lambda: len(attempts) >= 3)  # two background pings, none by a request
        pinged = len(attempts)
        assert await _requests(pg, 5) == 5 and len(attempts) == pinged
        up["value"] = True
        await until(lambda: not pg.down)  # the next ping answers
        pinged = len(attempts)
        assert await _requests(pg, 5) == 0 and len(attempts) == pinged + 5  # back: every request reads it
        await asyncio.sleep(RETRY * 2)
        assert pg.prober is not None and pg.prober.done() and len(attempts) == pinged + 5  # pinging stopped

    _run(scenario())


def test_health_always_asks_postgres_and_a_successful_probe_ends_the_skipping(down):
    pg, attempts, up = down

    async def scenario() -> None:
        await _requests(pg, 3)
        assert await pg.ping() is False and len(attempts) == 2
        up["value"] = True
        assert await pg.ping() is True
        assert await _requests(pg, 2) == 0
        await pg.close()
        assert pg.prober.done()

    _run(scenario())


def test_concurrent_requests_all_read_postgres_while_it_is_up(down):
    """Requests in flight together are not skipped: skipping starts only after a failure."""
    pg, attempts, up = down
    up["value"] = True
    release = asyncio.Event()

    async def slow(query, params, as_dict, optional=False):
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


def test_a_pool_timeout_is_not_waited_for_twice(monkeypatch):
    """No pooled connection within the timeout means down: the restart retry would wait as long again."""
    from psycopg_pool import PoolTimeout

    pg = Postgres(Settings(pg_port=1))
    waits = []

    class Pool:
        def connection(self, timeout):
            waits.append(timeout)
            raise PoolTimeout("couldn't get a connection after 1.00 sec")

    pg.pool = Pool()
    with pytest.raises(BackendUnavailableError, match="PoolTimeout"):
        _run(pg._attempt(pg.q_ping, (), False))
    assert waits == [1.0]


def test_a_pool_timeout_with_every_connection_lent_sheds_the_request_and_keeps_the_breaker_closed():
    """Every connection busy is load, not an outage: OverloadedError (a 503 with Retry-After), not
    waited for twice, and requests keep reading Postgres."""
    from psycopg_pool import PoolTimeout

    pg = Postgres(Settings(pg_port=1, pg_pool_size=2))
    waits = []

    class Pool:
        def connection(self, timeout):
            waits.append(timeout)
            raise PoolTimeout("couldn't get a connection after 1.00 sec")

    pg.pool = Pool()
    pg.lent = 2  # both connections held by requests in flight
    with pytest.raises(OverloadedError, match="PoolTimeout"):
        _run(pg._one(pg.q_ping, ()))
    assert waits == [1.0] and pg.down is False and pg.prober is None
    pg.lent = 1  # a connection free to open, yet none within the timeout: the pool cannot connect

    async def refused() -> None:
        with pytest.raises(BackendUnavailableError):
            await pg._one(pg.q_ping, ())
        assert pg.down is True  # the breaker opened
        pg.prober.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pg.prober

    _run(refused())
