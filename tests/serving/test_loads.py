"""The serving stores' loads on the stand-ins: the atomic swap under a concurrent reader, a kill
mid-load, malformed rows, DynamoDB retries, migrations, and columns defined once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime

import psycopg
import pytest

from infra.serving.config import DERIVED_TABLES
from scripts.serving import dynamodb, postgres
from scripts.serving import loads as serving
from tests.conftest import ROOT, SCHEMA, dynamo_items, pg_digest
from tests.serving.readers import propensity_readers


def test_swap_is_atomic_under_a_concurrent_reader(target):
    old = [(i, f"CAT-{i % 12 + 1:03d}", 0.1) for i in range(20_000)]
    new = [(i, f"CAT-{i % 12 + 1:03d}", 0.9) for i in range(30_000)]
    postgres.sync_table(target.pg_dsn, "customer_propensity", old, SCHEMA)
    with propensity_readers(target.pg_dsn) as seen:
        for rows in (new, old, new, old, new):
            postgres.sync_table(target.pg_dsn, "customer_propensity", rows, SCHEMA)
            time.sleep(0.05)
    assert seen <= {(20_000, 0.1), (30_000, 0.9)}, seen
    assert len(seen) == 2
    serving.sync(
        target, ("customer_propensity",), allow_shrink=True, rank=False
    )  # 30,000 planted rows → the warehouse's


def test_kill_mid_load_leaves_live_table_and_rerun_completes(target):
    before = pg_digest(target.pg_dsn, "customer_features")
    env = {**os.environ, "RDP_SYNC_PAUSE": "customer_features", "RDP_SYNC_PAUSE_SECONDS": "60"}
    code = (
        "import sys; from scripts.serving import postgres;"
        f"rows=[(i,)+(None,)*16 for i in range(5000)];"
        f"postgres.sync_table({target.pg_dsn!r}, 'customer_features', rows, {SCHEMA!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("PAUSED customer_features"), line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the killed load never reached the swap: live data unchanged, staging rolled back with its transaction
    deadline = time.time() + 10
    while pg_digest(target.pg_dsn, "customer_features") != before and time.time() < deadline:
        time.sleep(0.2)
    assert pg_digest(target.pg_dsn, "customer_features") == before
    with psycopg.connect(target.pg_dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s", (SCHEMA, "%__staging")
        ).fetchone()[0]
    assert left == 0
    serving.sync(target, ("customer_features",), rank=False)
    assert pg_digest(target.pg_dsn, "customer_features") == before


def test_kill_between_tables_leaves_every_table_old(target):
    """A sync stages table after table and switches them together: killed while staging the second,
    the first (already staged) is not live either."""
    before = {t: pg_digest(target.pg_dsn, t) for t in ("customer_features", "customer_propensity")}
    env = {**os.environ, "RDP_SYNC_PAUSE": "customer_propensity", "RDP_SYNC_PAUSE_SECONDS": "60"}
    code = (
        "import psycopg; from scripts.serving import postgres\n"
        f"with psycopg.connect({target.pg_dsn!r}) as conn:\n"
        f"    postgres.stage(conn, 'customer_features', [(i,) + (None,) * 16 for i in range(5000)], {SCHEMA!r})\n"
        f"    postgres.stage(conn, 'customer_propensity', [(i, 'CAT-001', 0.5) for i in range(5000)], {SCHEMA!r})\n"
        f"    postgres.switch(conn, ['customer_features', 'customer_propensity'], {SCHEMA!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("PAUSED customer_propensity"), line + proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)  # the server notices the dropped connection and rolls its transaction back
    assert {t: pg_digest(target.pg_dsn, t) for t in before} == before
    serving.sync(
        target, ("customer_features", "customer_propensity"), rank=False
    )  # a leftover staged table is replaced
    assert {t: pg_digest(target.pg_dsn, t) for t in before} == before


def _long_read(dsn: str, seconds: float, started: threading.Event) -> None:
    """A BI-style query that holds its table's lock for `seconds` (a transaction that read it)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_propensity").fetchone()
        started.set()
        time.sleep(seconds)
        conn.rollback()


