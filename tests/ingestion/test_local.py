"""Customer ingestion on the stand-ins: SQL semantics on hand-checked rows, then upload → silver → gold."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from infra.ingestion.catalog import CUSTOMER
from infra.naming import Naming
from scripts.ingestion.csvfile import parse_csv
from scripts.ingestion.generate import generate_customers
from scripts.ingestion.loads import UploadError, check_upload, s3_client, upload_bytes
from scripts.ingestion.rehearsal import LocalIngestion

HEADER = "customer_id,first_name,last_name,email,phone,city,state,zip_code,signup_date,loyalty_tier,updated_at\n"


@pytest.fixture()
def li(stand_ins, request):
    """A fresh stack namespace per test, so tests never see each other's rows."""
    # each test gets its own database and bucket through a naming of its own
    suffix = request.node.name.replace("_", "").replace("[", "").replace("]", "")[-20:].lower()
    ing = LocalIngestion(stand_ins, "dev", naming=Naming("T", suffix))
    ing.setup()
    yield ing
    ing.close()


def put(li: LocalIngestion, name: str, text: str | bytes) -> None:
    body = text.encode() if isinstance(text, str) else text
    s3 = s3_client(li.ep.moto_url)
    upload_bytes(s3, li.bucket, li.prefix + name, body)


def silver(li: LocalIngestion) -> dict[int, tuple]:
    cur = li.conn.cursor()
    cur.execute(
        f"SELECT CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE, SIGNUP_DATE, "
        # as text: fakesnow's HTTP endpoint returns a NULL TIMESTAMP_NTZ as 1970-01-01
        f"LOYALTY_TIER, CAST(UPDATED_AT AS VARCHAR) FROM {li.fq('silver')} ORDER BY CUSTOMER_ID"
    )
    return {r[0]: r[1:] for r in cur.fetchall()}


def load(li: LocalIngestion, name: str, text: str):
    put(li, name, text)
    res = li.run_pipe()
    li.run_task()
    return res


def test_transform_cleans_types_and_nulls(li):
    load(
        li,
        "a.csv",
        HEADER
        + "1,  aNNa ,SMITH, Anna.Smith@Example.COM ,(555) 123-4567, new york ,ny, 10001 ,"
        + "2021-03-04,gold,2024-01-02 03:04:05\n"
        + "2,bob,,not-an-email,,,,,2021-02-30,diamond,2024-13-01 00:00:00\n"
        + "3,NULL,\\N,,,,,,,,\n"
        + "x4,bad,key,,,,,,,,\n",
    )
    rows = silver(li)
    assert set(rows) == {1, 2, 3}  # a non-numeric key stays in Bronze only
    assert rows[1] == (
        "Anna",
        "Smith",
        "anna.smith@example.com",
        "5551234567",
        "New York",
        "NY",
        "10001",
        dt.date(2021, 3, 4),
        "Gold",
        "2024-01-02 03:04:05",
    )
    assert rows[2] == ("Bob", None, None, None, None, None, None, None, None, None)  # bad date, tier, time → NULL
    assert rows[3] == (None,) * 10
    cur = li.conn.cursor()
    cur.execute(f"SELECT FULL_NAME, LOYALTY_TIER FROM {li.fq('view')} WHERE CUSTOMER_ID = 2")
    assert cur.fetchall() == [("Bob", "Unknown")]


def test_latest_version_of_a_key_wins_within_a_batch(li):
    load(
        li,
        "b.csv",
        HEADER
        + "7,Old,Name,,,,,,,,2024-01-01 00:00:00\n"
        + "7,Newest,Name,,,,,,,,2024-03-01 00:00:00\n"
        + "7,Middle,Name,,,,,,,,2024-02-01 00:00:00\n"
        + "7,NoTime,Name,,,,,,,,\n",
    )
    assert silver(li)[7][0] == "Newest"


