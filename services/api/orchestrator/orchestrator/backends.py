"""Where the orchestrator reads from: Postgres (primary), DynamoDB and the warehouse (fallbacks; the
warehouse's in warehouse.py); the ranking model is ranking.py's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

log = logging.getLogger("orchestrator")


class BackendUnavailableError(RuntimeError):
    """The backend could not answer (connection refused, timeout); the caller falls back."""


class OverloadedError(RuntimeError):
    """Postgres is up but every pooled connection is busy: the request is shed (503 + Retry-After), not
    sent to a fallback, and the breaker stays closed (the fallbacks are slower still)."""


class MissingTableError(LookupError):
    """A statement named a table that is not there (dropped by hand, or an older schema): Postgres is
    up, so the breaker stays closed and the caller takes another path."""


class UnknownCustomerError(LookupError):
    """The customer is in none of the stores."""


@dataclass
class Settings:
    """What the orchestrator connects to; `from_env` reads it as the SPCS spec sets it."""

    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_db: str = "postgres"
    pg_user: str = "postgres"
    pg_password: str = ""
    pg_schema: str = "serving"
    pg_sslmode: str = "prefer"
    pg_sslrootcert: str = ""  # the CA file a verify-full connection checks the server against
    pg_pool_size: int = 8  # connections per worker: the spec passes floor(connection_limit / all workers)
    retry_after_seconds: int = 1  # Retry-After of a 503 that sheds load
    max_in_flight: int = 0  # requests to /recommend in flight per worker before 503; 0: 4 × pg_pool_size
    precomputed_top_n: int = 10  # answer up to this many items from customer_rankings; 0: never (full path)
    ranker_mode: str = "inprocess"  # inprocess | http | off
    ranker_url: str = ""
    ranker_model_path: str = ""
    ranker_model_check_seconds: float = 30.0  # how often the model file is looked at for a new one
    dynamodb_table: str = ""
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    snowflake_host: str | None = None
    snowflake_port: int = 443
    snowflake_account: str = ""
    snowflake_database: str = ""
    snowflake_warehouse: str = ""
    stock_fresh_seconds: float = 300.0  # stock confirmed current this recently filters the fallbacks
    shelf_max_age_seconds: float = 60.0  # reload the in-memory tables at least this often (shelf.py)
    warehouse_concurrency: int = 2  # warehouse queries at a time on the worker's one session (warehouse.py)
    warehouse_cache_seconds: float = 30.0  # a customer's warehouse answer is served again this long
    pg_retry_seconds: float = 2.0  # after Postgres failed: requests use a fallback, it is pinged this often

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Each field from its upper-case variable; empty means unset."""
        names = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, f in names.items():
            raw = env.get(name.upper())
            if raw in (None, ""):
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        return cls(**values)


@dataclass(frozen=True)
class Customer:
    """What one request reads: whether the customer is known, their category propensity, their history
    per product, their retrieved candidates (product ids), and the versions (OIDs) of the tables the
    shelf holds, all from one snapshot."""

    known: bool
    propensity: dict[str, float]
    history: tuple[list, ...]  # columns: product ids, views, carts, purchases, days since purchase
    candidates: list[int]
    versions: tuple[int | None, ...]


SHARED_TABLES = ("inventory", "products", "product_popularity")  # held in memory (shelf.py)
# Every table a ranking is computed from, in the order of customer_rankings.versions: a precomputed
# ranking is served only while these live tables have the OIDs it was computed from.
RANKED_FROM = (
    "customer_features",
    "customer_propensity",
    "customer_product_interactions",
    "inventory",
    "products",
    "product_popularity",
    "customer_candidates",
)
PRECOMPUTED_TOP_N = 10  # the items of a customer_rankings row: a request for more takes the full path
# Tables whose OIDs each request reads (a sync swaps them, so a new OID means a sync landed): the shared
# ones, and customer_candidates, which exists only once a sync has run its migration.
VERSIONED = {"inv": "inventory", "prod": "products", "pop": "product_popularity", "cand": "customer_candidates"}


