"""Post-deploy loads of the recommendations data plane: generate → build → train → sync → export.

One command per stack (`python -m scripts.recload all --stack prod`) or for the local stand-ins
(`--local`, what `make local` runs). Inputs come from the stack's outputs (`pulumi stack output`) or
from the stand-ins. Every step prints its row counts; a failed step stops with an error naming the
problem, and leaves the serving tables as they were (each serving table is swapped in one transaction).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra import recdata
from infra.sqlfiles import render_sql, split_statements
from scripts import dynamo, pgserving, propensity, ranking, recgen

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)
ROOT = Path(__file__).resolve().parent.parent


class LoadError(RuntimeError):
    """A load step failed; the message names the step and the cause."""


@dataclass
class Target:
    """Where the loads read and write: a deployed stack, or the local stand-ins."""

    stack: str
    local: bool
    database: str
    connect_snowflake: Callable[[], Any]
    pg_dsn: str
    pg_schema: str
    dynamodb_table: str
    dynamodb_client: Callable[[], Any]
    dynamodb_resource: Callable[[], Any]
    scale: recgen.Scale
    artifacts: Path
    workers: int = 2
    counts: dict[str, int] = field(default_factory=dict)

    def q(self, obj: str) -> str:
        return recdata.q(self.database, obj)

    @property
    def as_of_literal(self) -> str:
        return f"CAST('{self.scale.as_of.isoformat()} 00:00:00' AS TIMESTAMP)"


def local_target(
    stack: str = "dev",
    scale: recgen.Scale | None = None,
    database: str | None = None,
    pg_schema: str | None = None,
    dynamodb_table: str | None = None,
) -> Target:
    """The stand-ins (fakesnow, moto, local PostgreSQL) with the stack's names (or the given ones)."""
    import boto3

    from infra.naming import Naming
    from scripts import localenv
    from scripts.snowconn import connect_local
    from scripts.stackcfg import stack_config

    cfg = stack_config(stack)
    naming = Naming(cfg.prefix, cfg.stack)
    naming_db = database or naming.database
    ep = localenv.endpoints()
    s = cfg.recommendations.scale
    scale = scale or recgen.Scale(s.products, s.stores, s.customers, s.seed, s.as_of)
    aws = {
        "endpoint_url": ep.moto_url,
        "region_name": cfg.aws_region,
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return Target(
        stack=stack,
        local=True,
        database=naming_db,
        connect_snowflake=lambda: connect_local(
            ep.snowflake_host, ep.snowflake_port, database=naming_db, schema="BRONZE"
        ),
        pg_dsn=ep.postgres_dsn,
        pg_schema=pg_schema or cfg.postgres.serving_schema,
        dynamodb_table=dynamodb_table or naming.aws("product-recommendations"),
        dynamodb_client=lambda: boto3.client("dynamodb", **aws),
        dynamodb_resource=lambda: boto3.resource("dynamodb", **aws),
        scale=scale,
        artifacts=Path(os.environ.get("RDP_LOCAL_DIR", ROOT / ".local")) / "artifacts" / stack,
    )


def stack_target(stack: str, scale: recgen.Scale | None = None) -> Target:
    """A deployed stack: names and endpoints from `pulumi stack output`, credentials from secrets."""
    import boto3
    import psycopg

    from scripts.snowconn import connect_stack
    from scripts.stackcfg import stack_config

    cfg = stack_config(stack)
    try:
        out = json.loads(
            subprocess.run(
                ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    except (OSError, subprocess.CalledProcessError) as e:
        raise LoadError(f"cannot read the outputs of stack {stack!r} (is it deployed and selected?): {e}") from None
    missing = [k for k in ("database", "postgresHost", "postgresLoaderPassword", "dynamodbTable") if k not in out]
    if missing:
        raise LoadError(f"stack {stack!r} has no output(s) {missing}; run `pulumi up` first")
    s = cfg.recommendations.scale
    account = f"{cfg.snowflake.organization}-{cfg.snowflake.account}"
    return Target(
        stack=stack,
        local=False,
        database=out["database"],
        connect_snowflake=lambda: connect_stack(
            account,
            out["serviceUser"],
            out["functionalRoles"]["TRANSFORMER"],
            out["warehouses"]["transform"],
            out["database"],
        ),
        pg_dsn=psycopg.conninfo.make_conninfo(
            host=out["postgresHost"],
            port=5432,
            dbname=cfg.postgres.database,
            user=out["postgresLoaderUser"],
            password=out["postgresLoaderPassword"],
            sslmode="require",
        ),
        pg_schema=cfg.postgres.serving_schema,
        dynamodb_table=out["dynamodbTable"],
        dynamodb_client=lambda: boto3.client("dynamodb", region_name=cfg.aws_region),
        dynamodb_resource=lambda: boto3.resource("dynamodb", region_name=cfg.aws_region),
        scale=scale or recgen.Scale(s.products, s.stores, s.customers, s.seed, s.as_of),
        artifacts=ROOT / "artifacts" / stack,
    )


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@contextmanager
def step(name: str) -> Iterator[None]:
    start = time.perf_counter()
    console.rule(f"[bold]{name}")
    try:
        yield
    except (LoadError, pgserving.ServingError, dynamo.ExportError, ValueError) as e:
        raise LoadError(f"step {name!r} failed: {e}") from e
    except Exception as e:
        import botocore.exceptions
        import psycopg
        import snowflake.connector.errors

        drivers = (
            snowflake.connector.errors.Error,
            psycopg.Error,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        )
        if isinstance(e, drivers):
            raise LoadError(f"step {name!r} failed ({type(e).__name__}): {e}") from e
        raise
    console.print(f"  {name} done in {time.perf_counter() - start:.1f} s")


def _print_counts(counts: dict[str, int], title: str) -> None:
    table = Table("table", "rows", title=title)
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    console.print(table)


def prepare_local(t: Target) -> None:
    """Locally, create what `pulumi up` creates in Snowflake: schemas and tables (same specs)."""
    from infra.foundation import SCHEMAS

    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f'CREATE DATABASE IF NOT EXISTS "{t.database}"')
        for schema in SCHEMAS:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{t.database}"."{schema}"')
        for name in recdata.TABLES:
            cur.execute(recdata.create_table_sql(t.database, name))


def generate(t: Target) -> dict[str, int]:
    """Step 1: synthetic data, deterministic by seed and AS_OF, with the UDTFs' handler code."""
    counts: dict[str, int] = {}
    with step("generate"):
        with t.connect_snowflake() as conn:
            cur = conn.cursor()
            for stmt in split_statements(
                render_sql(
                    "recommendations/reference_data.sql",
                    categories=t.q("PRODUCT_CATEGORIES"),
                    tiers=t.q("LOYALTY_TIERS"),
                )
            ):
                cur.execute(stmt)
            if t.local:
                with tempfile.TemporaryDirectory(prefix="rdp-gen-") as tmp, progress_bar() as bar:
                    task = bar.add_task("customers + events", total=t.scale.customers)
                    recgen.generate(Path(tmp), t.scale, t.workers, progress=lambda n: bar.advance(task, n))
                    for name in ("STORES", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS", "EVENT_STREAM"):
                        cur.execute(f"DELETE FROM {t.q(name)}")
                        cur.execute(f"INSERT INTO {t.q(name)} SELECT * FROM read_parquet('{tmp}/{name}/*.parquet')")
            else:
                for stmt in split_statements(generate_in_warehouse_sql(t)):
                    cur.execute(stmt)
            for name in ("STORES", "PRODUCT_CATEGORIES", "LOYALTY_TIERS", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS"):
                counts[name] = _count(cur, t.q(name))
            counts["EVENT_STREAM"] = _count(cur, t.q("EVENT_STREAM"))
        _print_counts(counts, "generated")
    t.counts.update(counts)
    return counts


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


def _count(cur: Any, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {table}")
    return int(cur.fetchone()[0])


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
                + recdata.customer_360_sql(t.database, t.as_of_literal)
            )
            cur.execute(
                f"CREATE OR REPLACE VIEW {t.q('CUSTOMER_CATEGORY_FEATURES')} AS "
                + recdata.category_features_sql(t.database, t.as_of_literal)
            )
            cur.execute(f"DELETE FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
            cur.execute(
                f"INSERT INTO {t.q('USER_PRODUCT_RECOMMENDATIONS')} (USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, "
                f"PURCHASE_COUNT, SOURCE) " + recdata.recommendations_sql(t.database)
            )
        else:
            cur.execute(f"ALTER DYNAMIC TABLE {t.q('CUSTOMER_360')} REFRESH")
            cur.execute(recdata.refresh_recommendations_sql(t.database))
        counts["CUSTOMER_360"] = _count(cur, t.q("CUSTOMER_360"))
        counts["USER_PRODUCT_RECOMMENDATIONS"] = _count(cur, t.q("USER_PRODUCT_RECOMMENDATIONS"))
        cur.execute(f"SELECT COUNT(DISTINCT USER_ID) FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
        counts["users with recommendations"] = int(cur.fetchone()[0])
        _print_counts(counts, "built")
    t.counts.update(counts)
    return counts


def train(t: Target) -> dict[str, Any]:
    """Step 3: train on a cut-off 30 days before AS_OF, report hold-out AUC, save the artifact, and
    score every (customer, category) pair into CUSTOMER_PROPENSITY."""
    with step("train"), t.connect_snowflake() as conn:
        cur = conn.cursor()
        cutoff = t.scale.as_of - timedelta(days=30)
        cur.execute(recdata.category_features_sql(t.database, f"CAST('{cutoff.isoformat()} 00:00:00' AS TIMESTAMP)"))
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
            cur.execute(recdata.refresh_propensity_sql(t.database, propensity.udf_module().FEATURES))
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
        n = _count(cur, t.q("CUSTOMER_PROPENSITY"))
        cur.execute(f"SELECT COUNT(DISTINCT CUSTOMER_ID) FROM {t.q('CUSTOMER_PROPENSITY')}")
        customers = int(cur.fetchone()[0])
        _print_counts({"CUSTOMER_PROPENSITY": n, "customers scored": customers}, "scored")
        if customers and n != customers * 12:
            raise LoadError(f"CUSTOMER_PROPENSITY has {n} rows for {customers} customers, expected 12 per customer")
    t.counts["CUSTOMER_PROPENSITY"] = n
    return metrics


def _replace_rows(cur: Any, t: Target, name: str, rows: list[tuple]) -> None:
    """Locally: bulk-replace a warehouse table from Python rows through a Parquet file."""
    import pyarrow.parquet as pq

    _, cols = recdata.TABLES[name]
    with tempfile.TemporaryDirectory(prefix="rdp-rows-") as tmp:
        path = Path(tmp) / f"{name}.parquet"
        pq.write_table(recgen.arrow_table(cols, rows), path)
        cur.execute(f"DELETE FROM {t.q(name)}")
        cur.execute(f"INSERT INTO {t.q(name)} SELECT * FROM read_parquet('{path}')")


SYNC_QUERIES = {
    "customer_features": "SELECT CUSTOMER_ID, AGE, TENURE_MONTHS, CASE LOYALTY_TIER WHEN 'Bronze' THEN 0 "
    "WHEN 'Silver' THEN 1 WHEN 'Gold' THEN 2 WHEN 'Platinum' THEN 3 END, TOTAL_ORDERS, LIFETIME_SPEND, "
    "AVG_ORDER_VALUE, DAYS_SINCE_PURCHASE, CATEGORIES_PURCHASED, TOTAL_BROWSE_EVENTS, TOTAL_SESSIONS, "
    "AVG_BROWSED_PRICE, ADD_TO_CART_COUNT, CART_ABANDONMENT_RATE, STORE_RATIO, ENGAGEMENT_SCORE "
    "FROM {CUSTOMER_360} ORDER BY CUSTOMER_ID",
    "customer_propensity": "SELECT CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE FROM {CUSTOMER_PROPENSITY} "
    "ORDER BY CUSTOMER_ID, CATEGORY_ID",
    "inventory": "SELECT REGION, PRODUCT_ID, WAREHOUSE_NAME, QTY_ON_HAND, EST_DELIVERY_DAYS FROM {INVENTORY} "
    "ORDER BY REGION, PRODUCT_ID",
    "products": "SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY_ID, DEPARTMENT, CATEGORY_NAME, BRAND, PRICE "
    "FROM {PRODUCT_CATALOG} ORDER BY PRODUCT_ID",
    "customer_profiles": "SELECT CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, GENDER, DATE_OF_BIRTH, AGE, CITY, "
    "STATE, ZIP_CODE, CUSTOMER_SINCE_DATE, TENURE_MONTHS, LOYALTY_TIER, HAS_APP, EMAIL_SUBSCRIBER, "
    "SMS_SUBSCRIBER, TOTAL_ORDERS, LIFETIME_SPEND, AVG_ORDER_VALUE, LAST_PURCHASE_DATE, DAYS_SINCE_PURCHASE, "
    "CATEGORIES_PURCHASED, TOTAL_BROWSE_EVENTS, TOTAL_SESSIONS, CATEGORIES_BROWSED, FAVORITE_BROWSE_CATEGORY, "
    "AVG_BROWSED_PRICE, ADD_TO_CART_COUNT, ABANDONED_CART_COUNT, CART_ABANDONMENT_RATE, PREFERRED_CHANNEL, "
    "PREFERRED_DEVICE, STORE_RATIO, TOTAL_POINTS_EARNED, TOTAL_POINTS_REDEEMED, FAVORITE_PURCHASE_CATEGORY, "
    "RFM_SEGMENT, ENGAGEMENT_SCORE FROM {CUSTOMER_360} ORDER BY CUSTOMER_ID",
}


def fetch(t: Target, table: str) -> list[tuple]:
    """Rows of a serving table as the warehouse holds them (the source of truth)."""
    query = SYNC_QUERIES[table].format(
        **{k: t.q(k) for k in ("CUSTOMER_360", "CUSTOMER_PROPENSITY", "INVENTORY", "PRODUCT_CATALOG")}
    )
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(query)
        rows = cur.fetchall()
    if table == "customer_profiles" and t.local:
        # fakesnow's HTTP endpoint returns a NULL TIMESTAMP_NTZ as the epoch; a customer without a
        # purchase has no last purchase date.
        i = pgserving.SERVING_TABLES[table].columns.index("last_purchase_date")
        j = pgserving.SERVING_TABLES[table].columns.index("total_orders")
        rows = [(*r[:i], None, *r[i + 1 :]) if not r[j] else r for r in rows]
    return rows


def sync(
    t: Target, tables: tuple[str, ...] = ("customer_features", "customer_propensity", "inventory", "products")
) -> dict[str, int]:
    """Step 4: warehouse → Postgres serving tables, each swapped in atomically after a COPY."""
    counts: dict[str, int] = {}
    with step("sync to Postgres"):
        applied = pgserving.migrate(t.pg_dsn, t.pg_schema)
        if applied:
            console.print(f"  applied migrations {applied}")
        with progress_bar() as bar:
            task = bar.add_task("tables", total=len(tables))
            for table in tables:
                counts[table] = pgserving.sync_table(t.pg_dsn, table, fetch(t, table), t.pg_schema)
                bar.advance(task)
        _print_counts(counts, f"Postgres {t.pg_schema}")
    t.counts.update({f"pg.{k}": v for k, v in counts.items()})
    return counts


def export(t: Target, workers: int = 8) -> dict[str, int]:
    """Step 5: recommendations → DynamoDB (parallel, retried, idempotent); profiles → Postgres for BI."""
    counts: dict[str, int] = {}
    with step("export"):
        with t.connect_snowflake() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT, SOURCE "
                f"FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')} ORDER BY USER_ID, RANK"
            )
            items = dynamo.build_items(cur.fetchall())
        if t.local:
            ensure_local_dynamodb_table(t)
        with progress_bar() as bar:
            task = bar.add_task("DynamoDB items", total=len(items))
            counts["dynamodb." + t.dynamodb_table] = dynamo.write_parallel(
                t.dynamodb_client(), t.dynamodb_table, items, workers=workers, progress=lambda n: bar.advance(task, n)
            )
        pgserving.migrate(t.pg_dsn, t.pg_schema)
        counts["pg.customer_profiles"] = pgserving.sync_table(
            t.pg_dsn, "customer_profiles", fetch(t, "customer_profiles"), t.pg_schema
        )
        _print_counts(counts, "exported")
    t.counts.update(counts)
    return counts


def ensure_local_dynamodb_table(t: Target) -> None:
    """Locally, the table Pulumi declares (same key schema and billing mode) on moto."""
    client = t.dynamodb_client()
    if t.dynamodb_table in client.list_tables().get("TableNames", []):
        return
    client.create_table(
        TableName=t.dynamodb_table,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
    )


def run_all(t: Target) -> dict[str, int]:
    if t.local:
        prepare_local(t)
    generate(t)
    build(t)
    train(t)
    sync(t)
    export(t)
    return t.counts


def _target(stack: str, local: bool, customers: int | None, seed: int | None) -> Target:
    t = local_target(stack) if local else stack_target(stack)
    changes: dict[str, Any] = {}
    if customers is not None:
        changes["customers"] = customers
    if seed is not None:
        changes["seed"] = seed
    if changes:
        t.scale = replace(t.scale, **changes)
    return t


def _run(fn: Callable[[Target], Any], stack: str, local: bool, customers: int | None, seed: int | None) -> None:
    try:
        t = _target(stack, local, customers, seed)
        if local and fn is not run_all:
            prepare_local(t)
        fn(t)
    except LoadError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None


STACK = typer.Option("dev", help="stack whose names/outputs to use")
LOCAL = typer.Option(False, "--local", help="run on the local stand-ins instead of the deployed stack")
CUSTOMERS = typer.Option(None, help="override recommendations.scale.customers")
SEED = typer.Option(None, help="override recommendations.scale.seed")


@app.command("all")
def all_cmd(
    stack: str = STACK, local: bool = LOCAL, customers: int | None = CUSTOMERS, seed: int | None = SEED
) -> None:
    """generate → build → train → sync → export."""
    _run(run_all, stack, local, customers, seed)


@app.command("generate")
def generate_cmd(
    stack: str = STACK, local: bool = LOCAL, customers: int | None = CUSTOMERS, seed: int | None = SEED
) -> None:
    _run(generate, stack, local, customers, seed)


@app.command("build")
def build_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(build, stack, local, None, None)


@app.command("train")
def train_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(train, stack, local, None, None)


@app.command("sync")
def sync_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(sync, stack, local, None, None)


@app.command("export")
def export_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(export, stack, local, None, None)


if __name__ == "__main__":
    app()
