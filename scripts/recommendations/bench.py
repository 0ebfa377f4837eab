"""Data generation at the reference scale (50,000 customers), with the UDTF handler file, and the
ranking's offline evaluation at `make local`'s scale on the stand-ins (the API's tied answers are the
api bench's)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from infra.config.reader import stack_config
from scripts import standins
from scripts.recommendations.evaluation import ORDERS, stock_at_home
from scripts.recommendations.generate import generate
from scripts.recommendations.loads import run_all
from scripts.recommendations.target import local_target


def bench() -> dict[str, dict]:
    """The generation at the reference scale, and the ranking's offline evaluation."""
    return {
        "data generation at the reference scale": bench_generation(),
        "recommendation ranking: offline evaluation": bench_ranking(),
    }


def bench_generation() -> dict[str, float]:
    """Seed scale: 2,000 products, 500 stores, 50,000 customers, their events, 5 regions of inventory."""
    with tempfile.TemporaryDirectory(prefix="rdp-bench-gen-") as tmp:
        t0 = time.perf_counter()
        counts = generate(
            Path(tmp), stack_config("dev").recommendations.scale.updated(customers=50_000), workers=os.cpu_count() or 2
        )
        gen_s = time.perf_counter() - t0
    return {
        "customers": counts["CUSTOMERS"],
        "events": counts["EVENT_STREAM"],
        "inventory rows": counts["INVENTORY"],
        "generation s (goal <= 90)": gen_s,
        "events/s": counts["EVENT_STREAM"] / gen_s,
    }


def bench_ranking(customers: int = 5000) -> dict[str, object]:
    """`make local`'s scale: the train step's offline evaluation, every order's NDCG@5 on the validation
    and the test windows (same customers per window), the candidate recall and the ranker against the
    best baseline (paired bootstrap). Goals: ranker >= 1.10 x the best baseline and >= 75% of the
    ceiling on test, the interval's low end above 1; candidate recall >= 0.85."""
    standins.start()
    t = local_target("dev", database=f"BENCH_RANK_{int(time.time())}")
    t.scale = t.scale.updated(customers=customers)
    run_all(t)
    ranking = json.loads((t.artifacts / "ranking" / "ranking_metrics.json").read_text())
    ev = ranking["evaluation"]
    val, test = ev["validation"], ev["test"]
    out: dict[str, object] = {
        "evaluated customers (validation / test)": f"{val['customers']:,} / {test['customers']:,}"
    }
    for order in ORDERS:
        best = " (best baseline)" if order == ev["best_baseline"] else ""
        out[f"{order}{best} NDCG@5 val / test"] = f"{val[order]:.4f} / {test[order]:.4f}"
    out["candidate recall val / test (goal >= 0.85)"] = (
        f"{val['candidate_recall']:.3f} / {test['candidate_recall']:.3f}"
    )
    out["candidates per customer"] = f"{test['candidates_per_customer']:.0f}"
    b = test["ranker_vs_best"]
    out["test: ranker / best baseline (goal >= 1.10, low end > 1)"] = (
        f"{b['ratio']} ({b['ratio_low']} … {b['ratio_high']})"
    )
    out["test: ranker / ceiling (goal >= 0.75)"] = test["ranker_share_of_ceiling"]
    with t.connect_snowflake() as conn:
        stock = stock_at_home(conn.cursor(), t.database)
    out["precomputed top 5 rows out of stock at home"] = f"{stock['zero stock']:,} of {stock['rows']:,}"
    return out
