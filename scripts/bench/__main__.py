"""`make bench`: figures, printed, not asserted. Each comparison runs side by side in the same run.

- ingestion: 100,000 rows in 20 files, upload → S3 event → local pipe → Bronze → task → Silver;
- serving: Postgres sync (COPY + indexes + swap, time split by phase) against executemany and a bare
  binary COPY of the same rows; DynamoDB export (parallel) against one batch_writer;
- recommendations: data generation at the reference scale; the ranking's offline evaluation (NDCG@5,
  recall@5 against the seed baseline) and the API's tied top-5 answers at `make local`'s scale;
- api: the recommendation API's CPU per request in process, by stage; under wrk: req/s and client
  latency p50/p95/p99 at concurrency 1, 8, 32 and 64 on the Postgres and fallback paths, one worker and
  one per CPU, and at steady offered rates over 32 connections;
- analytics: the SCD2 step and the fact load of the local rehearsal at 1M, 2M and 4M order items;
- cdc: the order change generator batched against one statement per event, and the incremental refresh
  of the dynamic tables against a full rebuild.
"""

from __future__ import annotations

import os
import sys
import tempfile

from rich.console import Console
from rich.table import Table

console = Console()


def main(only: list[str] | None = None) -> None:
    """Every bench, or those named (`python -m scripts.bench serving api`)."""
    os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-bench-"))
    from scripts import standins
    from scripts.bench import analytics, api, cdc, ingestion, recommendations, serving

    benches = {
        "ingestion": lambda: {"ingestion, local path (100k rows, 20 files)": ingestion.bench_ingestion()},
        "serving": lambda: {"Postgres sync": serving.bench_pg_sync(), "DynamoDB export": serving.bench_dynamodb()},
        "recommendations": lambda: {
            "data generation at the reference scale": recommendations.bench_generation(),
            "recommendation ranking: offline evaluation and API ties": recommendations.bench_ranking(),
        },
        "api": api.bench_api,
        "analytics": analytics.bench_analytics,
        "cdc": cdc.bench_cdc,
    }
    unknown = set(only or ()) - benches.keys()
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(sorted(unknown))}: name some of {', '.join(benches)}")
    sections: dict = {}
    try:
        for name, bench in benches.items():
            if not only or name in only:
                sections.update(bench())
    finally:
        standins.clean()
    for title, figures in sections.items():
        console.print(_table(title, figures))


def _table(title: str, figures: dict | list[dict]) -> Table:
    """Figures as `name | value` rows, or rows of several columns (the API's one row per concurrency)."""
    rows = figures if isinstance(figures, list) else [{title: k, "value": v} for k, v in figures.items()]
    table = Table(*rows[0].keys(), title=f"make bench: {title}" if isinstance(figures, list) else "make bench")
    for row in rows:
        table.add_row(*(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row.values()))
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
