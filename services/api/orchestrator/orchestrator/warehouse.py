"""The last fallback: the warehouse's USER_PRODUCT_RECOMMENDATIONS (slow: the reference measured ~858 ms).

One Snowflake session per worker, opened on first use, reused, and reopened after an error: a login per
request would cost more than the query. At most `warehouse_concurrency` queries at a time share it, and
each customer's answer in a region is kept `warehouse_cache_seconds`, so an outage of Postgres does not
turn every request into a warehouse query.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .backends import BackendUnavailableError, Settings

T = TypeVar("T")
CACHE_ENTRIES = 10_000  # answers kept at most; expired ones go first


class Warehouse:
    """The precomputed lists and the product catalog from the warehouse, through one shared session."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.session: Any = None
        self.opening = threading.Lock()
        self.gate = threading.BoundedSemaphore(max(1, s.warehouse_concurrency))
        self.cache: dict[tuple[int, str], tuple[float, list[tuple[int, int | None]] | None]] = {}

    def _connect(self) -> Any:
        import snowflake.connector

        if self.s.snowflake_host:  # a local stand-in
            stand_in = {"user": "local", "password": "local", "account": "fakesnow", "protocol": "http"}
            where = {"host": self.s.snowflake_host, "port": self.s.snowflake_port, "schema": "GOLD"}
            timeouts = {"network_timeout": 5, "login_timeout": 5}
            return snowflake.connector.connect(**stand_in, **where, database=self.s.snowflake_database, **timeouts)
        with open("/snowflake/session/token") as f:  # SPCS injects the service's OAuth token here
            token = f.read()
        return snowflake.connector.connect(
            host=os.environ.get("SNOWFLAKE_HOST_INTERNAL", os.environ.get("SNOWFLAKE_HOST", "")),
            account=self.s.snowflake_account,
            authenticator="oauth",
            token=token,
            database=self.s.snowflake_database,
            warehouse=self.s.snowflake_warehouse,
            schema="GOLD",
        )

    def _query(self, run: Callable[[Any], T]) -> T:
        """`run(cursor)` on the worker's session, at most `warehouse_concurrency` at a time; an error
        closes the session, so the next call opens a new one (the token may have been rotated)."""
        with self.gate:
            with self.opening:
                if self.session is None:
                    self.session = self._connect()
                session = self.session
            try:
                return run(session.cursor())
            except Exception:
                with self.opening:
                    if self.session is session:
                        self.session = None
                with contextlib.suppress(Exception):
                    session.close()
                raise

    def close(self) -> None:
        with self.opening:
            session, self.session = self.session, None
        if session is not None:
            with contextlib.suppress(Exception):
                session.close()

    def ping(self) -> bool:
        if not self.s.snowflake_database:
            return False
        try:
            self._query(lambda cur: cur.execute("SELECT 1"))
            return True
        except Exception:
            return False

    def get(self, customer_id: int, region: str) -> list[tuple[int, int | None]] | None:
        """The precomputed list with each product's current stock in `region` (None: no stock row),
        from the cache within `warehouse_cache_seconds`."""
        if not self.s.snowflake_database:
            raise BackendUnavailableError("warehouse: no database configured")
        key, now = (customer_id, region), time.monotonic()
        hit = self.cache.get(key)
        if hit is not None and now - hit[0] < self.s.warehouse_cache_seconds:
            return hit[1]
        db = self.s.snowflake_database

        def run(cur: Any) -> list[tuple]:
            cur.execute(
                f'SELECT r.PRODUCT_ID, i.QTY_ON_HAND FROM "{db}"."GOLD"."USER_PRODUCT_RECOMMENDATIONS" r '
                f'LEFT JOIN "{db}"."BRONZE"."INVENTORY" i ON i.PRODUCT_ID = r.PRODUCT_ID AND i.REGION = %s '
                "WHERE r.USER_ID = %s ORDER BY r.RANK",
                (region, customer_id),
            )
            return cur.fetchall()

        try:
            rows = self._query(run)
        except Exception as e:
            raise BackendUnavailableError(f"warehouse: {type(e).__name__}: {e}") from e
        answer = [(int(p), None if q is None else int(q)) for p, q in rows] or None
        self._remember(key, now, answer)
        return answer

    def _remember(self, key: tuple[int, str], now: float, answer: list[tuple[int, int | None]] | None) -> None:
        if len(self.cache) >= CACHE_ENTRIES:
            ttl = self.s.warehouse_cache_seconds
            self.cache = {k: v for k, v in self.cache.items() if now - v[0] < ttl}
            if len(self.cache) >= CACHE_ENTRIES:
                self.cache.clear()
        self.cache[key] = (now, answer)

    def products(self) -> list[tuple]:
        def run(cur: Any) -> list[tuple]:
            cur.execute(
                "SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY_ID, DEPARTMENT, CATEGORY_NAME, PRICE, BRAND "
                f'FROM "{self.s.snowflake_database}"."BRONZE"."PRODUCT_CATALOG"'
            )
            return cur.fetchall()

        try:
            return self._query(run)
        except Exception as e:
            raise BackendUnavailableError(f"warehouse: {type(e).__name__}: {e}") from e
