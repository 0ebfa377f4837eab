"""The summary and the dynamic tables on generated data equal figures computed independently in Python
over the same generated rows (revenue net of discounts and without cancelled orders, AOV per order,
margin = profit / revenue)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from infra.analytics.catalog import TABLES, fq
from scripts.analytics.generate import history
from scripts.analytics.loads import AnalyticsTarget, generate, run
from tests.analytics.conftest import query

SCALE = dict(customers=40, products=30, orders=600, items=1500, movements=800, seed=4)


def expected(batch) -> dict:
    rows = {k: v.to_pylist() for k, v in batch.tables.items()}
    cost = {p["PRODUCT_ID"]: p["UNIT_COST"] for p in rows["products"]}
    orders = {o["ORDER_ID"]: o for o in rows["orders"]}
    day = defaultdict(lambda: {"orders": set(), "revenue": 0.0, "cost": 0.0, "cancelled": set()})
    for i in rows["order_items"]:
        o = orders[i["ORDER_ID"]]
        d = day[o["ORDER_TS"].date()]
        # exact decimal arithmetic, rounded half away from zero as Snowflake's ROUND does
        gross = Decimal(i["QUANTITY"]) * Decimal(str(i["UNIT_PRICE"]))
        net = float((gross * (1 - Decimal(str(i["DISCOUNT_PCT"])) / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP))
        if o["ORDER_STATUS"] == "CANCELLED":
            d["cancelled"].add(o["ORDER_ID"])
            continue
        d["orders"].add(o["ORDER_ID"])
        d["revenue"] += net
        d["cost"] += i["QUANTITY"] * cost[i["PRODUCT_ID"]]
    return day


@pytest.fixture()
def loaded(la):
    class Same:  # the fixture's connection, for the steps' `with t.connect()`
        def __enter__(self):
            return la.conn

        def __exit__(self, *exc):
            return False

    cfg = la.cfg.model_copy(update={"scale": la.cfg.scale.updated(**SCALE)})
    t = AnalyticsTarget("dev", True, la.db, Same, cfg)
    generate(t)
    assert [r.state for r in run(t)] == ["SUCCEEDED"] * 3
    return la, history(cfg.scale)


def test_daily_summary_equals_an_independent_computation(loaded):
    la, batch = loaded
    want = expected(batch)
    got = {
        r[0]: r[1:]
        for r in query(
            la, "SELECT SALES_DATE, ORDERS, REVENUE, COST, MARGIN, AVG_ORDER_VALUE, CANCELLED_ORDERS FROM {summary}"
        )
    }
    assert set(got) == set(want)
    for d, w in want.items():
        orders, revenue, cost, margin, aov, cancelled = got[d]
        assert orders == len(w["orders"]) and cancelled == len(w["cancelled"]), d
        assert float(revenue) == pytest.approx(w["revenue"], abs=0.01), d
        assert float(cost) == pytest.approx(w["cost"], abs=0.01), d
        if w["revenue"]:
            assert float(margin) == pytest.approx((w["revenue"] - w["cost"]) / w["revenue"], abs=1e-5), d
            assert float(aov) == pytest.approx(w["revenue"] / len(w["orders"]), abs=0.01), d
    facts = query(la, "SELECT COUNT(*) FROM {facts}")[0][0]
    assert facts == batch.rows("order_items")  # every item became exactly one fact


def test_dynamic_tables_agree_with_the_facts(loaded):
    la, batch = loaded
    cur = la.cursor()
    cur.execute(f"SELECT SUM(REVENUE), SUM(COST) FROM {fq(la.db, 'product_performance')}")
    perf_revenue, perf_cost = cur.fetchone()
    total = query(la, "SELECT SUM(REVENUE), SUM(COST) FROM {summary}")[0]
    assert float(perf_revenue) == pytest.approx(float(total[0]), abs=0.05)
    assert float(perf_cost) == pytest.approx(float(total[1]), abs=0.05)
    cur.execute(f"SELECT COUNT(*), SUM(ITEMS) FROM {fq(la.db, 'enriched_orders')}")
    assert cur.fetchone() == (batch.rows("orders"), batch.rows("order_items"))
    cur.execute(f"SELECT STOCK_STATUS, COUNT(*) FROM {fq(la.db, 'current_inventory')} GROUP BY 1")
    statuses = dict(cur.fetchall())
    assert set(statuses) <= {"LOW", "MEDIUM", "HEALTHY"} and sum(statuses.values()) == SCALE["products"]
    stock = defaultdict(int)
    for m in batch.tables["movements"].to_pylist():
        stock[m["PRODUCT_ID"]] += m["QUANTITY"]
    cur.execute(f"SELECT PRODUCT_ID, STOCK_ON_HAND FROM {fq(la.db, 'current_inventory')}")
    assert {p: s for p, s in cur.fetchall() if s} == {p: s for p, s in stock.items() if s}


def test_generate_twice_is_refused_and_names_the_rows(loaded):
    la, _ = loaded

    class Same:
        def __enter__(self):
            return la.conn

        def __exit__(self, *exc):
            return False

    from scripts.analytics.loads import AnalyticsError

    with pytest.raises(AnalyticsError, match=r"sources already hold rows \(SHOP_CUSTOMERS 40, .*--replace"):
        generate(AnalyticsTarget("dev", True, la.db, Same, la.cfg))
    assert query(la, "SELECT COUNT(*) FROM {customers}") == [(40,)]
    assert TABLES["customers"][1] == "SHOP_CUSTOMERS"
