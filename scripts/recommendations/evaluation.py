"""Offline evaluation of the recommendation orders on windows held out in time.

Everything is computed from events before a cut-off; a customer counts when they bought something
in the LABEL_DAYS after it (and has a home region), and the products bought then are the relevant
ones. Every order is measured over the same customers with the same code, on a validation window
(which tunes the baselines and gates the upload) and a test window (measured once):
- `seed_baseline`: the top K best sellers of the customer's favourite category, stock ignored, as
  the original batch job listed them;
- `best_sellers`, `item_knn`, `ease`, `als`, `repeat_popularity`: baselines.py, top K in stock at home;
- `ranker`: the retrieval's candidates by the ranking model's score;
- `ceiling`: the generator's own purchase probabilities (ceiling.py), top K in stock at home.
NDCG@K with binary relevance; the candidate recall is the share of the window's purchases that were
candidates; the candidate recall bound is what an ideal retrieval would reach with BOUND_KS candidates
(the top K in stock at home by the generator's own probabilities; `in_stock`: every product in stock
at home, which no retrieval restricted to the shelf can pass); the ranker is compared with the best
baseline (best on validation) by a paired bootstrap over customers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.table import Table

from infra.recommendations import catalog
from scripts.core.console import console
from scripts.recommendations import baselines, ranking
from scripts.recommendations.ceiling import Ceiling
from scripts.recommendations.snapshot import LABEL_DAYS, Snapshot, World
from services.features.pair import region_sql

K = 5
BASELINES = ("seed_baseline", "best_sellers", "item_knn", "ease", "als", "repeat_popularity")
ORDERS = (*BASELINES, "ranker", "ceiling")
BOUND_KS = (100, 200, 350, 400, 450, 500, 750)


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


def _in_stock_top(world: World, customer: int, score: np.ndarray) -> list[int]:
    """The top K of a score over catalogue positions among what is in stock at the customer's home."""
    pos = world.stock.get(world.region.get(customer), (np.zeros(0, dtype=np.int64),))[0]
    return _top(world.catalog.ids[pos], np.asarray(score)[pos])


def recall_bound(
    world: World, customer: int, score: np.ndarray, relevant: set[int], ks: Sequence[int] = BOUND_KS
) -> dict[str, float]:
    """The candidate recall of the top k products by `score` (over catalogue positions) in stock at
    the customer's home, for each k, and of every product in stock there (`in_stock`): with the
    generator's probabilities as the score, the most any retrieval of k candidates can be expected to
    reach, since it is judged on the same purchases and restricted to the same shelf."""
    pos = world.stock.get(world.region.get(customer), (np.zeros(0, dtype=np.int64),))[0]
    ids = world.catalog.ids[pos]
    ranked = ids[np.lexsort((ids, -np.asarray(score)[pos]))]  # _top's order: score descending, then id
    found = np.flatnonzero(np.isin(ranked, np.fromiter(relevant, dtype=np.int64, count=len(relevant))))
    total = max(len(relevant), 1)
    out = {str(k): int((found < k).sum()) / total for k in ks}
    out["in_stock"] = len(found) / total
    return out


def ceiling_scores(world: World, snap: Snapshot, ceiling: Ceiling, month: int, customer: int) -> np.ndarray | None:
    """The generator's purchase probabilities of the customer over catalogue positions (None without
    the customer's profile)."""
    if customer not in world.profiles:
        return None
    h = snap.history.get(customer)
    before = [] if h is None else np.repeat(world.catalog.ids[h.pos], np.nan_to_num(h.purchases).astype(int))
    p = ceiling.probabilities(world.profiles[customer], month, before.tolist() if len(before) else [])
    full = np.zeros(len(world.catalog.ids))
    at, known = world.catalog.positions(ceiling.ids)
    full[at[known]] = p[known]
    return full


