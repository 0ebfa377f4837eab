"""Each post-deploy step runs as the duty that owns its writes and holds, on every object its statements
name, the privileges they need: the steps run against a recording connection opened from the plan's
stack outputs, and each statement is checked against the plan's grants (proven by dropped grants)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.analytics import loads as analytics
from scripts.core import connections, target
from scripts.recommendations import loads as recommendations
from scripts.serving import rankings
from tests.foundation import plan_privileges as pp

# ------------------------------------------------------------ each step's duty holds what its statements need
TRACED_STACK = "dev"  # synthetic steps are refused on prod (its first fill runs the same statements)
TRACED_STEPS: list[tuple[str, Callable[[object, object], object]]] = [
    ("analytics generate", lambda a, r: analytics.generate(a)),
    ("analytics changes", lambda a, r: analytics.changes(a)),
    ("analytics run", lambda a, r: analytics.run(a)),
    ("recommendations generate", lambda a, r: recommendations.generate(r)),
    ("recommendations build", lambda a, r: recommendations.build(r)),
    ("recommendations train", lambda a, r: recommendations.train(r)),
    # the sync's rankings: the production ranking model fetched from the model stage
    ("serving sync", lambda a, r: rankings.model_file(target.stack_target(TRACED_STACK), r.artifacts)),
]


def _offline_models(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    """`train` on empty tables: the models' fitting and evaluation (Python, no SQL) stand aside, so every
    statement the step sends to the warehouse is still sent, on the session it opens."""
    model, metrics, ranker = tmp / "propensity_model.json", tmp / "metrics.json", tmp / "ranking_model.json"
    for f in (model, metrics, ranker):
        f.write_text("{}")
    fitted = {"auc_holdout": 0.5, "test_rows": 0, "test_customers": 0}
    monkeypatch.setattr(recommendations, "_fit_propensity", lambda cur, t, cutoff: (object(), dict(fitted)))
    monkeypatch.setattr(recommendations.propensity, "save", lambda booster, m, out: (model, metrics))
    monkeypatch.setattr(recommendations, "_train_ranker", lambda cur, t: {"evaluation": {}, "candidate": str(ranker)})
    monkeypatch.setattr(recommendations.ranking, "check_gate", lambda evaluation: None)
    monkeypatch.setattr(recommendations.ranking, "publish", lambda candidate, out: candidate)


def trace(plan: list[dict], monkeypatch: pytest.MonkeyPatch, tmp: Path) -> list[pp.Statement]:
    """Every statement the post-deploy steps send to a deployed stack, with the session each opens:
    the steps run as written, their stack targets built from the plan's outputs, each session a recorder."""
    log: list[pp.Statement] = []
    current = [""]
    out = pp.stack_outputs_of(plan)
    for module in (connections, analytics):
        monkeypatch.setattr(module, "stack_outputs", lambda stack, required=(): out)

    def session(account: str, user: str, role: str, warehouse: str, database: str, duty: str) -> pp.Recording:
        return pp.Recording(log, lambda: current[0], user, role)

    monkeypatch.setattr(connections, "connect_stack", session)
    _offline_models(monkeypatch, tmp)
    a, r = analytics.stack_target(TRACED_STACK), recommendations.stack_target(TRACED_STACK)
    r.artifacts = tmp / "artifacts"
    for name, run in TRACED_STEPS:
        current[0] = name
        run(a, r)
    return log


def test_each_step_runs_as_the_duty_that_owns_its_writes(plans, monkeypatch, tmp_path):
    roles = {(s.step, s.role.removeprefix("RDP_DEV_")) for s in trace(plans["dev"], monkeypatch, tmp_path)}
    assert sorted(roles) == [
        ("analytics changes", "LOADER"),
        ("analytics generate", "LOADER"),
        ("analytics run", "TRANSFORMER"),
        ("recommendations build", "TRANSFORMER"),
        ("recommendations generate", "LOADER"),
        ("recommendations train", "TRANSFORMER"),
        ("serving sync", "TRANSFORMER"),
    ]


def test_each_step_holds_what_its_statements_need(plans, monkeypatch, tmp_path):
    statements = trace(plans["dev"], monkeypatch, tmp_path)
    needs = {(s.step, p) for s in statements for _, p in pp.statement_needs(s.sql, pp.declared_objects(plans["dev"]))}
    # the trace reaches every kind of need: bulk loads through the stage, DML, the functions, the operations
    assert {
        ("analytics generate", "WRITE"),
        ("analytics changes", "UPDATE"),
        ("recommendations generate", "USAGE"),
    } <= needs
    assert {
        ("recommendations train", "USAGE"),
        ("recommendations train", "INSERT"),
        ("analytics run", "OPERATE"),
        ("serving sync", "READ"),
    } <= needs
    assert pp.unheld_needs(plans["dev"], statements) == []


def _without(plan: list[dict], grant: str) -> list[dict]:
    assert any(r["name"] == grant for r in plan), grant
    return [r for r in plan if r["name"] != grant]


