"""FACT_SALES and DAILY_SALES_SUMMARY on hand-written rows: idempotent, late dimensions wait instead of
being dropped, point-in-time dimension versions, rejects with a reason, a failed run retried."""

from __future__ import annotations

import pytest

from infra.analytics.catalog import fq
from tests.analytics.conftest import customer, insert, item, order, product, query


def digest(la) -> list[tuple]:
    return [
        *query(
            la,
            "SELECT ORDER_ITEM_ID, CUSTOMER_SK, PRODUCT_SK, DATE_KEY, NET_AMOUNT, COST_AMOUNT, ORDER_STATUS "
            "FROM {facts} ORDER BY 1",
        ),
        *query(la, "SELECT DATE_KEY, ORDERS, REVENUE, COST, MARGIN, AVG_ORDER_VALUE FROM {summary} ORDER BY 1"),
        *query(la, "SELECT CUSTOMER_SK, CUSTOMER_ID, SEGMENT, IS_CURRENT FROM {dim_customer} ORDER BY 1"),
    ]


def base(la) -> None:
    insert(la, "customers", customer(1), customer(2, "PREMIUM"))
    insert(la, "products", product(10, 20.0, 12.0), product(11, 5.0, 1.0))
    insert(la, "orders", order(100, 1, "2026-03-01 10:00:00"), order(101, 2, "2026-03-01 12:00:00", "CANCELLED"))
    insert(la, "order_items", item(1, 100, 10, 2, 20.0, 10.0), item(2, 100, 11, 1, 5.0), item(3, 101, 10, 1, 20.0))


def test_facts_summary_and_a_rerun_that_changes_nothing(la):
    base(la)
    runs = la.run_task_graph()
    assert [r.state for r in runs] == ["SUCCEEDED"] * 3
    facts = query(la, "SELECT ORDER_ITEM_ID, NET_AMOUNT, COST_AMOUNT, PROFIT, IS_CANCELLED FROM {facts} ORDER BY 1")
    assert [tuple(float(v) if not isinstance(v, bool | int) else v for v in r) for r in facts] == [
        (1, 36.0, 24.0, 12.0, False),  # 2 x 20 less 10 %
        (2, 5.0, 1.0, 4.0, False),
        (3, 20.0, 12.0, 8.0, True),
    ]
    (day,) = query(
        la, "SELECT SALES_DATE, ORDERS, REVENUE, COST, PROFIT, MARGIN, AVG_ORDER_VALUE, CANCELLED_ORDERS FROM {summary}"
    )
    assert (day[1], float(day[2]), float(day[3]), float(day[4])) == (1, 41.0, 25.0, 16.0)
    assert float(day[5]) == pytest.approx(16 / 41, abs=1e-6) and float(day[6]) == 41.0 and day[7] == 1
    before = digest(la)
    assert [r.state for r in la.run_task_graph()] == ["SKIPPED"] * 3  # WHEN: no stream has data
    for proc in ("dimensions", "facts", "summary"):  # and forced runs change nothing either
        la.run_procedure(proc)
    assert digest(la) == before
    log = la.cursor()
    log.execute(f"SELECT RUN_ID, TASK_NAME, STATE, REASON FROM {fq(la.db, 'task_history')} ORDER BY RUN_ID, STARTED_AT")
    assert [r[:3] for r in log.fetchall()] == [
        (1, "dimensions_task", "SUCCEEDED"),
        (1, "facts_task", "SUCCEEDED"),
        (1, "summary_task", "SUCCEEDED"),
        (2, "dimensions_task", "SKIPPED"),
        (2, "facts_task", "SKIPPED"),
        (2, "summary_task", "SKIPPED"),
    ]


def test_an_order_whose_customer_arrives_a_batch_later_is_loaded_then(la):
    insert(la, "products", product(10))
    insert(la, "orders", order(100, 7, "2026-03-01 10:00:00"))
    insert(la, "order_items", item(1, 100, 10))
    la.run_task_graph()
    assert query(la, "SELECT COUNT(*) FROM {facts}") == [(0,)]
    assert query(la, "SELECT ORDER_ITEM_ID FROM {pending}") == [(1,)]
    insert(la, "customers", customer(7))
    la.run_task_graph()
    assert query(la, "SELECT ORDER_ITEM_ID, CUSTOMER_ID FROM {facts}") == [(1, 7)]
    assert query(la, "SELECT COUNT(*) FROM {pending}") == [(0,)]


