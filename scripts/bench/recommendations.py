"""Synthetic data generation at the reference scale (50,000 customers), with the UDTF handler file, and
the ranking's offline evaluation and API ties at `make local`'s scale on the stand-ins."""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from infra.config.reader import stack_config
from scripts import standins
from scripts.api import serve
from scripts.recommendations.loads import run_all
from scripts.recommendations.synthetic import generate
from scripts.recommendations.target import Target, local_target
from services.features.pair import region_sql


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


def bench_ranking(customers: int = 5000, requests: int = 200) -> dict[str, object]:
    """`make local`'s scale: the train step's offline evaluation (NDCG@5 and recall@5 of the seed baseline,
    the propensity order and the ranker, on purchases after a cut-off the model never saw) and, from the
    real API, how many of `requests` top-5 answers have five equal scores.
    Goals: ranker NDCG@5 >= 1.3 x the baseline's; ties <= 1% (the seed's API: 37%)."""
    standins.start()
    t = local_target("dev", database=f"BENCH_RANK_{int(time.time())}", pg_schema="bench_rank",
                     dynamodb_table="bench-rank-recs")  # fmt: skip
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
    out["precomputed top 5 rows out of stock at home"] = _precomputed_out_of_stock(t)
    out.update(_api_ties(t, requests))
    return out


def _precomputed_out_of_stock(t: Target) -> str:
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(
            f"SELECT COUNT(*), COUNT_IF(i.QTY_ON_HAND = 0) FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')} r "
            f"JOIN {t.q('CUSTOMERS')} c ON c.CUSTOMER_ID = r.USER_ID "
            f"LEFT JOIN {t.q('INVENTORY')} i ON i.PRODUCT_ID = r.PRODUCT_ID AND i.REGION = {region_sql('c.ZIP_CODE')}"
        )
        rows, unavailable = cur.fetchone()
    return f"{unavailable:,} of {rows:,}"


def _api_ties(t: Target, requests: int) -> dict[str, object]:
    """Random customers at their home ZIP code through the orchestrator on loopback."""
    with psycopg.connect(t.pg_dsn) as conn:
        people = conn.execute(f"SELECT customer_id, zip_code FROM {t.pg_schema}.customer_profiles").fetchall()
    sample = random.Random(1).sample(sorted(people), min(requests, len(people)))
    api = serve.start("orchestrator", serve.api_env(t))
    try:
        with httpx.Client(base_url=api.url, timeout=30) as c:
            answers = [c.get("/recommend", params={"customer_id": p, "zip_code": z}).json() for p, z in sample]
    finally:
        api.stop()
    scores = [[i["score"] for i in a["recommendations"]] for a in answers]
    tied = sum(len(s) == 5 and len(set(s)) == 1 for s in scores)
    return {
        f"API answers with 5 equal top-5 scores, of {len(answers)} (goal <= 1%)": f"{tied} ({tied / len(answers):.1%})",
        "distinct scores per top 5 (mean)": sum(len(set(s)) for s in scores) / len(answers),
        "backends": ", ".join(sorted({a["backend"] for a in answers})),
    }
