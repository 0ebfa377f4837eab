"""The dbt layer on the stand-in: `dbt build` (dbt-snowflake against fakesnow) after two loads in which a
customer changed, its snapshot's SCD2 history checked against rows computed by hand, the silver model
against the stored procedure's SILVER.CUSTOMER, and a planted duplicate caught by dbt's own tests."""

from __future__ import annotations

import re

import pytest

from infra.ingestion.dbt_catalog import SCHEMAS
from infra.naming import Naming, quote
from scripts.core.errors import LoadError
from scripts.ingestion.dbt import local_target, prepare_local, run_dbt
from scripts.ingestion.loads import s3_client, upload_bytes
from scripts.ingestion.rehearsal import LocalIngestion

HEADER = "customer_id,first_name,last_name,email,phone,city,state,zip_code,signup_date,loyalty_tier,updated_at\n"
DAY1 = (
    "1,anna,smith,anna@example.com,555-0101,boston,ma,02110,2021-03-04,gold,2024-01-01 00:00:00\n"
    "2,bob,jones,bob@example.com,,denver,co,80202,2022-05-06,silver,2024-01-05 00:00:00\n"
    "3,cy,notime,,,austin,tx,73301,2023-07-08,bronze,\n"
)
# customer 1 moved up a tier (a later UPDATED_AT), 2 is sent again unchanged, 4 is new
DAY2 = (
    "1,anna,smith,anna@example.com,555-0101,boston,ma,02110,2021-03-04,platinum,2024-02-01 09:30:00\n"
    "2,bob,jones,bob@example.com,,denver,co,80202,2022-05-06,silver,2024-01-05 00:00:00\n"
    "4,dee,new,dee@example.com,,miami,fl,33101,2024-02-02,,2024-02-02 00:00:00\n"
)
# (CUSTOMER_ID, LOYALTY_TIER, DBT_VALID_FROM, DBT_VALID_TO): a version per UPDATED_AT, closed by the next
# version's time; a customer without a valid UPDATED_AT is valid from 1900-01-01 (the snapshot's VERSION_AT)
HISTORY = [
    (1, "Gold", "2024-01-01 00:00:00", "2024-02-01 09:30:00"),
    (1, "Platinum", "2024-02-01 09:30:00", None),
    (2, "Silver", "2024-01-05 00:00:00", None),
    (3, "Bronze", "1900-01-01 00:00:00", None),
    (4, None, "2024-02-02 00:00:00", None),
]
SHARED = "CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE, SIGNUP_DATE, LOYALTY_TIER"


@pytest.fixture()
def li(stand_ins, request):
    """A stack namespace of its own per test, with ingestion's objects and dbt's schemas."""
    suffix = "dbt" + request.node.name.replace("_", "")[-12:].lower()
    ing = LocalIngestion(stand_ins, "dev", naming=Naming("T", suffix))
    ing.setup()
    (local_target(ing.naming, ing.ep).work / "logs" / "dbt.log").unlink(missing_ok=True)
    yield ing
    ing.close()


def load(li: LocalIngestion, name: str, rows: str) -> None:
    """One file through the pipe, and the task's MERGE into SILVER.CUSTOMER (the procedure's path)."""
    upload_bytes(s3_client(li.ep.moto_url), li.bucket, li.prefix + name, (HEADER + rows).encode())
    li.run_pipe()
    li.run_task()


def build(li: LocalIngestion) -> dict[str, str]:
    prepare_local(li.naming, li.ep)
    nodes = run_dbt(local_target(li.naming, li.ep))
    return {n.name: n.status for n in nodes}


def rows(li: LocalIngestion, sql: str) -> list[tuple]:
    cur = li.conn.cursor()
    cur.execute(sql)
    return cur.fetchall()


