"""Where the orchestrator reads from: Postgres (primary), DynamoDB and the warehouse (fallbacks),
and the ranking model (in-process or the ranker service over HTTP)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


class BackendUnavailableError(RuntimeError):
    """The backend could not answer (connection refused, timeout); the caller falls back."""


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
    pg_pool_size: int = 8
    ranker_mode: str = "inprocess"  # inprocess | http | off
    ranker_url: str = ""
    ranker_model_path: str = ""
    dynamodb_table: str = ""
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    snowflake_host: str | None = None
    snowflake_port: int = 443
    snowflake_account: str = ""
    snowflake_database: str = ""
    snowflake_warehouse: str = ""
    blend: float = 0.7  # weight of the model in the final score
    top_categories: int = 3

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Each field from its upper-case variable (SCORE_BLEND for `blend`); empty means unset."""
        names = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, f in names.items():
            raw = env.get("SCORE_BLEND" if name == "blend" else name.upper())
            if raw in (None, ""):
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        return cls(**values)


class Postgres:
    """Pooled async reads of the serving tables; the three lookups of a request run concurrently on
    three pooled connections (no threads: they wait on the network together)."""

    def __init__(self, s: Settings) -> None:
        from psycopg import sql
        from psycopg_pool import AsyncConnectionPool

        self.conninfo = (
            f"host={s.pg_host} port={s.pg_port} dbname={s.pg_db} user={s.pg_user} "
            f"password={s.pg_password} sslmode={s.pg_sslmode} connect_timeout=2"
        )
        self.pool = AsyncConnectionPool(
            self.conninfo, min_size=3, max_size=max(3, s.pg_pool_size), open=False, timeout=1.0,
            kwargs={"autocommit": True, "prepare_threshold": 0},
        )  # fmt: skip
        q = sql.Identifier(s.pg_schema)
        self.q_features = sql.SQL("SELECT * FROM {}.customer_features WHERE customer_id = %s").format(q)
        self.q_prop = sql.SQL(
            "SELECT category_id, propensity_score FROM {}.customer_propensity WHERE customer_id = %s"
        ).format(q)
        # One row of three arrays: far cheaper to decode than a row per product.
        self.q_stock = sql.SQL(
            "SELECT coalesce(array_agg(product_id), '{{}}'), coalesce(array_agg(qty_on_hand), '{{}}'), "
            "coalesce(array_agg(coalesce(est_delivery_days, 0)), '{{}}') "
            "FROM {}.inventory WHERE region = %s AND qty_on_hand > 0"
        ).format(q)
        self.q_ping = sql.SQL("SELECT 1")
        self.q_products = sql.SQL(
            "SELECT product_id, product_name, category_id, department, category_name, price FROM {}.products"
        ).format(q)

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
        await self.pool.close()

    async def _one(self, query: Any, params: tuple, as_dict: bool = False) -> list:
        import psycopg
        from psycopg.rows import dict_row

        for attempt in (1, 2):
            try:
                async with self.pool.connection(timeout=1.0) as conn:
                    cur = conn.cursor(row_factory=dict_row, binary=True) if as_dict else conn.cursor(binary=True)
                    await cur.execute(query, params)
                    return await cur.fetchall()
            except psycopg.OperationalError as e:
                # A pooled connection can be dead after a Postgres restart; the pool drops it, so one
                # retry on a fresh connection tells "restarted" from "down".
                if attempt == 2:
                    raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
            except Exception as e:
                raise BackendUnavailableError(f"postgres: {type(e).__name__}: {e}") from e
        raise AssertionError("unreachable")

    async def products(self) -> list[tuple]:
        return await self._one(self.q_products, ())

    async def ping(self) -> bool:
        try:
            await self._one(self.q_ping, ())
            return True
        except BackendUnavailableError:
            return False

    async def fetch(self, customer_id: int, region: str) -> tuple[dict | None, dict[str, float], tuple, dict]:
        """Features, propensity and the region's in-stock inventory, fetched concurrently."""
        import asyncio
        import time

        async def timed(coro):
            t0 = time.perf_counter()
            out = await coro
            return out, (time.perf_counter() - t0) * 1000

        (feat, f_ms), (prop, p_ms), (stock, i_ms) = await asyncio.gather(
            timed(self._one(self.q_features, (customer_id,), True)),
            timed(self._one(self.q_prop, (customer_id,))),
            timed(self._one(self.q_stock, (region,))),
        )
        timings = {"features_ms": f_ms, "propensity_ms": p_ms, "inventory_ms": i_ms}
        ids, qty, days = stock[0]
        arrays = (
            np.asarray(ids, dtype=np.int64),
            np.asarray(qty, dtype=np.float32),
            np.asarray(days, dtype=np.float32),
        )
        return (feat[0] if feat else None), {c: float(s) for c, s in prop}, arrays, timings


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