class Postgres:
    """Pooled async reads of the serving tables: per request ONE statement on one pooled connection
    (the customer's rows and the shared tables' versions); the shared tables only when they changed."""

    def __init__(self, s: Settings) -> None:
        from psycopg import sql
        from psycopg_pool import AsyncConnectionPool

        self.conninfo = (
            f"host={s.pg_host} port={s.pg_port} dbname={s.pg_db} user={s.pg_user} "
            f"password={s.pg_password} sslmode={s.pg_sslmode} connect_timeout=2"
        ) + (f" sslrootcert={s.pg_sslrootcert}" if s.pg_sslrootcert else "")
        # every worker of every instance holds up to pg_pool_size: the plan keeps their sum within the
        # app role's connection_limit (infra/api/config.py), so the pool may be smaller than 4
        self.max_size = max(1, s.pg_pool_size)
        self.lent = 0  # connections lent to requests now
        sizes = {"min_size": min(4, self.max_size), "max_size": self.max_size}
        session = {"autocommit": True, "prepare_threshold": 0}
        self.pool = AsyncConnectionPool(self.conninfo, **sizes, open=False, timeout=1.0, kwargs=session)
        q = sql.Identifier(s.pg_schema)
        # to_regclass names the live table now: the sync's swap gives it a new OID.
        regclass = sql.SQL("to_regclass({})::oid")
        oid = {t: regclass.format(sql.Literal(f"{q.as_string()}.{t}")) for t in VERSIONED.values()}
        # Arrays, one row: one round trip and cheap to decode. Each lateral aggregates in one pass, so
        # its arrays are in the same order. Composed to bytes once, not on every request.
        # The customer's retrieved candidates come from a table a sync creates (its migration): until one
        # has run since this image was deployed, the statement without it (the shelf's picks only).
        candidates = {
            True: sql.SQL(
                "coalesce((SELECT product_ids FROM {q}.customer_candidates WHERE customer_id = %(c)s), '{{}}')"
            ),
            False: sql.SQL("'{{}}'::bigint[]"),
        }
        self.q_customer = {
            has: sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM {q}.customer_features WHERE customer_id = %(c)s), p.*, h.*, {r}, "
                "{inv}, {prod}, {pop}, {cand} FROM "
                "(SELECT coalesce(array_agg(category_id), '{{}}'), coalesce(array_agg(propensity_score), '{{}}') "
                " FROM {q}.customer_propensity WHERE customer_id = %(c)s) p, "
                "(SELECT coalesce(array_agg(product_id), '{{}}'), coalesce(array_agg(views), '{{}}'), "
                " coalesce(array_agg(carts), '{{}}'), coalesce(array_agg(purchases), '{{}}'), "
                " coalesce(array_agg(days_since_purchase), '{{}}') "
                " FROM {q}.customer_product_interactions WHERE customer_id = %(c)s) h"
            )
            .format(q=q, r=r.format(q=q), **{k: oid[t] for k, t in VERSIONED.items()})
            .as_bytes(None)
            for has, r in candidates.items()
        }
        self.q_ranked, self.q_stamp, self.q_homes = _ranking_statements(q, regclass, oid)
        # The shared tables with their OIDs in the same statement: it locks the tables it reads, so no
        # swap can commit between the rows and the OIDs.
        self.q_stock = sql.SQL(
            "SELECT v.*, g.* FROM (SELECT {inv}, {pop}, {cand}, {rank} IS NOT NULL) v LEFT JOIN ("
            "SELECT i.region, array_agg(i.product_id), array_agg(i.qty_on_hand), "
            "array_agg(coalesce(i.est_delivery_days, 0)), array_agg(coalesce(p.purchases_30d, 0)), "
            "array_agg(coalesce(p.purchases_90d, 0)), array_agg(coalesce(p.purchases_365d, 0)), "
            "{views}, {repeat} "
            "FROM {q}.inventory i LEFT JOIN {q}.product_popularity p ON p.product_id = i.product_id "
            "WHERE i.qty_on_hand > 0 GROUP BY i.region) g ON true"
        ).format(
            q=q,
            inv=oid["inventory"],
            pop=oid["product_popularity"],
            cand=oid["customer_candidates"],
            rank=regclass.format(sql.Literal(f"{q.as_string()}.customer_rankings")),
            views=_taste_signal("views_365d"),
            repeat=_taste_signal("repeat_rate"),
        )
        self.q_products = sql.SQL(
            "SELECT v.*, p.product_id, p.product_name, p.category_id, p.department, p.category_name, p.price, "
            "p.brand FROM (SELECT {prod}) v LEFT JOIN {q}.products p ON true"
        ).format(q=q, prod=oid["products"])
        self.q_ping = sql.SQL("SELECT 1")
        # While Postgres is down, waiting for a pooled connection costs a request a second before its
        # fallback. After a failure, requests skip Postgres and a background task pings it every
        # `pg_retry_seconds`; requests read it again once a ping (or /health's) answers. While it is up,
        # nothing is skipped: concurrent requests all read it.
        self.retry_seconds = s.pg_retry_seconds
        self.down = False
        self.prober: asyncio.Task | None = None

    async def open(self) -> None:
        """Open the pool and try one connection. A pool that waits to fill at open is closed for good
        when Postgres is down then, so it is opened without waiting: it keeps reconnecting in the
        background, and requests use Postgres as soon as it is back."""
        await self.pool.open(wait=False)
        try:
            async with self.pool.connection(timeout=3) as conn:
                await conn.execute("SELECT 1")
        except Exception as e:
            raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e

    async def close(self) -> None:
        if self.prober is not None:
            self.prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.prober
        await self.pool.close()

    async def _one(
        self, query: Any, params: Any, as_dict: bool = False, probe: bool = False, optional: bool = False
    ) -> list:
        """One statement; `probe` (health) always asks Postgres, requests skip it while it is known down;
        `optional`: a missing table is a MissingTableError, not Postgres down."""
        if self.down and not probe:
            raise BackendUnavailableError("postgres: down at the last attempt; retrying in the background")
        try:
            rows = await self._attempt(query, params, as_dict, optional)
        except BackendUnavailableError:
            self.down = True
            if self.prober is None or self.prober.done():
                self.prober = asyncio.get_running_loop().create_task(self._probe())
            raise
        self.down = False
        return rows

    async def _probe(self) -> None:
        """While Postgres is known down: a ping every `retry_seconds` until one answers."""
        while self.down:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self._attempt(self.q_ping, (), False)
            except BackendUnavailableError:
                continue
            self.down = False

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float) -> AsyncIterator[Any]:
        """A pooled connection, counted while lent: tells a busy pool from one that cannot connect."""
        async with self.pool.connection(timeout=timeout) as conn:
            self.lent += 1
            try:
                yield conn
            finally:
                self.lent -= 1

    async def _attempt(self, query: Any, params: Any, as_dict: bool, optional: bool = False) -> list:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import PoolTimeout

        for attempt in (1, 2):
            try:
                async with self.connection(timeout=1.0) as conn:
                    cur = conn.cursor(row_factory=dict_row, binary=True) if as_dict else conn.cursor(binary=True)
                    await cur.execute(query, params)
                    return await cur.fetchall()
            except PoolTimeout as e:
                # No connection within the timeout; trying again would wait as long. With every
                # connection lent to a request, that is load: shed the request, the breaker stays
                # closed. Otherwise the pool could not connect: Postgres is down.
                if self.lent >= self.max_size:
                    raise OverloadedError(f"postgres: {type(e).__name__}: {e}") from e
                raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
            except psycopg.errors.UndefinedTable as e:
                if optional:
                    raise MissingTableError(f"postgres: {e}") from e
                raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
            except psycopg.OperationalError as e:
                # A pooled connection can be dead after a Postgres restart; the pool drops it, so one
                # retry on a fresh connection tells "restarted" from "down".
                if attempt == 2:
                    raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
            except Exception as e:
                raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
        raise AssertionError("unreachable")

    async def ping(self) -> bool:
        try:
            await self._one(self.q_ping, (), probe=True)
            return True
        except BackendUnavailableError:
            return False

    async def customer(self, customer_id: int, with_candidates: bool) -> Customer:
        """The customer's rows and the versioned tables' OIDs, in one statement; their candidates when
        `with_candidates` (customer_candidates exists: see shelf.Shelf.has_candidates)."""
        ((known, cats, scores, ids, views, carts, buys, days, retrieved, *versions),) = await self._one(
            self.q_customer[with_candidates], {"c": customer_id}
        )
        history = (ids, views, carts, buys, days)
        propensity = {c: float(s) for c, s in zip(cats, scores, strict=True)}
        return Customer(known, propensity, history, retrieved, tuple(versions))

    async def ranked(self, customer_id: int, region: str, model: str, top_n: int) -> tuple[list[str] | None, tuple]:
        """The customer's precomputed items as JSON (None unless valid for this request, see q_ranked;
        `model`: fingerprint.answered_by) and the shared tables' versions, in one statement."""
        params = {"c": customer_id, "r": region, "m": model, "n": top_n}
        ((items, *versions),) = await self._one(self.q_ranked, params, optional=True)
        return items, tuple(versions)

    async def homes(self) -> list[tuple[int, str]]:
        """(customer id, home region) of every customer whose home region is known."""
        return [(int(c), str(r)) for c, r in await self._one(self.q_homes, ())]

    async def stamp(self) -> list[int | None]:
        """The live OIDs of RANKED_FROM, as a precomputed ranking records them."""
        ((oids,),) = await self._one(self.q_stamp, ())
        return list(oids)

    async def shared(self) -> tuple[tuple[int | None, ...], list[tuple], list[tuple], bool]:
        """(versions, product rows, per-region stock rows of arrays, whether customer_rankings exists):
        what shelf.Shelf holds."""
        stock = await self._one(self.q_stock, ())
        products = await self._one(self.q_products, ())
        versions = (stock[0][0], products[0][0], stock[0][1], stock[0][2])
        rows = [r[4:] for r in stock if r[4] is not None]
        return versions, [r[1:] for r in products if r[1] is not None], rows, bool(stock[0][3])


