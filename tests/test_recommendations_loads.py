"""Issue 4's post-deploy loads on the stand-ins: counts, idempotency, the atomic swap under a concurrent
reader, a kill mid-load, malformed rows, DynamoDB retries."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date

import psycopg
import pytest

from scripts import dynamo, pgserving, recload
from scripts.recgen import Scale
from tests.conftest import ROOT

SCHEMA = "t_loads"
SCALE = Scale(products=120, stores=20, customers=300, seed=3, as_of=date(2026, 11, 1))


@pytest.fixture(scope="module")
def target(stand_ins):
    t = recload.local_target(
        "dev", SCALE, database="T_LOADS_RETAIL", pg_schema=SCHEMA, dynamodb_table="t-loads-product-recommendations"
    )
    recload.run_all(t)
    return t


def pg_digest(dsn: str, table: str) -> tuple[int, str]:
    """Row count and an order-independent digest of a serving table's full contents."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {SCHEMA}.{table} t"
        ).fetchone()


def dynamo_items(t) -> dict[int, dict]:
    client = t.dynamodb_client()
    items, kwargs = {}, {"TableName": t.dynamodb_table}
    while True:
        page = client.scan(**kwargs)
        for it in page["Items"]:
            items[int(it["user_id"]["N"])] = it
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_counts_per_table(target):
    c = target.counts
    assert c["CUSTOMERS"] == 300 and c["PRODUCT_CATALOG"] == 120 and c["STORES"] == 20
    assert c["INVENTORY"] == 120 * 5
    assert c["CUSTOMER_PROPENSITY"] == 300 * 12  # 12 propensity rows per customer
    assert c["pg.customer_features"] == 300 and c["pg.customer_propensity"] == 3600
    assert c["pg.inventory"] == 600 and c["pg.customer_profiles"] == 300
    assert c["dynamodb.t-loads-product-recommendations"] == c["users with recommendations"] == 300
    assert len(dynamo_items(target)) == 300


def test_model_artifact_metrics_and_per_category_scores(target):
    metrics = json.loads((target.artifacts / "propensity" / "metrics.json").read_text())
    assert (target.artifacts / "propensity" / "propensity_model.json").stat().st_size > 1000
    assert 0.5 < metrics["auc_holdout"] <= 1.0 and metrics["test_customers"] > 0
    assert "CATEGORY_IDX" in metrics["features"]
    with psycopg.connect(target.pg_dsn) as conn:
        spread = conn.execute(
            f"SELECT count(*) FROM (SELECT customer_id FROM {SCHEMA}.customer_propensity GROUP BY customer_id "
            "HAVING count(DISTINCT propensity_score) > 1) s"
        ).fetchone()[0]
    assert spread == 300  # the seed scored every category the same; here every customer's categories differ


def test_rerun_is_idempotent(target):
    tables = ("customer_features", "customer_propensity", "inventory", "products", "customer_profiles")
    before = {t: pg_digest(target.pg_dsn, t) for t in tables}
    items_before = dynamo_items(target)
    recload.train(target)
    recload.sync(target)
    recload.export(target)
    assert {t: pg_digest(target.pg_dsn, t) for t in tables} == before
    assert dynamo_items(target) == items_before


def test_nulls_stay_null(target):
    with psycopg.connect(target.pg_dsn) as conn:
        no_purchase = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE total_orders = 0 AND last_purchase_date IS NULL"
        ).fetchone()[0]
        zero = conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE total_orders = 0").fetchone()[0]
        empties = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE favorite_purchase_category = ''"
        ).fetchone()[0]
    assert no_purchase == zero and empties == 0
    pgserving.sync_table(target.pg_dsn, "products", [(1, "Thing", "CAT-001", None, None, None, None)], SCHEMA)
    with psycopg.connect(target.pg_dsn) as conn:
        assert conn.execute(f"SELECT department, price FROM {SCHEMA}.products").fetchall() == [(None, None)]
    recload.sync(target, ("products",))


def test_zero_stock_rows_are_kept(target):
    with psycopg.connect(target.pg_dsn) as conn:
        zero = conn.execute(f"SELECT count(*) FROM {SCHEMA}.inventory WHERE qty_on_hand = 0").fetchone()[0]
    assert zero > 0


