"""The scheduled DynamoDB export's handler (sql/serving/export_dynamodb.py) against the stand-ins: its query
over a fakesnow table, its writes to moto's DynamoDB with the credentials a (fake) cloud provider token
gives, the retry of unprocessed items, and a run that fails before it writes anything."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import boto3
import fakesnow
import pytest
import snowflake.connector

from infra.sqlfiles import read_sql
from scripts.serving import dynamodb
from tests.serving.test_loads import FlakyClient

H = dynamodb.HANDLER  # the module Snowflake runs, as scripts/serving imports it
REGION = "us-east-1"


@dataclass
class Token:
    """What `_snowflake.get_cloud_provider_token` returns: temporary credentials of the assumed role."""

    access_key_id: str = "ASIAFAKESNOWFLAKE"
    secret_access_key: str = "fake-secret"
    token: str = "fake-session-token"


class Session:
    """The part of a Snowpark session the handler uses (`sql(...).collect()`), over a fakesnow connection."""

    def __init__(self, conn: snowflake.connector.SnowflakeConnection) -> None:
        self.conn, self.queries = conn, []

    def sql(self, query: str) -> Session:
        self.queries.append(query)
        return self

    def collect(self) -> list[tuple]:
        return self.conn.cursor().execute(self.queries[-1]).fetchall()


def recommendations(users: int, per_user: int = 3) -> list[tuple]:
    return [
        (u, r, 100 * u + r, f"CAT-{u % 12:03d}", 5 - r, "PURCHASE_CATEGORY")
        for u in range(1, users + 1)
        for r in range(1, per_user + 1)
    ]


@pytest.fixture()
def session():
    with fakesnow.patch(), snowflake.connector.connect(database="DB", schema="SERVING") as conn:
        conn.cursor().execute(
            "CREATE TABLE RECS (USER_ID INT, RANK INT, PRODUCT_ID INT, CATEGORY_ID VARCHAR, "
            "PURCHASE_COUNT INT, SOURCE VARCHAR)"
        )
        yield Session(conn)


@pytest.fixture()
def table(stand_ins):
    """A fresh DynamoDB table on moto shaped as the stack's (user_id Number hash key), dropped after."""
    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=stand_ins.moto_url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    name = f"t-export-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client, name
    client.delete_table(TableName=name)


def load(session: Session, rows: list[tuple]) -> None:
    session.conn.cursor().executemany("INSERT INTO RECS VALUES (%s, %s, %s, %s, %s, %s)", rows)


def items(client, name: str) -> dict[int, dict]:
    return {int(i["user_id"]["N"]): i for i in client.scan(TableName=name)["Items"]}


def test_the_handler_reads_the_columns_the_export_query_names():
    sql = read_sql("serving/sync/export_recommendations.sql")
    selected = re.search(r"SELECT (.*)\n", sql).group(1)
    assert tuple(c.strip() for c in selected.split(",")) == H.COLUMNS
    assert H.select_query("DB.S.T") == f"SELECT {', '.join(H.COLUMNS)} FROM DB.S.T ORDER BY USER_ID, RANK"


def test_a_run_writes_one_item_per_user_with_the_tokens_credentials(session, table, stand_ins):
    client, name = table
    rows = recommendations(60)  # 60 items: three BatchWriteItem calls (25, 25, 10)
    load(session, rows)
    used = []

    def token() -> Token:
        used.append(Token())
        return used[-1]

    out = H.run(session, "DB.SERVING.RECS", name, REGION, token_provider=token, endpoint_url=stand_ins.moto_url)
    assert out == f"60 item(s) written to {name}"
    assert len(used) == 1 and session.queries == [H.select_query("DB.SERVING.RECS")]
    got = items(client, name)
    assert sorted(got) == list(range(1, 61))
    # the same item the export from CI writes for the same rows (one item-building code)
    assert got[7] == dynamodb.to_attr(dynamodb.build_items([r for r in rows if r[0] == 7])[0])
    assert got[7]["recommended_products"] == {"L": [{"N": "701"}, {"N": "702"}, {"N": "703"}]}
    signer = H.client_for(REGION, Token(), stand_ins.moto_url)._request_signer._credentials
    assert (signer.access_key, signer.secret_key, signer.token) == (
        "ASIAFAKESNOWFLAKE",
        "fake-secret",
        "fake-session-token",
    )


def test_a_bad_row_fails_the_run_before_any_item_is_written(session, table, stand_ins):
    client, name = table
    load(session, [*recommendations(30), (31, 1, 3101, "CAT-001", 1, "S"), (31, 1, 3102, "CAT-001", 1, "S")])
    with pytest.raises(H.ItemError, match="user 31 has rank 1 twice"):
        H.run(session, "DB.SERVING.RECS", name, REGION, token_provider=Token, endpoint_url=stand_ins.moto_url)
    assert items(client, name) == {}


def test_an_empty_source_is_refused(session, table, stand_ins):
    client, name = table
    with pytest.raises(H.ItemError, match="has no recommendations; nothing was written"):
        H.run(session, "DB.SERVING.RECS", name, REGION, token_provider=Token, endpoint_url=stand_ins.moto_url)
    assert items(client, name) == {}


def test_unprocessed_items_are_sent_again_until_written(table):
    client, name = table
    built = dynamodb.build_items(recommendations(80, per_user=2))
    flaky, waits = FlakyClient(client, share=0.5, rounds=3), []
    assert H.write_items(flaky, name, built, sleep=waits.append) == 80
    assert sum(flaky.held.values()) > 20 and flaky.calls > 4 and waits  # really held back, waited, sent again
    assert all(0 <= w <= 5 for w in waits)
    assert sorted(items(client, name)) == list(range(1, 81))


def test_a_table_that_never_accepts_fails_naming_what_is_left(table):
    client, name = table
    never, waits = FlakyClient(client, share=1.0, rounds=10**6), []
    with pytest.raises(H.ItemError, match="5 item\\(s\\) still unprocessed after 3 attempts; re-run to finish"):
        H.write_items(never, name, dynamodb.build_items(recommendations(5)), max_attempts=3, sleep=waits.append)
    assert never.calls == 3 and len(waits) == 2
    assert items(client, name) == {}
