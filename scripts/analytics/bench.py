"""The analytics rehearsal at volume: the SCD2 step and the fact load at 1M, 2M and 4M order items,
each in a database of its own on the stand-in. Scaling is linear when rows/s stays flat."""

from __future__ import annotations

import time

from infra.analytics.catalog import fq
from infra.config.reader import stack_config
from scripts import standins
from scripts.analytics import loads
from scripts.analytics.rehearsal import LocalAnalytics


def _one(items: int) -> dict[str, float]:
    """The SCD2 step (first load, then a tenth of the customers changed) and the fact load at `items`."""
    cfg = stack_config("dev").analytics
    scale = cfg.scale.updated(
        customers=items // 10, products=5000, orders=items // 3, items=items, movements=items // 2, history_days=730
    )
    database = f"BENCH_AN_{items // 1_000_000}M_{int(time.time())}"
    t = loads.local_target("dev", database=database, config=cfg.model_copy(update={"scale": scale}))
    loads.prepare_local(t)
    loads.generate(t)
    with t.connect() as conn:
        la = LocalAnalytics(conn, t.database, t.config)
        t0 = time.perf_counter()
        la.run_procedure("dimensions")
        scd2_s = time.perf_counter() - t0
        cur = conn.cursor()
        cur.execute(
            f"UPDATE {fq(t.database, 'customers')} SET SEGMENT = IFF(SEGMENT = 'PREMIUM', 'BASIC', 'PREMIUM'), "
            "UPDATED_AT = '2026-11-01 12:00:00' WHERE MOD(CUSTOMER_ID, 10) = 0"
        )
        changed = cur.fetchone()[0]
        t0 = time.perf_counter()
        la.run_procedure("dimensions")
        scd2_changes_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        la.run_procedure("facts")
        facts_s = time.perf_counter() - t0
        cur.execute(f"SELECT COUNT(*) FROM {fq(t.database, 'facts')}")
        facts = int(cur.fetchone()[0])
    dims = scale.customers + scale.products
    return {
        "order items": items,
        "facts loaded": facts,
        "SCD2 first load rows/s": dims / scd2_s,
        "SCD2 changes rows/s": changed / scd2_changes_s,
        "fact load rows/s": facts / facts_s,
        "fact load s": facts_s,
    }


def bench() -> dict[str, dict]:
    """The rehearsal at 1M, 2M and 4M order items."""
    return bench_analytics()


def bench_analytics(volumes: tuple[int, ...] = (1_000_000, 2_000_000, 4_000_000)) -> dict[str, dict]:
    """Each volume in a database of its own; the fact load's rate against the first volume's."""
    standins.start()
    out: dict[str, dict] = {}
    base = None
    for items in volumes:
        figures = _one(items)
        base = base or figures
        figures["fact load rows/s vs 1M (1.00 = linear)"] = figures["fact load rows/s"] / base["fact load rows/s"]
        out[f"analytics rehearsal, {items / 1e6:g}M order items"] = figures
    return out
