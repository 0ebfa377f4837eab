"""`make bench`: figures for the local ingestion path (issue 3), printed, not asserted.

100,000 rows in 20 files of 5,000: upload → S3 event → local pipe → Bronze → task → Silver.
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


def main() -> None:
    os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-bench-"))
    from scripts import localenv

    try:
        figures = bench_ingestion()
    finally:
        localenv.stop()
    table = Table("ingestion, local path (100k rows, 20 files)", "value", title="make bench")
    for k, v in figures.items():
        table.add_row(k, f"{v:,.1f}" if isinstance(v, float) else str(v))
    console.print(table)


if __name__ == "__main__":
    main()
