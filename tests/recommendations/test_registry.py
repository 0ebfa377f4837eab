"""The Feature Store and Model Registry calls of `train` on a deployed stack, offline: the client
(scripts/recommendations/registry.py) builds each spec and CALLs ML_REGISTRY.REGISTRY_OPS; the fake
cursor runs the procedure's own body (sql/recommendations/ml_registry.py) against a fake session and a
fake snowflake.ml that record every call and keep aliases as Snowflake does (one version per alias)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xgboost as xgb

from infra.recommendations import catalog
from infra.recommendations.config import ScaleConfig
from scripts.core.errors import LoadError
from scripts.recommendations import loads, ranking, registry, warehouse
from scripts.recommendations.target import RecommendationsTarget
from tests.recommendations.registry_fakes import DB, HANDLER, STAGE, FakeML, FakeSession, ProcedureCursor


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def target(tmp_path: Path) -> RecommendationsTarget:
    return RecommendationsTarget(
        stack="dev",
        local=False,
        database=DB,
        connect_snowflake=lambda: None,
        pg_schema="",
        dynamodb_table="",
        artifacts=tmp_path / "artifacts",
        aws={},
        postgres=lambda: "",
        scale=ScaleConfig(as_of=date(2026, 12, 1)),
    )


def booster(seed: int, features: list[str]) -> xgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.random((60, len(features)), dtype=np.float32)
    data = xgb.DMatrix(x, label=(x[:, 0] > 0.5).astype(np.float32), feature_names=features)
    return xgb.train({"objective": "binary:logistic", "nthread": 1, "seed": seed}, data, 3)


def ranker_file(t: RecommendationsTarget, seed: int) -> Path:
    """A trained ranker where `train` leaves it: the candidate, and its metrics beside the published one."""
    path = t.artifacts / "ranking" / "candidate" / ranking.MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    booster(seed, list(registry.MODELS["ranking"].features)).save_model(str(path))
    (t.artifacts / "ranking" / ranking.METRICS_FILE).write_text(json.dumps({"seed": seed}))
    return path


def published(cur: ProcedureCursor, key: str) -> bytes:
    return cur.stage[f"{STAGE}/{registry.MODELS[key].file}"]


def run_file(cur: ProcedureCursor, key: str, version: str) -> bytes:
    return cur.stage[f"{STAGE}/runs/{version}/{registry.MODELS[key].file}"]


# ------------------------------------------------------------------------------ the feature store
def test_entities_and_feature_views_are_the_sql_files_views(target):
    ml = FakeML()
    cur = ProcedureCursor(ml)
    done = registry.register_features(cur, target)
    assert ml.stores == [(DB, "FEATURE_STORE", "RDP_DEV_TRANSFORM_WH", "FAIL_IF_NOT_EXIST")]
    assert [(n, k) for n, k, _ in ml.entities] == [
        ("CUSTOMER", ["CUSTOMER_ID"]),
        ("CATEGORY", ["CATEGORY_ID"]),
        ("PRODUCT", ["PRODUCT_ID"]),
    ]
    views = {v.name: (v, version) for v, version in ml.views}
    expected = {
        "CUSTOMER_CATEGORY_FEATURES": catalog.category_features_sql(DB, "CURRENT_TIMESTAMP()"),
        **catalog.pair_signals_sql(DB, "CURRENT_TIMESTAMP()"),
    }
    assert set(views) == set(expected) == {v for v in catalog.CATALOG.objects if v in expected}
    for name, query in expected.items():
        view, version = views[name]
        assert view.feature_df.query == query  # the very SQL the declared FEATURE_STORE view runs
        assert version == registry.view_version(query) and re.fullmatch(r"V_[0-9A-F]{12}", version)
        assert view.kwargs == {}  # no refresh_freq: a view, not a dynamic table (no CREATE DYNAMIC TABLE)
    assert views["CUSTOMER_CATEGORY_FEATURES"][0].feature_df.dropped == ("LABEL",)
    assert [e.name for e in views["CUSTOMER_CATEGORY_FEATURES"][0].entities] == ["CUSTOMER", "CATEGORY"]
    assert [e.name for e in views["CUSTOMER_PRODUCT_INTERACTIONS"][0].entities] == ["CUSTOMER", "PRODUCT"]
    assert [e.name for e in views["PRODUCT_POPULARITY"][0].entities] == ["PRODUCT"]
    assert done["feature_views"] == [f"{n}/{registry.view_version(q)}" for n, q in expected.items()]


def test_a_changed_query_is_a_new_feature_view_version():
    assert registry.view_version("SELECT 1") == registry.view_version("SELECT 1")
    assert registry.view_version("SELECT 1") != registry.view_version("SELECT 2")


def test_a_feature_view_naming_an_unregistered_entity_is_refused(target):
    spec = registry.features_spec(target)
    spec["feature_views"][0]["entities"] = ["CUSTOMER", "STORE"]
    with pytest.raises(HANDLER.RegistryError, match=r"CUSTOMER_CATEGORY_FEATURES names unknown entities \['STORE'\]"):
        HANDLER.execute(FakeSession({}), "features", spec, FakeML())


def test_an_unknown_action_or_missing_field_is_named():
    with pytest.raises(HANDLER.RegistryError, match="unknown action 'drop'"):
        HANDLER.execute(FakeSession({}), "drop", {}, FakeML())
    with pytest.raises(HANDLER.RegistryError, match="spec lacks model, version"):
        HANDLER.execute(FakeSession({}), "promote", {"database": DB, "schema": "ML_REGISTRY"}, FakeML())


# ------------------------------------------------------------------------------ the model registry
def test_a_run_is_logged_as_a_version_with_its_metrics_and_signature(target):
    ml = FakeML()
    cur = ProcedureCursor(ml)
    registry.run_version(target, datetime(2026, 12, 2, 6, 15, 0, tzinfo=UTC))
    path = ranker_file(target, 1)
    done = registry.release(cur, target, "ranking", path, promote=True)
    assert done == {
        "model": "PRODUCT_RANKING_MODEL",
        "version": "RUN_20261202_061500",
        "candidate": "RUN_20261202_061500",
        "promoted": True,
    }
    assert cur.sql[0] == (
        f"PUT 'file://{path}' @{STAGE}/runs/RUN_20261202_061500/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
    )
    [logged] = ml.logged
    assert (logged["model_name"], logged["version_name"]) == ("PRODUCT_RANKING_MODEL", "RUN_20261202_061500")
    assert logged["metrics"] == {"seed": 1} and logged["target_platforms"] == ["WAREHOUSE"]
    assert list(logged["sample_input_data"].columns) == list(registry.MODELS["ranking"].features)
    x = np.random.default_rng(0).random((5, len(registry.MODELS["ranking"].features)), dtype=np.float32)
    assert np.allclose(logged["model"].inplace_predict(x), xgb.Booster(model_file=str(path)).inplace_predict(x))


def test_promotion_moves_production_a_refusal_only_the_candidate_and_a_rollback_restores(target, tmp_path):
    ml = FakeML()
    cur = ProcedureCursor(ml)
    versions = []
    for seed, promote in ((1, True), (2, False), (3, True)):
        target.model_version = None
        versions.append(registry.run_version(target, datetime(2026, 12, seed, 6, 0, tzinfo=UTC)))
        registry.release(cur, target, "ranking", ranker_file(target, seed), promote=promote)
        model = ml.models["PRODUCT_RANKING_MODEL"]
        production = {v for v, a in model.aliases.items() if "PRODUCTION" in a}
        candidate = {v for v, a in model.aliases.items() if "CANDIDATE" in a}
        served = versions[0] if seed == 2 else versions[-1]
        assert candidate == {versions[-1]}  # the newest run, refused or not
        assert production == {served} and model.default == served
        assert published(cur, "ranking") == run_file(cur, "ranking", served)  # the API reads production's file
    # the refused run did not touch production: no alias call named PRODUCTION in its turn
    refused_turn = [c for c in ml.models["PRODUCT_RANKING_MODEL"].calls if versions[1] in c]
    assert refused_turn == [("set_alias", versions[1], "CANDIDATE")]
    done = registry.promote(cur, target, "ranking", versions[0].lower())
    model = ml.models["PRODUCT_RANKING_MODEL"]
    assert done == {"model": "PRODUCT_RANKING_MODEL", "production": versions[0]}
    assert {v for v, a in model.aliases.items() if "PRODUCTION" in a} == {versions[0]} and model.default == versions[0]
    assert {v for v, a in model.aliases.items() if "CANDIDATE" in a} == {versions[2]}
    assert published(cur, "ranking") == run_file(cur, "ranking", versions[0])
    assert cur.session.statements[-1] == (
        f"COPY FILES INTO @{STAGE}/ FROM @{STAGE}/runs/{versions[0]}/ FILES = ('{ranking.MODEL_FILE}')"
    )


def test_promoting_a_version_that_does_not_exist_is_refused_naming_the_versions(target):
    ml = FakeML()
    cur = ProcedureCursor(ml)
    registry.run_version(target, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    registry.release(cur, target, "ranking", ranker_file(target, 1), promote=True)
    with pytest.raises(
        HANDLER.RegistryError, match=r"PRODUCT_RANKING_MODEL has no version RUN_X \(versions: RUN_20261201_060000\)"
    ):
        registry.promote(cur, target, "ranking", "RUN_X")
    with pytest.raises(LoadError, match="unknown model 'ranker'"):
        registry.promote(cur, target, "ranker", "RUN_X")


def test_train_on_a_stack_registers_features_then_the_propensity_model_then_scores(target, monkeypatch):
    """warehouse.score, the Snowflake side of train: registry first, so the UDF reads production's file."""
    ml = FakeML()
    cur = ProcedureCursor(ml)
    path = target.artifacts / "propensity" / registry.MODELS["propensity"].file
    path.parent.mkdir(parents=True)
    booster(4, list(registry.MODELS["propensity"].features)).save_model(str(path))
    (path.parent / "metrics.json").write_text(json.dumps({"auc_holdout": 0.8}))
    warehouse.score(cur, target, None, path)
    call = f'CALL "{DB}"."ML_REGISTRY"."REGISTRY_OPS"(%s, %s)'
    kinds = [
        s if s == call else "PUT" if s.startswith("PUT ") else "INSERT OVERWRITE" * ("INSERT OVERWRITE" in s)
        for s in cur.sql
    ]
    assert kinds == [call, "PUT", call, "INSERT OVERWRITE"]
    assert ml.logged[0]["model_name"] == "CATEGORY_PROPENSITY_MODEL" and ml.logged[0]["metrics"] == {"auc_holdout": 0.8}
    assert published(cur, "propensity") == path.read_bytes()


