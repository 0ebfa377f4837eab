"""Post-deploy steps of the serving stores: warehouse → Postgres serving tables (`sync`) and
recommendations → DynamoDB plus the Customer 360 profile → Postgres for BI (`export`).

The warehouse side of each is a file in sql/serving/sync whose columns are named as the Postgres
columns the migrations define; the sync checks the names before it loads anything.
"""

from __future__ import annotations

import json

import psycopg

from infra.config.reader import stack_config
from infra.recommendations import catalog as recommendations
from infra.serving.config import DERIVED_TABLES, SERVING_TABLES, SYNCED_TABLES, SyncGuardConfig
from infra.sqlfiles import read_sql, render_sql
from scripts.core.console import console, print_counts, progress_bar, step
from scripts.core.target import Target, local_target, service_target, stack_target
from scripts.serving import dynamodb, floor, postgres, rankings
from scripts.serving.rehearsal import ensure_local_dynamodb_table, prepare, without_epoch_dates
from scripts.serving.staging import RowRefusedError

__all__ = [  # with the runner's
    "export",
    "local_target",
    "prepare_local",
    "rollback",
    "service_target",
    "stack_target",
    "sync",
]

SYNCED = SYNCED_TABLES  # the sync's tables, named in infra/serving/config.py
# sync file placeholder → the warehouse table it reads
SOURCES = {
    "customer_360": "CUSTOMER_360",
    "customer_propensity": "CUSTOMER_PROPENSITY",
    "inventory": "INVENTORY",
    "product_catalog": "PRODUCT_CATALOG",
    "recommendations": "USER_PRODUCT_RECOMMENDATIONS",
    "product_popularity": "PRODUCT_POPULARITY",
    "customer_product_interactions": "CUSTOMER_PRODUCT_INTERACTIONS",
    "customer_candidates": "CUSTOMER_CANDIDATES",
}


def prepare_local(t: Target) -> None:
    """On the stand-ins, what `pulumi up` creates for the serving stores."""
    prepare(t)


def sync_query(t: Target, name: str) -> str:
    """sql/serving/sync/<name>.sql with the target's warehouse tables filled in."""
    path = f"serving/sync/{name}.sql"
    text = read_sql(path)
    params = {k: recommendations.q(t.database, v) for k, v in SOURCES.items() if "{{ " + k in text}
    if "{{ home_region" in text:
        params["home_region"] = recommendations.home_region_sql()
    return render_sql(path, **params)


# The connector's type codes of VARIANT, OBJECT and ARRAY values, which it hands over as JSON text.
SEMI_STRUCTURED = frozenset({5, 9, 10})


