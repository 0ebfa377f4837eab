"""The serving stores' loads: Postgres sync (COPY + swap) against executemany, DynamoDB export
(parallel) against one batch_writer; each pair measured side by side in the same run."""

from __future__ import annotations

import time

import boto3
import psycopg

from scripts import standins
from scripts.serving import dynamodb, postgres


def bench_pg_sync(rows_n: int = 600_000, naive_n: int = 60_000) -> dict[str, float]:
    """customer_propensity-shaped rows (50k customers x 12 categories)."""
    ep = standins.start()
    schema = f"bench_{int(time.time())}"
    postgres.migrate(ep.postgres_dsn, schema)
    rows = [(i // 12, f"CAT-{i % 12 + 1:03d}", (i % 997) / 997) for i in range(rows_n)]
    runs = []
    for _ in range(3):  # the median of three syncs (each a full replace)
        t0 = time.perf_counter()
        postgres.sync_table(ep.postgres_dsn, "customer_propensity", rows, schema)
        runs.append(time.perf_counter() - t0)
    sync_s = sorted(runs)[1]
    sample = rows[:naive_n]
    with psycopg.connect(ep.postgres_dsn) as conn:
        conn.execute(f"CREATE TABLE {schema}.naive (LIKE {schema}.customer_propensity INCLUDING ALL)")
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {schema}.naive VALUES (%s, %s, %s)", sample)
        conn.commit()
        many_s = time.perf_counter() - t0
        conn.execute(f"TRUNCATE {schema}.naive")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for r in sample[:10_000]:
                cur.execute(f"INSERT INTO {schema}.naive VALUES (%s, %s, %s)", r)
        conn.commit()
        loop_s = time.perf_counter() - t0
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
    sync_rate, many_rate, loop_rate = rows_n / sync_s, naive_n / many_s, 10_000 / loop_s
    return {
        "rows": rows_n,
        "sync (validate + COPY + indexes + swap) rows/s, median of 3 (goal >= 300k)": sync_rate,
        "executemany, psycopg 3 pipelined, rows/s": many_rate,
        "row-by-row execute rows/s (psycopg2-style executemany)": loop_rate,
        "speed-up vs executemany (goal >= 10x)": sync_rate / many_rate,
        "speed-up vs row-by-row": sync_rate / loop_rate,
    }


def bench_dynamodb(items_n: int = 5_000, workers: int = 16, rtt_ms: float = 10.0) -> dict[str, float]:
    """Parallel batch writes against one batch_writer, on moto as is, and with a simulated network
    round trip per request (moto on loopback has none; DynamoDB over a network does)."""
    ep = standins.start()
    kw = {
        "endpoint_url": ep.moto_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "x",
        "aws_secret_access_key": "x",
    }
    items = [
        {"user_id": i, "recommended_products": [1, 2, 3, 4, 5], "category_id": "CAT-001", "source": "PURCHASE_CATEGORY"}
        for i in range(items_n)
    ]
    out: dict[str, float] = {"items": items_n, "workers": workers}
    for label, rtt in (("loopback", 0.0), (f"+{rtt_ms:g} ms RTT", rtt_ms / 1000)):
        client, resource = boto3.client("dynamodb", **kw), boto3.resource("dynamodb", **kw)
        if rtt:
            for c in (client, resource.meta.client):
                c.meta.events.register("before-send", lambda rtt=rtt, **_: time.sleep(rtt))
        table = f"bench-{int(time.time() * 1000)}"
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        t0 = time.perf_counter()
        dynamodb.write_single_batch_writer(resource, table, items)
        single = items_n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        dynamodb.write_parallel(client, table, items, workers=workers)
        parallel = items_n / (time.perf_counter() - t0)
        out[f"{label}: one batch_writer items/s"] = single
        out[f"{label}: parallel items/s"] = parallel
        out[f"{label}: speed-up (goal >= 3x)"] = parallel / single
        client.delete_table(TableName=table)
    return out
