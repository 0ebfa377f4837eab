"""`make bench`: figures, printed, not asserted.

- ingestion (issue 3): 100,000 rows in 20 files: upload → S3 event → local pipe → Bronze → task → Silver;
- recommendations loads (issue 4): Postgres sync (COPY + swap) against executemany, DynamoDB export
  (parallel) against one batch_writer, data generation at seed scale. Each pair runs in the same run.
"""

from __future__ import annotations

import os
import tempfile
import time

from rich.console import Console
from rich.table import Table

console = Console()


def bench_ingestion(rows: int = 100_000, files: int = 20) -> dict[str, float]:
    from infra.naming import Naming
    from scripts import localenv
    from scripts.ingest import LocalIngestion
    from scripts.upload import generate_customers, s3_client, upload_bytes

    ep = localenv.start()
    li = LocalIngestion(ep, "dev")
    li.naming = Naming("BENCH", f"b{int(time.time())}")
    li.db, li.bucket = li.naming.database, li.naming.bucket("landing", "123456789012")
    li.setup()
    per = rows // files
    bodies = [generate_customers(per, seed=i, id_offset=i * per) for i in range(files)]
    s3 = s3_client(ep.moto_url)
    t0 = time.perf_counter()
    for i, body in enumerate(bodies):
        upload_bytes(s3, li.bucket, f"{li.prefix}bench-{i:03d}.csv", body)
    t1 = time.perf_counter()
    results = li.run_pipe()
    t2 = time.perf_counter()
    task = li.run_task()
    t3 = time.perf_counter()
    loaded = sum(r.rows_loaded for r in results)
    li.close()
    return {
        "rows": loaded,
        "files": len(results),
        "upload s": t1 - t0,
        "pipe s": t2 - t1,
        "task s": t3 - t2,
        "pipe rows/s": loaded / (t2 - t1),
        "pipe files/s": len(results) / (t2 - t1),
        "end-to-end rows/s (upload→silver)": task.silver_rows / (t3 - t0),
    }


def bench_generation() -> dict[str, float]:
    """Seed scale: 2,000 products, 500 stores, 50,000 customers, their events, 5 regions of inventory."""
    from pathlib import Path

    from scripts.recgen import Scale, generate

    with tempfile.TemporaryDirectory(prefix="rdp-bench-gen-") as tmp:
        t0 = time.perf_counter()
        counts = generate(Path(tmp), Scale(), workers=os.cpu_count() or 2)
        gen_s = time.perf_counter() - t0
    return {
        "customers": counts["CUSTOMERS"],
        "events": counts["EVENT_STREAM"],
        "inventory rows": counts["INVENTORY"],
        "generation s (goal <= 90)": gen_s,
        "events/s": counts["EVENT_STREAM"] / gen_s,
    }


