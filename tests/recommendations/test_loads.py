"""The recommendations' post-deploy loads on the stand-ins: counts, model artifacts, idempotency,
NULLs and zero-stock rows kept, and a failed step that names itself."""

from __future__ import annotations

import dataclasses
import json
import re

import psycopg
import pytest

from scripts.core.errors import LoadError
from scripts.recommendations import evaluation, loads
from scripts.recommendations import generate as generation
from scripts.recommendations.evaluation import stock_at_home
from scripts.recommendations.target import local_target
from scripts.serving import loads as serving
from scripts.serving import postgres
from scripts.serving.rankings import RANKED_FROM
from services.features.candidates import SOURCES
from tests.conftest import SCALE, SCHEMA, dynamo_items, pg_digest


def test_counts_per_table(target):
    c = target.counts
    assert c["CUSTOMERS"] == 300 and c["PRODUCT_CATALOG"] == 120 and c["STORES"] == 20
    assert c["INVENTORY"] == 120 * 5
    assert c["CUSTOMER_PROPENSITY"] == 300 * 12  # 12 propensity rows per customer
    assert c["pg.customer_features"] == 300 and c["pg.customer_propensity"] == 3600
    assert c["pg.inventory"] == 600 and c["pg.customer_profiles"] == 300
    assert c["pg.product_popularity"] == 120 and c["pg.customer_product_interactions"] > 300 * 10
    assert c["dynamodb.t-loads-product-recommendations"] == c["users with recommendations"] == 300
    assert len(dynamo_items(target)) == 300


def test_model_artifact_metrics_and_per_category_scores(target):
    metrics = json.loads((target.artifacts / "propensity" / "metrics.json").read_text())
    assert (target.artifacts / "propensity" / "propensity_model.json").stat().st_size > 1000
    assert 0.5 < metrics["auc_holdout"] <= 1.0 and metrics["test_customers"] > 0
    assert "CATEGORY_IDX" in metrics["features"]
    with psycopg.connect(target.pg_dsn) as conn:
        spread = conn.execute(
            f"SELECT count(*) FROM (SELECT customer_id FROM {SCHEMA}.customer_propensity GROUP BY customer_id "
            "HAVING count(DISTINCT propensity_score) > 1) s"
        ).fetchone()[0]
    assert spread == 300  # the seed scored every category the same; here every customer's categories differ


def test_metrics_keep_the_offline_evaluation_and_the_model_is_published(target):
    """The train step evaluates every order on a validation and a test window after the training one,
    and keeps the figures, the candidate recall among them."""
    metrics = json.loads((target.artifacts / "propensity" / "metrics.json").read_text())
    ranking = metrics["ranking"]
    assert ranking == json.loads((target.artifacts / "ranking" / "ranking_metrics.json").read_text())
    ev = ranking["evaluation"]
    assert ev["test"]["cutoff"] == "2026-10-02" and ev["validation"]["cutoff"] == "2026-09-02"
    assert ranking["train_cutoff"] == "2026-08-03"  # AS_OF - 30, - 60, - 90
    for window in ("validation", "test"):
        w = ev[window]
        assert w["customers"] > 20
        for order in evaluation.ORDERS:
            assert 0 <= w[order] <= 1, (window, order)
        assert 0 < w["candidate_recall"] <= 1 and w["candidates_per_customer"] > 0
        bound = [w["candidate_recall_bound"][str(k)] for k in (*evaluation.BOUND_KS, "in_stock")]
        assert bound == sorted(bound) and bound[-1] <= 1, bound  # more candidates never find less
        assert w["candidate_recall"] <= bound[-1]  # the candidates are on the home shelf too
        assert w["ranker_vs_best"]["ratio_low"] <= w["ranker_vs_best"]["ratio"] <= w["ranker_vs_best"]["ratio_high"]
    assert ev["best_baseline"] in evaluation.BASELINES
    # the first model is published even when it loses (the API would rank by propensity); the refusal is kept
    wins = ev["validation"]["ranker"] >= ev["validation"][ev["best_baseline"]]
    assert ranking["published"] and ("refused" in ranking) == (not wins)
    assert ranking["objective"] in ("rank:ndcg", "binary:logistic") and ranking["features"][0] == "propensity"
    published = target.artifacts / "ranking" / "ranking_model.json"
    assert published.read_bytes() == (target.artifacts / "ranking" / "candidate" / "ranking_model.json").read_bytes()


