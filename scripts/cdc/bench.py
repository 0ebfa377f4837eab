"""The order change generator against the stand-in, side by side in one run: batched writes (one
INSERT per batch) against the one-statement-and-commit-per-event way; then an incremental refresh of a
small round of changes against a full rebuild of the dynamic tables over the same log."""

from __future__ import annotations

import time

from scripts import standins
from scripts.cdc import loads
from scripts.cdc.generate import run, source_for
from scripts.cdc.rehearsal import LocalCdc
from scripts.cdc.writer import LocalWriter, OneByOneWriter


def bench() -> dict[str, dict]:
    """The generator's writes and the dynamic tables' refresh."""
    return bench_cdc()


def bench_cdc(batched_events: int = 500_000, one_by_one_seconds: float = 5.0) -> dict[str, dict]:
    """Batched against one-by-one writes, then a full rebuild against an incremental refresh."""
    standins.start()
    t = loads.local_target("dev", database=f"BENCH_CDC_{int(time.time())}")
    loads.prepare_local(t)
    cfg = t.generator.model_copy(update={"history_days": 365})
    with t.connect_writer() as conn:
        batched = LocalWriter(conn, t.database)
        report = run(source_for(batched, cfg), batched, 0, events=batched_events)
        slow = OneByOneWriter(conn, t.database)
        slow_source = source_for(slow, cfg.model_copy(update={"seed": 1}))
        baseline = run(slow_source, slow, 0, burst=100, duration=one_by_one_seconds)
        lc = LocalCdc(conn, t.database)
        t0 = time.perf_counter()
        full = lc.refresh(full=True)
        full_s = time.perf_counter() - t0
        run(source_for(batched, cfg.model_copy(update={"seed": 2})), batched, 0, events=5_000)
        t0 = time.perf_counter()
        inc = lc.refresh()
        inc_s = time.perf_counter() - t0
    return {
        "order change generator, local stand-in (2 cores)": {
            "batched events": report.events,
            "batched events/s": report.rate,
            "one statement per event: events": baseline.events,
            "one statement per event: events/s": baseline.rate,
            "batched vs one per event (x)": report.rate / baseline.rate,
        },
        "CDC dynamic tables, local refresh": {
            "changes in the log": full.changes_read,
            "full rebuild s": full_s,
            "incremental refresh of 5,000 changes s": inc_s,
            "orders recomputed incrementally": inc.orders_recomputed,
            "full vs incremental (x)": full_s / inc_s,
        },
    }
