"""The warehouse fallback keeps one Snowflake session per worker (opened lazily, reused, reopened after
an error), runs at most `warehouse_concurrency` queries at a time and serves a customer's answer from
its cache within `warehouse_cache_seconds`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.api.orchestrator.orchestrator.backends import BackendUnavailableError, Settings
from services.api.orchestrator.orchestrator.warehouse import Warehouse


class FakeConnector:
    """Stands in for snowflake.connector.connect: counts sessions, queries and queries at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.connects, self.queries, self.closed = 0, [], 0
        self.delay, self.now, self.most = delay, 0, 0
        self.fail_next = False
        self.lock = threading.Lock()

    def connect(self) -> FakeConnector.Session:
        self.connects += 1
        return FakeConnector.Session(self)

    class Session:
        def __init__(self, fake: FakeConnector) -> None:
            self.fake = fake

        def cursor(self) -> FakeConnector.Cursor:
            return FakeConnector.Cursor(self.fake)

        def close(self) -> None:
            self.fake.closed += 1

    class Cursor:
        def __init__(self, fake: FakeConnector) -> None:
            self.fake = fake

        def execute(self, query: str, params: tuple = ()) -> None:
            f = self.fake
            with f.lock:
                f.now += 1
                f.most = max(f.most, f.now)
                f.queries.append(params)
            time.sleep(f.delay)
            with f.lock:
                f.now -= 1
            if f.fail_next:
                f.fail_next = False
                raise OSError("connection reset by peer")
            self.customer = params[1] if params else None

        def fetchall(self) -> list[tuple]:
            return [(self.customer * 10 + 1, 5), (self.customer * 10 + 2, None)]


def warehouse(fake: FakeConnector, **over) -> Warehouse:
    wh = Warehouse(Settings(snowflake_database="DB", **over))
    wh._connect = fake.connect
    return wh


def test_fallback_calls_share_one_lazily_opened_session():
    fake = FakeConnector()
    wh = warehouse(fake)
    assert fake.connects == 0  # nothing opened before the first fallback
    answers = [wh.get(cid, "EAST") for cid in range(1, 21)]
    assert fake.connects == 1 and len(fake.queries) == 20
    assert answers[0] == [(11, 5), (12, None)]


def test_an_error_closes_the_session_and_the_next_call_opens_a_new_one():
    fake = FakeConnector()
    wh = warehouse(fake)
    wh.get(1, "EAST")
    fake.fail_next = True
    with pytest.raises(BackendUnavailableError, match="connection reset"):
        wh.get(2, "EAST")
    assert fake.closed == 1
    assert wh.get(3, "EAST") == [(31, 5), (32, None)]
    assert fake.connects == 2


def test_at_most_two_queries_at_a_time():
    fake = FakeConnector(delay=0.05)
    wh = warehouse(fake, warehouse_concurrency=2)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: wh.get(cid, "EAST"), range(1, 17)))
    assert fake.most == 2 and len(fake.queries) == 16 and fake.connects == 1


def test_a_customers_answer_is_served_from_the_cache_within_the_ttl():
    fake = FakeConnector()
    wh = warehouse(fake, warehouse_cache_seconds=0.2)
    first = wh.get(7, "EAST")
    assert wh.get(7, "EAST") == first and len(fake.queries) == 1  # cached
    wh.get(7, "WEST")  # another region is another answer
    assert len(fake.queries) == 2
    time.sleep(0.25)
    assert wh.get(7, "EAST") == first and len(fake.queries) == 3  # expired: asked again
