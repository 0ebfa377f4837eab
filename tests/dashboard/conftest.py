"""A database on the stand-in filled by the analytics and CDC rehearsals (history, a day of changes, order
changes), and the Overview's figures computed independently in Python from the same generated data."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
import streamlit as st

from infra.config.reader import stack_config
from infra.dashboard import bundle
from scripts.analytics import loads as analytics
from scripts.analytics.generate import day_of_changes, history
from scripts.cdc import loads as cdc
from scripts.core.connections import connect_local, ensure_foundation

APP = str(bundle.APP_DIR / bundle.MAIN_FILE)


def fill(stand_ins, db: str, with_cdc: bool = True) -> None:
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        ensure_foundation(conn.cursor(), db)
    t = analytics.local_target("dev", database=db)
    analytics.prepare_local(t)
    analytics.generate(t, replace=True)
    analytics.run(t)
    analytics.changes(t)
    analytics.run(t)
    if with_cdc:
        fill_cdc(db)


def fill_cdc(db: str) -> None:
    c = cdc.local_target("dev", database=db)
    cdc.prepare_local(c)
    cdc.generate(c, duration=0.5, progress=False)
    cdc.refresh(c)


def copy_db(stand_ins, source: str, db: str) -> None:
    """A new database `db` holding what `fill` left in `source`: a test that changes its data gets its own
    copy, made in a second instead of the rehearsal's ten. The tables the pipeline declares are made by
    its own DDL (`prepare_local`, as `fill` makes them) and their rows copied; the rest (the dynamic
    tables, which the rehearsal makes as CREATE TABLE AS) copied as CREATE TABLE AS."""
    listing = "SELECT table_schema, table_name FROM {0}.information_schema.tables WHERE table_catalog = '{0}'"
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        cur = conn.cursor()
        ensure_foundation(cur, db)
        analytics.prepare_local(analytics.local_target("dev", database=db))
        cur.execute(listing.format(db))
        declared = set(cur.fetchall())
        cur.execute(listing.format(source))
        tables = cur.fetchall()
        assert tables, f"{source} has no tables to copy"
        for schema, table in tables:
            src, dst = f'"{source}"."{schema}"."{table}"', f'"{db}"."{schema}"."{table}"'
            made = (schema, table) in declared
            copy = f"INSERT INTO {dst} SELECT" if made else f"CREATE TABLE {dst} AS SELECT"
            cur.execute(f"{copy} * FROM {src}")


@pytest.fixture(scope="session")
def analytics_db(stand_ins) -> str:
    """Filled once by the analytics rehearsal alone (no CDC): the source of `copy_db`."""
    db = "T_DASH_AN_" + uuid.uuid4().hex[:8].upper()
    fill(stand_ins, db, with_cdc=False)
    return db


@pytest.fixture(scope="session")
def shop_db(stand_ins, analytics_db) -> str:
    """`fill` with CDC: the analytics rehearsal's tables copied, then the CDC rehearsal run in it."""
    db = "T_DASH_" + uuid.uuid4().hex[:8].upper()
    copy_db(stand_ins, analytics_db, db)
    fill_cdc(db)
    return db


@contextmanager
def app_session(stand_ins, monkeypatch) -> Iterator[None]:
    """AppTest runs the script in this process: the app's directory on the path (as `streamlit run` and
    Snowflake put it), and fresh caches so one test's database never answers for another's."""
    monkeypatch.syspath_prepend(str(bundle.APP_DIR))
    monkeypatch.setenv("RDP_DASHBOARD_SNOWFLAKE_HOST", stand_ins.snowflake_host)
    monkeypatch.setenv("RDP_DASHBOARD_SNOWFLAKE_PORT", str(stand_ins.snowflake_port))
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        for name in ("queries", "views", "operations", "style", "trends"):
            sys.modules.pop(name, None)


@pytest.fixture()
def app_env(stand_ins, monkeypatch):
    with app_session(stand_ins, monkeypatch):
        yield monkeypatch


