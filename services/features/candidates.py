"""Which products the ranker scores for a customer: retrieval before ranking, shared by the ranking
model's training and evaluation (scripts/recommendations/ranking.py) and the orchestrator (its shelf).

Four sources are precomputed in the warehouse per customer (sql/recommendations/candidates.sql, the
FEATURE_STORE.CUSTOMER_CANDIDATES view that the sync copies to serving.customer_candidates): own
history, co-occurrence, best sellers of the most active categories and of the favourite brands. Two
are taken here from the region's in-stock shelf: the best sellers of the customer's top propensity
categories (the propensity is scored after the candidates are built), and the customer's most likely
purchases by the taste estimate (taste.py), which weighs every product on the shelf anyway for its
features, so the source costs one sort of the shelf. The union is deduplicated and kept to what is in
stock in the region now, so a product sold out since the load is never ranked.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

SOURCES = ("history", "cooccurrence", "category", "brand", "propensity", "taste")
PROPENSITY_CATEGORIES = 3
PER_PROPENSITY_CATEGORY = 30
# The taste source's size: a share of the region's shelf, so it keeps its weight among the sources
# whatever the catalogue's size, and at most a bound, so the ranking's cost stays bounded. 35% (600 of
# the ~1,700 products in stock in a region at `make local`'s scale) is the smallest share, in 5%
# steps, whose union with the other sources brings the candidate recall to 0.85 on the validation
# window (README, Recommendations).
TASTE_SHARE = 0.35
TASTE_PICKS = 600
NO_PICKS = np.zeros(0, dtype=np.int64)


def propensity_picks(
    category_code: np.ndarray, popularity: np.ndarray, ids: np.ndarray, codes: Iterable[int], per_category: int
) -> np.ndarray:
    """Indexes of the `per_category` best sellers (90 days, then product id) of each category code in
    `codes` among a region's in-stock products (`category_code`, `popularity` (n, 3), `ids` aligned)."""
    out = []
    for code in codes:
        members = np.flatnonzero(category_code == code)
        order = np.lexsort((ids[members], -popularity[members, 1]))
        out.append(members[order[:per_category]])
    return np.concatenate(out) if out else NO_PICKS


def taste_picks(tasted: np.ndarray | None) -> np.ndarray:
    """Indexes into the region's shelf (its in-stock products by product id) of the customer's most
    likely purchases by the taste estimate (`tasted`: taste.whole_shelf, None without the shelf's
    signals), ties by product id: TASTE_SHARE of the shelf, at most TASTE_PICKS."""
    if tasted is None or not len(tasted):
        return NO_PICKS
    n = min(TASTE_PICKS, math.ceil(TASTE_SHARE * len(tasted)))
    return np.argsort(-tasted[:, 0], kind="stable")[:n]


def kept(retrieved: Mapping[int, Collection[str]], exclude: Collection[str] = ()) -> list[int]:
    """The retrieved product ids (product id -> its sources) that some source not in `exclude` brought
    (leaving sources out measures what each one adds)."""
    return [p for p, src in retrieved.items() if any(s not in exclude for s in src)]


def select(ids: np.ndarray, retrieved: Sequence[int], picks: np.ndarray) -> np.ndarray:
    """Sorted, unique indexes into a region's in-stock `ids` (sorted ascending) of the customer's
    candidates: the retrieved product ids that are still in stock, plus the shelf's picks (indexes)."""
    wanted = np.asarray(retrieved, dtype=np.int64)
    at = np.searchsorted(ids, wanted)
    found = at < len(ids)
    found[found] = ids[at[found]] == wanted[found]
    marked = np.zeros(len(ids), dtype=bool)  # one flag per product in stock: sorted and unique, no hashing
    marked[at[found]] = True
    marked[np.asarray(picks, dtype=np.int64)] = True
    return np.flatnonzero(marked)
