"""The recommendations' SQL files on the fakesnow stand-in, against small hand-checked data."""

from __future__ import annotations

import re

import pytest

from infra.recommendations import catalog
from infra.sqlfiles import read_sql, render_sql, split_statements
from scripts.core.connections import connect_local
from scripts.recommendations.generate import load_generators
from services.features.pair import ZIP_REGIONS

DB = "T_SQL_RETAIL"
AS_OF = "CAST('2026-11-01 00:00:00' AS TIMESTAMP)"
COLS = [c for c, _ in catalog.EVENT_STREAM]


def ev(n, cid, typ, ts, product=None, cat=None, order=None, total=None, channel="Web", session="S1", points=0):
    qty = 1 if typ in ("add_to_cart", "order_complete", "pos_purchase") else 0
    return (
        f"E{n}",
        cid,
        typ,
        ts,
        channel,
        session,
        "Mobile",
        product,
        cat,
        50.0,
        qty,
        None,
        order,
        total,
        None,
        None,
        points,
        0,
    )


def events() -> list[tuple]:
    rows = []
    n = iter(range(1, 1000))
    # customer 1: five orders (four in CAT-001), carts, views, points: a hand-computed Champion
    for day, prod, cat, total, ch in (
        ("2026-10-25", 10, "CAT-001", 100.0, "Web"),
        ("2026-10-20", 11, "CAT-001", 200.0, "Web"),
        ("2026-10-10", 12, "CAT-002", 150.0, "Store"),
        ("2026-10-05", 10, "CAT-001", 100.0, "Web"),
        ("2026-10-01", 10, "CAT-001", 60.0, "Web"),
    ):
        typ = "pos_purchase" if ch == "Store" else "order_complete"
        rows.append(ev(next(n), 1, typ, f"{day} 12:00:00", prod, cat, f"ORD-1-{day}", total, ch))
    for s in ("S1", "S2", "S3", "S4"):
        rows.append(ev(next(n), 1, "add_to_cart", "2026-09-01 10:00:00", 10, "CAT-001", session=s))
    rows.append(ev(next(n), 1, "abandoned_cart", "2026-09-02 10:00:00", 10, "CAT-001"))
    for s in ("S1", "S2", "S3"):
        rows.append(ev(next(n), 1, "product_view", "2026-09-03 10:00:00", 11, "CAT-001", session=s))
    rows.append(ev(next(n), 1, "points_earned", "2026-09-04 10:00:00", points=100))
    # customer 2: never purchased; browses CAT-003 twice, CAT-004 once
    for cat in ("CAT-003", "CAT-003", "CAT-004"):
        rows.append(ev(next(n), 2, "product_view", "2026-09-05 10:00:00", 20, cat))
    # customer 3: no events at all. customer 4: buys in CAT-003
    for prod in (20, 20, 21):
        rows.append(ev(next(n), 4, "order_complete", "2026-09-06 10:00:00", prod, "CAT-003", f"ORD-4-{next(n)}", 40.0))
    # customer 5: one purchase without a category (ignored by the ranking)
    rows.append(ev(next(n), 5, "order_complete", "2026-09-07 10:00:00", 99, None, "ORD-5-1", 30.0))
    # customer 6: ties in CAT-001: 13 x3 (ties with 10 x3), then 14..17 once each
    for prod in (13, 13, 13, 14, 15, 16, 17):
        rows.append(ev(next(n), 6, "order_complete", "2026-09-08 10:00:00", prod, "CAT-001", f"ORD-6-{next(n)}", 20.0))
    return rows


CUSTOMERS = [
    (
        1,
        "a@x.com",
        "1",
        "Ann",
        "One",
        "1990-06-15",
        "Female",
        "1 St",
        "NYC",
        "NY",
        "10001",
        "2024-11-01",
        "Gold",
        True,
        True,
        False,
    ),
    (
        2,
        "b@x.com",
        "2",
        "Bob",
        "Two",
        "1980-01-01",
        "Male",
        "2 St",
        "LA",
        "CA",
        "90001",
        "2020-01-01",
        "Bronze",
        False,
        False,
        False,
    ),
    (
        3,
        "c@x.com",
        "3",
        "Cy",
        "Three",
        "2000-01-01",
        "Male",
        "3 St",
        "SF",
        "CA",
        "94101",
        "2025-01-01",
        "Silver",
        False,
        False,
        False,
    ),
    (
        4,
        "d@x.com",
        "4",
        "Di",
        "Four",
        "1970-01-01",
        "Female",
        "4 St",
        "Miami",
        "FL",
        "33101",
        "2019-01-01",
        "Bronze",
        False,
        False,
        False,
    ),
    (
        5,
        "e@x.com",
        "5",
        "Ed",
        "Five",
        "1975-01-01",
        "Male",
        "5 St",
        "Austin",
        "TX",
        "73301",
        "2019-01-01",
        "Bronze",
        False,
        False,
        False,
    ),
    (
        6,
        "f@x.com",
        "6",
        "Flo",
        "Six",
        "1985-01-01",
        "Female",
        "6 St",
        "Denver",
        "CO",
        "80201",
        "2019-01-01",
        "Bronze",
        False,
        False,
        False,
    ),
    (
        7,
        "g@x.com",
        "7",
        "Gus",
        "Seven",
        "1985-01-01",
        "Male",
        "7 St",
        "Nowhere",
        None,
        None,
        "2019-01-01",
        "Bronze",
        False,
        False,
        False,
    ),
]
REGIONS = ("Northeast", "Southeast", "Midwest", "South", "West")
# every product in stock everywhere, but 13 (none left in the West) and 12 (sold out in every region)
OUT_OF_STOCK = {(13, "West")} | {(12, r) for r in REGIONS}
STOCK_TAKEN = "2026-11-01 00:00:00"  # INVENTORY.LAST_UPDATED: stamped with the AS_OF, as the generate step does
INVENTORY = [
    (p, r, f"WH-{r}", 0 if (p, r) in OUT_OF_STOCK else 10, 2, STOCK_TAKEN)
    for p in (*range(10, 18), 20, 21, 99)
    for r in REGIONS
]


