"""The review stack's online commands on stand-ins (scripts/review): the leftover check's AWS reads against
a moto server with planted leftovers, its Snowflake listing against fakesnow where fakesnow has the SHOW
(DATABASES, USERS) and against recorded SHOW-shaped rows where it does not (ROLES, WAREHOUSES,
INTEGRATIONS, NETWORK POLICIES, COMPUTE POOLS, RESOURCE MONITORS: fakesnow 0.12 cannot create or show
them), and the smoke query of the loaded tables on fakesnow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing

import boto3
import fakesnow
import pytest
import snowflake.connector
from typer.testing import CliRunner

from infra.leftovers import AWS, SNOWFLAKE
from infra.naming import Naming, quote
from scripts.core.errors import LoadError
from scripts.review import __main__ as cli
from scripts.review import leftovers
from scripts.review.smoke import loaded_tables, smoke
from tests.conftest import ROOT

SEVEN = Naming("RDP", "pr-7")
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def plant(client, owner: str) -> None:
    """One object of every AWS kind, named for `owner` (a stack's AWS prefix)."""
    client("s3").create_bucket(Bucket=f"{owner}-landing-123456789012")
    client("iam").create_role(RoleName=f"{owner}-snowflake-s3", AssumeRolePolicyDocument="{}")
    client("sns").create_topic(Name=f"{owner}-ingest-errors")
    client("dynamodb").create_table(
        TableName=f"{owner}-product-recommendations",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("secretsmanager").create_secret(Name=f"{owner}-postgres-loader", SecretString="{}")


def expected_names(owner: str) -> dict[str, list[str]]:
    """What `python -m infra.plan --leftovers --format json` gives under "aws" (the plan's account id)."""
    return {
        "s3 buckets": [f"{owner}-landing-123456789012"],
        "iam roles": [f"{owner}-snowflake-s3", f"{owner}-snowflake-sns"],
        "sns topics": [f"{owner}-ingest-errors"],
        "dynamodb tables": [f"{owner}-product-recommendations"],
        "secretsmanager secrets": [f"{owner}-postgres-loader"],
    }


def test_the_aws_check_reads_back_each_planned_name_and_finds_a_planted_leftover_of_every_kind(moto_url):
    session = boto3.session.Session(**KEYS)

    def client(service: str):
        return session.client(service, endpoint_url=moto_url)

    for owner in ("rdp-pr-7", "rdp-pr-70", "rdp-dev"):  # PR 70 and dev share the account, never the check
        plant(client, owner)
    found = leftovers.aws_leftovers(client, expected_names("rdp-pr-7"), SEVEN, "us-east-1")
    assert sorted(found) == [
        ("dynamodb tables", "rdp-pr-7-product-recommendations"),
        ("iam roles", "rdp-pr-7-snowflake-s3"),  # its sibling rdp-pr-7-snowflake-sns was never made
        ("s3 buckets", "rdp-pr-7-landing-123456789012"),
        ("secretsmanager secrets", "rdp-pr-7-postgres-loader"),
        ("sns topics", "rdp-pr-7-ingest-errors"),
    ]
    assert {kind for kind, _ in found} == set(AWS)  # every kind infra/leftovers.py names is read
    client("secretsmanager").delete_secret(SecretId="rdp-pr-7-postgres-loader", RecoveryWindowInDays=7)
    gone = leftovers.aws_leftovers(client, expected_names("rdp-pr-7"), SEVEN, "us-east-1")
    assert ("secretsmanager secrets", "rdp-pr-7-postgres-loader") not in gone  # scheduled for deletion
    with pytest.raises(LoadError, match="another stack's"):  # names of another stack are refused
        leftovers.aws_leftovers(client, expected_names("rdp-pr-70"), SEVEN, "us-east-1")


def test_a_read_the_role_may_not_make_is_an_error_never_clean():
    from botocore.exceptions import ClientError

    class Denied:
        def get_caller_identity(self):
            return {"Account": "123456789012"}

        def head_bucket(self, **kwargs):
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadBucket")

    with pytest.raises(ClientError):
        leftovers.aws_leftovers(lambda service: Denied(), {"s3 buckets": ["rdp-pr-7-landing-1"]}, SEVEN, "us-east-1")


def run_cli(moto_url: str, stack: str, expected) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    argv = [sys.executable, "-m", "scripts.review", "leftovers", "--stack", stack, "--only", "aws"]
    return subprocess.run([*argv, "--expected", str(expected)], cwd=ROOT, env=env, capture_output=True, text=True)


def test_the_command_exits_1_naming_a_leftover_and_0_when_clean(moto_url, tmp_path):
    expected = tmp_path / "names.json"
    expected.write_text(json.dumps({"snowflake": {}, "aws": expected_names("rdp-pr-8")}))
    s3 = boto3.client("s3", endpoint_url=moto_url, **KEYS)
    s3.create_bucket(Bucket="rdp-pr-8-landing-123456789012")
    left = run_cli(moto_url, "acme/pr-8", expected)
    assert left.returncode == 1, left.stdout + left.stderr
    assert "left: s3 buckets: rdp-pr-8-landing-123456789012" in left.stdout
    assert "1 objects of pr-8 are left in aws" in left.stdout
    s3.delete_bucket(Bucket="rdp-pr-8-landing-123456789012")
    clean = run_cli(moto_url, "acme/pr-8", expected)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "nothing of pr-8 is left in aws" in clean.stdout


# SHOW output as Snowflake gives it (lower-case columns, `name` second); recorded, as fakesnow has no such SHOW
RECORDED = {
    "ROLES": ["RDP_PR_7_LOADER", "RDP_PR_70_LOADER", "RDP_DEV_LOADER"],
    "WAREHOUSES": ["RDP_PR_7_LOAD_WH", "RDP_DEV_LOAD_WH"],
    "INTEGRATIONS": ["RDP_PR_7_LANDING_S3"],
    "NETWORK POLICIES": ["RDP_PR_7_SVC_LOADER_POLICY", "RDP_PR_70_SVC_LOADER_POLICY", "RDP_DEV_SVC_LOADER_POLICY"],
    "COMPUTE POOLS": [],
    "RESOURCE MONITORS": ["RDP_DEV_MONITOR"],
}


class RecordedShow:
    """fakesnow's cursor for the SHOW kinds fakesnow has, recorded SHOW rows for the others."""

    def __init__(self, cur, recorded: dict[str, list[str]]):
        self.cur, self.recorded, self.statements, self.rows = cur, recorded, [], None

    def execute(self, sql: str):
        self.statements.append(sql)
        kind = next((k for k in self.recorded if sql.startswith(f"SHOW {k}")), None)
        if kind is None:
            self.rows = None
            return self.cur.execute(sql)
        self.rows = [("2026-12-01 00:00:00", name, "comment") for name in self.recorded[kind]]
        return self

    @property
    def description(self):
        return [("created_on",), ("name",), ("comment",)] if self.rows is not None else self.cur.description

    def fetchall(self):
        return self.rows if self.rows is not None else self.cur.fetchall()


def test_the_snowflake_listing_finds_what_is_left_by_exact_prefix():
    with fakesnow.patch(), closing(snowflake.connector.connect()) as conn:
        cur = conn.cursor()
        for db in ("RDP_PR_7_RETAIL", "RDP_PR_70_RETAIL", "RDP_DEV_RETAIL"):
            cur.execute(f"CREATE DATABASE {db}")
        for user in ("RDP_PR_7_SVC_LOADER", "RDP_PR_70_SVC_LOADER"):
            cur.execute(f"CREATE USER {user}")
        recorded = RecordedShow(cur, RECORDED)
        found = leftovers.snowflake_leftovers(recorded, SEVEN)
    assert found == [
        ("SHOW DATABASES", "RDP_PR_7_RETAIL"),  # fakesnow
        ("SHOW WAREHOUSES", "RDP_PR_7_LOAD_WH"),
        ("SHOW ROLES", "RDP_PR_7_LOADER"),
        ("SHOW USERS", "RDP_PR_7_SVC_LOADER"),  # fakesnow
        ("SHOW INTEGRATIONS", "RDP_PR_7_LANDING_S3"),
        ("SHOW NETWORK POLICIES", "RDP_PR_7_SVC_LOADER_POLICY"),
    ]
    assert [s.split(" LIKE")[0] for s in recorded.statements] == [f"SHOW {k}" for k in SNOWFLAKE]
    # LIKE narrows where SHOW has it; SHOW NETWORK POLICIES has none and is filtered here alone
    assert "SHOW NETWORK POLICIES" in recorded.statements
    assert "SHOW ROLES LIKE 'RDP_PR_7_%'" in recorded.statements


def test_a_clean_account_lists_nothing():
    with fakesnow.patch(), closing(snowflake.connector.connect()) as conn:
        cur = conn.cursor()
        cur.execute("CREATE DATABASE RDP_DEV_RETAIL")
        clean = {k: [n for n in names if not n.startswith("RDP_PR_7_")] for k, names in RECORDED.items()}
        assert leftovers.snowflake_leftovers(RecordedShow(cur, clean), SEVEN) == []


def fill(cur, database: str, empty: str | None = None) -> None:
    """The loaded tables on fakesnow, one row each but `empty`."""
    cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote(database)}")
    for label, table in loaded_tables(database).items():
        db, schema, _ = (p.strip('"') for p in table.split("."))
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(db, schema)}")
        cur.execute(f"CREATE OR REPLACE TABLE {table} (ID INT)")
        if label != empty:
            cur.execute(f"INSERT INTO {table} VALUES (1)")


