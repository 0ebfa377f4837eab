"""Ingestion's local path: 100,000 rows in 20 files, upload → S3 event → pipe → Bronze → task → Silver."""

from __future__ import annotations

import time

from infra.naming import Naming
from scripts import standins
from scripts.ingestion.generate import generate_customers
from scripts.ingestion.loads import s3_client, upload_bytes
from scripts.ingestion.rehearsal import LocalIngestion


def bench() -> dict[str, dict]:
    """The local path at 100,000 rows."""
    return {"ingestion, local path (100k rows, 20 files)": bench_ingestion()}


def bench_ingestion(rows: int = 100_000, files: int = 20) -> dict[str, float]:
    """Upload, pipe and task of `rows` rows in `files` files, each phase timed."""
    ep = standins.start()
    li = LocalIngestion(ep, "dev", naming=Naming("BENCH", f"b{int(time.time())}"))
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
