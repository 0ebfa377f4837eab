"""Post-deploy loads of the recommendations data plane: generate → build → train (the serving
stores' sync and export are the serving capability's: `python -m scripts.serving`).

`python -m scripts.recommendations all --stack prod` runs them against a deployed stack, `--local`
on the stand-ins (what `make local` runs). Every step prints its row counts; a failed step stops with
an error naming the problem, and leaves the serving tables as they were.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.recommendations import catalog
from infra.sqlfiles import render_sql, split_statements
from scripts.core.connections import count
from scripts.core.console import console, print_counts, step
from scripts.core.errors import LoadError
from scripts.core.guard import guard_synthetic
from scripts.recommendations import evaluation, propensity, ranking, rehearsal, snapshot, warehouse
from scripts.recommendations.ceiling import Ceiling
from scripts.recommendations.rehearsal import GENERATED
from scripts.recommendations.target import RecommendationsTarget, local_target, service_target, stack_target
from services.features import candidates as retrieval

__all__ = [  # the runner's
    "build",
    "generate",
    "local_target",
    "prepare_local",
    "run_all",
    "service_target",
    "stack_target",
    "train",
    "train_if_due",
]


def engine(t: RecommendationsTarget) -> ModuleType:
    """Who runs the steps' warehouse side: Snowflake on a deployed stack, the rehearsal on the stand-ins
    (both modules have generate, build, score and publish)."""
    return rehearsal if t.local else warehouse


def prepare_local(t: RecommendationsTarget) -> None:
    """On the stand-ins, what `pulumi up` creates in Snowflake."""
    rehearsal.prepare(t)


def generate(t: RecommendationsTarget) -> dict[str, int]:
    """Step 1: synthetic data, deterministic by seed and AS_OF, with the UDTFs' handler code; on a stack
    as LOADER, the duty that writes BRONZE (it may call the GENERATE_* functions)."""
    counts: dict[str, int] = {}
    with step("generate"):
        with t.writer() as conn:
            cur = conn.cursor()
            guard_synthetic(t.stack, t.local, "generate", t.first_fill, lambda: _empty(cur, t))
            for stmt in split_statements(
                render_sql(
                    "recommendations/reference_data.sql",
                    categories=t.q("PRODUCT_CATEGORIES"),
                    tiers=t.q("LOYALTY_TIERS"),
                )
            ):
                cur.execute(stmt)
            # The base tables are replaced together in one transaction: never emptied for a reader, and
            # a failure leaves every one of them as it was.
            engine(t).generate(cur, t)
            for name in ("STORES", "PRODUCT_CATEGORIES", "LOYALTY_TIERS", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS"):
                counts[name] = count(cur, t.q(name))
            counts["EVENT_STREAM"] = count(cur, t.q("EVENT_STREAM"))
        print_counts(counts, "generated")
    t.counts.update(counts)
    return counts


def _empty(cur: Any, t: RecommendationsTarget) -> bool:
    return all(count(cur, t.q(name)) == 0 for name in GENERATED)


def build(t: RecommendationsTarget) -> dict[str, int]:
    """Step 2: CUSTOMER_360, the feature views and USER_PRODUCT_RECOMMENDATIONS from the SQL files.

    In Snowflake the dynamic table, the views and the task own these; the step refreshes them now.
    Locally (no dynamic tables or tasks in fakesnow) the same queries run as a CTAS, views at AS_OF
    and DELETE + INSERT, which is what INSERT OVERWRITE does.
    """
    counts: dict[str, int] = {}
    with step("build"), t.connect_snowflake() as conn:
        cur = conn.cursor()
        engine(t).build(cur, t)
        counts["CUSTOMER_360"] = count(cur, t.q("CUSTOMER_360"))
        counts["USER_PRODUCT_RECOMMENDATIONS"] = count(cur, t.q("USER_PRODUCT_RECOMMENDATIONS"))
        cur.execute(f"SELECT COUNT(DISTINCT USER_ID) FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
        counts["users with recommendations"] = int(cur.fetchone()[0])
        print_counts(counts, "built")
    t.counts.update(counts)
    return counts


def train(t: RecommendationsTarget) -> dict[str, Any]:
    """Step 3: the propensity model (cut-off 30 days before AS_OF, hold-out AUC) scores every
    (customer, category) pair into CUSTOMER_PROPENSITY; the ranking model is trained and evaluated
    against the baseline on customers held out in time, and published only if it is not worse."""
    with step("train"), t.connect_snowflake() as conn:
        cur = conn.cursor()
        cutoff = t.scale.as_of - timedelta(days=30)
        booster, metrics = _fit_propensity(cur, t, cutoff)
        metrics.update({"as_of": t.scale.as_of.isoformat(), "feature_cutoff": cutoff.isoformat(), "stack": t.stack})
        model_path, metrics_path = propensity.save(booster, metrics, t.artifacts / "propensity")
        console.print(
            f"  AUC on held-out customers: [bold]{metrics['auc_holdout']:.4f}[/bold] "
            f"({metrics['test_rows']:,} pairs of {metrics['test_customers']:,} customers); "
            f"artifact {model_path}, metrics {metrics_path}"
        )
        engine(t).score(cur, t, booster, model_path)
        n = count(cur, t.q("CUSTOMER_PROPENSITY"))
        cur.execute(f"SELECT COUNT(DISTINCT CUSTOMER_ID) FROM {t.q('CUSTOMER_PROPENSITY')}")
        customers = int(cur.fetchone()[0])
        print_counts({"CUSTOMER_PROPENSITY": n, "customers scored": customers}, "scored")
        if customers and n != customers * 12:
            raise LoadError(f"CUSTOMER_PROPENSITY has {n} rows for {customers} customers, expected 12 per customer")
        t.counts["CUSTOMER_PROPENSITY"] = n
        metrics["ranking"] = _train_ranker(cur, t)
        _publish_ranker(cur, t, metrics["ranking"])
        metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return metrics


def model_due(published: datetime | None, every_days: int, now: datetime) -> bool:
    """Whether the models are retrained: none published yet, or the published one `every_days` old or older."""
    return published is None or now - published >= timedelta(days=every_days)


def train_if_due(t: RecommendationsTarget, every_days: int, now: datetime | None = None) -> dict[str, Any]:
    """`train` when the published ranking model is `every_days` old or older (or there is none); else
    nothing, said in one line. The scheduled refresh's first step (`servingRefresh.trainEveryDays`)."""
    now = now or datetime.now(UTC)
    with t.connect_snowflake() as conn:
        published = engine(t).published_at(conn.cursor(), t)
    if model_due(published, every_days, now):
        when = "no model published yet" if published is None else f"model published {published:%Y-%m-%d %H:%M} UTC"
        console.print(f"train: due ({when}; retrained every {every_days} days)")
        return {"trained": True, **train(t)}
    age = (now - published).total_seconds() / 86_400
    console.print(f"train: not due (model published {age:.1f} days ago; retrained every {every_days} days)")
    return {"trained": False, "model_age_days": round(age, 2)}


