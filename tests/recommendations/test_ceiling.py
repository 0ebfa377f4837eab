"""The ceiling replays the generator's own choice: the products the generator makes a customer buy
carry the replayed probabilities, and a customer replayed with the wrong taste does not fit."""

from __future__ import annotations

from datetime import date

import numpy as np

from scripts.recommendations.ceiling import Ceiling
from scripts.recommendations.generate import load_generators

AS_OF = date(2026, 11, 1)


def purchases_and_probabilities(customer_id: int, replayed_as: int) -> tuple[float, float]:
    """Mean log-probability of the customer's generated purchases under their own replay and under
    another customer's replay (same ZIP code, tier and app)."""
    gen = load_generators()
    ceiling = Ceiling(240, 1, AS_OF, gen)
    row = (customer_id, "94110", True, "Gold")
    events = list(gen.EventGenerator().process(customer_id, True, "94110", "Gold", 240, 1, AS_OF))
    bought = [e[7] for e in events if e[2] in ("order_complete", "pos_purchase")]
    index = {int(p): i for i, p in enumerate(ceiling.ids)}
    own = ceiling.probabilities(row, 6, [])
    other = ceiling.probabilities((replayed_as, *row[1:]), 6, [])
    at = [index[p] for p in bought]
    return float(np.mean(np.log(own[at] + 1e-12))), float(np.mean(np.log(other[at] + 1e-12)))


def test_the_replayed_probabilities_fit_the_generated_purchases():
    own, other = zip(*(purchases_and_probabilities(c, c + 1) for c in range(1_000_001, 1_000_031)), strict=True)
    assert np.mean(own) > np.mean(other) + 0.5  # the planted fault: a wrong replay explains them worse
    gen = load_generators()
    p = Ceiling(240, 1, AS_OF, gen).probabilities((1_000_001, "94110", True, "Gold"), 6, [])
    assert abs(p.sum() - 1) < 1e-9 and (p >= 0).all()


def test_repeats_raise_what_was_bought_in_a_consumable_category():
    gen = load_generators()
    ceiling = Ceiling(240, 1, AS_OF, gen)
    row = (1_000_007, "10001", False, "Silver")
    consumable = gen.CATEGORY_IDS.index(gen.CONSUMABLE_CATEGORIES[0])
    lo = ceiling.world.start[consumable]
    northeast = gen.build_world(240, 1).region["Northeast"][0]
    stocked = [j for j in range(lo, ceiling.world.start[consumable + 1]) if northeast[j] > 0]
    product = int(ceiling.ids[stocked[0]])
    before, after = ceiling.probabilities(row, 3, []), ceiling.probabilities(row, 3, [product])
    assert after[stocked[0]] > before[stocked[0]] + 0.01
    assert abs(after.sum() - 1) < 1e-9