def evaluated_customers(world: World, snap: Snapshot) -> list[int]:
    """Who bought something in the window after the cut-off and has a home region (every row of the
    table is over exactly these customers)."""
    return [c for c in sorted(world.region) if snap.bought_after.get(c) and world.region[c] in world.stock]


def per_customer(
    world: World, snap: Snapshot, booster: Any, ceiling: Ceiling | None, params: dict[str, Any]
) -> dict[str, np.ndarray]:
    """NDCG@K of every order for each evaluated customer (same customers, same labels), the
    retrieval's candidate recall (share of the window's purchases that were candidates) and its bound
    (`bound:<k>`, recall_bound of the ceiling's probabilities)."""
    customers = evaluated_customers(world, snap)
    everyone = baselines.Interactions.of(world, snap, sorted(world.region))
    x = everyone.rows(customers)
    scores = {
        "best_sellers": baselines.best_sellers(world, snap, x),
        "item_knn": baselines.item_knn(world, snap, x, everyone),
        "ease": baselines.ease(world, snap, x, params["ease_lambda"], everyone),
        "als": baselines.als(world, snap, x, *params["als"], everyone),
        "repeat_popularity": baselines.repeat_popularity(world, snap, x, *params["heuristic"]),
    }
    seed = seed_baseline(world, snap)
    month = ceiling.month(snap.cutoff, LABEL_DAYS) if ceiling else 0
    bounds = [f"bound:{k}" for k in (*BOUND_KS, "in_stock")]
    out: dict[str, list[float]] = {o: [] for o in (*ORDERS, "candidate_recall", "candidates", *bounds)}
    for row, c in enumerate(customers):
        relevant = snap.bought_after[c]
        out["seed_baseline"].append(ndcg(seed[c], relevant))
        for name, s in scores.items():
            out[name].append(ndcg(_in_stock_top(world, c, s[row]), relevant))
        full = ceiling_scores(world, snap, ceiling, month, c) if ceiling is not None else None
        out["ceiling"].append(ndcg(_in_stock_top(world, c, full), relevant) if full is not None else np.nan)
        bound = recall_bound(world, c, full, relevant) if full is not None else {}
        for b in bounds:
            out[b].append(bound.get(b.removeprefix("bound:"), np.nan))
        cand = ranking.candidates(world, snap, c)
        ids = cand.ids if cand is not None else np.zeros(0, dtype=np.int64)
        out["ranker"].append(ndcg(_top(ids, ranking.score(booster, cand.x)), relevant) if cand is not None else 0.0)
        out["candidate_recall"].append(len(relevant & set(ids.tolist())) / len(relevant))
        out["candidates"].append(len(ids))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def tune(world: World, snap: Snapshot) -> dict[str, Any]:
    """The baselines' settings that score best on the validation window (never on the test one)."""
    customers = evaluated_customers(world, snap)
    everyone = baselines.Interactions.of(world, snap, sorted(world.region))
    x = everyone.rows(customers)

    def mean(s: np.ndarray) -> float:
        return float(
            np.mean([ndcg(_in_stock_top(world, c, s[r]), snap.bought_after[c]) for r, c in enumerate(customers)])
        )

    lam = max(baselines.EASE_LAMBDAS, key=lambda v: mean(baselines.ease(world, snap, x, v, everyone)))
    als = max(baselines.ALS_GRID, key=lambda g: mean(baselines.als(world, snap, x, *g, everyone)))
    heuristic = max(baselines.HEURISTIC_GRID, key=lambda g: mean(baselines.repeat_popularity(world, snap, x, *g)))
    return {"ease_lambda": lam, "als": list(als), "heuristic": list(heuristic)}