def test_swap_is_atomic_under_a_concurrent_reader(target):
    old = [(i, f"CAT-{i % 12 + 1:03d}", 0.1) for i in range(20_000)]
    new = [(i, f"CAT-{i % 12 + 1:03d}", 0.9) for i in range(30_000)]
    pgserving.sync_table(target.pg_dsn, "customer_propensity", old, SCHEMA)
    seen: set[tuple] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
                while not stop.is_set():
                    n, avg = conn.execute(
                        f"SELECT count(*), round(avg(propensity_score)::numeric, 3) FROM {SCHEMA}.customer_propensity"
                    ).fetchone()
                    seen.add((n, float(avg)))
        except BaseException as e:  # surfaced below
            errors.append(e)

    th = threading.Thread(target=reader)
    th.start()
    try:
        for rows in (new, old, new, old, new):
            pgserving.sync_table(target.pg_dsn, "customer_propensity", rows, SCHEMA)
            time.sleep(0.05)
    finally:
        stop.set()
        th.join()
    assert not errors, errors
    assert seen <= {(20_000, 0.1), (30_000, 0.9)}, seen
    assert len(seen) == 2
    recload.sync(target, ("customer_propensity",))


def test_kill_mid_load_leaves_live_table_and_rerun_completes(target):
    before = pg_digest(target.pg_dsn, "customer_features")
    env = {**os.environ, "RDP_SYNC_PAUSE": "customer_features", "RDP_SYNC_PAUSE_SECONDS": "60"}
    code = (
        "import sys; from scripts import pgserving;"
        f"rows=[(i,)+(None,)*15 for i in range(5000)];"
        f"pgserving.sync_table({target.pg_dsn!r}, 'customer_features', rows, {SCHEMA!r})"
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
    recload.sync(target, ("customer_features",))
    assert pg_digest(target.pg_dsn, "customer_features") == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "CAT-001", 0.5), (None, "CAT-002", 0.5)], r"row 2 has a NULL key"),
        ([(1, "CAT-001", 0.5), (1, "CAT-001", 0.7)], r"row 2 repeats key"),
        ([(1, "CAT-001")], r"row 1 has 2 values, expected 3"),
        ([("x", "CAT-001", 0.5)], r"row 1 column customer_id is 'x', not an integer"),
        ([(1.5, "CAT-001", 0.5)], r"row 1 column customer_id is 1.5"),
    ],
)
def test_malformed_rows_are_refused_and_change_nothing(target, rows, message):
    before = pg_digest(target.pg_dsn, "customer_propensity")
    with pytest.raises(pgserving.ServingError, match=message):
        pgserving.sync_table(target.pg_dsn, "customer_propensity", rows, SCHEMA)
    assert pg_digest(target.pg_dsn, "customer_propensity") == before


def test_malformed_recommendation_rows_name_the_row():
    with pytest.raises(dynamo.ExportError, match="row 2: user_id 'abc'"):
        dynamo.build_items([(1, 1, 10, "CAT-001", 3, "PURCHASE_CATEGORY"), ("abc", 1, 10, "CAT-001", 3, "X")])
    with pytest.raises(dynamo.ExportError, match="user 1 has rank 1 twice"):
        dynamo.build_items([(1, 1, 10, "CAT-001", 3, "S"), (1, 1, 11, "CAT-001", 3, "S")])


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
    assert dynamo.write_parallel(flaky, target.dynamodb_table, items, workers=4) == 200
    assert sum(flaky.held.values()) > 50 and flaky.calls > 8  # items really were held back and retried
    got = dynamo_items(target)
    assert all(9_000_000 + i in got for i in range(200))
    always = FlakyClient(target.dynamodb_client(), share=1.0, rounds=10**6)
    with pytest.raises(dynamo.ExportError, match="still unprocessed after 3 attempts"):
        dynamo.write_parallel(always, target.dynamodb_table, items[:5], workers=1, max_attempts=3)


def test_migrations_are_versioned_and_idempotent(target):
    assert pgserving.migrate(target.pg_dsn, SCHEMA) == []
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        versions = [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA}.schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in pgserving.migrations()]
        conn.execute(f"UPDATE {SCHEMA}.schema_migrations SET checksum = 'edited' WHERE version = 1")
    try:
        with pytest.raises(pgserving.ServingError, match="V001__serving_tables was edited"):
            pgserving.migrate(target.pg_dsn, SCHEMA)
    finally:
        with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
            conn.execute(
                f"UPDATE {SCHEMA}.schema_migrations SET checksum = %s WHERE version = 1",
                (pgserving.migrations()[0].checksum,),
            )


def test_serving_specs_match_the_migrated_tables(target):
    with psycopg.connect(target.pg_dsn) as conn:
        for name, spec in pgserving.SERVING_TABLES.items():
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (SCHEMA, name),
                )
            ]
            assert tuple(cols) == spec.columns, name


def test_failed_step_names_itself(target):
    bad = recload.local_target("dev", SCALE, database="T_LOADS_MISSING", pg_schema=SCHEMA)
    with pytest.raises(recload.LoadError, match=r"step 'build' failed \(ProgrammingError\): .*does not exist"):
        recload.build(bad)
