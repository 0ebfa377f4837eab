"""The recommendations on the stand-ins, and `make local`'s run of them.

fakesnow has no UDTFs, dynamic tables, tasks or model stages, so what Snowflake runs is reproduced
from the same files: the generators' handler code writes Parquet that one transaction loads, the
dynamic table and the views are a CTAS and views at AS_OF, the task's INSERT OVERWRITE a DELETE +
INSERT, and the propensity UDF's scoring runs in Python into CUSTOMER_PROPENSITY.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from infra.recommendations import catalog
from scripts.core.connections import ensure_foundation, transaction
from scripts.core.console import progress_bar
from scripts.core.rehearsal import LocalRun, run_cli
from scripts.recommendations import generate as generation
from scripts.recommendations import propensity, ranking
from scripts.recommendations.target import RecommendationsTarget

TITLE = "recommendations: generate → build → train"
GENERATED = ("STORES", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS", "EVENT_STREAM")


def rehearse(run: LocalRun) -> None:
    """`make local`: the recommendations' loads on the stand-ins at `run.customers` customers."""
    run_cli("recommendations", "all", "--local", "--stack", run.stack, "--customers", str(run.customers))


def prepare(t: RecommendationsTarget) -> None:
    """What `pulumi up` creates in Snowflake: schemas and tables (same specs)."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        ensure_foundation(cur, t.database)
        for name in catalog.TABLES:
            cur.execute(catalog.create_table_sql(t.database, name))


def generate(cur: Any, t: RecommendationsTarget) -> None:
    """The generators' handler code writes the base tables as Parquet; one transaction replaces them
    all (never emptied for a reader, and a failure leaves every one as it was)."""
    with tempfile.TemporaryDirectory(prefix="rdp-gen-") as tmp, progress_bar() as bar:
        task = bar.add_task("customers + events", total=t.scale.customers)
        generation.generate(Path(tmp), t.scale, t.workers, progress=lambda n: bar.advance(task, n))
        with transaction(cur):
            for name in GENERATED:
                cur.execute(f"DELETE FROM {t.q(name)}")
                cur.execute(f"INSERT INTO {t.q(name)} SELECT * FROM read_parquet('{tmp}/{name}/*.parquet')")


def build(cur: Any, t: RecommendationsTarget) -> None:
    """CUSTOMER_360's dynamic table as a CTAS, the feature views at AS_OF, the recommendations task's
    INSERT OVERWRITE as DELETE + INSERT."""
    at = t.as_of_literal
    cur.execute(f"CREATE OR REPLACE TABLE {t.q('CUSTOMER_360')} AS " + catalog.customer_360_sql(t.database, at))
    cur.execute(
        f"CREATE OR REPLACE VIEW {t.q('CUSTOMER_CATEGORY_FEATURES')} AS "
        + catalog.category_features_sql(t.database, at)
    )
    for view, body in catalog.pair_signals_sql(t.database, at).items():
        cur.execute(f"CREATE OR REPLACE VIEW {t.q(view)} AS {body}")
    cur.execute(f"CREATE OR REPLACE VIEW {t.q('CUSTOMER_CANDIDATES')} AS " + catalog.candidates_sql(t.database, at))
    cur.execute(f"DELETE FROM {t.q('USER_PRODUCT_RECOMMENDATIONS')}")
    cur.execute(
        f"INSERT INTO {t.q('USER_PRODUCT_RECOMMENDATIONS')} (USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, "
        f"PURCHASE_COUNT, SOURCE) " + catalog.recommendations_sql(t.database)
    )


def score(cur: Any, t: RecommendationsTarget, booster: Any, model_path: Path) -> None:
    """What the propensity UDF does in Snowflake (from `model_path` on its stage): every (customer,
    category) pair scored at AS_OF, by `booster` in process."""
    cur.execute(f"SELECT * FROM {t.q('CUSTOMER_CATEGORY_FEATURES')}")
    columns = [d[0] for d in cur.description]
    scored = propensity.score(booster, cur.fetchall(), columns)
    scored_at = datetime.combine(t.scale.as_of, datetime.min.time())
    _, cols = catalog.TABLES["CUSTOMER_PROPENSITY"]
    with tempfile.TemporaryDirectory(prefix="rdp-rows-") as tmp:
        path = Path(tmp) / "CUSTOMER_PROPENSITY.parquet"
        pq.write_table(generation.arrow_table(cols, [(c, k, p, scored_at) for c, k, p in scored]), path)
        cur.execute(f"DELETE FROM {t.q('CUSTOMER_PROPENSITY')}")
        cur.execute(f"INSERT INTO {t.q('CUSTOMER_PROPENSITY')} SELECT * FROM read_parquet('{path}')")


def publish(cur: Any, t: RecommendationsTarget, path: Path) -> None:
    """No model stage on the stand-ins: the API reads the published artifact itself."""


def refused(cur: Any, t: RecommendationsTarget, path: Path) -> None:
    """No model registry on the stand-ins: a refused model stays in <artifacts>/ranking/candidate/."""


def published_at(cur: Any, t: RecommendationsTarget) -> datetime | None:
    """When the ranking model the local API reads was last published (its file's time), or None."""
    path = t.artifacts / "ranking" / ranking.MODEL_FILE
    return datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None
