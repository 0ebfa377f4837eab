"""Post-deploy loads of the recommendations data plane: generate → build → train, then the serving
stores' sync → export (scripts/serving/loads.py).

`python -m scripts.recommendations all --stack prod` runs them against a deployed stack, `--local`
on the stand-ins (what `make local` runs). Every step prints its row counts; a failed step stops with
an error naming the problem, and leaves the serving tables as they were.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infra.recommendations import catalog
from infra.sqlfiles import render_sql, split_statements
from scripts.connections import transaction
from scripts.recommendations import propensity, ranking, synthetic
from scripts.recommendations.target import LoadError, Target, console, count, print_counts, progress_bar, step
from scripts.serving import loads as serving
from scripts.steps import guard_synthetic


def prepare_local(t: Target) -> None:
    """Locally, create what `pulumi up` creates in Snowflake: schemas and tables (same specs)."""
    from scripts.connections import ensure_foundation

    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        ensure_foundation(cur, t.database)
        for name in catalog.TABLES:
            cur.execute(catalog.create_table_sql(t.database, name))


GENERATED = ("STORES", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS", "EVENT_STREAM")


def generate(t: Target) -> dict[str, int]:
    """Step 1: synthetic data, deterministic by seed and AS_OF, with the UDTFs' handler code."""
    counts: dict[str, int] = {}
    with step("generate"):
        with t.connect_snowflake() as conn:
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
            if t.local:
                with tempfile.TemporaryDirectory(prefix="rdp-gen-") as tmp, progress_bar() as bar:
                    task = bar.add_task("customers + events", total=t.scale.customers)
                    synthetic.generate(Path(tmp), t.scale, t.workers, progress=lambda n: bar.advance(task, n))
                    with transaction(cur):
                        for name in GENERATED:
                            cur.execute(f"DELETE FROM {t.q(name)}")
                            cur.execute(f"INSERT INTO {t.q(name)} SELECT * FROM read_parquet('{tmp}/{name}/*.parquet')")
            else:
                with transaction(cur):
                    for stmt in split_statements(generate_in_warehouse_sql(t)):
                        cur.execute(stmt)
            for name in ("STORES", "PRODUCT_CATEGORIES", "LOYALTY_TIERS", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS"):
                counts[name] = count(cur, t.q(name))
            counts["EVENT_STREAM"] = count(cur, t.q("EVENT_STREAM"))
        print_counts(counts, "generated")
    t.counts.update(counts)
    return counts


def _empty(cur: Any, t: Target) -> bool:
    return all(count(cur, t.q(name)) == 0 for name in GENERATED)


def generate_in_warehouse_sql(t: Target) -> str:
    return render_sql(
        "recommendations/generate_in_warehouse.sql",
        stores=t.q("STORES"),
        products=t.q("PRODUCT_CATALOG"),
        inventory=t.q("INVENTORY"),
        customers=t.q("CUSTOMERS"),
        events=t.q("EVENT_STREAM"),
        gen_store=t.q("GENERATE_STORE"),
        gen_product=t.q("GENERATE_PRODUCT"),
        gen_inventory=t.q("GENERATE_INVENTORY"),
        gen_customer=t.q("GENERATE_RETAIL_CUSTOMER"),
        gen_events=t.q("GENERATE_RETAIL_EVENTS"),
        n_stores=str(t.scale.stores),
        n_products=str(t.scale.products),
        n_customers=str(t.scale.customers),
        seed=str(t.scale.seed),
        as_of=t.scale.as_of.isoformat(),
    )


def build(t: Target) -> dict[str, int]:
    """Step 2: CUSTOMER_360 and USER_PRODUCT_RECOMMENDATIONS from the SQL files.

    In Snowflake the dynamic table and the task own these; the step refreshes them now. Locally
    (no dynamic tables or tasks in fakesnow) the same queries run as a CTAS and as
    DELETE + INSERT, which is what INSERT OVERWRITE does.
    """
    counts: dict[str, int] = {}
    with step("build"), t.connect_snowflake() as conn:
        cur = conn.cursor()
        if t.local:
            cur.execute(
                f"CREATE OR REPLACE TABLE {t.q('CUSTOMER_360')} AS "
                + catalog.customer_360_sql(t.database, t.as_of_literal)
            )
            cur.execute(
                f"CREATE OR REPLACE VIEW {t.q('CUSTOMER_CATEGORY_FEATURES')} AS "
                + catalog.category_features_sql(t.database, t.as_of_literal)
            )
            cur.execute(f"DELETE FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
            cur.execute(
                f"INSERT INTO {t.q('USER_PRODUCT_RECOMMENDATIONS')} (USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, "
                f"PURCHASE_COUNT, SOURCE) " + catalog.recommendations_sql(t.database)
            )
        else:
            cur.execute(f"ALTER DYNAMIC TABLE {t.q('CUSTOMER_360')} REFRESH")
            cur.execute(catalog.refresh_recommendations_sql(t.database))
        counts["CUSTOMER_360"] = count(cur, t.q("CUSTOMER_360"))
        counts["USER_PRODUCT_RECOMMENDATIONS"] = count(cur, t.q("USER_PRODUCT_RECOMMENDATIONS"))
        cur.execute(f"SELECT COUNT(DISTINCT USER_ID) FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
        counts["users with recommendations"] = int(cur.fetchone()[0])
        print_counts(counts, "built")
    t.counts.update(counts)
    return counts


def train(t: Target) -> dict[str, Any]:
    """Step 3: train on a cut-off 30 days before AS_OF, report hold-out AUC, save the artifact, and
    score every (customer, category) pair into CUSTOMER_PROPENSITY."""
    with step("train"), t.connect_snowflake() as conn:
        cur = conn.cursor()
        cutoff = t.scale.as_of - timedelta(days=30)
        cur.execute(catalog.category_features_sql(t.database, f"CAST('{cutoff.isoformat()} 00:00:00' AS TIMESTAMP)"))
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
        booster, metrics = propensity.train(rows, columns)
        metrics.update({"as_of": t.scale.as_of.isoformat(), "feature_cutoff": cutoff.isoformat(), "stack": t.stack})
        model_path, metrics_path = propensity.save(booster, metrics, t.artifacts / "propensity")
        console.print(
            f"  AUC on held-out customers: [bold]{metrics['auc_holdout']:.4f}[/bold] "
            f"({metrics['test_rows']:,} pairs of {metrics['test_customers']:,} customers); "
            f"artifact {model_path}, metrics {metrics_path}"
        )
        if t.local:
            cur.execute(f"SELECT * FROM {t.q('CUSTOMER_CATEGORY_FEATURES')}")
            columns = [d[0] for d in cur.description]
            scored = propensity.score(booster, cur.fetchall(), columns)
            scored_at = datetime.combine(t.scale.as_of, datetime.min.time())
            _replace_rows(cur, t, "CUSTOMER_PROPENSITY", [(c, k, p, scored_at) for c, k, p in scored])
        else:
            stage = t.q("MODEL_STAGE")
            cur.execute(f"PUT 'file://{model_path}' @{stage} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
            cur.execute(catalog.refresh_propensity_sql(t.database, propensity.udf_module().FEATURES))
        x, y, groups = ranking.training_rows(cur, t.q, t.scale.as_of)
        ranker, rank_metrics = ranking.train(x, y, groups)
        rank_path = ranking.save(ranker, rank_metrics, t.artifacts / "ranking")
        metrics["ranking"] = rank_metrics
        console.print(
            f"  ranking model: AUC on held-out customers [bold]{rank_metrics['auc_holdout']:.4f}[/bold] "
            f"({rank_metrics['test_pairs']:,} candidate pairs); artifact {rank_path}"
        )
        if not t.local:
            cur.execute(f"PUT 'file://{rank_path}' @{t.q('MODEL_STAGE')} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        n = count(cur, t.q("CUSTOMER_PROPENSITY"))
        cur.execute(f"SELECT COUNT(DISTINCT CUSTOMER_ID) FROM {t.q('CUSTOMER_PROPENSITY')}")
        customers = int(cur.fetchone()[0])
        print_counts({"CUSTOMER_PROPENSITY": n, "customers scored": customers}, "scored")
        if customers and n != customers * 12:
            raise LoadError(f"CUSTOMER_PROPENSITY has {n} rows for {customers} customers, expected 12 per customer")
    t.counts["CUSTOMER_PROPENSITY"] = n
    return metrics


def _replace_rows(cur: Any, t: Target, name: str, rows: list[tuple]) -> None:
    """Locally: bulk-replace a warehouse table from Python rows through a Parquet file."""
    import pyarrow.parquet as pq

    _, cols = catalog.TABLES[name]
    with tempfile.TemporaryDirectory(prefix="rdp-rows-") as tmp:
        path = Path(tmp) / f"{name}.parquet"
        pq.write_table(synthetic.arrow_table(cols, rows), path)
        cur.execute(f"DELETE FROM {t.q(name)}")
        cur.execute(f"INSERT INTO {t.q(name)} SELECT * FROM read_parquet('{path}')")


def run_all(t: Target) -> dict[str, int]:
    if t.local:
        prepare_local(t)
    generate(t)
    build(t)
    train(t)
    serving.sync(t)
    serving.export(t)
    return t.counts