def test_a_model_worse_than_the_best_baseline_is_not_uploaded(target, tmp_path, monkeypatch):
    """With a model published, a worse one is refused, by how much, and the model the API reads stays."""
    import shutil

    shutil.copytree(target.artifacts, tmp_path / "artifacts")
    t = dataclasses.replace(target, artifacts=tmp_path / "artifacts", counts={})
    published = t.artifacts / "ranking" / "ranking_model.json"
    published.write_bytes(b"the model the API serves")
    real = evaluation.evaluate

    def worse(*args):
        result = real(*args)
        result["validation"]["ranker"] = result["validation"][result["best_baseline"]] * 0.8
        return result

    monkeypatch.setattr(evaluation, "evaluate", worse)
    loads.train(t)
    assert published.read_bytes() == b"the model the API serves"
    kept = json.loads((t.artifacts / "ranking" / "ranking_metrics.json").read_text())
    assert kept["published"] is False
    assert re.search(r"ranking model refused: validation NDCG@5 .* 20\.0% below the best baseline", kept["refused"])
    ev = kept["evaluation"]
    assert ev["validation"]["ranker"] < ev["validation"][ev["best_baseline"]]  # the figures that refused it


# Small bounds, so that at the fixture's scale no source covers what another one finds.
SMALL = {"neighbours": 3, "per_source": 3, "categories": 2, "per_category": 2, "brands": 1, "per_brand": 2}


def test_each_retrieval_source_adds_to_the_candidate_recall(target, monkeypatch):
    """Ablation on the generated data: leaving out any one source lowers the share of the next
    window's purchases that are candidates."""
    from datetime import timedelta

    from scripts.recommendations import ranking, snapshot
    from services.features import candidates as retrieval

    monkeypatch.setattr(retrieval, "TASTE_SHARE", 0.02)  # 3 products a customer: small, as SMALL's bounds

    cutoff = target.scale.as_of - timedelta(days=60)
    with target.connect_snowflake() as conn:
        cur = conn.cursor()
        world = snapshot.read_world(cur, target)
        snap = snapshot.read_snapshot(cur, target, world, cutoff, snapshot.stored_propensity(cur, target))
        snap = dataclasses.replace(snap, retrieved=snapshot.read_candidates(cur, target, cutoff, **SMALL))

    def recall(exclude: tuple[str, ...]) -> float:
        hit = total = 0
        for c in evaluation.evaluated_customers(world, snap):
            found = ranking.candidates(world, snap, c, exclude)
            ids = set() if found is None else set(found.ids.tolist())
            hit += len(snap.bought_after[c] & ids)
            total += len(snap.bought_after[c])
        return hit / total

    every = recall(())
    assert 0 < every < 1
    for source in SOURCES:
        assert recall((source,)) < every, source


def test_the_precomputed_top5_names_no_product_out_of_stock_at_home(target):
    with target.connect_snowflake() as conn:
        stock = stock_at_home(conn.cursor(), target.database)
    in_stock, users = stock["in stock"], stock["users"]
    assert in_stock == 300 * 5 and users == 300  # every listed product is in stock in its user's region


