"""Precomputed rankings (orchestrator/precompute.py, scripts/serving/rankings.py): a request answered from
serving.customer_rankings says exactly what the full path says, and every case where the row does not
hold for the request (another region, more items, another model, a table swapped since, no table) is
answered by the full path instead."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil

import orjson
import psycopg
import pytest

from scripts import standins
from scripts.serving import loads as serving
from scripts.serving import postgres, rankings
from services.api.orchestrator.orchestrator import app as app_module
from services.api.orchestrator.orchestrator import backends, fingerprint
from services.api.orchestrator.orchestrator import precompute as pre
from services.api.orchestrator.orchestrator.app import Recommender
from services.api.orchestrator.orchestrator.inputs import RecommendRequest
from tests.api.conftest import HOME_ZIP as ZIP
from tests.api.conftest import SCHEMA, settings_for


def homes(target) -> list[tuple[int, str]]:
    with psycopg.connect(target.pg_dsn) as conn:
        return conn.execute(
            f"SELECT customer_id, home_region FROM {SCHEMA}.customer_features ORDER BY customer_id"
        ).fetchall()


async def _answers(settings, cases: list[tuple[int, str, int]]) -> list[tuple[dict, bytes]]:
    """Each case answered by `recommend` (the precomputed row when it holds) and by the full path."""
    rec = Recommender(settings)
    await rec.start()
    try:
        out = []
        for customer, region, n in cases:
            answer = await rec.recommend(RecommendRequest(customer_id=customer, zip_code=ZIP[region], top_n=n))
            items, backend, _ = await rec.rank(customer, region, n, {})
            assert backend == "postgres"
            out.append((answer, orjson.dumps(items)))
        return out
    finally:
        await rec.stop()


def run(coroutine):
    """On a loop of its own, never made the thread's current one (asyncio.run resets that, which the
    Pulumi mocks of later test modules rely on)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def answers(env, cases, **over) -> list[tuple[dict, bytes]]:
    return run(_answers(settings_for(env, **over), cases))


def test_every_customer_is_precomputed_and_answered_byte_for_byte_as_the_full_path(env, target, ranked):
    customers = homes(target)
    assert customers and all(region for _, region in customers), "every customer has a home region"
    with psycopg.connect(target.pg_dsn) as conn:
        (rows,) = conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_rankings").fetchone()
    assert rows == len(customers)
    cases = [(c, region, n) for c, region in customers for n in (1, 5, 10)]
    for (c, region, n), (answer, full) in zip(cases, answers(env, cases), strict=True):
        assert answer["timings"]["precomputed"] is True, (c, n)
        assert answer["backend"] == "postgres"
        assert orjson.dumps(answer["recommendations"]) == full, (c, region, n)


def test_a_request_the_row_does_not_hold_for_takes_the_full_path(env, target, ranked):
    (c, home), *_ = homes(target)
    away = next(r for r in ZIP if r != home)
    got = answers(env, [(c, away, 5), (c, home, 11), (c, home, 50), (c, home, 10)])
    for (answer, full), precomputed in zip(got, (False, False, False, True), strict=True):
        assert answer["timings"].get("precomputed", False) is precomputed
        assert answer["backend"] == "postgres" and orjson.dumps(answer["recommendations"]) == full


def test_another_model_is_not_served_the_rankings_of_the_published_one(env, target, ranked, tmp_path):
    (c, home), *_ = homes(target)
    model = tmp_path / "ranking_model.json"
    shutil.copy(env["RANKER_MODEL_PATH"], model)
    model.write_bytes(model.read_bytes() + b"\n")  # the same trees, other bytes: another digest
    ((answer, full),) = answers(env, [(c, home, 5)], ranker_model_path=str(model))
    assert answer["timings"]["precomputed"] is False and orjson.dumps(answer["recommendations"]) == full


def test_an_image_whose_code_answers_differently_does_not_serve_older_rankings(env, target, ranked, monkeypatch):
    (c, home), *_ = homes(target)
    monkeypatch.setattr(app_module, "answered_by", lambda sha: f"{sha}:{'0' * 16}")  # other code, same model
    ((answer, full),) = answers(env, [(c, home, 5)])
    assert answer["timings"]["precomputed"] is False and orjson.dumps(answer["recommendations"]) == full
    monkeypatch.undo()
    ((answer, _),) = answers(env, [(c, home, 5)])
    assert answer["timings"]["precomputed"] is True
    assert fingerprint.code_digest() in fingerprint.answered_by("sha")


def test_the_sync_and_the_api_name_the_same_tables_in_the_same_order():
    assert rankings.RANKED_FROM == backends.RANKED_FROM


def test_a_failed_precompute_names_its_error_and_keeps_the_live_rankings(env, target, ranked, monkeypatch):
    closed = {"PG_PORT": str(standins.free_port())}  # the process cannot reach Postgres
    monkeypatch.setattr(
        rankings, "orchestrator_env", lambda t, model, real=rankings.orchestrator_env: {**real(t, model), **closed}
    )
    with psycopg.connect(target.pg_dsn) as conn:
        before = conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_rankings").fetchone()
        with pytest.raises(postgres.ServingError, match=r"(?s)rankings not precomputed \(exit 1\): .*postgres"):
            rankings.precompute(target, conn)
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_rankings").fetchone() == before
        assert conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.customer_rankings__staging",)).fetchone() == (None,)


def test_after_a_sync_the_rankings_wait_for_their_own_step(env, target):
    customers = homes(target)[:20]
    cases = [(c, region, 5) for c, region in customers]
    serving.sync(target, ("customer_propensity",), rank=False)  # a table swapped, the rankings not
    got = answers(env, cases)
    assert [a["timings"]["precomputed"] for a, _ in got] == [False] * len(cases)
    assert all(orjson.dumps(a["recommendations"]) == full for a, full in got)
    with psycopg.connect(target.pg_dsn) as conn:
        assert rankings.precompute(target, conn) == len(homes(target))
    assert all(a["timings"]["precomputed"] for a, _ in answers(env, cases))


def test_without_the_table_every_request_takes_the_full_path(env, target):
    (c, home), *_ = homes(target)
    with psycopg.connect(target.pg_dsn) as conn:
        conn.execute(f"ALTER TABLE {SCHEMA}.customer_rankings RENAME TO customer_rankings_away")
    try:
        ((answer, full),) = answers(env, [(c, home, 5)])  # an image started before the sync's migration
    finally:
        with psycopg.connect(target.pg_dsn) as conn:
            conn.execute(f"ALTER TABLE {SCHEMA}.customer_rankings_away RENAME TO customer_rankings")
    assert "precomputed" not in answer["timings"] and orjson.dumps(answer["recommendations"]) == full


def test_rankings_computed_across_a_sync_are_refused(env, target):
    swapped = []

    def write(_line: bytes) -> None:
        if not swapped:  # the first customer's row written: a sync lands
            swapped.append(serving.sync(target, ("products",), rank=False))

    settings = settings_for(env)
    with pytest.raises(pre.TablesChangedError):
        run(pre.precompute(settings, write))
    assert swapped
    with psycopg.connect(target.pg_dsn) as conn:  # the package's other tests read current rankings
        assert rankings.precompute(target, conn) == len(homes(target))


def test_without_a_published_model_the_step_leaves_the_table_and_says_so(env, target, tmp_path, capsys):
    with psycopg.connect(target.pg_dsn) as conn:
        before = conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_rankings").fetchone()
        assert rankings.precompute(dataclasses.replace(target, artifacts=tmp_path), conn) is None
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_rankings").fetchone() == before
    assert "no ranking model published yet" in capsys.readouterr().out
