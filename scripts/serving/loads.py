"""Post-deploy steps of the serving stores: warehouse → Postgres serving tables (`sync`) and
recommendations → DynamoDB plus the Customer 360 profile → Postgres for BI (`export`).

The warehouse side of each is a file in sql/serving/sync whose columns are named as the Postgres
columns the migrations define; the sync checks the names before it loads anything.
"""

from __future__ import annotations

import psycopg

from infra.recommendations import catalog as recommendations
from infra.sqlfiles import read_sql, render_sql
from scripts.core.console import console, print_counts, progress_bar, step
from scripts.core.target import Target, local_target, stack_target
from scripts.serving import dynamodb, postgres
from scripts.serving.rehearsal import ensure_local_dynamodb_table, prepare, without_epoch_dates

__all__ = ["export", "local_target", "prepare_local", "stack_target", "sync"]  # with the runner's

SYNCED = (
    "customer_features",
    "customer_propensity",
    "inventory",
    "products",
    "product_popularity",
    "customer_product_interactions",
)
# sync file placeholder → the warehouse table it reads
SOURCES = {
    "customer_360": "CUSTOMER_360",
    "customer_propensity": "CUSTOMER_PROPENSITY",
    "inventory": "INVENTORY",
    "product_catalog": "PRODUCT_CATALOG",
    "recommendations": "USER_PRODUCT_RECOMMENDATIONS",
    "product_popularity": "PRODUCT_POPULARITY",
    "customer_product_interactions": "CUSTOMER_PRODUCT_INTERACTIONS",
}


def prepare_local(t: Target) -> None:
    """On the stand-ins, what `pulumi up` creates for the serving stores."""
    prepare(t)


def sync_query(t: Target, name: str) -> str:
    """sql/serving/sync/<name>.sql with the target's warehouse tables filled in."""
    path = f"serving/sync/{name}.sql"
    text = read_sql(path)
    return render_sql(path, **{k: recommendations.q(t.database, v) for k, v in SOURCES.items() if "{{ " + k in text})


def fetch(t: Target, table: str) -> tuple[list[str], list[tuple]]:
    """A serving table's rows as the warehouse holds them (the source of truth), with column names."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(sync_query(t, table))
        names = [d[0].lower() for d in cur.description]
        rows = cur.fetchall()
    if table == "customer_profiles" and t.local:
        rows = without_epoch_dates(names, rows)
    return names, rows


def sync_one(t: Target, table: str) -> int:
    names, rows = fetch(t, table)
    return postgres.sync_table(t.pg_dsn, table, rows, t.pg_schema, columns=names)


def sync(t: Target, tables: tuple[str, ...] = SYNCED) -> dict[str, int]:
    """Warehouse → Postgres serving tables: each staged by COPY, then all switched live in one
    transaction (readers see all old or all new tables)."""
    counts: dict[str, int] = {}
    with step("sync to Postgres"):
        applied = postgres.migrate(t.pg_dsn, t.pg_schema)
        if applied:
            console.print(f"  applied migrations {applied}")
        with psycopg.connect(t.pg_dsn) as conn, progress_bar() as bar:
            task = bar.add_task("tables", total=len(tables) + 1)
            for table in tables:
                names, rows = fetch(t, table)
                counts[table] = postgres.stage(conn, table, rows, t.pg_schema, columns=names)
                bar.advance(task)
            postgres.switch(conn, tables, t.pg_schema)
            bar.advance(task)
        print_counts(counts, f"Postgres {t.pg_schema}")
    t.counts.update({f"pg.{k}": v for k, v in counts.items()})
    return counts


def export(t: Target, workers: int = 8) -> dict[str, int]:
    """Recommendations → DynamoDB (parallel, retried, idempotent, converged: items of users no longer
    recommended are deleted); profiles → Postgres for BI."""
    counts: dict[str, int] = {}
    with step("export"):
        with t.connect_snowflake() as conn:
            cur = conn.cursor()
            cur.execute(sync_query(t, "export_recommendations"))
            items = dynamodb.build_items(cur.fetchall())
        if t.local:
            ensure_local_dynamodb_table(t)
        with progress_bar() as bar:
            task = bar.add_task("DynamoDB items", total=len(items))
            written, deleted = dynamodb.export_items(
                t.dynamodb_client(), t.dynamodb_table, items, workers=workers, progress=lambda n: bar.advance(task, n)
            )
        counts["dynamodb." + t.dynamodb_table] = written
        counts["dynamodb deleted (users no longer recommended)"] = deleted
        postgres.migrate(t.pg_dsn, t.pg_schema)
        counts["pg.customer_profiles"] = sync_one(t, "customer_profiles")
        print_counts(counts, "exported")
    t.counts.update(counts)
    return counts
