"""The ranking model's inputs as of a cut-off, read from the warehouse.

Training and the offline evaluation need the world as it was at a past date: popularity, each
customer's history and category propensity from events strictly before the cut-off, and the
purchases in the LABEL_DAYS after it. The same SQL files feed the FEATURE_STORE views the API's
serving tables are synced from, so a snapshot at AS_OF with the stored propensity is exactly what
the API reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from infra.recommendations import catalog as rec_catalog
from infra.sqlfiles import named_queries
from scripts.recommendations import propensity as prop_model
from scripts.recommendations.target import BASE_TABLES, RecommendationsTarget
from services.features.pair import Catalog, History, region_for_zip

LABEL_DAYS = 30
MAX_CUSTOMERS = 5000  # customers whose rows train and evaluate the ranker (the lowest ids)


def literal(day: date) -> str:
    return f"CAST('{day.isoformat()} 00:00:00' AS TIMESTAMP)"


@dataclass(frozen=True)
class World:
    """What does not move with the cut-off: the catalogue, in-stock inventory per region (catalogue
    positions, quantity, delivery days) and each customer's home region."""

    catalog: Catalog
    stock: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    region: dict[int, str]
    # (customer_id, zip_code, has_app, loyalty_tier): what the generator's ceiling replays
    profiles: dict[int, tuple] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    cutoff: date
    popularity: np.ndarray  # (len(catalog), 3): purchases over 30, 90 and 365 days, by catalogue position
    history: dict[int, History]
    propensity: dict[int, dict[str, float]]
    bought_after: dict[int, set[int]]  # products bought in the LABEL_DAYS after the cut-off
    # product id -> its retrieval sources, per customer (sql/recommendations/candidates.sql)
    retrieved: dict[int, dict[int, set[str]]] = field(default_factory=dict)
    # (len(catalog), 2) by catalogue position: views by everyone over 365 days, the category's repeat rate
    taste: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    # region -> its shelf for the taste features, built on first use (scripts/recommendations/ranking.py)
    shelves: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _queries(t: RecommendationsTarget) -> dict[str, str]:
    return named_queries(
        "recommendations/ranking_training.sql",
        **t.names(**BASE_TABLES),
        max_customers=str(MAX_CUSTOMERS),
    )


def _of_customers(t: RecommendationsTarget, query: str) -> str:
    """The query's rows of the customers the ranker trains and evaluates on."""
    return f"SELECT * FROM ({query}) s WHERE CUSTOMER_ID IN (SELECT CUSTOMER_ID FROM ({_queries(t)['customers']}) c)"


def read_world(cur: Any, t: RecommendationsTarget) -> World:
    sql = _queries(t)
    cur.execute(sql["products"])
    catalog = Catalog.build(cur.fetchall())
    cur.execute(sql["in_stock"])
    rows: dict[str, list[tuple]] = defaultdict(list)
    for region, pid, qty, days in cur.fetchall():
        rows[region].append((int(pid), float(qty), float(days or 0)))
    stock = {}
    for region, items in rows.items():
        pos, known = catalog.positions(np.array([i[0] for i in items], dtype=np.int64))
        qty = np.array([i[1] for i in items], dtype=np.float32)
        days = np.array([i[2] for i in items], dtype=np.float32)
        stock[region] = (pos[known], qty[known], days[known])
    cur.execute(sql["customers"])
    regions, profiles = {}, {}
    for cid, zip_code, has_app, tier in cur.fetchall():
        profiles[int(cid)] = (int(cid), zip_code, has_app, tier)
        if zip_code and str(zip_code)[:1].isdigit() and str(zip_code)[:1].isascii():
            regions[int(cid)] = region_for_zip(str(zip_code))
    return World(catalog, stock, regions, profiles)


def read_snapshot(
    cur: Any, t: RecommendationsTarget, world: World, cutoff: date, propensity: dict[int, dict[str, float]]
) -> Snapshot:
    """Signals from events before `cutoff`, the purchases of the LABEL_DAYS after it; `propensity` is
    the category propensity as of the cut-off (propensity_at) or the stored one (stored_propensity)."""
    signals = rec_catalog.pair_signals_sql(t.database, literal(cutoff))
    cur.execute(signals["PRODUCT_POPULARITY"])
    popularity = np.zeros((len(world.catalog.ids), 3))
    found = cur.fetchall()
    pos, known = world.catalog.positions(np.array([int(r[0]) for r in found], dtype=np.int64))
    popularity[pos[known]] = np.array([r[1:4] for r in found], dtype=np.float64).reshape(-1, 3)[known]
    taste = np.zeros((len(world.catalog.ids), 2))
    taste[pos[known]] = np.array([r[4:6] for r in found], dtype=np.float64).reshape(-1, 2)[known]
    cur.execute(_of_customers(t, signals["CUSTOMER_PRODUCT_INTERACTIONS"]))
    rows: dict[int, list[tuple]] = defaultdict(list)
    for cid, *rest in cur.fetchall():
        rows[int(cid)].append(tuple(rest))
    history = {cid: History.build(world.catalog, r) for cid, r in rows.items()}
    cur.execute(
        _queries(t)["bought_between"],
        (f"{cutoff.isoformat()} 00:00:00", f"{(cutoff + timedelta(days=LABEL_DAYS)).isoformat()} 00:00:00"),
    )
    bought: dict[int, set[int]] = defaultdict(set)
    for cid, pid in cur.fetchall():
        bought[int(cid)].add(int(pid))
    retrieved = read_candidates(cur, t, cutoff)
    return Snapshot(cutoff, popularity, history, propensity, dict(bought), retrieved, taste)


def read_candidates(cur: Any, t: RecommendationsTarget, cutoff: date, **limits: int) -> dict[int, dict[int, set[str]]]:
    """The retrieval's candidates of the ranker's customers as of `cutoff`: product id -> its sources."""
    cur.execute(_of_customers(t, rec_catalog.candidates_sql(t.database, literal(cutoff), **limits)))
    out: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for cid, pid, source, _score in cur.fetchall():
        out[int(cid)][int(pid)].add(str(source))
    return {c: dict(p) for c, p in out.items()}


def propensity_at(cur: Any, t: RecommendationsTarget, booster: Any, cutoff: date) -> dict[int, dict[str, float]]:
    """Category propensity of the ranker's customers from events before `cutoff`, by `booster`."""
    cur.execute(_of_customers(t, rec_catalog.category_features_sql(t.database, literal(cutoff))))
    columns = [d[0] for d in cur.description]
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for cid, cat, p in prop_model.score(booster, cur.fetchall(), columns):
        out[cid][cat] = p
    return dict(out)


def stored_propensity(cur: Any, t: RecommendationsTarget) -> dict[int, dict[str, float]]:
    """CUSTOMER_PROPENSITY as the serving sync copies it (what the API reads)."""
    cur.execute(
        _of_customers(t, f"SELECT CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE FROM {t.q('CUSTOMER_PROPENSITY')}")
    )
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for cid, cat, p in cur.fetchall():
        out[int(cid)][cat] = float(p)
    return dict(out)