def test_snapshot_history_after_two_loads(li):
    load(li, "day1.csv", DAY1)
    first = build(li)
    load(li, "day2.csv", DAY2)
    second = build(li)
    assert first == second
    assert first["customer_history"] == "success" and first["customer_insights"] == "success"
    assert {s for n, s in first.items() if n not in ("silver_customer", "customer_history", "customer_insights")} == {
        "pass"
    }
    history = quote(li.db, "DBT_SILVER", "CUSTOMER_HISTORY")
    # as text: fakesnow's HTTP endpoint returns a NULL TIMESTAMP_NTZ as 1970-01-01
    got = rows(
        li,
        f"SELECT CUSTOMER_ID, LOYALTY_TIER, CAST(DBT_VALID_FROM AS VARCHAR), CAST(DBT_VALID_TO AS VARCHAR) "
        f"FROM {history} ORDER BY CUSTOMER_ID, DBT_VALID_FROM",
    )
    assert got == HISTORY
    current = rows(li, f"SELECT CUSTOMER_ID, LOYALTY_TIER FROM {history} WHERE DBT_VALID_TO IS NULL ORDER BY 1")
    assert current == [(1, "Platinum"), (2, "Silver"), (3, "Bronze"), (4, None)]
    gold = quote(li.db, "DBT_GOLD", "CUSTOMER_INSIGHTS")
    insights = (
        f"SELECT CUSTOMER_ID, FULL_NAME, LOYALTY_TIER, VERSIONS, CHANGES, CAST(CURRENT_SINCE AS VARCHAR) FROM {gold}"
    )
    # dbt built in its own schemas only, and the stand-in's staging table went with the snapshot's post-hook
    built = rows(
        li,
        f"SELECT TABLE_SCHEMA, TABLE_NAME FROM {quote(li.db)}.INFORMATION_SCHEMA.TABLES "
        f"WHERE TABLE_SCHEMA LIKE 'DBT%' AND TABLE_TYPE <> 'VIEW' ORDER BY 1, 2",
    )
    assert built == [("DBT_SILVER", "CUSTOMER"), ("DBT_SILVER", "CUSTOMER_HISTORY")]
    assert set(SCHEMAS) == {"DBT_SILVER", "DBT_GOLD"}
    assert rows(li, insights + " ORDER BY 1") == [
        (1, "Anna Smith", "Platinum", 2, 1, "2024-02-01 09:30:00"),
        (2, "Bob Jones", "Silver", 1, 0, "2024-01-05 00:00:00"),
        (3, "Cy Notime", "Bronze", 1, 0, "1900-01-01 00:00:00"),
        (4, "Dee New", "Unknown", 1, 0, "2024-02-02 00:00:00"),
    ]


def created_tables(li: LocalIngestion) -> dict[str, str]:
    """Table → how dbt's DDL created it ("table" or "transient table"), from this test's dbt log."""
    log = (local_target(li.naming, li.ep).work / "logs" / "dbt.log").read_text()
    found = re.findall(r"create or replace (transient table|table) [\w.\"]+\.([\w\"]+)\s", log, re.I)
    return {name.strip('"').upper(): kind.lower() for kind, name in found}


def test_the_models_and_the_history_are_permanent_tables(li):
    """Transient tables keep no Fail-safe and one day of Time Travel: the history cannot be rebuilt."""
    load(li, "day1.csv", DAY1)
    build(li)
    assert created_tables(li) == {"CUSTOMER": "table", "CUSTOMER_HISTORY": "table"}


def test_the_silver_model_equals_the_procedures_silver(li):
    """Two ways to Silver, one answer: dbt's model over all of Bronze and the task's MERGE of each batch."""
    load(li, "day1.csv", DAY1)
    load(
        li,
        "day2.csv",
        DAY2 + "5,  eve ,o'neil, EVE@EXAMPLE.ORG ,(555) 999,x,y,z,2021-02-30,diamond,2024-13-01 00:00:00\n",
    )
    build(li)
    dbt = rows(
        li, f"SELECT {SHARED}, CAST(UPDATED_AT AS VARCHAR) FROM {quote(li.db, 'DBT_SILVER', 'CUSTOMER')} ORDER BY 1"
    )
    proc = rows(li, f"SELECT {SHARED}, CAST(UPDATED_AT AS VARCHAR) FROM {li.fq('silver')} ORDER BY 1")
    assert len(dbt) == 5 and dbt == proc


def test_a_duplicate_in_a_source_fails_the_build_and_names_the_test(li):
    load(li, "day1.csv", DAY1)
    rows(li, f"INSERT INTO {li.fq('silver')} (CUSTOMER_ID, FIRST_NAME) VALUES (1, 'Twin')")
    with pytest.raises(LoadError, match=r"source_unique_silver_customer_CUSTOMER_ID: fail"):
        build(li)
