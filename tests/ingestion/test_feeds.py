"""The sales and inventory feeds on the stand-ins, beside customers: each file routed by its prefix to its
feed, the MERGE of each on hand-checked rows, rejects counted per feed, the uploader per feed, and the
feeds' config checks."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from pydantic import ValidationError

from infra.config.reader import stack_config
from infra.ingestion.catalog import FEEDS
from infra.ingestion.config import IngestionConfig
from infra.naming import Naming
from scripts.ingestion.generate import GENERATORS
from scripts.ingestion.loads import s3_client, upload, upload_bytes
from scripts.ingestion.rehearsal import LocalIngestion

SALES = "sale_id,customer_id,product_id,store_id,quantity,unit_price,sold_at,updated_at\n"
STOCK = "product_id,store_id,quantity_on_hand,reorder_level,last_updated\n"


@pytest.fixture()
def li(stand_ins, request):
    suffix = request.node.name.replace("_", "").replace("[", "").replace("]", "")[-20:].lower()
    ing = LocalIngestion(stand_ins, "dev", naming=Naming("T", suffix))
    ing.setup()
    yield ing
    ing.close()


def load(li: LocalIngestion, feed: str, name: str, text: str) -> list:
    upload_bytes(s3_client(li.ep.moto_url), li.bucket, li.prefixes[feed] + name, text.encode())
    results = li.run_pipe()
    li.run_task(feed)
    return results


def cents(v) -> Decimal | None:
    return None if v is None else Decimal(str(v)).quantize(Decimal("0.01"))


def sales(li: LocalIngestion) -> dict[int, tuple]:
    cur = li.conn.cursor()
    cur.execute(
        "SELECT SALE_ID, CUSTOMER_ID, PRODUCT_ID, STORE_ID, QUANTITY, UNIT_PRICE, AMOUNT, CAST(SOLD_AT AS VARCHAR), "
        f"CAST(UPDATED_AT AS VARCHAR) FROM {li.fq('silver', 'sales')} ORDER BY 1"
    )
    return {r[0]: (*r[1:5], cents(r[5]), cents(r[6]), *r[7:]) for r in cur.fetchall()}


def stock(li: LocalIngestion) -> dict[tuple[int, str], tuple]:
    cur = li.conn.cursor()
    cur.execute(
        "SELECT PRODUCT_ID, STORE_ID, QUANTITY_ON_HAND, REORDER_LEVEL, CAST(LAST_UPDATED AS VARCHAR) "
        f"FROM {li.fq('silver', 'inventory')} ORDER BY 1, 2"
    )
    return {(r[0], r[1]): r[2:] for r in cur.fetchall()}


def test_sales_are_typed_deduplicated_and_merged_by_sale_id(li):
    first = load(
        li,
        "sales",
        "s1.csv",
        SALES
        + "1,100,7, s001 ,2,9.99,2024-03-01 10:00:00,2024-03-01 10:00:00\n"
        + "2,,8,S002,-1,5.50,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # an anonymous return
        + "3,abc,9,S002,3,1.005,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # price of three decimals
        + "4,101,9,S003,0,2.00,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # quantity zero
        + "x5,101,9,S003,1,2.00,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # no numeric id
        + "6,102,10,S001,1,3.00,2024-02-30 10:00:00,2024-03-01 12:00:00\n"
        + "6,102,10,S001,2,3.00,2024-03-01 10:00:00,2024-03-01 13:00:00\n"  # a later version of 6
        + "9,101,9,S003,1000000,1000000.00,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # beyond AMOUNT's type
        + "10,101,9,S003,999999,999999.99,2024-03-01 11:00:00,2024-03-01 11:00:00\n"  # the largest amount
        + "7,1,2\n",  # a column count the pipe rejects
    )
    assert [(r.feed, r.status, r.rows_loaded, r.rows_rejected) for r in first] == [("sales", "PARTIALLY_LOADED", 9, 1)]
    assert sales(li) == {
        1: (100, 7, "S001", 2, Decimal("9.99"), Decimal("19.98"), "2024-03-01 10:00:00", "2024-03-01 10:00:00"),
        2: (None, 8, "S002", -1, Decimal("5.50"), Decimal("-5.50"), "2024-03-01 11:00:00", "2024-03-01 11:00:00"),
        6: (102, 10, "S001", 2, Decimal("3.00"), Decimal("6.00"), "2024-03-01 10:00:00", "2024-03-01 13:00:00"),
        10: (101, 9, "S003", 999999, Decimal("999999.99"), Decimal("999998990000.01"), *["2024-03-01 11:00:00"] * 2),
    }
    cur = li.conn.cursor()
    cur.execute(f"SELECT SALE_ID, MERGED_AT FROM {li.fq('silver', 'sales')} ORDER BY 1")
    merged_at = dict(cur.fetchall())
    # a correction of 1, a stale version of 2 (older UPDATED_AT), 6 unchanged, 8 new
    load(
        li,
        "sales",
        "s2.csv",
        SALES
        + "1,100,7,S001,3,9.99,2024-03-01 10:00:00,2024-03-02 09:00:00\n"
        + "2,55,8,S002,-4,5.50,2024-03-01 11:00:00,2024-02-01 00:00:00\n"
        + "6,102,10,S001,2,3.00,2024-03-01 10:00:00,2024-03-01 13:00:00\n"
        + "8,103,11,S004,1,120.00,2024-03-02 10:00:00,2024-03-02 10:00:00\n",
    )
    after = sales(li)
    assert after[1][3:5] == (3, Decimal("9.99")) and after[1][5] == Decimal("29.97")
    assert after[2][:4] == (None, 8, "S002", -1)
    assert after[8] == (103, 11, "S004", 1, Decimal("120.00"), Decimal("120.00"), *["2024-03-02 10:00:00"] * 2)
    cur.execute(f"SELECT SALE_ID, MERGED_AT FROM {li.fq('silver', 'sales')} WHERE SALE_ID IN (2, 6) ORDER BY 1")
    assert dict(cur.fetchall()) == {2: merged_at[2], 6: merged_at[6]}  # not rewritten
    cur.execute(FEEDS["sales"].merge_sql(li.db))  # the last batch again: nothing changes
    assert cur.fetchall() in ([(0, 0)], [(0,)])
    assert li.counts("sales") == {"bronze": 13, "rejected": 1, "stream (unconsumed)": 0, "silver": 5}


def test_inventory_keeps_the_latest_count_per_product_and_store(li):
    load(
        li,
        "inventory",
        "i1.csv",
        STOCK
        + "1,s001,10,5,2024-06-01 08:00:00\n"
        + "1,S001,12,5,2024-06-01 09:00:00\n"  # the later count of (1, S001)
        + "1,S002,0,,2024-06-01 08:00:00\n"
        + "2,S001,-3,5,2024-06-01 08:00:00\n"  # a negative count
        + "2,,4,5,2024-06-01 08:00:00\n"  # no store
        + "3,S001,7,ten,2024-06-01 08:00:00\n"
        + "4,S001,1\n",
    )
    assert stock(li) == {
        (1, "S001"): (12, 5, "2024-06-01 09:00:00"),
        (1, "S002"): (0, None, "2024-06-01 08:00:00"),
        (3, "S001"): (7, None, "2024-06-01 08:00:00"),
    }
    cur = li.conn.cursor()
    cur.execute(f"SELECT MERGED_AT FROM {li.fq('silver', 'inventory')} WHERE PRODUCT_ID = 3")
    merged_3 = cur.fetchone()[0]
    load(
        li,
        "inventory",
        "i2.csv",
        STOCK
        + "1,S001,20,5,2024-06-02 08:00:00\n"
        + "1,S002,99,5,2024-05-31 08:00:00\n"  # an older count arriving late never rolls stock back
        + "3,S001,7,ten,2024-06-01 08:00:00\n"  # the same count again
        + "5,s003,1,2,2024-06-02 08:00:00\n",
    )
    assert stock(li) == {
        (1, "S001"): (20, 5, "2024-06-02 08:00:00"),
        (1, "S002"): (0, None, "2024-06-01 08:00:00"),
        (3, "S001"): (7, None, "2024-06-01 08:00:00"),
        (5, "S003"): (1, 2, "2024-06-02 08:00:00"),
    }
    cur.execute(f"SELECT MERGED_AT FROM {li.fq('silver', 'inventory')} WHERE PRODUCT_ID = 3")
    assert cur.fetchone()[0] == merged_3
    assert li.counts("inventory") == {"bronze": 10, "rejected": 1, "stream (unconsumed)": 0, "silver": 4}


def test_one_channel_routes_each_file_to_its_feed_and_each_feed_alerts_by_its_pipe(li):
    s3 = s3_client(li.ep.moto_url)
    for feed in FEEDS:
        body = GENERATORS[feed](40, seed=3)
        sent = upload(s3, li.bucket, li.prefixes[feed], 10, [(f"{feed}.csv", body)], FEEDS[feed].raw_columns)
        assert sent[0].startswith(f"s3://{li.bucket}/{li.prefixes[feed]}{feed}.csv ")
    upload_bytes(s3, li.bucket, li.prefixes["inventory"] + "bad.csv", (STOCK + "1,S001\n").encode())
    results = {r.key: r for r in li.run_pipe()}
    assert {k: (r.feed, r.status, r.rows_loaded) for k, r in results.items()} == {
        "landing/customer/customer.csv": ("customer", "LOADED", 40),
        "landing/sales/sales.csv": ("sales", "LOADED", 40),
        "landing/inventory/inventory.csv": ("inventory", "LOADED", 40),
        "landing/inventory/bad.csv": ("inventory", "LOAD_FAILED", 0),
    }
    alerts = li.alerts()
    assert [a["pipe"] for a in alerts] == [f"{li.db}.BRONZE.WORK_INVENTORY_SRC_TO_SL_PIPE"]
    for feed in FEEDS:
        assert li.stream_has_data(feed)
        assert li.run_task(feed).consumed == 40
        assert li.counts(feed)["bronze"] == 40 and li.counts(feed)["rejected"] == (1 if feed == "inventory" else 0)
    assert li.counts("sales")["silver"] == 40  # distinct SALE_IDs
    assert li.counts("inventory")["silver"] == 40  # 40 distinct (product, store) pairs
    with pytest.raises(ValueError, match="under no feed's landing prefix"):
        li.load_object(li.bucket, "elsewhere/x.csv", "e", 1)


def test_the_generators_make_files_of_their_feeds_columns_with_a_share_of_bad_rows():
    from scripts.ingestion.csvfile import parse_csv

    for feed in ("sales", "inventory"):
        body = GENERATORS[feed](1000, seed=4, bad_share=0.05)
        assert body == GENERATORS[feed](1000, seed=4, bad_share=0.05)
        assert body.split(b"\n", 1)[0].decode() == ",".join(FEEDS[feed].raw_columns).lower()
        good, bad = parse_csv(body, len(FEEDS[feed].raw_columns))
        assert len(good) + len(bad) == 1000 and 20 <= len(bad) <= 90
        assert not parse_csv(GENERATORS[feed](300, seed=1), len(FEEDS[feed].raw_columns))[1]


def test_the_uploader_sends_a_feed_to_its_prefix_and_refuses_another_feeds_file(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from scripts.ingestion import __main__ as cli

    sent = []
    monkeypatch.setattr(cli, "landing_bucket", lambda stack, given: "rdp-dev-landing-1")
    monkeypatch.setattr(
        cli, "upload", lambda client, bucket, prefix, mb, files, cols: sent.append((prefix, cols)) or []
    )
    assert CliRunner().invoke(cli.app, ["upload", "--stack", "dev", "--feed", "sales", "--rows", "5"]).exit_code == 0
    assert sent == [("landing/sales/", FEEDS["sales"].raw_columns)]
    bad = CliRunner().invoke(cli.app, ["upload", "--stack", "dev", "--feed", "returns"])
    assert bad.exit_code == 2 and "--feed returns: no such feed" in " ".join(bad.output.split())
    monkeypatch.undo()
    monkeypatch.setattr(cli, "landing_bucket", lambda stack, given: "rdp-dev-landing-1")
    wrong = tmp_path / "customers.csv"
    wrong.write_bytes(GENERATORS["customer"](3, seed=1))
    out = CliRunner().invoke(cli.app, ["upload", "--stack", "dev", "--feed", "inventory", str(wrong)])
    assert out.exit_code == 2 and "is not the feed's columns" in " ".join(out.output.split())


def test_feed_prefixes_must_be_separate_and_errors_name_the_key():
    base = stack_config("dev").ingestion.model_dump(by_alias=True)
    assert IngestionConfig.model_validate(base).feed("inventory").landing_prefix == "landing/inventory/"
    cases = {
        ("sales", "landing/customer/sales/"): "landingPrefix landing/customer/ and feeds.sales.landingPrefix",
        ("inventory", "landing/sales/"): "feeds.sales.landingPrefix landing/sales/ and feeds.inventory.landingPrefix",
        ("sales", "rejected/sales/"): "feeds.sales.landingPrefix rejected/sales/ is under rejected/",
    }
    for (feed, prefix), message in cases.items():
        bad = {**base, "feeds": {**base["feeds"], feed: {**base["feeds"][feed], "landingPrefix": prefix}}}
        with pytest.raises(ValidationError, match=re.escape(message)):
            IngestionConfig.model_validate(bad)
    missing = {**base, "feeds": {"sales": base["feeds"]["sales"]}}
    with pytest.raises(ValidationError, match=r"feeds\.inventory"):
        IngestionConfig.model_validate(missing)