def test_a_fact_points_to_the_dimension_version_valid_at_its_order_date(la):
    insert(la, "customers", customer(1, "STANDARD"))
    insert(la, "products", product(10, 20.0, 12.0))
    la.run_task_graph()
    cur = la.cursor()
    cur.execute(f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET SEGMENT = 'PREMIUM', UPDATED_AT = '2026-03-02 00:00:00'")
    cur.execute(f"UPDATE {la.db}.BRONZE.SHOP_PRODUCTS SET UNIT_COST = 15.0, UPDATED_AT = '2026-03-02 00:00:00'")
    # orders placed before and after the change, both arriving after it
    insert(la, "orders", order(100, 1, "2026-03-01 10:00:00"), order(101, 1, "2026-03-03 10:00:00"))
    insert(la, "order_items", item(1, 100, 10, 1, 20.0), item(2, 101, 10, 1, 20.0))
    la.run_task_graph()
    rows = query(
        la,
        "SELECT f.ORDER_ITEM_ID, c.SEGMENT, f.COST_AMOUNT FROM {facts} f "
        "JOIN {dim_customer} c ON c.CUSTOMER_SK = f.CUSTOMER_SK ORDER BY 1",
    )
    assert [(i, s, float(c)) for i, s, c in rows] == [(1, "STANDARD", 12.0), (2, "PREMIUM", 15.0)]


def test_a_status_change_reaches_the_fact_and_cancels_its_revenue(la):
    base(la)
    la.run_task_graph()
    la.cursor().execute(
        f"UPDATE {la.db}.BRONZE.SHOP_ORDERS SET ORDER_STATUS = 'CANCELLED', UPDATED_AT = '2026-03-02 00:00:00' "
        "WHERE ORDER_ID = 100"
    )
    la.run_task_graph()
    assert query(la, "SELECT DISTINCT IS_CANCELLED FROM {facts}") == [(True,)]
    assert [(o, float(r)) for o, r in query(la, "SELECT ORDERS, REVENUE FROM {summary}")] == [(0, 0.0)]


def test_malformed_items_are_rejected_with_a_reason_and_the_rest_loads(la):
    base(la)
    insert(la, "order_items", item(4, 100, 10, 0), item(5, 100, 11, 1, -3.0))
    la.run_task_graph()
    assert [r[0] for r in query(la, "SELECT ORDER_ITEM_ID FROM {facts} ORDER BY 1")] == [1, 2, 3]
    assert query(la, "SELECT SOURCE_TABLE, SOURCE_KEY, REASON FROM {rejects} ORDER BY SOURCE_KEY") == [
        ("SHOP_ORDER_ITEMS", "4", "QUANTITY is not a positive number"),
        ("SHOP_ORDER_ITEMS", "5", "UNIT_PRICE is missing or negative"),
    ]
    assert query(la, "SELECT COUNT(*) FROM {pending}") == [(0,)]


def test_a_run_that_fails_midway_is_retried_to_the_same_tables(la, stand_ins):
    base(la)
    with pytest.raises(RuntimeError, match="injected failure"):
        la.run_procedure("dimensions", fail_after=4)
    la.run_procedure("dimensions")
    with pytest.raises(RuntimeError, match="injected failure"):
        la.run_procedure("facts", fail_after=8)
    for proc in ("facts", "summary"):
        la.run_procedure(proc)
    assert query(la, "SELECT COUNT(*) FROM {pending}") == [(0,)]
    retried = digest(la)

    from infra.config.reader import stack_config
    from scripts.analytics.rehearsal import LocalAnalytics
    from scripts.core.connections import connect_local

    clean = LocalAnalytics(
        connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port, None, None),
        la.db + "_CLEAN",
        stack_config("dev").analytics,
    )
    clean.setup()
    base(clean)
    clean.run_task_graph()
    assert digest(clean) == retried
