"""The facts and the summary on their own cadences (infra/analytics/tasks.py): the facts graph loads
without touching the summary; the summary, when its turn comes, covers exactly the facts loaded so far,
and after any sequence of loads and summaries equals a full recomputation from FACT_SALES in Python."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from infra.analytics.tasks import TASKS
from tests.analytics.conftest import insert, item, order, query
from tests.analytics.test_facts import base


def facts_tick(la) -> None:
    """One run of the dimensions → facts graph (its root's WHEN aside)."""
    la.run_procedure("dimensions")
    la.run_procedure("facts")


def summary_tick(la) -> bool:
    """One run of the summary graph: False when its root's declared WHEN (a stream has data) skips it."""
    task = TASKS["summary_task"]
    if task.after is not None or not any(la.stream_rows(s) for s in task.when):
        return False
    la.run_procedure(task.procedure)
    return True


def from_facts(la) -> dict:
    """The summary's figures per day, computed in Python from FACT_SALES' rows."""
    rows = query(la, "SELECT DATE_KEY, ORDER_ID, NET_AMOUNT, COST_AMOUNT, IS_CANCELLED, QUANTITY FROM {facts}")
    days: dict = defaultdict(lambda: {"orders": set(), "revenue": Decimal(0), "cost": Decimal(0), "units": 0})
    for day, oid, net, cost, cancelled, qty in rows:
        d = days[day]
        if not cancelled:
            d["orders"].add(oid)
            d["revenue"] += Decimal(str(net))
            d["cost"] += Decimal(str(cost))
            d["units"] += qty
    return {k: (len(d["orders"]), d["revenue"], d["cost"], d["units"]) for k, d in days.items()}


def summary(la) -> dict:
    rows = query(la, "SELECT DATE_KEY, ORDERS, REVENUE, COST, UNITS FROM {summary}")
    return {k: (o, Decimal(str(r)), Decimal(str(c)), u) for k, o, r, c, u in rows}


def test_loads_between_summaries_are_summarised_once_the_summary_runs(la):
    base(la)
    facts_tick(la)
    assert summary(la) == {}  # the facts' cadence does not touch the summary
    assert summary_tick(la) and summary(la) == from_facts(la)
    assert not summary_tick(la)  # nothing loaded since: skipped, as its WHEN skips it
    # two facts runs before the next summary: a new day, and a status change on the first day
    insert(la, "orders", order(102, 1, "2026-03-02 09:00:00"))
    insert(la, "order_items", item(4, 102, 11, 3, 5.0))
    facts_tick(la)
    cur = la.cursor()
    cancel = "ORDER_STATUS = 'CANCELLED', UPDATED_AT = '2026-03-02 10:00:00'"
    cur.execute(f"UPDATE {la.db}.BRONZE.SHOP_ORDERS SET {cancel} WHERE ORDER_ID = 100")
    facts_tick(la)
    stale = summary(la)
    assert stale != from_facts(la) and len(stale) == 1  # trails the facts until its turn, never ahead
    assert summary_tick(la)
    assert summary(la) == from_facts(la) and len(summary(la)) == 2


def test_the_summary_only_covers_loaded_facts(la):
    base(la)
    insert(la, "orders", order(103, 9, "2026-03-04 10:00:00"))  # customer 9 not loaded yet: the item waits
    insert(la, "order_items", item(5, 103, 10))
    facts_tick(la)
    summary_tick(la)
    assert query(la, "SELECT COUNT(*) FROM {pending}") == [(1,)]
    assert summary(la) == from_facts(la) and all(day != 20260304 for day in summary(la))