def test_merge_inserts_updates_leaves_and_is_a_no_op_on_rerun(li):
    load(li, "c1.csv", HEADER + "1,A,One,,,,,,,,2024-01-01 00:00:00\n2,B,Two,,,,,,,,2024-01-01 00:00:00\n")
    before = silver(li)
    cur = li.conn.cursor()
    cur.execute(f"SELECT CUSTOMER_ID, MERGED_AT FROM {li.fq('silver')} ORDER BY 1")
    merged_at = dict(cur.fetchall())
    # batch 2: key 2 changed, key 3 new, key 1 absent; an older version of key 2 must not win
    load(li, "c2.csv", HEADER + "2,Bee,Two,,,,,,,,2024-02-01 00:00:00\n3,C,Three,,,,,,,,2024-02-01 00:00:00\n")
    after = silver(li)
    assert after[1] == before[1]
    assert after[2][0] == "Bee" and after[3][0] == "C"
    load(li, "c3.csv", HEADER + "2,Stale,Two,,,,,,,,2023-12-31 00:00:00\n")
    assert silver(li)[2][0] == "Bee"
    cur.execute(f"SELECT MERGED_AT FROM {li.fq('silver')} WHERE CUSTOMER_ID = 1")
    assert cur.fetchone()[0] == merged_at[1]  # untouched row not rewritten
    # re-running the MERGE of the last staged batch changes nothing
    cur.execute(CUSTOMER.merge_sql(li.db))
    assert cur.fetchall() in ([(0, 0)], [(0,)])
    assert silver(li)[2][0] == "Bee"


def test_upload_event_pipe_bronze_silver_gold(li):
    put(li, "day1.csv", generate_customers(300, seed=3))
    results = li.run_pipe()
    assert [(r.status, r.rows_loaded, r.rows_rejected) for r in results] == [("LOADED", 300, 0)]
    assert li.stream_has_data()
    task = li.run_task()
    assert task.consumed == 300 and task.silver_rows == 300
    assert not li.stream_has_data() and li.run_task() is None
    assert li.counts() == {"bronze": 300, "rejected": 0, "stream (unconsumed)": 0, "silver": 300, "gold view": 300}
    cur = li.conn.cursor()
    cur.execute(f"SELECT _FILE_NAME, MIN(_FILE_ROW_NUMBER), MAX(_FILE_ROW_NUMBER) FROM {li.fq('bronze')} GROUP BY 1")
    assert cur.fetchall() == [("day1.csv", 2, 301)]


def test_a_duplicate_event_loads_nothing_twice(li):
    put(li, "dup.csv", generate_customers(50, seed=4))
    first = li.run_pipe()
    # redeliver the same S3 event, as S3 and SQS may
    s3 = s3_client(li.ep.moto_url)
    head = s3.head_object(Bucket=li.bucket, Key=li.prefix + "dup.csv")
    again = li.load_object(li.bucket, li.prefix + "dup.csv", head["ETag"], head["ContentLength"])
    assert first[0].rows_loaded == 50 and again.status == "LOAD_SKIPPED"
    assert li.counts()["bronze"] == 50


def test_malformed_rows_are_quarantined_and_reported(li):
    text = (
        HEADER
        + "1,Ok,Row,,,,,,,,\n"
        + "2,too,few\n"
        + "3,a,b,c,d,e,f,g,h,i,j,k\n"
        + '4,"unterminated,b,c,d,e,f,g,h,i,j\n'
        + "5,Also,Ok,,,,,,,,\n"
    )
    put(li, "bad.csv", text.encode() + b"6,\xff\xfe,x,,,,,,,,\n")
    res = li.run_pipe()
    assert [(r.status, r.rows_loaded, r.rows_rejected) for r in res] == [("PARTIALLY_LOADED", 2, 4)]
    assert [(f, line, reason) for f, line, reason in li.rejected_rows()] == [
        ("bad.csv", 3, "expected 11 columns, got 3"),
        ("bad.csv", 4, "expected 11 columns, got 12"),
        ("bad.csv", 5, "malformed CSV (unexpected end of data)"),
        ("bad.csv", 7, "invalid UTF-8 at byte 2"),
    ]
    alerts = li.alerts()
    assert len(alerts) == 1 and alerts[0]["status"] == "PARTIALLY_LOADED" and alerts[0]["rows_rejected"] == 4
    assert alerts[0]["first_errors"][0] == "line 3: expected 11 columns, got 3"
    li.run_task()
    assert set(silver(li)) == {1, 5}


def test_empty_non_csv_and_oversized_files_are_rejected_loudly(li):
    put(li, "empty.csv", b"")
    put(li, "header-only.csv", HEADER)
    res = {r.key.rsplit("/", 1)[-1]: r for r in li.run_pipe()}
    assert res["empty.csv"].status == res["header-only.csv"].status == "LOAD_FAILED"
    assert res["empty.csv"].reasons == ["empty file (no data rows)"]
    not_csv = li.load_object(li.bucket, li.prefix + "orders.json", "e1", 10)
    assert not_csv.status == "LOAD_FAILED" and not_csv.reasons == ["not a .csv key"]
    big = li.load_object(li.bucket, li.prefix + "huge.csv", "e2", li.max_bytes + 1)
    assert big.status == "LOAD_FAILED" and "exceeds maxFileMb" in big.reasons[0]
    assert len(li.alerts()) == 4
    s3 = s3_client(li.ep.moto_url)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=li.bucket, Prefix="rejected/")["Contents"]}
    assert "rejected/landing/customer/empty.csv" in keys