class Warehouse:
    """The last resort: the warehouse's USER_PRODUCT_RECOMMENDATIONS (slow: the reference measured ~858 ms)."""

    def __init__(self, s: Settings) -> None:
        self.s = s

    def _connect(self):
        import snowflake.connector

        if self.s.snowflake_host:  # a local stand-in
            return snowflake.connector.connect(
                user="local", password="local", account="fakesnow", host=self.s.snowflake_host,
                port=self.s.snowflake_port, protocol="http", database=self.s.snowflake_database,
                schema="GOLD", network_timeout=5, login_timeout=5,
            )  # fmt: skip
        with open("/snowflake/session/token") as f:  # SPCS injects the service's OAuth token here
            token = f.read()
        return snowflake.connector.connect(
            host=os.environ.get("SNOWFLAKE_HOST_INTERNAL", os.environ.get("SNOWFLAKE_HOST", "")),
            account=self.s.snowflake_account, authenticator="oauth", token=token,
            database=self.s.snowflake_database, warehouse=self.s.snowflake_warehouse, schema="GOLD",
        )  # fmt: skip

    def ping(self) -> bool:
        if not self.s.snowflake_database:
            return False
        try:
            with self._connect() as conn:
                conn.cursor().execute("SELECT 1")
            return True
        except Exception:
            return False

    def get(self, customer_id: int) -> list[int] | None:
        if not self.s.snowflake_database:
            raise BackendUnavailableError("warehouse: no database configured")
        try:
            with self._connect() as conn:
                cur = conn.cursor()
                cur.execute(
                    f'SELECT PRODUCT_ID FROM "{self.s.snowflake_database}"."GOLD"."USER_PRODUCT_RECOMMENDATIONS" '
                    "WHERE USER_ID = %s ORDER BY RANK",
                    (customer_id,),
                )
                rows = cur.fetchall()
        except Exception as e:
            raise BackendUnavailableError(f"warehouse: {type(e).__name__}: {e}") from e
        return [int(r[0]) for r in rows] or None

    def products(self) -> list[tuple]:
        try:
            with self._connect() as conn:
                cur = conn.cursor()
                cur.execute(
                    "SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY_ID, DEPARTMENT, CATEGORY_NAME, PRICE "
                    f'FROM "{self.s.snowflake_database}"."BRONZE"."PRODUCT_CATALOG"'
                )
                return cur.fetchall()
        except Exception as e:
            raise BackendUnavailableError(f"warehouse: {type(e).__name__}: {e}") from e


class Ranker:
    """The ranking model: in-process (saves a network hop) or the ranker service's /predict."""

    def __init__(self, s: Settings) -> None:
        self.mode = s.ranker_mode
        self.booster = None
        self.url = s.ranker_url.rstrip("/")
        self.http = None
        if self.mode == "inprocess" and s.ranker_model_path:
            import xgboost as xgb

            self.booster = xgb.Booster()
            self.booster.load_model(s.ranker_model_path)
            self.booster.set_param({"nthread": 1})
        elif self.mode == "http" and self.url:
            import httpx

            self.http = httpx.Client(timeout=httpx.Timeout(1.0, connect=0.5))

    @property
    def loaded(self) -> bool:
        return self.booster is not None or self.http is not None

    def score(self, x: np.ndarray) -> np.ndarray:
        if self.booster is not None:
            return self.booster.inplace_predict(x)
        if self.http is not None:
            try:
                rows = [[None if v != v else v for v in row] for row in x.tolist()]  # NaN (missing) as null
                body = {"data": [[i, *row] for i, row in enumerate(rows)]}
                r = self.http.post(f"{self.url}/predict", json=body)
                r.raise_for_status()
                return np.array([row[1] for row in r.json()["data"]], dtype=np.float32)
            except Exception as e:
                raise BackendUnavailableError(f"ranker: {type(e).__name__}: {e}") from e
        raise BackendUnavailableError("ranker: not configured")