def _as_transformer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "loader_session", connections.transformer_session)
    monkeypatch.setattr(connections, "loader_session", connections.transformer_session)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("analytics-loader-stage", "analytics generate as RDP_DEV_LOADER (RDP_DEV_SVC_LOADER) needs READ on "),
        ("recommendations-loader-generate-store", "needs USAGE on RDP_DEV_RETAIL.BRONZE.GENERATE_STORE"),
        (
            "recommendations-transformer-predict-propensity",
            "needs USAGE on RDP_DEV_RETAIL.ML_REGISTRY.PREDICT_PROPENSITY",
        ),
        # the schema's future grant (INSERT … on BRONZE, through AR_BRONZE_RW) is made beside the table: no cover
        ("analytics-loader-customers", "analytics generate as RDP_DEV_LOADER (RDP_DEV_SVC_LOADER) needs INSERT on "),
        ("recommendations-loader-table-event-stream", "needs DELETE on RDP_DEV_RETAIL.BRONZE.EVENT_STREAM"),
        ("recommendations-transformer-table-customer-propensity", "needs INSERT on RDP_DEV_RETAIL.GOLD.CUSTOMER_PROP"),
        ("cdc-writer-stage", None),  # the change generator's grant: no traced step uses it
        # the transformer's READ on the model stage: the sync fetches the published ranking model
        ("recommendations-transformer-stage", "serving sync as RDP_DEV_TRANSFORMER"),
    ],
)
def test_a_dropped_grant_is_reported(plans, monkeypatch, tmp_path, fault, says):
    plan = _without(copy.deepcopy(plans["dev"]), fault)
    problems = pp.unheld_needs(plan, trace(plan, monkeypatch, tmp_path))
    assert any(says in p for p in problems) if says else problems == [], problems


def test_a_future_grant_counts_only_for_an_object_created_after_it(plans, monkeypatch, tmp_path):
    plan = _without(copy.deepcopy(plans["dev"]), "analytics-loader-customers")
    table = next(r for r in plan if r["name"] == "analytics-customers")
    future = next(r for r in plan if r["name"] == "access-ar-bronze-rw-future-tables")
    assert pp.unheld_needs(plan, trace(plan, monkeypatch, tmp_path)) != []
    table["dependencies"] = [*table["dependencies"], future["urn"]]
    assert pp.unheld_needs(plan, trace(plan, monkeypatch, tmp_path)) == []


def test_generate_run_as_transformer_is_reported(plans, monkeypatch, tmp_path):
    _as_transformer(monkeypatch)
    problems = pp.unheld_needs(plans["dev"], trace(plans["dev"], monkeypatch, tmp_path))
    for says in (
        "analytics generate as RDP_DEV_TRANSFORMER (RDP_DEV_SVC_TRANSFORMER) needs INSERT on "
        "RDP_DEV_RETAIL.BRONZE.SHOP_CUSTOMERS",
        "analytics changes as RDP_DEV_TRANSFORMER (RDP_DEV_SVC_TRANSFORMER) needs UPDATE on",
        "needs WRITE on RDP_DEV_RETAIL.BRONZE.SHOP_LOAD_STAGE",
        "recommendations generate as RDP_DEV_TRANSFORMER (RDP_DEV_SVC_TRANSFORMER) needs DELETE on",
        "needs USAGE on RDP_DEV_RETAIL.BRONZE.GENERATE_RETAIL_EVENTS",
    ):
        assert any(says in p for p in problems), (says, problems)


@pytest.mark.parametrize(
    ("sql", "needs"),
    [
        ('INSERT OVERWRITE INTO "D"."S"."T" SELECT 1', [(("D", "S", "T"), "INSERT")]),
        (
            "COPY INTO d.s.t FROM @d.s.st/f FILE_FORMAT = (TYPE = PARQUET) PURGE = TRUE",
            [(("D", "S", "T"), "INSERT"), (("D", "S", "ST"), "READ"), (("D", "S", "ST"), "WRITE")],
        ),
        ('PUT \'file:///tmp/x.parquet\' @"D"."S"."ST"/f', [(("D", "S", "ST"), "READ"), (("D", "S", "ST"), "WRITE")]),
        ('SELECT * FROM TABLE("D"."S"."F"(1))', [(("D", "S", "F"), "USAGE")]),
        ('DELETE FROM "D"."S"."GONE"', [(("D", "S", "GONE"), "UNDECLARED")]),
        ('SELECT "D"."S"."T".A FROM "D"."S"."T"', []),
    ],
)
def test_what_a_statement_needs(sql, needs):
    objects = {
        ("D", "S", "T"): ("TABLE", "TABLES", "urn:t"),
        ("D", "S", "ST"): ("STAGE", "STAGES", "urn:st"),
        ("D", "S", "F"): ("FUNCTION", "FUNCTIONS", "urn:f"),
    }
    assert pp.statement_needs(sql, objects) == needs
