"""The sync's last step: every customer's answer precomputed into serving.customer_rankings, so a
request reads one row instead of ranking some 700 candidates (the API's CPU per request).

The answers are computed by the API's own code (`python -m orchestrator.precompute`, run as a process
from its directory, as the image runs it) from the tables the sync has just put live, with the ranking
model the API serves: the artifacts' file locally, the production file on the model stage on a stack
(GET by the sync's Snowflake session). Each row records the model's digest and the tables' OIDs;
the API serves it only while both still hold, so until this step has switched its table (or when it
is skipped) requests take the full path and get the same answer, more slowly. The table is derived:
no floor or shrink guard (an empty one only means the full path), and a rollback puts the previous
rankings back with the tables they were computed from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from infra.recommendations import catalog as recommendations
from scripts.core.console import console
from scripts.core.target import ROOT, Target
from scripts.serving import postgres

# backends.RANKED_FROM: the tables a ranking is computed from, in the order of its versions
RANKED_FROM = (
    "customer_features",
    "customer_propensity",
    "customer_product_interactions",
    "inventory",
    "products",
    "product_popularity",
    "customer_candidates",
)

TABLE = "customer_rankings"
ORCHESTRATOR_DIR = ROOT / "services" / "api" / "orchestrator"
MODEL_FILE = "ranking_model.json"  # what the API reads from the model stage (its spec's RANKER_MODEL_PATH)
NO_MODEL, TABLES_CHANGED = 3, 4  # orchestrator.precompute's exit codes
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # as the API runs


def orchestrator_env(t: Target, model: Path) -> dict[str, str]:
    """The orchestrator's settings (backends.Settings) for the target's Postgres and the model file."""
    pg = psycopg.conninfo.conninfo_to_dict(t.pg_dsn)
    keys = {"host": "PG_HOST", "port": "PG_PORT", "dbname": "PG_DB", "user": "PG_USER", "password": "PG_PASSWORD"}
    keys |= {"sslmode": "PG_SSLMODE", "sslrootcert": "PG_SSLROOTCERT"}
    env = {var: str(pg[k]) for k, var in keys.items() if pg.get(k) not in (None, "")}
    return env | {"PG_SCHEMA": t.pg_schema, "RANKER_MODE": "inprocess", "RANKER_MODEL_PATH": str(model)}


def model_file(t: Target, into: Path) -> Path | None:
    """The ranking model the API serves: locally the artifacts' file, on a stack the production file
    on the model stage; None when none is published yet."""
    if t.local:
        path = t.artifacts / "ranking" / MODEL_FILE
        return path if path.exists() else None
    stage = recommendations.q(t.database, "MODEL_STAGE")
    with t.connect_snowflake() as conn:
        got = conn.cursor().execute(f"GET @{stage}/{MODEL_FILE} 'file://{into}/'").fetchall()
    path = into / MODEL_FILE
    return path if got and path.exists() else None


def rows(path: Path) -> Iterator[tuple]:
    """customer_rankings rows from the precompute's JSON lines."""
    with path.open("rb") as f:
        for line in f:
            yield tuple(orjson.loads(line))


def precompute(t: Target, conn: psycopg.Connection) -> int | None:
    """Compute, stage and switch the rankings; the number of customers ranked, None when they were not
    (no model to rank with, or a sync landed meanwhile): the live table is then left as it is, and its
    rows, naming another model or other tables, are not served."""
    with tempfile.TemporaryDirectory(prefix="rdp-rankings-") as tmp:
        model = model_file(t, Path(tmp))
        if model is None:
            console.print("  rankings: no ranking model published yet; the API ranks every request itself")
            return None
        env = {**os.environ, **THREADS, **orchestrator_env(t, model), "PYTHONPATH": str(ROOT)}
        out = Path(tmp) / "rankings.jsonl"  # staged after the process ends: a short COPY transaction
        command = [sys.executable, "-m", "orchestrator.precompute", "--out", str(out)]
        done = subprocess.run(command, cwd=ORCHESTRATOR_DIR, env=env, capture_output=True, text=True, check=False)
        said = done.stderr.strip()
        last = said.splitlines()[-1] if said else ""
        if done.returncode in (NO_MODEL, TABLES_CHANGED):
            console.print(f"  [yellow]rankings not precomputed:[/yellow] {last}; the API ranks every request itself")
            return None
        if done.returncode:
            raise postgres.ServingError(
                f"rankings not precomputed (exit {done.returncode}): {said[-600:]}; the synced tables are "
                "live and the API ranks every request itself until a sync's rankings succeed"
            )
        n = postgres.stage(conn, TABLE, rows(out), t.pg_schema)
    postgres.switch(conn, [TABLE], t.pg_schema)
    console.print(f"  rankings: {n:,} customers precomputed ({last})")
    return n


def keep_on_rollback(conn: psycopg.Connection, schema: str) -> bool:
    """Whether the live rankings, not the previous ones, hold for the tables a rollback puts back (a
    sync whose rankings step did not run left the live ones computed from the `__old` tables)."""
    restored = sql.SQL(", ").join(
        sql.SQL("coalesce(to_regclass({}), to_regclass({}))::oid").format(
            sql.Literal(f"{schema}.{name}__old"), sql.Literal(f"{schema}.{name}")
        )
        for name in RANKED_FROM
    )
    query = sql.SQL("SELECT versions = ARRAY[{}]::bigint[] FROM {} LIMIT 1").format(
        restored, sql.Identifier(schema, TABLE)
    )
    held = conn.execute(query).fetchone()
    conn.commit()
    return bool(held and held[0])