def bench_pg_sync(rows_n: int = 600_000, naive_n: int = 60_000) -> dict[str, float]:
    """customer_propensity-shaped rows (50k customers x 12 categories)."""
    import psycopg

    from scripts import localenv, pgserving

    ep = localenv.start()
    schema = f"bench_{int(time.time())}"
    pgserving.migrate(ep.postgres_dsn, schema)
    rows = [(i // 12, f"CAT-{i % 12 + 1:03d}", (i % 997) / 997) for i in range(rows_n)]
    runs = []
    for _ in range(3):  # the median of three syncs (each a full replace)
        t0 = time.perf_counter()
        pgserving.sync_table(ep.postgres_dsn, "customer_propensity", rows, schema)
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
    import boto3

    from scripts import dynamo, localenv

    ep = localenv.start()
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
        dynamo.write_single_batch_writer(resource, table, items)
        single = items_n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        dynamo.write_parallel(client, table, items, workers=workers)
        parallel = items_n / (time.perf_counter() - t0)
        out[f"{label}: one batch_writer items/s"] = single
        out[f"{label}: parallel items/s"] = parallel
        out[f"{label}: speed-up (goal >= 3x)"] = parallel / single
        client.delete_table(TableName=table)
    return out


def main() -> None:
    os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-bench-"))
    from scripts import localenv

    try:
        sections = {
            "ingestion, local path (100k rows, 20 files)": bench_ingestion(),
            "Postgres sync (issue 4)": bench_pg_sync(),
            "DynamoDB export (issue 4)": bench_dynamodb(),
            "data generation at seed scale (issue 4)": bench_generation(),
        }
        sections.update(extra_sections())
    finally:
        localenv.stop()
    for title, figures in sections.items():
        table = Table(title, "value", title="make bench")
        for k, v in figures.items():
            table.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
        console.print(table)


def extra_sections() -> dict[str, dict]:
    return bench_api()


def _load(url: str, ids: list[int], requests: int, concurrency: int) -> dict[str, float]:
    """`concurrency` client threads with keep-alive connections share `requests` GETs."""
    import statistics
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    server: list[float] = []
    client: list[float] = []
    backends: dict[str, int] = {}
    lock = threading.Lock()
    local = threading.local()

    def one(i: int) -> None:
        c = getattr(local, "c", None) or httpx.Client(base_url=url, timeout=30)
        local.c = c
        t0 = time.perf_counter()
        body = c.get("/recommend", params={"customer_id": ids[i % len(ids)], "zip_code": "10001"}).json()
        elapsed = (time.perf_counter() - t0) * 1000
        with lock:
            client.append(elapsed)
            server.append(body["timings"]["total_ms"])
            backends[body["backend"]] = backends.get(body["backend"], 0) + 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(min(300, requests))))  # warm-up, not measured
        server.clear()
        client.clear()
        backends.clear()
        t0 = time.perf_counter()
        list(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - t0

    def pct(xs: list[float], q: int) -> float:
        return statistics.quantiles(xs, n=100, method="inclusive")[q - 1]

    return {
        "backend": ", ".join(f"{k} x{v}" for k, v in backends.items()),
        "server total_ms p50": pct(server, 50),
        "server total_ms p95": pct(server, 95),
        "server total_ms p99": pct(server, 99),
        "client ms p50": pct(client, 50),
        "client ms p95": pct(client, 95),
        "client ms p99": pct(client, 99),
        "req/s": requests / elapsed,
    }


def bench_api(requests: int = 5000, concurrency: int = 32) -> dict[str, dict]:
    """The orchestrator on loopback (uvicorn, 1 worker) against the stand-ins: the Postgres path and the
    DynamoDB fallback path (Postgres pointed at a closed port), same load, same run.
    Goal: server p50 <= 5 ms, p99 <= 20 ms, >= 200 req/s on 2 cores (the seed: 77.7 ms, one sample)."""
    from dataclasses import replace

    from scripts import localenv, recload, serve

    localenv.start()
    t = recload.local_target("dev", database=f"BENCH_API_{int(time.time())}", pg_schema="bench_api")
    t.scale = replace(t.scale, customers=2000)
    recload.run_all(t)
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT CUSTOMER_ID FROM {t.q('CUSTOMER_360')} ORDER BY CUSTOMER_ID")
        ids = [int(r[0]) for r in cur.fetchall()]
    out = {}
    for label, env in (
        ("Postgres path", serve.api_env(t)),
        ("fallback path (Postgres down → DynamoDB)", {**serve.api_env(t), "PG_PORT": str(localenv.free_port())}),
    ):
        api = serve.start("orchestrator", env, workers=1)
        try:
            out[f"API, 1,000 requests one at a time: {label}"] = _load(api.url, ids, 1000, 1)
            out[f"API, {requests:,} requests at concurrency {concurrency}: {label}"] = _load(
                api.url, ids, requests, concurrency
            )
        finally:
            api.stop()
    return out


if __name__ == "__main__":
    main()