def test_a_long_read_delays_the_switch_not_the_api(target):
    old = [(i, "CAT-001", 0.1) for i in range(2000)]
    new = [(i, "CAT-002", 0.9) for i in range(3000)]
    postgres.sync_table(target.pg_dsn, "customer_propensity", old, SCHEMA)
    started, waits, done = threading.Event(), [], threading.Event()
    bi = threading.Thread(target=_long_read, args=(target.pg_dsn, 2.5, started))
    bi.start()
    started.wait(10)

    def sync() -> None:
        with psycopg.connect(target.pg_dsn) as conn:
            postgres.stage(conn, "customer_propensity", new, SCHEMA)
            postgres.switch(conn, ["customer_propensity"], SCHEMA, lock_timeout="200ms", patience=30)
        done.set()

    loader = threading.Thread(target=sync)
    loader.start()
    with psycopg.connect(target.pg_dsn, autocommit=True) as api:  # the API's reads meanwhile
        while not done.wait(0.05):
            t0 = time.perf_counter()
            api.execute(f"SELECT propensity_score FROM {SCHEMA}.customer_propensity WHERE customer_id = 7").fetchall()
            waits.append(time.perf_counter() - t0)
    loader.join(30)
    bi.join(10)
    assert done.is_set() and len(waits) > 10
    assert max(waits) < 1.0, f"an API read waited {max(waits):.2f} s behind the switch"
    with psycopg.connect(target.pg_dsn) as conn:
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_propensity").fetchone()[0] == 3000


def test_a_switch_that_never_gets_its_locks_changes_nothing(target):
    postgres.sync_table(target.pg_dsn, "customer_propensity", [(i, "CAT-001", 0.1) for i in range(100)], SCHEMA)
    before = pg_digest(target.pg_dsn, "customer_propensity")
    started = threading.Event()
    bi = threading.Thread(target=_long_read, args=(target.pg_dsn, 3.0, started))
    bi.start()
    started.wait(10)
    try:
        with psycopg.connect(target.pg_dsn) as conn:
            postgres.stage(conn, "customer_propensity", [(1, "CAT-009", 0.9)], SCHEMA)
            with pytest.raises(postgres.ServingError, match="could not switch customer_propensity within 1 s"):
                postgres.switch(conn, ["customer_propensity"], SCHEMA, lock_timeout="100ms", patience=1)
        assert pg_digest(target.pg_dsn, "customer_propensity") == before
    finally:
        bi.join(10)
    serving.sync(target, ("customer_propensity",), rank=False)


def test_switch_refuses_what_was_not_staged(target):
    with (
        psycopg.connect(target.pg_dsn) as conn,
        pytest.raises(postgres.ServingError, match="nothing staged for products"),
    ):
        postgres.switch(conn, ["products"], SCHEMA)


@pytest.mark.parametrize(
    ("table", "rows", "message"),
    [
        # refused by Postgres (the staging table's NOT NULL and CHECK constraints), COPY naming the row
        (
            "customer_propensity",
            [(1, "CAT-001", 0.5), (None, "CAT-002", 0.5)],
            'row 2: null value in column "customer_id"',
        ),
        ("inventory", [("NE", 1, "w", 5, 2), ("NE", 2, "w", -1, 2)], r"row 2: .* violates check constraint"),
        # found by the primary key, built after the COPY; the row is looked up
        ("customer_propensity", [(1, "CAT-001", 0.5), (2, "CAT-001", 0.5), (1, "CAT-001", 0.7)], r"row 3 repeats key"),
        # what psycopg cannot send as the column's type
        ("customer_propensity", [(1, "CAT-001")], r"row 1 has 2 values, expected 3"),
        ("customer_propensity", [("x", "CAT-001", 0.5)], r"row 1 column customer_id is 'x', not a valid bigint"),
        ("customer_propensity", [(1.5, "CAT-001", 0.5)], r"row 1 column customer_id is 1.5, not a valid bigint"),
        # psycopg's C dumpers would send 2**40 as 0 and 'false' as true: refused instead
        ("inventory", [("NE", 1, "w", 2**40, 2)], r"row 1 column qty_on_hand is 1099511627776, not a valid integer"),
        ("customer_profiles", [(1, *[None] * 12, "false", *[None] * 24)], r"row 1 column has_app is 'false'"),
    ],
    ids=["null-key", "check", "repeated-key", "width", "text-in-bigint", "fraction", "int4-overflow", "text-in-bool"],
)
def test_malformed_rows_are_refused_naming_the_row_and_change_nothing(target, table, rows, message):
    before = pg_digest(target.pg_dsn, table)
    with pytest.raises(postgres.ServingError, match=f"^{table}: {message}"):
        postgres.sync_table(target.pg_dsn, table, rows, SCHEMA)
    assert pg_digest(target.pg_dsn, table) == before
    with psycopg.connect(target.pg_dsn) as conn:  # the refused load left nothing staged
        assert conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{table}__staging",)).fetchone() == (None,)


