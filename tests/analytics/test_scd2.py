"""SCD2 of DIM_CUSTOMER on hand-written changes, run through the same SQL the procedure runs."""

from __future__ import annotations

import itertools

from tests.analytics.conftest import customer, insert, query, ts

BIG_BANG, FOREVER = ts("1900-01-01 00:00:00"), ts("9999-12-31 00:00:00")


def versions(la, cid: int) -> list[tuple]:
    return query(
        la,
        "SELECT SEGMENT, CITY, VALID_FROM, VALID_TO, IS_CURRENT FROM {dim_customer} WHERE CUSTOMER_ID = %s "
        "ORDER BY VALID_FROM, VALID_TO",
        cid,
    )


def test_a_change_makes_one_version_whose_start_closes_the_old_one(la):
    insert(la, "customers", customer(1, "STANDARD"), customer(2, "BASIC"))
    la.run_procedure("dimensions")
    assert versions(la, 1) == [("STANDARD", "Austin", BIG_BANG, FOREVER, True)]
    la.cursor().execute(
        f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET SEGMENT = 'PREMIUM', UPDATED_AT = '2026-03-01 10:00:00' "
        "WHERE CUSTOMER_ID = 1"
    )
    la.run_procedure("dimensions")
    changed = ts("2026-03-01 10:00:00")
    assert versions(la, 1) == [
        ("STANDARD", "Austin", BIG_BANG, changed, False),
        ("PREMIUM", "Austin", changed, FOREVER, True),
    ]
    assert versions(la, 2) == [("BASIC", "Austin", BIG_BANG, FOREVER, True)]
    # the surrogate keys are new numbers, never reused
    sks = [r[0] for r in query(la, "SELECT CUSTOMER_SK FROM {dim_customer} ORDER BY CUSTOMER_SK")]
    assert sks == [1, 2, 3]


def test_two_changes_of_a_key_in_one_batch_leave_only_the_latest_current(la):
    insert(la, "customers", customer(1, "STANDARD"))
    la.run_procedure("dimensions")
    # an update and a late duplicate delivery of the same key, both before the next run
    la.cursor().execute(
        f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET SEGMENT = 'BASIC', UPDATED_AT = '2026-02-01 00:00:00'"
    )
    insert(la, "customers", customer(1, "PREMIUM", "2026-02-02 00:00:00", CITY="Seattle"))
    la.run_procedure("dimensions")
    latest = ts("2026-02-02 00:00:00")
    assert versions(la, 1) == [
        ("STANDARD", "Austin", BIG_BANG, latest, False),
        ("PREMIUM", "Seattle", latest, FOREVER, True),
    ]


def test_an_unchanged_redelivery_makes_no_version(la):
    insert(la, "customers", customer(1))
    la.run_procedure("dimensions")
    la.cursor().execute(f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET UPDATED_AT = '2026-05-01 00:00:00'")
    la.run_procedure("dimensions")
    assert versions(la, 1) == [("STANDARD", "Austin", BIG_BANG, FOREVER, True)]


def test_a_same_day_change_never_ends_before_it_starts(la):
    insert(la, "customers", customer(1, "STANDARD", "2026-04-01 09:00:00"))
    la.run_procedure("dimensions")
    for hour, segment in ((10, "PREMIUM"), (11, "BASIC")):
        la.cursor().execute(
            f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET SEGMENT = '{segment}', UPDATED_AT = '2026-04-01 {hour}:00:00'"
        )
        la.run_procedure("dimensions")
    rows = versions(la, 1)
    assert [r[0] for r in rows] == ["STANDARD", "PREMIUM", "BASIC"]
    assert all(r[2] <= r[3] for r in rows)
    assert all(a[3] == b[2] for a, b in itertools.pairwise(rows))


def test_a_deleted_source_row_closes_its_current_version(la):
    insert(la, "customers", customer(1), customer(2))
    la.run_procedure("dimensions")
    la.cursor().execute(f"DELETE FROM {la.db}.BRONZE.SHOP_CUSTOMERS WHERE CUSTOMER_ID = 2")
    la.run_procedure("dimensions")
    (row,) = versions(la, 2)
    assert row[4] is False and BIG_BANG < row[3] < FOREVER
    assert versions(la, 1)[0][4] is True


def test_every_key_has_exactly_one_current_row_after_many_changes(la):
    insert(la, "customers", *(customer(i) for i in range(1, 21)))
    la.run_procedure("dimensions")
    for n, segment in enumerate(("PREMIUM", "BASIC", "STANDARD"), start=1):
        la.cursor().execute(
            f"UPDATE {la.db}.BRONZE.SHOP_CUSTOMERS SET SEGMENT = '{segment}', "
            f"UPDATED_AT = '2026-06-0{n} 00:00:00' WHERE MOD(CUSTOMER_ID, {n + 1}) = 0"
        )
        la.run_procedure("dimensions")
    bad = query(
        la, "SELECT CUSTOMER_ID FROM {dim_customer} GROUP BY CUSTOMER_ID HAVING SUM(IFF(IS_CURRENT, 1, 0)) <> 1"
    )
    assert bad == []
    # the current version carries the source's current values
    diff = query(
        la,
        "SELECT s.CUSTOMER_ID FROM {customers} s JOIN {dim_customer} d "
        "ON d.CUSTOMER_ID = s.CUSTOMER_ID AND d.IS_CURRENT WHERE d.SEGMENT <> s.SEGMENT",
    )
    assert diff == []


def test_malformed_rows_go_to_rejects_with_a_reason_and_nothing_else_is_lost(la):
    insert(la, "customers", customer(1), customer(2, EMAIL="not-an-email"), customer(3, "VIP"))
    la.run_procedure("dimensions")
    assert [r[0] for r in query(la, "SELECT CUSTOMER_ID FROM {dim_customer}")] == [1]
    rejects = query(la, "SELECT SOURCE_TABLE, SOURCE_KEY, REASON FROM {rejects} ORDER BY SOURCE_KEY")
    assert rejects == [
        ("SHOP_CUSTOMERS", "2", "EMAIL is not an e-mail address"),
        ("SHOP_CUSTOMERS", "3", "SEGMENT is not PREMIUM, STANDARD or BASIC"),
    ]
