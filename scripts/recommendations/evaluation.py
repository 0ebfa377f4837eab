"""Offline evaluation of the recommendation orders on customers held out in time.

Everything is computed from events before the cut-off; a customer counts when they bought something
in the LABEL_DAYS after it, and the products bought then are the relevant ones. Three orders, each
cut at K:
- `seed_baseline`: the top K best sellers of the customer's favourite category (most purchased, else
  most browsed, else the overall best sellers), stock ignored, as the original batch job listed them;
- `propensity`: the API's candidates (in stock at home, in the best categories) by category propensity,
  product id breaking ties, as the API ranked when the model added nothing;
- `ranker`: the same candidates by the ranking model's score.
NDCG@K with binary relevance, recall@K = relevant products in the top K / relevant products.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.table import Table

from infra.recommendations import catalog
from scripts.core.console import console
from scripts.recommendations import ranking
from scripts.recommendations.snapshot import LABEL_DAYS, Snapshot, World
from services.features.pair import region_sql

K = 5
ORDERS = ("seed_baseline", "propensity", "ranker")


def ndcg(order: Sequence[int], relevant: set[int], k: int = K) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(order[:k]) if p in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall(order: Sequence[int], relevant: set[int], k: int = K) -> float:
    return len(set(order[:k]) & relevant) / len(relevant) if relevant else 0.0


def _top(ids: np.ndarray, score: np.ndarray, k: int = K) -> list[int]:
    """Score descending, then product id (the API's order)."""
    return [int(ids[j]) for j in np.lexsort((ids, -score))[:k]]


def seed_baseline(world: World, snap: Snapshot) -> dict[int, list[int]]:
    """The original job's list per customer, from purchases and views before the cut-off."""
    cat, ids = world.catalog.category, world.catalog.ids
    sold = snap.popularity[:, 2]  # every purchase before the cut-off (the events span one year)
    by_category: dict[str, list[int]] = {}
    for c in sorted(set(cat)):
        members = np.flatnonzero((cat == c) & (sold > 0))
        by_category[c] = _top(ids[members], sold[members])
    overall = _top(ids[sold > 0], sold[sold > 0])
    out = {}
    for customer in world.region:
        h = snap.history.get(customer)
        favourite = None
        for weights in (h.purchases, h.views) if h is not None else ():
            counts: dict[str, float] = {}
            for p, w in zip(cat[h.pos], weights, strict=True):
                counts[p] = counts.get(p, 0) + w
            best = sorted((c for c in counts if counts[c] > 0), key=lambda c: (-counts[c], c))
            if best:
                favourite = best[0]
                break
        out[customer] = by_category.get(favourite) or overall
    return out


def evaluate(world: World, snap: Snapshot, booster: Any) -> dict[str, Any]:
    """NDCG@K and recall@K of the three orders over the customers who bought after the cut-off."""
    baseline = seed_baseline(world, snap)
    in_stock = {r: set(world.catalog.ids[pos].tolist()) for r, (pos, _, _) in world.stock.items()}
    sums = {o: [0.0, 0.0] for o in ORDERS}
    n = ties = ranked = listed = unavailable = 0
    for customer in sorted(world.region):
        relevant = snap.bought_after.get(customer)
        if not relevant:
            continue
        n += 1
        orders = {"seed_baseline": baseline[customer], "propensity": [], "ranker": []}
        listed += len(baseline[customer])
        unavailable += sum(p not in in_stock.get(world.region[customer], ()) for p in baseline[customer])
        c = ranking.candidates(world, snap, customer)
        if c is not None:
            model = ranking.score(booster, c.x)
            orders["propensity"] = _top(c.ids, c.x[:, 0])
            orders["ranker"] = _top(c.ids, model)
            top = np.sort(model)[::-1][:K]
            ranked += 1
            ties += bool(len(top) == K and top[0] == top[-1])
        for o, order in orders.items():
            sums[o][0] += ndcg(order, relevant)
            sums[o][1] += recall(order, relevant)
    result: dict[str, Any] = {
        "cutoff": snap.cutoff.isoformat(),
        "customers": n,
        "k": K,
        **{
            o: {f"ndcg@{K}": round(s[0] / max(n, 1), 4), f"recall@{K}": round(s[1] / max(n, 1), 4)}
            for o, s in sums.items()
        },
        "ranker_top5_all_equal_share": round(ties / max(ranked, 1), 4),
        "seed_baseline_out_of_stock_share": round(unavailable / max(listed, 1), 4),
    }
    base = result["seed_baseline"][f"ndcg@{K}"]
    result["ndcg_ratio_vs_seed_baseline"] = round(result["ranker"][f"ndcg@{K}"] / base, 3) if base else None
    return result


def show(result: dict[str, Any]) -> None:
    """The evaluation's table (NDCG and recall per order) and its verdict against the seed baseline."""
    k = result["k"]
    title = (
        f"offline evaluation, {result['customers']:,} customers who bought in the {LABEL_DAYS} days "
        f"after {result['cutoff']}"
    )
    table = Table("order", f"NDCG@{k}", f"recall@{k}", title=title)
    for order in ORDERS:
        table.add_row(order, f"{result[order][f'ndcg@{k}']:.4f}", f"{result[order][f'recall@{k}']:.4f}")
    console.print(table)
    console.print(
        f"  ranker / seed baseline NDCG@{k}: [bold]{result['ndcg_ratio_vs_seed_baseline']}[/bold] (goal >= 1.3); "
        f"top {k} all equal in {result['ranker_top5_all_equal_share']:.2%} of the ranker's lists; "
        f"{result['seed_baseline_out_of_stock_share']:.1%} of the baseline's items are out of stock at home"
    )


def stock_at_home(cur: Any, database: str) -> dict[str, int]:
    """The precomputed top 5 against the inventory of each user's home region: its rows, its users, and
    the rows whose product is in stock there or at zero stock."""
    recs, customers, inventory = (
        catalog.q(database, o) for o in ("USER_PRODUCT_RECOMMENDATIONS", "CUSTOMERS", "INVENTORY")
    )
    cur.execute(
        "SELECT COUNT(*), COUNT(DISTINCT r.USER_ID), COUNT_IF(i.QTY_ON_HAND > 0), COUNT_IF(i.QTY_ON_HAND = 0) "
        f"FROM {recs} r JOIN {customers} c ON c.CUSTOMER_ID = r.USER_ID LEFT JOIN {inventory} i "
        f"ON i.PRODUCT_ID = r.PRODUCT_ID AND i.REGION = {region_sql('c.ZIP_CODE')}"
    )
    return dict(zip(("rows", "users", "in stock", "zero stock"), (int(v) for v in cur.fetchone()), strict=True))