@pytest.fixture(scope="module")
def cur(stand_ins):
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        c = conn.cursor()
        c.execute(f'CREATE DATABASE IF NOT EXISTS "{DB}"')
        for schema in ("BRONZE", "GOLD", "FEATURE_STORE"):
            c.execute(f'CREATE SCHEMA IF NOT EXISTS "{DB}"."{schema}"')
        for name in ("CUSTOMERS", "EVENT_STREAM", "PRODUCT_CATEGORIES", "LOYALTY_TIERS", "INVENTORY"):
            c.execute(f"DROP TABLE IF EXISTS {catalog.q(DB, name)}")
            c.execute(catalog.create_table_sql(DB, name))
        c.executemany(f"INSERT INTO {catalog.q(DB, 'CUSTOMERS')} VALUES ({', '.join(['%s'] * 16)})", CUSTOMERS)
        c.executemany(f"INSERT INTO {catalog.q(DB, 'EVENT_STREAM')} VALUES ({', '.join(['%s'] * 18)})", events())
        c.executemany(
            f"INSERT INTO {catalog.q(DB, 'INVENTORY')} VALUES ({', '.join(['%s'] * len(catalog.INVENTORY))})", INVENTORY
        )
        for stmt in split_statements(
            render_sql(
                "recommendations/reference_data.sql",
                categories=catalog.q(DB, "PRODUCT_CATEGORIES"),
                tiers=catalog.q(DB, "LOYALTY_TIERS"),
            )
        ):
            c.execute(stmt)
        c.execute(f"CREATE OR REPLACE TABLE {catalog.q(DB, 'CUSTOMER_360')} AS {catalog.customer_360_sql(DB, AS_OF)}")
        yield c


def c360(cur, cid: int) -> dict:
    cur.execute(f"SELECT * FROM {catalog.q(DB, 'CUSTOMER_360')} WHERE CUSTOMER_ID = {cid}")
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def recs(cur) -> dict[int, list[tuple]]:
    cur.execute(catalog.recommendations_sql(DB) + " ORDER BY USER_ID, RANK")
    out: dict[int, list[tuple]] = {}
    for user, rank, product, cat, count, source in cur.fetchall():
        out.setdefault(int(user), []).append((int(rank), int(product), cat, int(count), source))
    return out


def test_customer_360_metrics_for_a_hand_computed_customer(cur):
    c = c360(cur, 1)
    assert c["TOTAL_ORDERS"] == 5
    assert float(c["LIFETIME_SPEND"]) == pytest.approx(610.0)
    assert float(c["AVG_ORDER_VALUE"]) == pytest.approx(122.0)
    assert c["DAYS_SINCE_PURCHASE"] == 7  # last order 2026-10-25 12:00, as of 2026-11-01
    assert c["RFM_SEGMENT"] == "Champion"  # <= 30 days, >= 5 orders, >= 500 spent
    assert c["ADD_TO_CART_COUNT"] == 4 and c["ABANDONED_CART_COUNT"] == 1
    assert float(c["CART_ABANDONMENT_RATE"]) == pytest.approx(0.25)
    # 3 browse sessions * 0.3 + 5 orders * 5 + 100 points * 0.01 + app 10 + e-mail 5
    assert float(c["ENGAGEMENT_SCORE"]) == pytest.approx(41.9)
    assert c["AGE"] == 36 and c["TENURE_MONTHS"] == 24
    assert c["FAVORITE_PURCHASE_CATEGORY"] == "CAT-001"
    assert float(c["STORE_RATIO"]) == pytest.approx(1 / 14)
    assert c["PREFERRED_CHANNEL"] == "Web"