def _ranking_statements(q: Any, regclass: Any, oid: dict[str, Any]) -> tuple[bytes, Any, Any]:
    """A precomputed ranking (precompute.py), served only as of the live tables it was computed from:
    one row, its items NULL unless every condition holds, with the shared tables' versions; the live
    tables' stamp; every customer's home region."""
    from psycopg import sql

    stamp = sql.SQL(", ").join(regclass.format(sql.Literal(f"{q.as_string()}.{t}")) for t in RANKED_FROM)
    ranked = (
        sql.SQL(
            "SELECT r.items[1:%(n)s], {inv}, {prod}, {pop}, {cand} FROM (SELECT 1) one "
            "LEFT JOIN {q}.customer_rankings r ON r.customer_id = %(c)s AND r.region = %(r)s "
            "AND r.model = %(m)s AND r.versions = ARRAY[{stamp}]::bigint[]"
        )
        .format(q=q, stamp=stamp, **{k: oid[t] for k, t in VERSIONED.items()})
        .as_bytes(None)
    )
    homes = sql.SQL(
        "SELECT customer_id, home_region FROM {q}.customer_features WHERE home_region IS NOT NULL ORDER BY customer_id"
    ).format(q=q)
    return ranked, sql.SQL("SELECT ARRAY[{}]::bigint[]").format(stamp), homes


