"""A fresh CDC database per test on the fakesnow stand-in, a writer, and hand-made changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from infra.cdc.catalog import RECORD_SOURCE
from scripts.cdc.rehearsal import LocalCdc
from scripts.cdc.source import SCHEMA
from scripts.cdc.writer import LocalWriter
from scripts.core.connections import connect_local


@pytest.fixture()
def cdc(stand_ins):
    db = "T_CDC_" + uuid.uuid4().hex[:8].upper()
    conn = connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port, None, None)
    rehearsal = LocalCdc(conn, db)
    rehearsal.setup()
    yield rehearsal, LocalWriter(conn, db)
    conn.close()


def change(
    seq: int,
    kind: str,
    order_id: int,
    status: str,
    amount: str,
    at: str,
    order_date: str = "2026-01-15",
    customer: int = 7,
    quantity: int = 1,
) -> dict:
    return {
        "ORDER_ID": order_id,
        "CUSTOMER_ID": customer,
        "PRODUCT_ID": 3,
        "ORDER_DATE": datetime.fromisoformat(order_date),
        "STATUS": status,
        "AMOUNT": Decimal(amount),
        "QUANTITY": quantity,
        "CHANGE_TYPE": kind,
        "CHANGE_SEQ": seq,
        "CHANGED_AT": datetime.fromisoformat(at),
        "RECORD_SOURCE": RECORD_SOURCE,
    }


def as_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)
