"""A fresh analytics database per test on the fakesnow stand-in, and helpers to write hand-made rows."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from infra.analytics.catalog import TABLES, fq
from infra.config.reader import stack_config
from scripts.analytics.rehearsal import LocalAnalytics
from scripts.core.connections import connect_local


@pytest.fixture()
def la(stand_ins):
    # a database of its own per test (the suite's stand-ins are new each session)
    db = "T_AN_" + uuid.uuid4().hex[:8].upper()
    conn = connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port, None, None)
    rehearsal = LocalAnalytics(conn, db, stack_config("dev").analytics)
    rehearsal.setup()
    yield rehearsal
    conn.close()


def insert(la: LocalAnalytics, key: str, *rows: dict) -> None:
    """Rows given by column name; missing columns are NULL."""
    cols = [c for c, _ in TABLES[key][2]]
    la.cursor().executemany(
        f"INSERT INTO {fq(la.db, key)} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
        [tuple(r.get(c) for c in cols) for r in rows],
    )


def query(la: LocalAnalytics, sql: str, *params) -> list[tuple]:
    cur = la.cursor()
    cur.execute(sql.format(**{k: fq(la.db, k) for k in TABLES}), params or None)
    return cur.fetchall()


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def customer(cid: int, segment: str = "STANDARD", updated: str = "2026-01-01 00:00:00", **kw) -> dict:
    return {
        "CUSTOMER_ID": cid,
        "FIRST_NAME": f"F{cid}",
        "LAST_NAME": "L",
        "EMAIL": f"c{cid}@example.com",
        "COUNTRY": "USA",
        "CITY": "Austin",
        "SEGMENT": segment,
        "UPDATED_AT": ts(updated),
        **kw,
    }


def product(pid: int, price: float = 10.0, cost: float = 6.0, updated: str = "2026-01-01 00:00:00") -> dict:
    return {
        "PRODUCT_ID": pid,
        "PRODUCT_NAME": f"P{pid}",
        "CATEGORY": "Home",
        "BRAND": "Casa",
        "UNIT_PRICE": price,
        "UNIT_COST": cost,
        "REORDER_LEVEL": 10,
        "UPDATED_AT": ts(updated),
    }


def order(oid: int, cid: int, at: str, status: str = "DELIVERED") -> dict:
    return {
        "ORDER_ID": oid,
        "CUSTOMER_ID": cid,
        "ORDER_TS": ts(at),
        "ORDER_STATUS": status,
        "PAYMENT_METHOD": "PAYPAL",
        "SHIPPING_COUNTRY": "USA",
        "UPDATED_AT": ts(at),
    }


def item(iid: int, oid: int, pid: int, qty: int = 1, price: float = 10.0, discount: float = 0.0) -> dict:
    return {
        "ORDER_ITEM_ID": iid,
        "ORDER_ID": oid,
        "PRODUCT_ID": pid,
        "QUANTITY": qty,
        "UNIT_PRICE": price,
        "DISCOUNT_PCT": discount,
        "CREATED_AT": ts("2026-01-01 00:00:00"),
    }
