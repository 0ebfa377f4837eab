"""A hand-written change sequence through the local rehearsal of the dynamic tables, against the same
figures computed independently in Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from tests.cdc.conftest import as_table, change

# order 1: inserted, processed, shipped, deleted, then inserted again with the same id;
# order 2 is delivered, order 3 cancelled, order 4 stays pending.
CHANGES = [
    change(1, "INSERT", 1, "PENDING", "150.00", "2026-01-15 09:00:00"),
    change(2, "INSERT", 2, "PENDING", "99.99", "2026-01-15 09:05:00", order_date="2026-01-20", customer=8, quantity=4),
    change(3, "UPDATE", 1, "PROCESSING", "150.00", "2026-01-15 10:00:00"),
    change(4, "UPDATE", 1, "SHIPPED", "150.00", "2026-01-15 11:00:00"),
    change(5, "INSERT", 3, "PENDING", "250.50", "2026-01-15 11:10:00", order_date="2026-02-01", customer=9, quantity=2),
    change(6, "UPDATE", 2, "DELIVERED", "99.99", "2026-01-15 11:20:00", "2026-01-20", customer=8, quantity=4),
    change(7, "DELETE", 1, "SHIPPED", "150.00", "2026-01-15 12:00:00"),
    change(8, "UPDATE", 3, "CANCELLED", "250.50", "2026-01-15 12:30:00", order_date="2026-02-01", customer=9),
    change(9, "INSERT", 1, "PENDING", "80.00", "2026-01-16 08:00:00", order_date="2026-02-03", quantity=3),
    change(10, "INSERT", 5, "SHIPPED", "100.00", "2026-01-16 08:10:00", "2026-01-20", customer=8, quantity=5),
    change(11, "INSERT", 4, "PENDING", "0.00", "2026-01-16 08:30:00", order_date="2026-02-03", customer=7),
]


def segment(amount: Decimal) -> str:
    return "HIGH_VALUE" if amount > 200 else "MEDIUM_VALUE" if amount > 100 else "LOW_VALUE"


def category(amount: Decimal) -> str:
    return "High Value" if amount > 100 else "Low Value"


FIGURES = (
    "ORDER_COUNT",
    "TOTAL_REVENUE",
    "DELIVERED_REVENUE",
    "CANCELLED_ORDERS",
    "OPEN_ORDERS",
    "NEW_RECORDS",
    "UPDATED_RECORDS",
    "DELETED_RECORDS",
    "TOTAL_ITEMS_SOLD",
    "TOTAL_HIGH_VALUE_ORDERS",
    "TOTAL_LOW_VALUE_ORDERS",
    "AVG_ORDER_VALUE",
    "UNIQUE_CUSTOMERS",
)


def expected_current(changes: list[dict]) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for c in sorted(changes, key=lambda c: c["CHANGE_SEQ"]):
        latest[c["ORDER_ID"]] = c
    return {k: c for k, c in latest.items() if c["CHANGE_TYPE"] != "DELETE"}


def expected_aggregated(changes: list[dict]) -> dict[tuple, dict]:
    groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    customers: dict[tuple, set] = defaultdict(set)
    for c in expected_current(changes).values():
        g = groups[(c["ORDER_DATE"].year, c["ORDER_DATE"].month, segment(c["AMOUNT"]))]
        g["ORDER_COUNT"] += 1
        if c["STATUS"] != "CANCELLED":
            g["TOTAL_REVENUE"] += c["AMOUNT"]
            g["BOOKED"] += 1
            g["TOTAL_ITEMS_SOLD"] += c["QUANTITY"]
            g["TOTAL_HIGH_VALUE_ORDERS" if c["AMOUNT"] > 100 else "TOTAL_LOW_VALUE_ORDERS"] += c["AMOUNT"]
        g["DELIVERED_REVENUE"] += c["AMOUNT"] if c["STATUS"] == "DELIVERED" else 0
        g["CANCELLED_ORDERS"] += c["STATUS"] == "CANCELLED"
        g["OPEN_ORDERS"] += c["STATUS"] not in ("DELIVERED", "CANCELLED")
        customers[(c["ORDER_DATE"].year, c["ORDER_DATE"].month, segment(c["AMOUNT"]))].add(c["CUSTOMER_ID"])
    for c in changes:
        kind = {"INSERT": "NEW_RECORDS", "UPDATE": "UPDATED_RECORDS", "DELETE": "DELETED_RECORDS"}[c["CHANGE_TYPE"]]
        groups[(c["ORDER_DATE"].year, c["ORDER_DATE"].month, segment(c["AMOUNT"]))][kind] += 1
    out = {}
    for key, g in groups.items():
        booked = g.pop("BOOKED", 0)
        aov = (Decimal(g["TOTAL_REVENUE"]) / booked).quantize(Decimal("0.01")) if booked else None
        out[key] = {
            **{k: g.get(k, 0) for k in FIGURES[:-2]},
            "AVG_ORDER_VALUE": aov,
            "UNIQUE_CUSTOMERS": len(customers[key]),
        }
    return out


def _aggregated(lc) -> dict[tuple, dict]:
    rows = lc.table("orders_aggregated")
    return {(r["ORDER_YEAR"], r["ORDER_MONTH"], r["VALUE_SEGMENT"]): {k: r[k] for k in FIGURES} for r in rows}


def _check(lc, changes: list[dict]) -> None:
    current = {r["ORDER_ID"]: r for r in lc.table("orders_current")}
    want = expected_current(changes)
    assert set(current) == set(want)
    for oid, c in want.items():
        got = current[oid]
        assert (got["STATUS"], got["AMOUNT"], got["ORDER_DATE"], got["LAST_CHANGE_SEQ"]) == (
            c["STATUS"],
            c["AMOUNT"],
            c["ORDER_DATE"],
            c["CHANGE_SEQ"],
        )
    derived = {r["ORDER_ID"]: r for r in lc.table("orders_derived")}
    assert set(derived) == set(want)
    for oid, c in want.items():
        d = derived[oid]
        assert (d["ORDER_YEAR"], d["ORDER_MONTH"]) == (c["ORDER_DATE"].year, c["ORDER_DATE"].month)
        assert d["VALUE_SEGMENT"] == segment(c["AMOUNT"])
        assert d["ORDER_STATE"] == ("CLOSED" if c["STATUS"] in ("DELIVERED", "CANCELLED") else "OPEN")
        assert d["DQ_AMOUNT"] == "PASSED" and d["DQ_STATUS"] == "PASSED"
        assert d["ORDER_VALUE_CATEGORY"] == category(c["AMOUNT"])
        assert d["ORDER_COMPLETION_STATUS"] == ("Completed" if c["STATUS"] == "DELIVERED" else "Pending")
    assert _aggregated(lc) == expected_aggregated(changes)


def test_insert_updates_delete_and_reinsert_equal_python(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    assert lc.refresh().mode == "FULL"
    _check(lc, CHANGES)
    current = {r["ORDER_ID"]: r for r in lc.table("orders_current")}
    # the re-inserted order is the new one, not the deleted one; the deletion counts, the order is live again
    assert current[1]["STATUS"] == "PENDING" and current[1]["AMOUNT"] == Decimal("80.00")
    assert sum(r["DELETED_RECORDS"] for r in lc.table("orders_aggregated")) == 1
    assert sum(r["UPDATED_RECORDS"] for r in lc.table("orders_aggregated")) == 4


def test_the_same_sequence_applied_change_by_change_gives_the_same_tables(cdc):
    lc, writer = cdc
    lc.refresh()  # an empty first refresh: everything after it is incremental
    for i, c in enumerate(CHANGES, 1):
        writer.write(as_table([c]))
        r = lc.refresh()
        assert r.mode == "INCREMENTAL" and r.changes_read == 1 and r.orders_recomputed == 1
        _check(lc, CHANGES[:i])


def test_cancelled_orders_are_not_revenue_and_aov_is_per_order(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    lc.refresh()
    feb_high = _aggregated(lc)[(2026, 2, "HIGH_VALUE")]  # order 3, cancelled
    assert feb_high["ORDER_COUNT"] == 1 and feb_high["CANCELLED_ORDERS"] == 1
    assert feb_high["TOTAL_REVENUE"] == 0 and feb_high["AVG_ORDER_VALUE"] is None
    feb_low = _aggregated(lc)[(2026, 2, "LOW_VALUE")]  # orders 1 (80.00) and 4 (0.00), both pending
    assert feb_low["TOTAL_REVENUE"] == Decimal("80.00") and feb_low["AVG_ORDER_VALUE"] == Decimal("40.00")


def test_monitoring_counts_changes_per_hour_and_type_and_lags(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    lc.refresh()
    rows = {(r["CHANGE_HOUR"].isoformat(), r["CHANGE_TYPE"]): r["CHANGES"] for r in lc.monitoring()}
    assert rows[("2026-01-15T11:00:00", "UPDATE")] == 2 and rows[("2026-01-16T08:00:00", "INSERT")] == 3
    assert sum(rows.values()) == len(CHANGES)
    assert {r["ORDERS_AGGREGATED_LAG_SECONDS"] for r in lc.monitoring()} == {0}
    late = change(12, "UPDATE", 4, "PROCESSING", "0.00", "2026-01-16 09:30:00", order_date="2026-02-03")
    writer.write(as_table([late]))  # logged, not refreshed yet: the tables are an hour behind the log
    lags = lc.monitoring()[0]
    assert lags["ORDERS_AGGREGATED_LAG_SECONDS"] == 3600 and lags["ORDERS_CURRENT_LAG_SECONDS"] == 3600


def test_a_deleted_order_does_not_make_a_caught_up_table_look_behind(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    gone = change(12, "DELETE", 4, "PENDING", "0.00", "2026-01-16 10:00:00", order_date="2026-02-03")
    writer.write(as_table([gone]))  # the newest change is a delete: ORDERS_CURRENT has no row for it
    lc.refresh()
    lags = lc.monitoring()[0]
    assert (
        lags["ORDERS_CURRENT_LAG_SECONDS"],
        lags["ORDERS_DERIVED_LAG_SECONDS"],
        lags["ORDERS_AGGREGATED_LAG_SECONDS"],
    ) == (0, 0, 0)


def test_high_and_low_value_totals_split_the_revenue_at_100(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    lc.refresh()
    rows = lc.table("orders_aggregated")
    for r in rows:
        assert r["TOTAL_HIGH_VALUE_ORDERS"] + r["TOTAL_LOW_VALUE_ORDERS"] == r["TOTAL_REVENUE"]
    jan_low = _aggregated(lc)[(2026, 1, "LOW_VALUE")]  # order 2 (99.99, 4 items) and 5 (exactly 100.00, 5 items)
    assert jan_low["TOTAL_LOW_VALUE_ORDERS"] == Decimal("199.99") and jan_low["TOTAL_HIGH_VALUE_ORDERS"] == 0
    assert jan_low["TOTAL_ITEMS_SOLD"] == 9
    assert _aggregated(lc)[(2026, 2, "HIGH_VALUE")]["TOTAL_ITEMS_SOLD"] == 0  # cancelled: nothing sold


def test_days_since_order_is_the_age_when_read(cdc):
    lc, writer = cdc
    writer.write(as_table(CHANGES))
    lc.refresh()
    before = datetime.now(UTC).date()
    rows = lc.table("orders_with_age", "ORDER_ID")
    after = datetime.now(UTC).date()
    want = expected_current(CHANGES)
    assert [r["ORDER_ID"] for r in rows] == sorted(want)
    for r in rows:
        age = {(day - want[r["ORDER_ID"]]["ORDER_DATE"].date()).days for day in (before, after)}
        assert r["DAYS_SINCE_ORDER"] in age
        assert r["ORDER_VALUE_CATEGORY"] == category(want[r["ORDER_ID"]]["AMOUNT"])
