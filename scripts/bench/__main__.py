"""`make bench`: figures, printed, not asserted. Each comparison runs side by side in the same run; each
capability's benches are its `bench()` in scripts/<capability>/bench.py, run in the one order of
CAPABILITIES (`python -m scripts.bench serving api` runs those named).

- ingestion: 100,000 rows in 20 files, upload → S3 event → local pipe → Bronze → task → Silver;
- analytics: the SCD2 step and the fact load of the local rehearsal at 1M, 2M and 4M order items;
- cdc: the order change generator batched against one statement per event, and the incremental refresh
  of the dynamic tables against a full rebuild;
- recommendations: data generation at the reference scale; the ranking's offline evaluation (NDCG@5,
  recall@5 against the seed baseline) at `make local`'s scale;
- serving: Postgres sync (COPY + indexes + swap, time split by phase) against executemany and a bare
  binary COPY of the same rows; DynamoDB export (parallel) against one batch_writer;
- api: the API's tied top-5 answers; its CPU per request in process, by stage; under wrk: req/s and
  client latency p50/p95/p99 at concurrency 1, 8, 32 and 64 on the Postgres and fallback paths, one
  worker and one per CPU, and at steady offered rates over 32 connections;
- dashboard: every dashboard query over the stand-in's GOLD tables at `make local`'s scale.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile

from rich.table import Table

from scripts.core import CAPABILITIES
from scripts.core.console import console

Figures = dict | list[dict]


def main(only: list[str] | None = None) -> None:
    """Every bench, or those named (`python -m scripts.bench serving api`)."""
    unknown = sorted(set(only or ()) - set(CAPABILITIES))
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}: name some of {', '.join(CAPABILITIES)}")
    os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-bench-"))
    from scripts import standins

    sections: dict[str, Figures] = {}
    try:
        for capability in CAPABILITIES:
            if not only or capability in only:
                sections.update(importlib.import_module(f"scripts.{capability}.bench").bench())
    finally:
        standins.clean()
    for title, figures in sections.items():
        console.print(table(title, figures))


def table(title: str, figures: Figures) -> Table:
    """Figures as `name | value` rows, or rows of several columns (the API's one row per concurrency)."""
    rows = figures if isinstance(figures, list) else [{title: k, "value": v} for k, v in figures.items()]
    out = Table(*rows[0].keys(), title=f"make bench: {title}" if isinstance(figures, list) else "make bench")
    for row in rows:
        out.add_row(*(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row.values()))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