def test_customer_360_without_purchases_or_events(cur):
    two, three = c360(cur, 2), c360(cur, 3)
    assert two["TOTAL_ORDERS"] == 0 and two["DAYS_SINCE_PURCHASE"] == 999
    assert two["FAVORITE_PURCHASE_CATEGORY"] is None and two["FAVORITE_BROWSE_CATEGORY"] == "CAT-003"
    assert two["RFM_SEGMENT"] == "Dormant"
    assert three["TOTAL_SESSIONS"] == 0 and float(three["ENGAGEMENT_SCORE"]) == 0.0
    assert three["CART_ABANDONMENT_RATE"] == 0


def test_top5_of_favourite_category_with_deterministic_ties(cur):
    r = recs(cur)
    # CAT-001 purchase counts: 10 x3, 13 x3, then 11, 14, 15, 16, 17 once each -> ties break on lower id
    assert [(p, n) for _, p, _, n, _ in r[1]] == [(10, 3), (13, 3), (11, 1), (14, 1), (15, 1)]
    assert {s for *_, s in r[1]} == {"PURCHASE_CATEGORY"}
    assert [rank for rank, *_ in r[1]] == [1, 2, 3, 4, 5]


def test_no_purchases_falls_back_to_browse_then_global(cur):
    r = recs(cur)
    assert [(p, c, s) for _, p, c, _, s in r[2]] == [
        (20, "CAT-003", "BROWSE_CATEGORY"),
        (21, "CAT-003", "BROWSE_CATEGORY"),
    ]
    # no events at all, or only a purchase with a NULL category: overall best sellers (NULL category ignored),
    # of those in stock at home (12 is sold out everywhere)
    assert [p for _, p, *_ in r[5]] == [10, 13, 20, 11, 14]  # South
    for cid in (3, 5, 7):
        assert {s for *_, s in r[cid]} == {"GLOBAL_TOP"}
    assert all(p != 99 for rows in r.values() for _, p, *_ in rows)


def test_the_precomputed_top5_names_only_products_in_stock_at_home(cur):
    r = recs(cur)
    # customer 6 (ZIP 80201: West) favours CAT-001 like customer 1, but 13 is out of stock in the West
    assert [p for _, p, *_ in r[6]] == [10, 11, 14, 15, 16]
    assert [p for _, p, *_ in r[3]] == [10, 20, 11, 14, 15]  # ZIP 94101: West, no 13, no 12
    assert [p for _, p, *_ in r[7]] == [10, 13, 20, 11, 14]  # no ZIP code: in stock in some region
    home = {c[0]: ZIP_REGIONS[c[10][0]] if c[10] else None for c in CUSTOMERS}
    listed = [(cid, p) for cid, rows in r.items() for _, p, *_ in rows]
    assert len(listed) == 5 * 5 + 2 * 2  # customers 1, 3, 5, 6, 7 get five; 2 and 4 two (CAT-003 has two)
    assert not [(cid, p) for cid, p in listed if (p, home[cid]) in OUT_OF_STOCK]
    assert not [(cid, p) for cid, p in listed if p == 12]


def test_the_home_region_rule_is_the_apis_zip_mapping():
    text = read_sql("recommendations/user_product_recommendations.sql")
    pairs = dict(re.findall(r"WHEN '([0-9])' THEN '([A-Za-z]+)'", text))
    assert pairs == ZIP_REGIONS
    assert load_generators().ZIP_REGIONS == ZIP_REGIONS


def test_category_features_and_label_are_point_in_time(cur):
    cur.execute(catalog.category_features_sql(DB, "CAST('2026-10-15 00:00:00' AS TIMESTAMP)"))
    cols = [d[0] for d in cur.description]
    rows = {(r[0], r[1]): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    assert len(rows) == len(CUSTOMERS) * 12
    a, b = rows[(1, "CAT-001")], rows[(1, "CAT-002")]
    assert a["CAT_PURCHASES"] == 2 and a["LABEL"] == 1  # 10-01 and 10-05 before; 10-20 and 10-25 after
    assert b["CAT_PURCHASES"] == 1 and b["LABEL"] == 0
    assert a["TOTAL_ORDERS"] == 3  # orders after the cut-off are not features
    assert a["CATEGORY_IDX"] == 1 and b["CATEGORY_IDX"] == 2
    assert a["CAT_EVENTS"] != b["CAT_EVENTS"]  # per-category inputs differ
    assert rows[(3, "CAT-005")]["DAYS_SINCE_CAT_EVENT"] == 999


def test_reference_rows_match_the_generators(cur):
    gen = load_generators()
    cur.execute(f"SELECT * FROM {catalog.q(DB, 'PRODUCT_CATEGORIES')} ORDER BY CATEGORY_ID")
    assert [(a, b, c, float(d), float(e)) for a, b, c, d, e in cur.fetchall()] == gen.CATEGORIES
    cur.execute(f"SELECT * FROM {catalog.q(DB, 'LOYALTY_TIERS')} ORDER BY TIER_ID")
    assert [tuple(float(v) if isinstance(v, float) else v for v in r) for r in cur.fetchall()] == [
        tuple(t) for t in gen.LOYALTY_TIERS
    ]