def rankings_digest(dsn: str) -> tuple[int, str, bool]:
    """customer_rankings' rows without their stamp of table OIDs (new tables each sync, by design), and
    whether every stamp names the live tables."""
    stamp = ", ".join(f"to_regclass('{SCHEMA}.{n}')::oid" for n in RANKED_FROM)
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*), md5(string_agg(row(customer_id, region, model, items)::text, '|' "
            f"ORDER BY customer_id)), bool_and(versions = ARRAY[{stamp}]::bigint[]) FROM {SCHEMA}.customer_rankings"
        ).fetchone()


def test_rerun_is_idempotent(target):
    tables = [t for t in postgres.SERVING_TABLES if t != "customer_rankings"]
    before = {t: pg_digest(target.pg_dsn, t) for t in tables}
    rankings_before = rankings_digest(target.pg_dsn)
    items_before = dynamo_items(target)
    loads.train(target)
    serving.sync(target)
    serving.export(target)
    assert {t: pg_digest(target.pg_dsn, t) for t in tables} == before
    assert rankings_digest(target.pg_dsn) == rankings_before and rankings_before[0] == 300 and rankings_before[2]
    assert dynamo_items(target) == items_before


def test_nulls_stay_null(target):
    with psycopg.connect(target.pg_dsn) as conn:
        no_purchase = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE total_orders = 0 AND last_purchase_date IS NULL"
        ).fetchone()[0]
        zero = conn.execute(f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE total_orders = 0").fetchone()[0]
        empties = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.customer_profiles WHERE favorite_purchase_category = ''"
        ).fetchone()[0]
    assert no_purchase == zero and empties == 0
    postgres.sync_table(target.pg_dsn, "products", [(1, "Thing", "CAT-001", None, None, None, None)], SCHEMA)
    with psycopg.connect(target.pg_dsn) as conn:
        assert conn.execute(f"SELECT department, price FROM {SCHEMA}.products").fetchall() == [(None, None)]
    serving.sync(target, ("products",))


def test_zero_stock_rows_are_kept(target):
    with psycopg.connect(target.pg_dsn) as conn:
        zero = conn.execute(f"SELECT count(*) FROM {SCHEMA}.inventory WHERE qty_on_hand = 0").fetchone()[0]
    assert zero > 0


def test_failed_step_names_itself(target):
    bad = local_target("dev", SCALE, database="T_LOADS_MISSING", pg_schema=SCHEMA)
    with pytest.raises(LoadError, match=r"step 'build' failed \(ProgrammingError\): .*does not exist"):
        loads.build(bad)


def test_local_target_uses_the_configured_scale_and_validates_overrides(stand_ins):
    from infra.config.reader import stack_config

    t = local_target("dev")
    assert t.scale == stack_config("dev").recommendations.scale
    assert t.scale.updated(customers=5000).customers == 5000
    with pytest.raises(ValueError, match="customers"):
        t.scale.updated(customers=0)


def test_cli_says_in_one_line_what_is_missing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from scripts import standins
    from scripts.recommendations.__main__ import app

    monkeypatch.setattr(standins, "STATE_FILE", tmp_path / "state.json")
    out = CliRunner().invoke(app, ["all", "--local"])
    assert out.exit_code == 1
    assert "not running: postgres, moto, fakesnow" in out.output and "Traceback" not in out.output


def test_a_failed_generate_leaves_every_base_table_as_it_was(target, monkeypatch):
    """The base tables are replaced in one transaction: the last table failing rolls back the others."""
    import dataclasses
    import shutil

    def snapshot() -> dict[str, list]:
        with target.connect_snowflake() as conn:
            cur = conn.cursor()
            out = {}
            for name in loads.GENERATED:
                cur.execute(f"SELECT * FROM {target.q(name)} ORDER BY 1, 2 LIMIT 40")
                out[name] = cur.fetchall()
                cur.execute(f"SELECT COUNT(*) FROM {target.q(name)}")
                out[name].append(cur.fetchone())
            return out

    before = snapshot()
    real = generation.generate

    def broken(out, *args, **kwargs):  # another seed's data, then the last table's file has the wrong shape
        import pyarrow as pa
        import pyarrow.parquet as pq

        real(out, *args, **kwargs)
        shutil.rmtree(out / "EVENT_STREAM")
        (out / "EVENT_STREAM").mkdir()
        pq.write_table(pa.table({"NOT_AN_EVENT": [1]}), out / "EVENT_STREAM" / "bad.parquet")

    monkeypatch.setattr(generation, "generate", broken)
    other = dataclasses.replace(target, scale=target.scale.updated(seed=target.scale.seed + 1), counts={})
    with pytest.raises(LoadError, match="step 'generate' failed"):
        loads.generate(other)
    assert snapshot() == before