def _fit_propensity(cur: Any, t: RecommendationsTarget, cutoff: date) -> tuple[Any, dict]:
    """The propensity model on features before `cutoff`, labelled by the LABEL_DAYS after it."""
    features = catalog.category_features_sql(t.database, snapshot.literal(cutoff))
    cur.execute(f"SELECT * FROM ({features}) f ORDER BY CUSTOMER_ID, CATEGORY_ID")  # same rows, same model
    columns = [d[0] for d in cur.description]
    return propensity.train(cur.fetchall(), columns)


def _train_ranker(cur: Any, t: RecommendationsTarget) -> dict[str, Any]:
    """Four cut-offs, each LABEL_DAYS apart, so nothing is judged on what it was fitted or tuned on:
    the propensity the ranker sees is fitted on labels before the training cut-off; the ranker is
    fitted on the window after it; the baselines' settings and the publish gate use the validation
    window after that; the test window is the last LABEL_DAYS before AS_OF, measured once."""
    days = timedelta(days=snapshot.LABEL_DAYS)
    tested_at = t.scale.as_of - days
    validated_at = tested_at - days
    trained_at = validated_at - days
    world = snapshot.read_world(cur, t)
    prop, _ = _fit_propensity(cur, t, trained_at - days)

    def at(cutoff: date) -> snapshot.Snapshot:
        return snapshot.read_snapshot(cur, t, world, cutoff, snapshot.propensity_at(cur, t, prop, cutoff))

    train_snap, validation, test = at(trained_at), at(validated_at), at(tested_at)
    x, y, groups = ranking.training_set(world, train_snap)
    booster, chosen = ranking.fit(x, y, groups)
    ceiling = Ceiling(t.scale.products, t.scale.seed, t.scale.as_of)
    result = evaluation.evaluate(world, validation, test, booster, ceiling)
    candidate = ranking.save_candidate(booster, t.artifacts / "ranking")
    metrics = {
        **chosen,
        "params": ranking.OBJECTIVES[chosen["objective"]],
        "rounds": ranking.ROUNDS,
        "features": ranking.PAIR_FEATURES,
        "retrieval": {
            **catalog.RETRIEVAL_LIMITS,
            "taste_share": retrieval.TASTE_SHARE,
            "taste_max": retrieval.TASTE_PICKS,
        },
        "train_cutoff": trained_at.isoformat(),
        "train_rows": len(y),
        "train_customers": len(set(groups.tolist())),
        "positive_rate": round(float(y.mean()), 4),
        "evaluation": result,
        "candidate": str(candidate),
    }
    ranking.write_metrics(metrics, t.artifacts / "ranking")
    console.print(f"  ranking objective {chosen['objective']}")
    evaluation.show(result)
    return metrics


def _publish_ranker(cur: Any, t: RecommendationsTarget, metrics: dict[str, Any]) -> None:
    """The model upload, gated on the best baseline's NDCG@5 on the validation window. A losing model
    is refused and the API keeps the model it has: the step says so and by how much, and the metrics
    keep it (`published`, `refused`), without failing the loads (a rerun of `make local` or the
    scheduled refresh goes on with the model already served). With no model published yet, the losing
    model is published all the same, the refusal's figures kept: the API's only other order then is
    by propensity, far below every baseline."""
    try:
        ranking.check_gate(metrics["evaluation"])
        refusal = None
    except ranking.RankerRejectedError as e:
        refusal = str(e)
    first = engine(t).published_at(cur, t) is None
    metrics["published"] = refusal is None or first
    if refusal:
        metrics["refused"] = refusal
    ranking.write_metrics(metrics, t.artifacts / "ranking")
    if refusal and not first:
        engine(t).refused(cur, t, Path(metrics["candidate"]))  # the registry keeps it as the candidate
        console.print(f"  [bold red]{refusal}[/bold red]")
        return
    path = ranking.publish(Path(metrics["candidate"]), t.artifacts / "ranking")
    engine(t).publish(cur, t, path)
    if refusal:
        console.print(f"  [bold red]{refusal.replace('; the published model is unchanged', '')}[/bold red]")
        console.print(f"  published all the same (no model was published yet): {path}")
    else:
        console.print(f"  ranking model published: {path}")


def run_all(t: RecommendationsTarget) -> dict[str, int]:
    """generate → build → train (on the stand-ins prepared first); the counts of every step."""
    if t.local:
        prepare_local(t)
    generate(t)
    build(t)
    train(t)
    return t.counts