def test_uploader_refuses_non_csv_and_oversized():
    check_upload("landing/customer/a.csv", 10, 1)
    with pytest.raises(UploadError, match=r"only \.csv keys"):
        check_upload("landing/customer/a.json", 10, 1)
    with pytest.raises(UploadError, match="exceeds maxFileMb=1"):
        check_upload("landing/customer/a.csv", 2 * 1024 * 1024, 1)


def test_generator_is_deterministic_with_a_share_of_bad_rows():
    a, b = generate_customers(2000, seed=9, bad_share=0.05), generate_customers(2000, seed=9, bad_share=0.05)
    assert a == b and a != generate_customers(2000, seed=10, bad_share=0.05)
    good, bad = parse_csv(a)
    assert len(good) + len(bad) == 2000 and 60 <= len(bad) <= 140
    assert not parse_csv(generate_customers(500, seed=1))[1]


def test_a_failed_task_run_loses_nothing_and_the_retry_matches(li):
    put(li, "f.csv", generate_customers(100, seed=5))
    li.run_pipe()
    with pytest.raises(RuntimeError, match="injected failure"):
        li.run_task(fail_before_commit=True)
    assert li.stream_has_data()
    li.run_task()
    assert not li.stream_has_data() and li.counts()["silver"] == 100


def test_multipart_upload_of_a_large_file(stand_ins):
    s3 = s3_client(stand_ins.moto_url)
    s3.create_bucket(Bucket="t-multipart")
    body = generate_customers(120_000, seed=1)
    assert len(body) > 9 * 1024 * 1024
    upload_bytes(s3, "t-multipart", "landing/customer/big.csv", body)
    head = s3.head_object(Bucket="t-multipart", Key="landing/customer/big.csv")
    assert head["ContentLength"] == len(body) and "-" in head["ETag"]  # a multipart ETag
    assert io.BytesIO(s3.get_object(Bucket="t-multipart", Key="landing/customer/big.csv")["Body"].read()).read() == body


@pytest.mark.parametrize("updated_at", ["2024-05-01 00:00:00", ""], ids=["sametime", "notime"])
def test_a_later_load_wins_a_tie_whatever_the_file_names(li, updated_at):
    put(li, "z-day1.csv", HEADER + f"42,Alpha,X,,,,,,,,{updated_at}\n")
    put(li, "a-day2.csv", HEADER + f"42,Beta,X,,,,,,,,{updated_at}\n")
    results = li.run_pipe()  # one drain, one task run: both versions are in the same batch
    assert [r.key.rsplit("/", 1)[-1] for r in results] == ["z-day1.csv", "a-day2.csv"]
    li.run_task()
    assert silver(li)[42][0] == "Beta"
    cur = li.conn.cursor()
    cur.execute(f"SELECT _FILE_NAME, _LOAD_SEQ FROM {li.fq('bronze')} ORDER BY _LOAD_SEQ")
    assert [f for f, _ in cur.fetchall()] == ["z-day1.csv", "a-day2.csv"]
    # and across batches: a third load with the same time wins over what Silver holds
    load(li, "0-day3.csv", HEADER + f"42,Gamma,X,,,,,,,,{updated_at}\n")
    assert silver(li)[42][0] == "Gamma"


def test_load_sequence_increases_per_file_and_row(li):
    put(li, "s1.csv", HEADER + "1,A,,,,,,,,,\n2,B,,,,,,,,,\n")
    li.run_pipe()
    put(li, "s0.csv", HEADER + "3,C,,,,,,,,,\n")
    li.run_pipe()
    cur = li.conn.cursor()
    cur.execute(f"SELECT _FILE_NAME, _FILE_ROW_NUMBER, _LOAD_SEQ FROM {li.fq('bronze')} ORDER BY _LOAD_SEQ")
    assert cur.fetchall() == [("s1.csv", 2, 1), ("s1.csv", 3, 2), ("s0.csv", 2, 3)]


