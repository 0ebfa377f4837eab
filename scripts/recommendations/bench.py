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
from scripts.recommendations.evaluation import stock_at_home
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
    """`make local`'s scale: the train step's offline evaluation (NDCG@5 and recall@5 of the seed baseline,
    the propensity order and the ranker, on purchases after a cut-off the model never saw).
    Goal: ranker NDCG@5 >= 1.3 x the baseline's."""
    standins.start()
    t = local_target("dev", database=f"BENCH_RANK_{int(time.time())}")
    t.scale = t.scale.updated(customers=customers)
    run_all(t)
    ranking = json.loads((t.artifacts / "ranking" / "ranking_metrics.json").read_text())
    ev = ranking["evaluation"]
    out = {"objective kept": ranking["objective"], "evaluated customers": ev["customers"]}
    for order in ("seed_baseline", "propensity", "ranker"):
        out[f"{order} NDCG@5"] = f"{ev[order]['ndcg@5']:.4f}"
        out[f"{order} recall@5"] = f"{ev[order]['recall@5']:.4f}"
    out["ranker / seed baseline NDCG@5 (goal >= 1.3)"] = ev["ndcg_ratio_vs_seed_baseline"]
    out["seed baseline's items out of stock at home"] = f"{ev['seed_baseline_out_of_stock_share']:.1%}"
    with t.connect_snowflake() as conn:
        stock = stock_at_home(conn.cursor(), t.database)
    out["precomputed top 5 rows out of stock at home"] = f"{stock['zero stock']:,} of {stock['rows']:,}"
    return out