def test_a_sync_keeps_every_value_exactly(target):
    """Binary COPY round trip of each column type the serving tables use (NULLs stay NULL)."""
    rows = [
        (
            1,
            "Ann",
            "O'Neil",
            "a@x.io",
            "F",
            date(1990, 2, 3),
            36,
            "Boston",
            "MA",
            "02110",
            date(2020, 1, 1),
            70,
            "Gold",
            True,
            False,
            None,
            12,
            1234.5,
            102.875,
            datetime(2026, 10, 1, 12, 30),
            31,
            4,
            2**31 - 1,
            9,
            3,
            "Toys",
            19.99,
            7,
            2,
            0.25,
            "web",
            "mobile",
            0.5,
            2**40,
            0,
            "Books",
            "Champions",
            0.91,
        ),
        (2, *[None] * 37),
    ]
    with psycopg.connect(target.pg_dsn) as conn:
        before = conn.execute(f"SELECT * FROM {SCHEMA}.customer_profiles ORDER BY customer_id").fetchall()
    try:
        postgres.sync_table(target.pg_dsn, "customer_profiles", rows, SCHEMA)
        with psycopg.connect(target.pg_dsn) as conn:
            assert conn.execute(f"SELECT * FROM {SCHEMA}.customer_profiles ORDER BY 1").fetchall() == rows
    finally:
        postgres.sync_table(target.pg_dsn, "customer_profiles", before, SCHEMA)


def test_malformed_recommendation_rows_name_the_row():
    with pytest.raises(dynamodb.ExportError, match="row 2: user_id 'abc'"):
        dynamodb.build_items([(1, 1, 10, "CAT-001", 3, "PURCHASE_CATEGORY"), ("abc", 1, 10, "CAT-001", 3, "X")])
    with pytest.raises(dynamodb.ExportError, match="user 1 has rank 1 twice"):
        dynamodb.build_items([(1, 1, 10, "CAT-001", 3, "S"), (1, 1, 11, "CAT-001", 3, "S")])


class FlakyClient:
    """Wraps a client and leaves a share of each batch unprocessed, as a throttled table does (tests).

    An item is held back at most `rounds` times, so a retrying writer always finishes; pass a large
    `rounds` to model a table that never accepts the writes."""

    def __init__(self, client: object, share: float = 0.3, rounds: int = 2, seed: int = 1) -> None:
        self.client, self.share, self.rounds, self.rng = client, share, rounds, random.Random(seed)
        self.held: dict[str, int] = {}
        self.calls = 0

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 (boto3's argument name)
        self.calls += 1
        send: dict = {}
        keep: dict = {}
        for table, reqs in RequestItems.items():
            for r in reqs:
                key = repr(r)
                if self.held.get(key, 0) < self.rounds and self.rng.random() < self.share:
                    self.held[key] = self.held.get(key, 0) + 1
                    keep.setdefault(table, []).append(r)
                else:
                    send.setdefault(table, []).append(r)
        if send:
            self.client.batch_write_item(RequestItems=send)
        return {"UnprocessedItems": keep}


def test_unprocessed_items_are_retried_until_written(target):
    items = [
        {"user_id": 9_000_000 + i, "recommended_products": [1, 2], "category_id": None, "source": "T"}
        for i in range(200)
    ]
    flaky = FlakyClient(target.dynamodb_client(), share=0.5, rounds=3)
    assert dynamodb.write_parallel(flaky, target.dynamodb_table, items, workers=4) == 200
    assert sum(flaky.held.values()) > 50 and flaky.calls > 8  # items really were held back and retried
    got = dynamo_items(target)
    assert all(9_000_000 + i in got for i in range(200))
    always = FlakyClient(target.dynamodb_client(), share=1.0, rounds=10**6)
    with pytest.raises(dynamodb.ExportError, match="still unprocessed after 3 attempts"):
        dynamodb.write_parallel(always, target.dynamodb_table, items[:5], workers=1, max_attempts=3)


def test_migrations_are_versioned_and_idempotent(target):
    assert postgres.migrate(target.pg_dsn, SCHEMA) == []
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        versions = [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA}.schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in postgres.migrations()]
        conn.execute(f"UPDATE {SCHEMA}.schema_migrations SET checksum = 'edited' WHERE version = 1")
    try:
        with pytest.raises(postgres.ServingError, match="V001__serving_tables was edited"):
            postgres.migrate(target.pg_dsn, SCHEMA)
    finally:
        with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
            conn.execute(
                f"UPDATE {SCHEMA}.schema_migrations SET checksum = %s WHERE version = 1",
                (postgres.migrations()[0].checksum,),
            )