def test_a_rejected_file_uploaded_again_is_skipped_without_a_new_alert(li, caplog):
    put(li, "empty.csv", b"")
    put(li, "allbad.csv", HEADER + "1,too,few\n")
    first = {r.key.rsplit("/", 1)[-1]: r.status for r in li.run_pipe()}
    assert first == {"empty.csv": "LOAD_FAILED", "allbad.csv": "LOAD_FAILED"}
    assert len(li.alerts()) == 2 and li.counts()["rejected"] == 2
    for _ in range(2):  # the same bytes again, twice
        put(li, "empty.csv", b"")
        put(li, "allbad.csv", HEADER + "1,too,few\n")
        with caplog.at_level("WARNING", logger="ingestion.pipe"):
            again = li.run_pipe()
        assert [r.status for r in again] == ["LOAD_SKIPPED", "LOAD_SKIPPED"]
        assert "seen before with status LOAD_FAILED" in again[0].reasons[0]
        assert li.alerts() == [] and li.counts()["rejected"] == 2
    assert "seen before with status LOAD_FAILED" in caplog.text
    # changed bytes are a new file: loaded
    put(li, "allbad.csv", HEADER + "1,Fixed,Row,,,,,,,,\n")
    assert [(r.status, r.rows_loaded) for r in li.run_pipe()] == [("LOADED", 1)]


def test_snowpipe_rows_without_a_load_sequence_order_by_file_time_then_load_start(li):
    """Rows as Snowpipe's COPY writes them (no _LOAD_SEQ): the same customer_xfm orders a tie by the
    file's last-modified time, then the load's start, then the row, never by the file name first."""
    cols = "CUSTOMER_ID, FIRST_NAME, UPDATED_AT, _FILE_NAME, _FILE_ROW_NUMBER, _LOADED_AT, _FILE_LAST_MODIFIED"
    rows = [
        # key 1: z-first.csv landed first; a-second.csv later, both loaded in the same second
        ("1", "Alpha", "2024-05-01 00:00:00", "z-first.csv", 2, "2024-05-02 10:00:00", "2024-05-02 09:00:00.100"),
        ("1", "Beta", "2024-05-01 00:00:00", "a-second.csv", 2, "2024-05-02 10:00:00", "2024-05-02 09:00:00.200"),
        # key 2: same file time (S3 second resolution); the later load start wins
        ("2", "Early", None, "z-b.csv", 5, "2024-05-02 10:00:00.300", "2024-05-02 09:00:00"),
        ("2", "Late", None, "a-b.csv", 2, "2024-05-02 10:00:00.900", "2024-05-02 09:00:00"),
        # key 3: one file, two versions with no time: the later row wins
        ("3", "RowTwo", None, "c.csv", 2, "2024-05-02 10:00:00", "2024-05-02 09:00:00"),
        ("3", "RowNine", None, "c.csv", 9, "2024-05-02 10:00:00", "2024-05-02 09:00:00"),
    ]
    cur = li.conn.cursor()
    cur.executemany(f"INSERT INTO {li.fq('bronze')} ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
    li.run_task()
    assert {k: v[0] for k, v in silver(li).items()} == {1: "Beta", 2: "Late", 3: "Rownine"}


def test_an_upload_goes_only_to_the_stacks_own_landing_bucket():
    """A `--bucket` naming another stack's bucket is refused; without one, the stack's output is used."""
    from scripts.ingestion.loads import landing_bucket

    def outputs(stack, required):
        assert required == ("landingBucket",)
        return {"landingBucket": f"rdp-{stack}-landing-123456789012"}

    assert landing_bucket("dev", None, outputs) == "rdp-dev-landing-123456789012"
    assert landing_bucket("dev", "rdp-dev-landing-123456789012", outputs) == "rdp-dev-landing-123456789012"
    with pytest.raises(UploadError, match="rdp-prod-landing-123456789012 is not stack 'dev'"):
        landing_bucket("dev", "rdp-prod-landing-123456789012", outputs)


def test_generated_customers_are_refused_for_a_prod_stack(monkeypatch):
    """Synthetic files never reach prod: refused before any bucket or output is looked up."""
    from typer.testing import CliRunner

    from scripts.ingestion import __main__ as cli

    looked_up = []
    monkeypatch.setattr(cli, "landing_bucket", lambda *a: looked_up.append(a) or "rdp-prod-landing-1")
    result = CliRunner().invoke(cli.app, ["upload", "--stack", "prod", "--rows", "10"])
    assert result.exit_code == 2, result.output
    assert "refusing to write synthetic data into prod stack 'prod'" in " ".join(result.output.split())
    assert looked_up == []