def fetch(t: Target, table: str) -> tuple[list[str], list[tuple]]:
    """A serving table's rows as the warehouse holds them (the source of truth), with column names; an
    array (customer_candidates' product ids) as a list."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(sync_query(t, table))
        names = [d[0].lower() for d in cur.description]
        rows = cur.fetchall()
        parsed = [i for i, d in enumerate(cur.description) if d[1] in SEMI_STRUCTURED]
    if parsed:
        rows = [from_json(table, names, n, row, parsed) for n, row in enumerate(rows, start=1)]
    if table == "customer_profiles" and t.local:
        rows = without_epoch_dates(names, rows)
    return names, rows


def from_json(table: str, names: list[str], n: int, row: tuple, columns: list[int]) -> tuple:
    """The row with its semi-structured columns parsed; text that is not JSON names the row and column."""
    out = list(row)
    for i in columns:
        if isinstance(out[i], str):
            try:
                out[i] = json.loads(out[i])
            except ValueError as e:
                raise RowRefusedError(f"{table}: row {n} column {names[i]} is not JSON ({e})") from None
    return tuple(out)


def sync_one(t: Target, table: str, allow_shrink: bool = False, guard: SyncGuardConfig | None = None) -> int:
    """One serving table, staged, checked against its floors and switched."""
    names, rows = fetch(t, table)
    with psycopg.connect(t.pg_dsn) as conn:
        n = postgres.stage(conn, table, rows, t.pg_schema, columns=names)
        switch_guarded(t, conn, {table: n}, allow_shrink, guard)
    return n


def switch_guarded(
    t: Target, conn: psycopg.Connection, staged: dict[str, int], allow_shrink: bool, guard: SyncGuardConfig | None
) -> None:
    """Switch the staged tables live unless one would go below its floor or shrink beyond the config's
    share of the live table (`guard`, else the stack's `postgres.sync`); `allow_shrink` warns instead."""
    guard = guard or stack_config(t.stack).postgres.sync
    live = postgres.live_counts(conn, t.pg_schema, staged)
    problems = floor.sync_problems(staged, live, guard)
    try:
        floor.enforce(problems, allow_shrink, "the live tables are unchanged and nothing is left staged")
    except floor.ShrinkError:
        postgres.discard(conn, t.pg_schema, staged)
        raise
    postgres.switch(conn, list(staged), t.pg_schema)


def sync(
    t: Target,
    tables: tuple[str, ...] = SYNCED,
    allow_shrink: bool = False,
    guard: SyncGuardConfig | None = None,
    rank: bool = True,
) -> dict[str, int]:
    """Warehouse → Postgres serving tables: each staged by COPY, checked against its floors, then all
    switched live in one transaction (readers see all old or all new tables); then, with `rank`, each
    customer's answer precomputed from them (rankings.py)."""
    counts: dict[str, int] = {}
    with step("sync to Postgres"):
        applied = postgres.migrate(t.pg_dsn, t.pg_schema)
        if applied:
            console.print(f"  applied migrations {applied}")
        with psycopg.connect(t.pg_dsn) as conn, progress_bar() as bar:
            task = bar.add_task("tables", total=len(tables) + 1)
            try:
                for table in tables:
                    names, rows = fetch(t, table)
                    counts[table] = postgres.stage(conn, table, rows, t.pg_schema, columns=names)
                    bar.advance(task)
            except Exception:
                conn.rollback()
                postgres.discard(conn, t.pg_schema, counts)  # what was staged before the failure: nothing stays
                raise
            switch_guarded(t, conn, counts, allow_shrink, guard)
            bar.advance(task)
        if rank:
            with psycopg.connect(t.pg_dsn) as conn:
                ranked = rankings.precompute(t, conn)
            if ranked is not None:
                counts[rankings.TABLE] = ranked
        print_counts(counts, f"Postgres {t.pg_schema}")
    t.counts.update({f"pg.{k}": v for k, v in counts.items()})
    return counts


def rollback(t: Target, allow_shrink: bool = False) -> list[str]:
    """Put the tables the last sync (and export) replaced back live, in one transaction, held to the
    sync's floors: a previous table that is empty (the one a migration created before the first sync)
    or far smaller than the live one is not put back without `--allow-shrink`."""
    guard = stack_config(t.stack).postgres.sync
    with step("roll back Postgres"), psycopg.connect(t.pg_dsn) as conn:
        kept = [name for name in SERVING_TABLES if postgres.exists(conn, t.pg_schema, f"{name}__old")]
        if rankings.TABLE in kept and rankings.keep_on_rollback(conn, t.pg_schema):
            kept.remove(rankings.TABLE)  # the live rankings are those of the tables put back
        live = postgres.live_counts(conn, t.pg_schema, kept)
        old = postgres.live_counts(conn, t.pg_schema, [f"{name}__old" for name in kept])
        previous = {name: old[f"{name}__old"] for name in kept if name not in DERIVED_TABLES}
        problems = floor.sync_problems(previous, live, guard, "to roll back to")
        floor.enforce(problems, allow_shrink, "nothing was rolled back")
        back = postgres.rollback(conn, t.pg_schema, kept)
        counts = postgres.live_counts(conn, t.pg_schema, back)
        print_counts(counts, f"Postgres {t.pg_schema}, rolled back (the replaced tables are now <table>__old)")
    t.counts.update({f"pg.{k}": v for k, v in counts.items()})
    return back


def export(t: Target, workers: int = 8, allow_shrink: bool = False) -> dict[str, int]:
    """Recommendations → DynamoDB (parallel, retried, idempotent, converged: items of users no longer
    recommended are deleted, at most `dynamodb.maxDeleteShare` of them); profiles → Postgres for BI.
    A target without a DynamoDB table (a job service: no AWS identity) exports the profiles only; the
    refresh's child task writes DynamoDB (sql/serving/export_dynamodb.py)."""
    counts: dict[str, int] = {}
    cfg = stack_config(t.stack)
    with step("export"):
        if t.dynamodb_table:
            counts.update(export_dynamodb(t, workers, allow_shrink, cfg.dynamodb.max_delete_share))
        else:
            # the scheduled refresh's job: its child task STREAMS_TASKS.EXPORT_DYNAMODB writes DynamoDB after it
            console.print("  DynamoDB: no table for this target (no AWS identity in a job service): left to the")
            console.print("  child task EXPORT_DYNAMODB, which runs after this refresh succeeded")
        postgres.migrate(t.pg_dsn, t.pg_schema)
        counts["pg.customer_profiles"] = sync_one(t, "customer_profiles", allow_shrink, cfg.postgres.sync)
        print_counts(counts, "exported")
    t.counts.update(counts)
    return counts


def export_dynamodb(t: Target, workers: int, allow_shrink: bool, max_delete_share: float) -> dict[str, int]:
    """USER_PRODUCT_RECOMMENDATIONS → the DynamoDB table, converged (see scripts/serving/dynamodb.py)."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(sync_query(t, "export_recommendations"))
        items = dynamodb.build_items(cur.fetchall())
    if t.local:
        ensure_local_dynamodb_table(t)
    with progress_bar() as bar:
        task = bar.add_task("DynamoDB items", total=len(items))
        written, deleted = dynamodb.export_items(
            t.dynamodb_client(),
            t.dynamodb_table,
            items,
            max_delete_share=max_delete_share,
            allow_shrink=allow_shrink,
            workers=workers,
            progress=lambda n: bar.advance(task, n),
        )
    return {"dynamodb." + t.dynamodb_table: written, "dynamodb deleted (users no longer recommended)": deleted}
