"""The serving stores' loads: Postgres sync (COPY + swap) against executemany and against a bare binary
COPY, with the sync's time split by phase; DynamoDB export (parallel) against one batch_writer; each
comparison measured side by side in the same run."""

from __future__ import annotations

import time
from statistics import median

import boto3
import psycopg

from scripts import standins
from scripts.serving import dynamodb, postgres


def bench() -> dict[str, dict]:
    """The Postgres sync and the DynamoDB export, each against its plain alternatives."""
    return {"Postgres sync": bench_pg_sync(), "DynamoDB export": bench_dynamodb()}


def bench_pg_sync(rows_n: int = 600_000, naive_n: int = 60_000, rounds: int = 3) -> dict[str, float]:
    """customer_propensity-shaped rows (50k customers x 12 categories). Each round runs the three loads
    one after another (raw COPY, the sync, executemany), so a busy machine slows all of them alike; the
    figures are medians over the rounds, and the sync's split is that of its median run."""
    ep = standins.start()
    schema = f"bench_{int(time.time())}"
    postgres.migrate(ep.postgres_dsn, schema)
    rows = [(i // 12, f"CAT-{i % 12 + 1:03d}", (i % 997) / 997) for i in range(rows_n)]
    raw, syncs, many = [], [], []
    with psycopg.connect(ep.postgres_dsn) as conn:
        conn.execute(f"CREATE TABLE {schema}.raw (LIKE {schema}.customer_propensity)")
        conn.execute(f"CREATE TABLE {schema}.naive (LIKE {schema}.customer_propensity INCLUDING ALL)")
        conn.commit()
        for _ in range(rounds):
            raw.append(_raw_copy(conn, f"{schema}.raw", rows))
            syncs.append(_sync(conn, schema, rows))
            many.append(_executemany(conn, f"{schema}.naive", rows[:naive_n]))
        loop_s = _row_by_row(conn, f"{schema}.naive", rows[:10_000])
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.commit()
    syncs.sort(key=lambda t: sum(t.values()))
    split = syncs[len(syncs) // 2]
    sync_rate = rows_n / sum(split.values())
    raw_rate, many_rate, loop_rate = rows_n / median(raw), naive_n / median(many), 10_000 / loop_s
    return {
        "rows": rows_n,
        "sync rows/s: COPY + indexes + swap, validated by Postgres (median; goal >= 450k)": sync_rate,
        **{f"  sync {phase} s": seconds for phase, seconds in split.items()},
        "raw binary COPY rows/s: no constraints, indexes or swap (median)": raw_rate,
        "executemany rows/s: psycopg 3 pipelined, primary key (median)": many_rate,
        "row-by-row execute rows/s (psycopg2-style executemany)": loop_rate,
        "sync / executemany (goal >= 10x)": sync_rate / many_rate,
        "sync / raw COPY": sync_rate / raw_rate,
        "sync / row-by-row": sync_rate / loop_rate,
    }


def _raw_copy(conn: psycopg.Connection, table: str, rows: list[tuple]) -> float:
    """The floor: psycopg's binary COPY of the same rows into a bare table, nothing else."""
    conn.execute(f"TRUNCATE {table}")
    conn.commit()
    t0 = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "text", "float8"])
        for row in rows:
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - t0


def _sync(conn: psycopg.Connection, schema: str, rows: list[tuple]) -> dict[str, float]:
    """One full replace of customer_propensity, its seconds per phase (the switch's included)."""
    timings: dict[str, float] = {}
    postgres.stage(conn, "customer_propensity", rows, schema, timings=timings)
    t0 = time.perf_counter()
    postgres.switch(conn, ["customer_propensity"], schema)
    timings["switch"] = time.perf_counter() - t0
    return timings


def _executemany(conn: psycopg.Connection, table: str, rows: list[tuple]) -> float:
    conn.execute(f"TRUNCATE {table}")
    conn.commit()
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", rows)
    conn.commit()
    return time.perf_counter() - t0


def _row_by_row(conn: psycopg.Connection, table: str, rows: list[tuple]) -> float:
    conn.execute(f"TRUNCATE {table}")
    conn.commit()
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        for r in rows:
            cur.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", r)
    conn.commit()
    return time.perf_counter() - t0


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