PUBLISHED = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ranker", "published_before", "promoted"),
    [(0.5, PUBLISHED, True), (0.1, PUBLISHED, False), (0.1, None, True)],
    ids=["beats-baseline", "below-baseline", "below-baseline-first-model"],
)
def test_the_publish_gate_decides_the_production_alias(target, monkeypatch, ranker, published_before, promoted):
    """The gate compares the validation window's NDCG@5 with the best baseline's: a losing model is
    refused (kept as the candidate, production unchanged) without failing the loads, unless no model
    was published yet (then the API's only other order is by propensity)."""
    ml = FakeML()
    cur = ProcedureCursor(ml)
    candidate = ranker_file(target, 5)
    metrics = {
        "candidate": str(candidate),
        "evaluation": {
            "best_baseline": "seed_baseline",
            "validation": {"ranker": ranker, "seed_baseline": 0.3, "item_knn": 0.2, "customers": 10},
        },
    }
    engine = SimpleNamespace(
        publish=warehouse.publish, refused=warehouse.refused, published_at=lambda cur, t: published_before
    )
    monkeypatch.setattr(loads, "engine", lambda t: engine)
    loads._publish_ranker(cur, target, metrics)
    assert metrics["published"] is promoted
    assert ("ranking model refused" in metrics.get("refused", "")) is (ranker < 0.3)
    written = json.loads((target.artifacts / "ranking" / ranking.METRICS_FILE).read_text())
    assert written["published"] is promoted
    model = ml.models["PRODUCT_RANKING_MODEL"]
    version = target.model_version
    assert "CANDIDATE" in model.aliases[version]
    assert ("PRODUCTION" in model.aliases[version]) is promoted
    assert (f"{STAGE}/{ranking.MODEL_FILE}" in cur.stage) is promoted


def test_a_runs_file_is_not_the_published_model():
    class ListCursor:
        description = (("name",), ("size",), ("md5",), ("last_modified",))

        def execute(self, sql):
            pass

        def fetchall(self):
            return [
                ("model_stage/runs/RUN_1/ranking_model.json", 1, "x", "Wed, 2 Dec 2026 09:00:00 GMT"),
                ("model_stage/ranking_model.json", 1, "x", "Tue, 1 Dec 2026 07:00:00 GMT"),
            ]

    t = SimpleNamespace(q=lambda o: f'"{DB}"."ML_REGISTRY"."{o}"')
    assert warehouse.published_at(ListCursor(), t) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
