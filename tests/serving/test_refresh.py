"""The scheduled refresh's chain on the stand-ins: train when due → sync → export, the real step commands
on the loads' target; a planted failure of the sync's warehouse query stops it with a non-zero exit and
leaves Postgres and DynamoDB as they were. Plus the pieces a job service runs with: the target it builds
from SPCS's environment, and the model's age on the stage."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from infra.serving.config import SERVING_TABLES
from scripts.core.errors import LoadError
from scripts.core.target import SERVICE_ENV, service_target
from scripts.recommendations import loads as recommendations
from scripts.recommendations import ranking, warehouse
from scripts.recommendations.__main__ import app as recommendations_app
from scripts.serving import loads as serving
from scripts.serving import refresh
from scripts.serving.__main__ import app as serving_app
from tests.conftest import SCHEMA, dynamo_items, pg_digest

APPS = {"scripts.recommendations": recommendations_app, "scripts.serving": serving_app}


@pytest.fixture()
def on_target(own_table, monkeypatch):
    """Each step's command run in this process on the loads' target (the stand-ins, the tests' names)
    with a DynamoDB table of the test's own; what each printed, by step."""
    for module in (recommendations, serving):
        monkeypatch.setattr(module, "local_target", lambda stack: own_table)
        monkeypatch.setattr(module, "prepare_local", lambda t: None)
    printed: dict[str, str] = {}

    def execute(argv) -> int:
        out = CliRunner().invoke(APPS[argv[0]], list(argv[1:]))
        printed[argv[1]] = out.output
        return out.exit_code

    return execute, printed


def chain(every_days: int = 30) -> list[refresh.RefreshStep]:
    return refresh.steps("dev", local=True, in_service=False, train_every_days=every_days)


def stores(target) -> tuple[dict, dict]:
    return {t: pg_digest(target.pg_dsn, t) for t in SERVING_TABLES}, dynamo_items(target)


def test_the_chain_is_the_step_commands_in_order():
    got = [(s.title, s.argv) for s in refresh.steps("prod", local=False, in_service=True, train_every_days=7)]
    where = ("--stack", "prod", "--in-service")
    assert got == [
        ("train", ("scripts.recommendations", "train", *where, "--if-older-than-days", "7")),
        ("sync", ("scripts.serving", "sync", *where)),
        ("export", ("scripts.serving", "export", *where)),
    ]


def test_the_refresh_runs_every_step_and_trains_only_when_due(on_target):
    execute, printed = on_target
    try:
        assert refresh.run(chain(), execute) == ["train", "sync", "export"]
    except refresh.RefreshError:
        pytest.fail("\n".join(printed.values()))
    assert "train: not due (model published 0.0 days ago; retrained every 30 days)" in printed["train"]
    assert "exported" in printed["export"]


def test_a_failed_sync_query_stops_the_refresh_and_leaves_the_stores(own_table, on_target, monkeypatch):
    execute, printed = on_target
    target = own_table
    serving.export(target)  # DynamoDB holds the last export
    before = stores(target)
    assert len(before[1]) == 300
    real = serving.sync_query
    broken = f"SELECT * FROM {target.database}.GOLD.NO_SUCH_TABLE"
    # the third table's warehouse query fails, after two tables were staged
    monkeypatch.setattr(serving, "sync_query", lambda t, name: broken if name == "inventory" else real(t, name))
    with pytest.raises(refresh.RefreshError) as failed:
        refresh.run(chain(), execute)
    assert failed.value.code == 1
    assert str(failed.value).startswith("refresh stopped at sync (exit 1); not run: export.")
    assert "done: train" in str(failed.value)
    assert "step 'sync to Postgres' failed (ProgrammingError)" in printed["sync"]
    assert "export" not in printed
    assert stores(target) == before
    with psycopg.connect(target.pg_dsn) as conn:
        staged = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s", (SCHEMA, "%\\_\\_staging")
        ).fetchone()[0]
    assert staged == 0


def test_the_refresh_command_exits_non_zero_in_one_line(on_target, monkeypatch):
    execute, _ = on_target
    monkeypatch.setattr(refresh, "in_process", lambda argv: 1 if argv[1] == "train" else execute(argv))
    out = CliRunner().invoke(serving_app, ["refresh", "--local"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "error: refresh stopped at train (exit 1); not run: sync, export." in " ".join(out.output.split())


def test_each_step_runs_as_a_process_and_its_exit_code_counts():
    ok = refresh.RefreshStep("first", ("platform",))
    bad = refresh.RefreshStep("second", ("scripts.serving", "no-such-command"))
    with pytest.raises(refresh.RefreshError, match=r"stopped at second \(exit 2\); not run: third") as failed:
        refresh.run([ok, bad, refresh.RefreshStep("third", ("platform",))])
    assert failed.value.code == 2


def test_train_runs_when_the_published_model_is_old_enough(target, monkeypatch):
    model = target.artifacts / "ranking" / ranking.MODEL_FILE
    assert model.exists()
    trained = []
    monkeypatch.setattr(recommendations, "train", lambda t: trained.append(t) or {"auc": 1})
    now = datetime.now(UTC)
    assert recommendations.train_if_due(target, 7, now)["trained"] is False
    old = time.time() - 8 * 86_400
    stamp = model.stat().st_mtime
    try:
        os.utime(model, (old, old))
        assert recommendations.train_if_due(target, 7, now) == {"trained": True, "auc": 1}
    finally:
        os.utime(model, (stamp, stamp))
    assert trained == [target]
    assert recommendations.model_due(None, 7, now)
    assert not recommendations.model_due(now - timedelta(days=6, hours=23), 7, now)


class ListCursor:
    """LIST @stage's rows, as Snowflake returns them (last_modified an HTTP date)."""

    description = (("name",), ("size",), ("md5",), ("last_modified",))

    def __init__(self, rows: list[tuple]) -> None:
        self.rows, self.sql = rows, ""

    def execute(self, sql: str) -> None:
        self.sql = sql

    def fetchall(self) -> list[tuple]:
        return self.rows


def test_the_model_stage_says_when_the_model_was_published(target):
    cur = ListCursor([("model_stage/ranking_model.json", 10, "x", "Wed, 2 Dec 2026 07:00:00 GMT")])
    assert warehouse.published_at(cur, target) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert cur.sql.endswith("\"MODEL_STAGE\" PATTERN = '.*ranking_model[.]json'")
    assert warehouse.published_at(ListCursor([]), target) is None


def test_the_job_target_comes_from_spcs_env_and_names_what_is_missing(tmp_path: Path):
    env = {k: f"v-{k.lower()}" for k in SERVICE_ENV} | {"PG_PORT": "5432", "RDP_ARTIFACTS": str(tmp_path)}
    t = service_target("dev", env, token=tmp_path / "token")
    assert (t.database, t.dynamodb_table, t.local) == ("v-snowflake_database", "", False)
    dsn = psycopg.conninfo.conninfo_to_dict(t.pg_dsn)
    assert dsn["sslmode"] == "verify-full" and dsn["user"] == "v-pg_user" and dsn["sslrootcert"] == "v-pgsslrootcert"
    with pytest.raises(LoadError, match="no Snowflake token at"):
        t.connect_snowflake()
    with pytest.raises(LoadError, match="sets no PG_PASSWORD, PGSSLROOTCERT"):
        service_target("dev", {k: v for k, v in env.items() if k not in ("PG_PASSWORD", "PGSSLROOTCERT")})
