"""The serving stores never go empty or shrink by accident: a planted empty or shrunk load is refused
before the switch (or before the DynamoDB deletes) with the live data untouched, `--allow-shrink` puts it
live, the previous tables stay as `__old` and a rollback puts them back under concurrent readers."""

from __future__ import annotations

import dataclasses
import json
import time

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from infra.config.reader import ConfigError, parse_config
from infra.serving.config import SyncGuardConfig
from scripts.core.errors import LoadError
from scripts.serving import dynamodb, postgres
from scripts.serving import loads as serving
from scripts.serving.__main__ import app
from services.api.orchestrator.orchestrator.backends import RANKED_FROM
from tests.conftest import SCHEMA, pg_digest
from tests.foundation.test_config import raw
from tests.serving.readers import propensity_readers


def planted(monkeypatch, table: str, keep: float) -> None:
    """The warehouse hands over only the first `keep` share of `table`'s rows (0: none)."""
    fetch = serving.fetch

    def fewer(t, name):
        names, rows = fetch(t, name)
        return (names, rows[: int(len(rows) * keep)]) if name == table else (names, rows)

    monkeypatch.setattr(serving, "fetch", fewer)


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_an_empty_staging_is_refused_and_nothing_goes_live(target, monkeypatch):
    tables = ("customer_features", "customer_propensity")
    before = {t: pg_digest(target.pg_dsn, t) for t in tables}
    planted(monkeypatch, "customer_propensity", 0)
    with pytest.raises(LoadError) as refused:
        serving.sync(target, tables)
    live = before["customer_propensity"][0]
    assert (
        f"customer_propensity: 0 rows staged, fewer than postgres.sync.minRows (default) = 1 (live: {live:,}); "
        "the live tables are unchanged" in str(refused.value)
    )
    assert "--allow-shrink" in str(refused.value) and "customer_features" not in str(refused.value)
    assert {t: pg_digest(target.pg_dsn, t) for t in tables} == before  # neither table went live
    with psycopg.connect(target.pg_dsn) as conn:  # and the refused load left nothing staged
        staged = [conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{t}__staging",)).fetchone()[0] for t in tables]
    assert staged == [None, None]
    guard = SyncGuardConfig(min_rows={"customer_propensity": 10**6})  # a configured floor names its key
    monkeypatch.undo()  # the warehouse's rows again
    with pytest.raises(LoadError, match=r"fewer than postgres\.sync\.minRows\.customer_propensity = 1,000,000"):
        serving.sync(target, tables, guard=guard)
    assert {t: pg_digest(target.pg_dsn, t) for t in tables} == before


def test_a_ninety_percent_shrink_is_refused_then_accepted_with_allow_shrink(target, monkeypatch, capsys):
    before = pg_digest(target.pg_dsn, "customer_propensity")
    planted(monkeypatch, "customer_propensity", 0.1)
    with pytest.raises(LoadError, match=r"a 90% shrink beyond postgres\.sync\.maxShrink = 0\.5; the live tables"):
        serving.sync(target, ("customer_propensity",), rank=False)
    assert pg_digest(target.pg_dsn, "customer_propensity") == before
    try:
        counts = serving.sync(target, ("customer_propensity",), allow_shrink=True, rank=False)
        assert counts == {"customer_propensity": before[0] // 10}
        assert pg_digest(target.pg_dsn, "customer_propensity")[0] == before[0] // 10
        assert "warning: --allow-shrink: customer_propensity:" in one_line(capsys.readouterr().out)
    finally:
        monkeypatch.undo()
        serving.sync(target, ("customer_propensity",), rank=False)  # growing back needs no override
    assert pg_digest(target.pg_dsn, "customer_propensity") == before


def test_the_sync_command_refuses_in_one_line_and_names_the_override(target, monkeypatch):
    before = pg_digest(target.pg_dsn, "customer_propensity")
    planted(monkeypatch, "customer_propensity", 0)
    monkeypatch.setattr(serving, "local_target", lambda stack: target)
    monkeypatch.setattr(serving, "prepare_local", lambda t: None)
    out = CliRunner().invoke(app, ["sync", "--local"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    error = one_line(out.output[out.output.index("error:") :])
    assert error.startswith("error: step 'sync to Postgres' failed: customer_propensity: 0 rows staged")
    assert error.endswith("re-run with --allow-shrink to accept")
    assert pg_digest(target.pg_dsn, "customer_propensity") == before


class CountsDeletes:
    """A client that counts the DeleteRequests it sends."""

    def __init__(self, client: object) -> None:
        self.client, self.deletes = client, 0

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 (boto3's argument name)
        self.deletes += sum("DeleteRequest" in r for reqs in RequestItems.values() for r in reqs)
        return self.client.batch_write_item(RequestItems=RequestItems)

    def scan(self, **kwargs):
        return self.client.scan(**kwargs)


def recs(users) -> list[dict]:
    return [{"user_id": u, "recommended_products": [u, 2], "category_id": "CAT-001", "source": "T"} for u in users]


def test_an_export_deleting_more_than_the_share_is_refused_before_any_delete(own_table):
    client, table = CountsDeletes(own_table.dynamodb_client()), own_table.dynamodb_table
    dynamodb.export_items(client, table, recs(range(1, 401)))
    with pytest.raises(LoadError, match=r"would delete 300 of the 400 items in the table \(75%\), more"):
        dynamodb.export_items(client, table, recs(range(1, 101)), max_delete_share=0.2)
    assert client.deletes == 0 and dynamodb.scan_user_ids(client, table) == set(range(1, 401))
    assert dynamodb.export_items(client, table, recs(range(1, 101)), max_delete_share=0.2, allow_shrink=True) == (
        100,
        300,
    )
    assert client.deletes == 300 and dynamodb.scan_user_ids(client, table) == set(range(1, 101))


def test_the_export_step_reads_the_share_from_config(own_table):
    stale = recs(range(1, 1201))  # users the warehouse does not recommend: 1,200 of 1,500 would go
    dynamodb.write_parallel(own_table.dynamodb_client(), own_table.dynamodb_table, stale)
    with pytest.raises(LoadError, match=r"more than dynamodb\.maxDeleteShare = 0\.2; nothing was deleted"):
        serving.export(own_table)
    assert len(dynamodb.scan_user_ids(own_table.dynamodb_client(), own_table.dynamodb_table)) == 1500
    assert serving.export(own_table, allow_shrink=True)["dynamodb deleted (users no longer recommended)"] == 1200


def digest(dsn: str, schema: str, table: str) -> tuple[int, str]:
    with psycopg.connect(dsn) as conn:
        query = sql.SQL("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {} t")
        return conn.execute(query.format(sql.Identifier(schema, table))).fetchone()


@pytest.fixture()
def own_schema(target):
    """The serving tables in a schema of the test's own, synced once from the warehouse."""
    t = dataclasses.replace(target, pg_schema="t_floor_rollback", counts={})
    with psycopg.connect(t.pg_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS t_floor_rollback CASCADE")
    postgres.migrate(t.pg_dsn, t.pg_schema)
    yield t
    with psycopg.connect(t.pg_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA t_floor_rollback CASCADE")


def test_rollback_puts_the_previous_sync_back_and_again_undoes_it(own_schema, monkeypatch):
    t, tables = own_schema, serving.SYNCED
    with pytest.raises(LoadError, match="nothing to roll back in t_floor_rollback"):
        serving.rollback(t)
    serving.sync(t)
    first = {n: digest(t.pg_dsn, t.pg_schema, n) for n in tables}
    # after the first sync the previous tables are the empty ones the migrations created
    empty = r"customer_candidates: 0 rows to roll back to, fewer than .*nothing was rolled back"
    with pytest.raises(LoadError, match=empty):
        serving.rollback(t)
    assert {n: digest(t.pg_dsn, t.pg_schema, n) for n in tables} == first
    planted(monkeypatch, "inventory", 0.4)
    serving.sync(t, allow_shrink=True)
    second = {n: digest(t.pg_dsn, t.pg_schema, n) for n in tables}
    assert second["inventory"][0] < first["inventory"][0]
    monkeypatch.setattr(serving, "local_target", lambda stack: t)
    monkeypatch.setattr(serving, "prepare_local", lambda target: None)
    out = CliRunner().invoke(app, ["rollback", "--local"])
    assert out.exit_code == 0, out.output
    assert {n: digest(t.pg_dsn, t.pg_schema, n) for n in tables} == first
    assert rankings_hold(t)  # the precomputed rankings came back with the tables they were computed from
    with pytest.raises(LoadError, match=r"inventory: .* shrink beyond postgres\.sync\.maxShrink"):
        serving.rollback(t)  # back to the shrunk inventory: refused as its sync was
    # the rolled-back tables are the __old ones now
    assert serving.rollback(t, allow_shrink=True) == [*tables, "customer_rankings"]
    assert {n: digest(t.pg_dsn, t.pg_schema, n) for n in tables} == second
    assert rankings_hold(t)
    # a sync whose rankings step did not run: the live rankings are those of the tables a rollback puts
    # back, so they stay, and the previous ones (of older tables still) are not put live
    serving.sync(t, allow_shrink=True, rank=False)
    assert not rankings_hold(t)
    assert "customer_rankings" not in serving.rollback(t, allow_shrink=True)
    assert rankings_hold(t)


def rankings_hold(t) -> bool:
    """Every precomputed ranking names the live tables' OIDs: what the API checks before serving one."""
    stamp = ", ".join(f"to_regclass('{t.pg_schema}.{n}')::oid" for n in RANKED_FROM)
    with psycopg.connect(t.pg_dsn) as conn:
        n, held = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE versions = ARRAY[{stamp}]::bigint[]) "
            f"FROM {t.pg_schema}.customer_rankings"
        ).fetchone()
    return n > 0 and held == n


def test_rollback_under_concurrent_readers_sees_old_or_new_never_an_error(target):
    old = [(i, f"CAT-{i % 12 + 1:03d}", 0.1) for i in range(20_000)]
    new = [(i, f"CAT-{i % 12 + 1:03d}", 0.9) for i in range(30_000)]
    postgres.sync_table(target.pg_dsn, "customer_propensity", old, SCHEMA)
    postgres.sync_table(target.pg_dsn, "customer_propensity", new, SCHEMA)  # `old` stays as __old
    with propensity_readers(target.pg_dsn, count=2) as seen, psycopg.connect(target.pg_dsn) as conn:
        for _ in range(5):
            time.sleep(0.05)
            assert postgres.rollback(conn, SCHEMA, ["customer_propensity"]) == ["customer_propensity"]
    assert seen == {(20_000, 0.1), (30_000, 0.9)}, seen
    assert pg_digest(target.pg_dsn, "customer_propensity")[0] == 20_000  # five rollbacks: the old rows
    serving.sync(target, ("customer_propensity",), allow_shrink=True, rank=False)


def _config(**serving_keys) -> dict:
    values = raw("dev")
    for key, change in serving_keys.items():
        values[key] = json.dumps({**json.loads(values[key]), **change})
    return values


@pytest.mark.parametrize(
    ("values", "key", "needle"),
    [
        (
            lambda: _config(postgres={"sync": {"minRows": {"customer_featurez": 1}}}),
            "postgres.sync.minRows",
            "unknown or unguarded serving table(s) customer_featurez",
        ),
        (
            lambda: _config(postgres={"sync": {"minRows": {"products": -1}}}),
            "postgres.sync.minRows.products",
            "greater than or equal to 0",
        ),
        (lambda: _config(postgres={"sync": {"maxShrink": 1.5}}), "postgres.sync.maxShrink", "less than or equal to 1"),
        (lambda: _config(postgres={"sync": {"maxShrnk": 0.5}}), "postgres.sync.maxShrnk", "Extra inputs"),
        (lambda: _config(dynamodb={"maxDeleteShare": -0.1}), "dynamodb.maxDeleteShare", "greater than or equal to 0"),
    ],
    ids=["unknown-table", "negative-floor", "share-above-1", "misspelt", "negative-share"],
)
def test_guard_config_errors_name_the_key(values, key, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(values(), "dev")
    assert f"retail-data-platform:{key}: " in str(e.value) and needle in str(e.value), str(e.value)


def test_the_guard_defaults_and_a_configured_floor():
    guard = SyncGuardConfig(min_rows={"products": 0})
    assert guard.floor("products") == 0 and guard.floor("inventory") == 1 and guard.max_shrink == 0.5
    assert parse_config(raw("prod"), "prod").dynamodb.max_delete_share == 0.2