def test_sync_queries_name_exactly_the_migrated_columns(target):
    """Columns are defined once, by the migrations: every sync query must name exactly those columns."""
    with psycopg.connect(target.pg_dsn) as conn:
        for name in set(postgres.SERVING_TABLES) - set(DERIVED_TABLES):  # the derived are computed, not read
            table = postgres.describe(conn, SCHEMA, name)
            names, _ = serving.fetch(target, name)
            assert sorted(names) == sorted(table.columns), name
        spec = postgres.describe(conn, SCHEMA, "customer_propensity")
    assert spec.key == ("customer_id", "category_id")
    with pytest.raises(postgres.ServingError, match=r"missing \['propensity_score'\], unknown \['score'\]"):
        postgres.select_columns(spec, ["customer_id", "category_id", "score"], [(1, "CAT-001", 0.5)])
    assert list(postgres.select_columns(spec, ["PROPENSITY_SCORE", "customer_id", "category_id"], [(0.5, 1, "C")])) == [
        (1, "C", 0.5)
    ]


def recs(users) -> list[dict]:
    return [{"user_id": u, "recommended_products": [u, 2, 3], "category_id": "CAT-001", "source": "T"} for u in users]


def test_export_converges_to_exactly_the_exported_users(own_table, monkeypatch):
    client, table = own_table.dynamodb_client(), own_table.dynamodb_table
    assert dynamodb.export_items(client, table, recs(range(1, 201))) == (200, 0)
    assert dynamodb.export_items(client, table, recs(range(1, 151))) == (150, 50)
    assert dynamodb.scan_user_ids(client, table) == set(range(1, 151))
    assert dynamodb.export_items(client, table, recs(range(1, 151))) == (150, 0)  # a re-run changes nothing
    with pytest.raises(dynamodb.ExportError, match="refusing to delete every item"):
        dynamodb.export_items(client, table, [])
    # the API's fallback reads this table: a user no longer exported is unknown (a 404), not stale items
    from services.api.orchestrator.orchestrator.backends import DynamoRecs, Settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    ep = client.meta.endpoint_url
    reader = DynamoRecs(Settings(dynamodb_table=table, aws_endpoint_url=ep, aws_region=client.meta.region_name))
    assert reader.get(175) is None and reader.get(150) == [150, 2, 3]


def test_the_export_step_deletes_users_no_longer_recommended(own_table):
    stale = recs(range(1, 51))  # users the warehouse does not recommend (its ids are far larger)
    dynamodb.write_parallel(own_table.dynamodb_client(), own_table.dynamodb_table, stale)
    counts = serving.export(own_table)
    assert counts["dynamodb deleted (users no longer recommended)"] == 50
    got = dynamo_items(own_table)
    assert len(got) == counts["dynamodb." + own_table.dynamodb_table] == 300
    assert min(got) > 50


class DiesAfter:
    """A client that dies (as a killed process would stop) after `calls` BatchWriteItem calls."""

    def __init__(self, client: object, calls: int) -> None:
        self.client, self.left = client, calls

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 (boto3's argument name)
        if self.left <= 0:
            raise KeyboardInterrupt("killed")
        self.left -= 1
        return self.client.batch_write_item(RequestItems=RequestItems)

    def scan(self, **kwargs):
        return self.client.scan(**kwargs)


@pytest.mark.parametrize("calls", [2, 8], ids=["duringwrites", "duringdeletes"])
def test_an_export_killed_midway_keeps_current_users_and_the_rerun_converges(own_table, calls):
    client, table = own_table.dynamodb_client(), own_table.dynamodb_table
    dynamodb.export_items(client, table, recs(range(1, 301)))
    new = [{**r, "recommended_products": [9, 9, 9]} for r in recs(range(101, 251))]  # 6 put batches, 4 delete
    with pytest.raises(KeyboardInterrupt):
        dynamodb.export_items(DiesAfter(client, calls), table, new, workers=1)
    users = dynamodb.scan_user_ids(client, table)
    assert set(range(101, 251)) <= users  # no current user is ever missing
    assert dynamodb.export_items(client, table, new) == (150, len(users) - 150)
    got = dynamo_items(own_table)
    assert set(got) == set(range(101, 251))
    assert all([int(v["N"]) for v in it["recommended_products"]["L"]] == [9, 9, 9] for it in got.values())
