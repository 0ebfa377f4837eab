"""The ceiling of the offline evaluation: every customer's products ordered by the generator's own
purchase probabilities, which no model can know better.

We own the generator (sql/recommendations/udtf/generate.py), so its choice is replayed exactly: the
events generator seeds `random.Random(customer_id)` and draws the customer's taste first (favourite
brands, price level and sensitivity, hurry), then the activity, the sessions and the 3 favourite
categories; replaying those draws in the same order gives the same taste. A purchase then picks a
category (3:1 for the favourites) and, in it, a product with weight exp(buy_base + trend in the
month) among what is in stock at home, or, in a consumable category with earlier purchases, one of
those again with probability REPEAT_SHARE. The ceiling ranks by that mixture for the window's month,
the earlier purchases being those before the cut-off. It is an upper bound in expectation only: what
a customer actually buys in 30 days is a few draws from it, hence a ceiling NDCG@5 near 0.1.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from scripts.recommendations.generate import load_generators


class Ceiling:
    """The generator's purchase probabilities per customer, for one catalogue scale and seed."""

    def __init__(self, n_products: int, seed: int, as_of: date, gen: Any = None) -> None:
        self.gen = gen or load_generators()
        self.world = self.gen.build_world(max(int(n_products), len(self.gen.CATEGORIES)), int(seed))
        self.as_of = as_of
        self.ids = np.asarray(self.world.ids, dtype=np.int64)
        self.cat = np.asarray(self.world.cat)

    def month(self, cutoff: date, days: int) -> int:
        """The generator's month index (0-11 over the year before AS_OF) of the window's middle."""
        start = (cutoff - self.as_of).days + 365
        middle = (start + days / 2) * 86400
        return min(max(int(middle * 12 // (365 * 86400)), 0), 11)

    def probabilities(self, customer: Sequence, month: int, bought_before: Sequence[int]) -> np.ndarray:
        """P(a purchase is product i), in the generator's product order (`self.ids`), for a customer
        row (customer_id, zip_code, has_app, loyalty_tier) and their earlier purchases (product ids,
        with repeats)."""
        gen, world = self.gen, self.world
        customer_id, zip_code, _has_app, tier = customer
        rng = random.Random(int(customer_id))
        region = gen.ZIP_REGIONS.get(str(zip_code or "")[:1], gen.REGIONS[0][0])
        taste = gen.Taste(rng, world, region)
        num_events = max(10, gen.EventGenerator.TIER_ACTIVITY.get(tier, 60) + rng.randint(-20, 30))
        rng.randint(5, num_events // 3 + 1)  # the sessions
        favourites = set(rng.sample(gen.CATEGORY_IDS, k=3))
        cat_weight = np.array([3.0 if c in favourites else 1.0 for c in gen.CATEGORY_IDS])
        cat_weight /= cat_weight.sum()
        weights = np.exp(taste.buy_base + world.trend * (month - 5.5) / 12) * taste.in_stock
        out = np.zeros(len(self.ids))
        index = {int(p): i for i, p in enumerate(self.ids)}
        before = [index[p] for p in bought_before if p in index and taste.in_stock[index[p]]]
        for k, cid in enumerate(gen.CATEGORY_IDS):
            lo, hi = world.start[k], world.start[k + 1]
            total = weights[lo:hi].sum()
            if hi <= lo or total <= 0:
                continue
            new = weights[lo:hi] / total
            again = [j for j in before if self.cat[j] == k]
            if again and cid in gen.CONSUMABLE_CATEGORIES:
                repeat = np.bincount(np.array(again) - lo, minlength=hi - lo) / len(again)
                new = gen.REPEAT_SHARE * repeat + (1 - gen.REPEAT_SHARE) * new
            out[lo:hi] = cat_weight[k] * new
        return out