def bootstrap(a: np.ndarray, b: np.ndarray, rounds: int = 1000, seed: int = 5) -> dict[str, float]:
    """Paired bootstrap over customers of mean(a) / mean(b): the ratio and its 95% interval."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(rounds, len(a)))
    ratios = a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-12)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    diff = (a[idx] - b[idx]).mean(axis=1)
    return {
        "ratio": round(float(a.mean() / max(b.mean(), 1e-12)), 3),
        "ratio_low": round(float(lo), 3),
        "ratio_high": round(float(hi), 3),
        "diff_low": round(float(np.percentile(diff, 2.5)), 4),
    }


def evaluate(
    world: World, validation: Snapshot, test: Snapshot, booster: Any, ceiling: Ceiling | None = None
) -> dict[str, Any]:
    """Every order on the validation and the test windows; the best baseline is the best on validation."""
    params = tune(world, validation)
    windows = {"validation": validation, "test": test}
    per = {w: per_customer(world, s, booster, ceiling, params) for w, s in windows.items()}
    result: dict[str, Any] = {"k": K, "params": params}
    for w, s in windows.items():
        result[w] = {
            "cutoff": s.cutoff.isoformat(),
            "customers": len(per[w]["ranker"]),
            **{o: round(float(np.nanmean(per[w][o])), 4) if len(per[w][o]) else 0.0 for o in ORDERS},
            "candidate_recall": round(float(per[w]["candidate_recall"].mean()), 4) if len(per[w]["ranker"]) else 0.0,
            "candidates_per_customer": round(float(per[w]["candidates"].mean()), 1) if len(per[w]["ranker"]) else 0.0,
            "candidate_recall_bound": _bounds(per[w]),
        }
    best = max(BASELINES, key=lambda o: (result["validation"][o], o))
    result["best_baseline"] = best
    for w in windows:
        result[w]["ranker_vs_best"] = bootstrap(per[w]["ranker"], per[w][best]) if len(per[w]["ranker"]) else {}
        ceil = result[w]["ceiling"]
        result[w]["ranker_share_of_ceiling"] = round(result[w]["ranker"] / ceil, 3) if ceil else None
    return result


def _bounds(per: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Mean of each `bound:<k>` over the customers the ceiling knows (None with no such customer)."""
    out: dict[str, float | None] = {}
    for key, v in per.items():
        if key.startswith("bound:"):
            known = v[~np.isnan(v)]
            out[key.removeprefix("bound:")] = round(float(known.mean()), 4) if len(known) else None
    return out


def show(result: dict[str, Any]) -> None:
    """The table: every order's NDCG@K on validation and test, the candidate recall, the intervals."""
    k, val, test = result["k"], result["validation"], result["test"]
    title = (
        f"offline evaluation, NDCG@{k}: validation {val['customers']:,} customers after {val['cutoff']}, "
        f"test {test['customers']:,} after {test['cutoff']} ({LABEL_DAYS} days each)"
    )
    table = Table("order", "validation", "test", title=title)
    for order in ORDERS:
        mark = " (best baseline)" if order == result["best_baseline"] else ""
        table.add_row(order + mark, f"{val[order]:.4f}", f"{test[order]:.4f}")
    table.add_row("candidate recall", f"{val['candidate_recall']:.3f}", f"{test['candidate_recall']:.3f}")
    table.add_row(
        "candidates per customer", f"{val['candidates_per_customer']:.0f}", f"{test['candidates_per_customer']:.0f}"
    )
    for k, v in val.get("candidate_recall_bound", {}).items():
        label = "every product in stock" if k == "in_stock" else f"{k} candidates"
        shown = [f"{x:.3f}" if x is not None else "-" for x in (v, test["candidate_recall_bound"].get(k))]
        table.add_row(f"candidate recall bound ({label})", *shown)
    console.print(table)
    for w in ("validation", "test"):
        b = result[w]["ranker_vs_best"]
        if b:
            console.print(
                f"  {w}: ranker / {result['best_baseline']} = [bold]{b['ratio']}[/bold] "
                f"(95% paired bootstrap {b['ratio_low']} … {b['ratio_high']}; goal >= 1.10 with the low end > 1), "
                f"{result[w]['ranker_share_of_ceiling']} of the ceiling (goal >= 0.75)"
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