def _cents(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reference_items() -> pd.DataFrame:
    """Every item sold and not cancelled: its day, order, customer, the product's category, the segment the
    customer had when ordering, revenue (net of discounts) and profit, from the generator's own rows with
    the day of changes applied as the pipeline applies it: a status update skips cancelled orders, a sale
    costs the product's cost valid at the order's time, and a customer's segment change counts from its
    time on (the dimension version valid at the order's timestamp)."""
    scale = stack_config("dev").analytics.scale
    hist, day = history(scale), day_of_changes(scale)
    orders = pd.concat([hist.tables["orders"].to_pandas(), day.tables["orders"].to_pandas()]).set_index("ORDER_ID")
    for status, _, oid in day.status_changes:
        if orders.at[oid, "ORDER_STATUS"] != "CANCELLED":
            orders.at[oid, "ORDER_STATUS"] = status
    items = pd.concat([hist.tables["order_items"].to_pandas(), day.tables["order_items"].to_pandas()])
    products = hist.tables["products"].to_pandas().set_index("PRODUCT_ID")
    cost = products["UNIT_COST"].map(lambda v: Decimal(str(v))).to_dict()
    category = products["CATEGORY"].to_dict()
    people = pd.concat([hist.tables["customers"].to_pandas(), day.tables["customers"].to_pandas()])
    segment = people.set_index("CUSTOMER_ID")["SEGMENT"].to_dict()
    moved = {cid: (new, at) for new, at, cid in day.customer_changes}
    repriced = {pid: (Decimal(str(new_cost)), at) for _, new_cost, at, pid in day.price_changes}
    rows = []
    for it in items.itertuples(index=False):
        order = orders.loc[it.ORDER_ID]
        if order.ORDER_STATUS == "CANCELLED":
            continue
        new_cost, at = repriced.get(it.PRODUCT_ID, (None, None))
        unit_cost = new_cost if at is not None and order.ORDER_TS >= at else cost[it.PRODUCT_ID]
        new_segment, since = moved.get(order.CUSTOMER_ID, (None, None))
        seg = new_segment if since is not None and order.ORDER_TS >= since else segment[order.CUSTOMER_ID]
        price, discount = Decimal(str(it.UNIT_PRICE)), Decimal(str(it.DISCOUNT_PCT or 0))
        net = _cents(Decimal(int(it.QUANTITY)) * price * (100 - discount) / 100)
        profit = net - Decimal(it.QUANTITY) * unit_cost
        who = int(order.CUSTOMER_ID)
        rows.append((order.ORDER_TS.date(), it.ORDER_ID, who, category[it.PRODUCT_ID], seg, net, profit))
    return pd.DataFrame(rows, columns=["DAY", "ORDER_ID", "CUSTOMER_ID", "CATEGORY", "SEGMENT", "REVENUE", "PROFIT"])


def reference_days() -> pd.DataFrame:
    """Per sales day: revenue (net of discounts, cancelled orders left out), orders and profit."""
    df = reference_items()
    return df.groupby("DAY").agg(REVENUE=("REVENUE", "sum"), ORDERS=("ORDER_ID", "nunique"), PROFIT=("PROFIT", "sum"))


def overview_texts(days: pd.DataFrame, today: date) -> dict[str, str]:
    """The four Overview metrics as the page should print them for `today`."""
    r = days.loc[today]
    revenue, orders, profit = r.REVENUE, int(r.ORDERS), r.PROFIT
    return {
        "Today's revenue": f"${revenue:,.2f}",
        "Today's orders": f"{orders:,}",
        "Avg order value": f"${_cents(revenue / orders):,.2f}",
        "Profit margin": f"{float(profit / revenue):.1%}",
    }


def overview_deltas(days: pd.DataFrame, today: date) -> dict[str, str]:
    """The four deltas against the day before, as the page should print them."""
    from datetime import timedelta

    now, before = days.loc[today], days.loc[today - timedelta(days=1)]

    def aov(r) -> Decimal:
        return r.REVENUE / int(r.ORDERS)

    d_aov = float(aov(now) - aov(before))
    return {
        "Today's revenue": f"{float(now.REVENUE / before.REVENUE - 1):+.1%}",
        "Today's orders": f"{int(now.ORDERS) - int(before.ORDERS):+,}",
        "Avg order value": f"{'+' if d_aov >= 0 else '-'}${abs(d_aov):,.2f}",
        "Profit margin": f"{float(now.PROFIT / now.REVENUE - before.PROFIT / before.REVENUE) * 100:+.1f} pp",
    }