def _taste_signal(column: str) -> Any:
    """A taste signal per in-stock product: 0 for a product without a popularity row (as the warehouse
    view gives it), NaN (unknown) while the column is not there or not yet filled: an image deployed
    before the sync's migration, or the rows live between the migration and the sync's swap. Read
    through to_jsonb so the statement is valid either way."""
    from psycopg import sql

    value = sql.SQL("(to_jsonb(p) ->> {})::float8").format(sql.Literal(column))
    return sql.SQL("array_agg(CASE WHEN p.product_id IS NULL THEN 0 ELSE coalesce({}, 'NaN') END)").format(value)


class DynamoRecs:
    """The precomputed recommendations the website reads, keyed by user_id."""

    def __init__(self, s: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.table = s.dynamodb_table
        self.client = boto3.client(
            "dynamodb",
            endpoint_url=s.aws_endpoint_url,
            region_name=s.aws_region,
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )

    def ping(self) -> bool:
        if not self.table:
            return False
        try:
            self.client.describe_table(TableName=self.table)
            return True
        except Exception:
            return False

    def get(self, customer_id: int) -> list[int] | None:
        if not self.table:
            raise BackendUnavailableError("dynamodb: no table configured")
        try:
            item = self.client.get_item(TableName=self.table, Key={"user_id": {"N": str(customer_id)}}).get("Item")
        except Exception as e:
            raise BackendUnavailableError(f"dynamodb: {type(e).__name__}: {e}") from e
        if not item:
            return None
        return [int(v["N"]) for v in item["recommended_products"]["L"]]
