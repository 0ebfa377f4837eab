"""`make bench`: figures, printed, not asserted. Each comparison runs side by side in the same run.

- ingestion: 100,000 rows in 20 files, upload → S3 event → local pipe → Bronze → task → Silver;
- serving: Postgres sync (COPY + swap) against executemany; DynamoDB export (parallel) against one
  batch_writer;
- recommendations: data generation at the reference scale;
- api: the recommendation API's latency and throughput on the Postgres and fallback paths;
- analytics: the SCD2 step and the fact load of the local rehearsal at 1M, 2M and 4M order items;
- cdc: the order change generator batched against one statement per event, and the incremental refresh
  of the dynamic tables against a full rebuild.
"""

from __future__ import annotations

import os
import tempfile

from rich.console import Console
from rich.table import Table

console = Console()


def main() -> None:
    os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-bench-"))
    from scripts import standins
    from scripts.bench import analytics, api, cdc, ingestion, recommendations, serving

    try:
        sections = {
            "ingestion, local path (100k rows, 20 files)": ingestion.bench_ingestion(),
            "Postgres sync": serving.bench_pg_sync(),
            "DynamoDB export": serving.bench_dynamodb(),
            "data generation at the reference scale": recommendations.bench_generation(),
            **api.bench_api(),
            **analytics.bench_analytics(),
            **cdc.bench_cdc(),
        }
    finally:
        standins.clean()
    for title, figures in sections.items():
        table = Table(title, "value", title="make bench")
        for k, v in figures.items():
            table.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
        console.print(table)


if __name__ == "__main__":
    main()
