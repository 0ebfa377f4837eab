"""The synthetic data's generators: deterministic, consistent with the catalogue and the stock, and
with the behaviour a ranking model should find (each effect measured against the same generator with
that effect switched off)."""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cache

import pytest

from scripts.recommendations.generate import load_generators

AS_OF = "2026-11-01"
PURCHASES = ("order_complete", "pos_purchase")


@cache
def customers(n: int = 400) -> list[tuple]:
    gen = load_generators()
    return [c for s in range(n) for c in gen.CustomerGenerator().process(s, AS_OF)]


@cache
def world(n_products: int = 240, seed: int = 0) -> tuple[dict, dict, dict]:
    """products by id, {(product, region): (qty, days)}, {product: price rank within its category}"""
    gen = load_generators()
    products = {p[0]: p for i in range(n_products) for p in gen.ProductGenerator().process(i)}
    stock = {(r[0], r[1]): (r[3], r[4]) for p in products for r in gen.InventoryGenerator().process(p, seed)}
    rank = {}
    for cat in {p[2] for p in products.values()}:
        members = sorted((p[6], p[0]) for p in products.values() if p[2] == cat)
        rank.update({pid: i / (len(members) - 1) for i, (_, pid) in enumerate(members)})
    return products, stock, rank


def events(n_customers: int = 400, n_products: int = 240, seed: int = 0) -> list[tuple]:
    gen = load_generators()
    return [
        e
        for c in customers(n_customers)
        for e in gen.EventGenerator().process(c[0], c[13], c[10], c[12], n_products, seed, AS_OF)
    ]


def home(c: tuple) -> str:
    return load_generators().ZIP_REGIONS[c[10][0]]


def test_generators_are_deterministic_and_consistent():
    gen = load_generators()
    products, stock, _ = world(120)
    assert customers(30) == [c for s in range(30) for c in gen.CustomerGenerator().process(s, AS_OF)]
    ev_a, ev_b = events(30, 120), events(30, 120)
    assert ev_a == ev_b and len(ev_a) > 300
    # every event's product exists, belongs to the event's category and is sold at its catalogue price
    for e in ev_a:
        assert e[7] in products and products[e[7]][2] == e[8] and e[9] == products[e[7]][6]
    assert events(30, 120, seed=1) != ev_a  # the seed reaches the events (through the stock)
    # stock: 5 regions per product, about 85% in stock
    assert len(stock) == 5 * len(products)
    assert 0.75 < sum(q > 0 for q, _ in stock.values()) / len(stock) < 0.95


def test_nothing_is_bought_out_of_stock_in_the_customers_region():
    _, stock, _ = world()
    region = {c[0]: home(c) for c in customers()}
    bought = [(e[1], e[7]) for e in events() if e[2] in PURCHASES]
    assert len(bought) > 1500
    assert not [b for b in bought if stock[(b[1], region[b[0]])][0] == 0]


def _top_decile_share(evts: list[tuple]) -> float:
    counts = sorted(Counter(e[7] for e in evts if e[2] in PURCHASES).values(), reverse=True)
    return sum(counts[: len(world()[0]) // 10]) / sum(counts)


def _brand_loyalty(evts: list[tuple]) -> float:
    """Mean share of a customer's purchases in a department that went to their most bought brand
    (customers with at least 3 purchases there)."""
    products = world()[0]
    by = defaultdict(Counter)
    for e in evts:
        if e[2] in PURCHASES:
            p = products[e[7]]
            by[(e[1], p[3])][p[5]] += 1
    shares = [c.most_common(1)[0][1] / sum(c.values()) for c in by.values() if sum(c.values()) >= 3]
    return sum(shares) / len(shares)


def _price_spread(evts: list[tuple]) -> float:
    """Mean spread (standard deviation) of the price ranks a customer buys at."""
    rank = world()[2]
    by = defaultdict(list)
    for e in evts:
        if e[2] in PURCHASES:
            by[e[1]].append(rank[e[7]])
    spreads = [(sum((x - sum(v) / len(v)) ** 2 for x in v) / len(v)) ** 0.5 for v in by.values() if len(v) >= 4]
    return -sum(spreads) / len(spreads)  # larger is more structure


def _fast_delivery(evts: list[tuple]) -> float:
    _, stock, _ = world()
    region = {c[0]: home(c) for c in customers()}
    days = [stock[(e[7], region[e[1]])][1] for e in evts if e[2] in PURCHASES]
    return -sum(days) / len(days)


def _repeats_in_consumables(evts: list[tuple]) -> float:
    """Share of consumable purchases that repeat a product the customer bought before."""
    seen, repeat, total = set(), 0, 0
    for e in sorted((e for e in evts if e[2] in PURCHASES), key=lambda e: (e[1], e[3])):
        if e[8] in load_generators().CONSUMABLE_CATEGORIES:
            total += 1
            repeat += (e[1], e[7]) in seen
        seen.add((e[1], e[7]))
    return repeat / total


@pytest.mark.parametrize(
    ("statistic", "switch_off", "margin"),
    [
        (_top_decile_share, {"APPEAL_SIGMA": 0.0, "TREND_SIGMA": 0.0}, 0.1),
        (_brand_loyalty, {"BRAND_BONUS": 0.0}, 0.03),
        (_price_spread, {"PRICE_SENSITIVITY": (0.0, 0.0)}, 0.03),
        (_fast_delivery, {"DELIVERY_WEIGHT": (0.0, 0.0)}, 0.1),
        (_repeats_in_consumables, {"REPEAT_SHARE": 0.0}, 0.1),
    ],
    ids=["long-tail popularity", "brand affinity", "price level", "fast delivery", "repeat consumables"],
)
def test_behaviour_has_each_planted_effect(monkeypatch, statistic, switch_off, margin):
    with_effect = statistic(events())
    gen = load_generators()
    for name, value in switch_off.items():
        monkeypatch.setattr(gen, name, value)
    monkeypatch.setattr(gen, "_WORLDS", {})  # appeal is drawn when the catalogue is built
    without = statistic(events())
    assert with_effect > without + margin, (with_effect, without)