@pytest.mark.parametrize("empty", [None, "cdc all: ORDERS_AGGREGATED"])
def test_the_smoke_command_exits_1_naming_an_empty_loaded_table(monkeypatch, empty):
    database = "RDP_PR_7_RETAIL"
    with fakesnow.patch():
        with closing(snowflake.connector.connect()) as conn:
            fill(conn.cursor(), database, empty)
            assert smoke(conn.cursor(), database)["cdc all: ORDERS_AGGREGATED"] == (0 if empty else 1)
        monkeypatch.setattr(cli, "stack_config", lambda stack: stack)
        monkeypatch.setattr(cli, "stack_outputs", lambda stack, required: {"database": database})
        monkeypatch.setattr(cli, "transformer_session", lambda cfg, out: snowflake.connector.connect())
        result = CliRunner().invoke(cli.app, ["smoke", "--stack", "acme/pr-7"])
    if empty:
        assert result.exit_code == 1, result.output
        assert f"empty: {empty}" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "every loaded table answers" in result.output


def test_a_loaded_table_that_cannot_be_read_is_exit_2(monkeypatch):
    with fakesnow.patch():
        monkeypatch.setattr(cli, "stack_config", lambda stack: stack)
        monkeypatch.setattr(cli, "stack_outputs", lambda stack, required: {"database": "RDP_PR_9_RETAIL"})
        monkeypatch.setattr(cli, "transformer_session", lambda cfg, out: snowflake.connector.connect())
        result = CliRunner().invoke(cli.app, ["smoke", "--stack", "pr-9"])
    assert result.exit_code == 2, result.output  # the stack does not answer: not "empty", an error
    assert "error:" in result.output


def test_the_loads_a_review_stack_runs_need_no_serving_output(monkeypatch):
    """A review stack has no Postgres: its outputs carry no postgresLoaderSecret, and the recommendations'
    loads (which write no serving store) must not ask for one."""
    from scripts.core import connections
    from scripts.core.errors import StackOutputError
    from scripts.recommendations.target import stack_target

    outputs = {"database": "RDP_PR_7_RETAIL", "serviceUsers": {}, "functionalRoles": {}, "warehouses": {}}

    def stack_outputs(stack, required=("database",)):
        if missing := [k for k in required if k not in outputs]:
            raise StackOutputError(f"no output(s) {missing}")
        return outputs

    monkeypatch.setattr(connections, "stack_outputs", stack_outputs)
    assert stack_target("dev").database == "RDP_PR_7_RETAIL"
    outputs.pop("warehouses")  # planted: an output the duties' sessions do need
    with pytest.raises(StackOutputError, match="warehouses"):
        stack_target("dev")
