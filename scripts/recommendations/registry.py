"""The `train` step's Feature Store and Model Registry calls on a deployed stack.

snowflake-ml-python cannot be installed beside the Pulumi SDK (packaging<26 against >=26), so its calls
run in Snowflake: this module builds each call's spec from the catalog and the sql/ files and CALLs
ML_REGISTRY.REGISTRY_OPS (sql/recommendations/ml_registry.py, a caller's-rights procedure), as the role
that trains. Every training run is one registry version of both models, named by the run's UTC start;
`candidate` follows the newest run, `production` the newest run that passed the publish gate, and the
model files the UDF and the API read are the production version's own files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.recommendations import catalog
from scripts.core.console import console
from scripts.core.errors import LoadError
from scripts.recommendations import propensity, ranking
from scripts.recommendations.target import RecommendationsTarget
from services.features.pair import PAIR_FEATURES


@dataclass(frozen=True)
class Model:
    name: str  # in the registry (the seed's names)
    file: str  # on the model stage: what the UDF (propensity) and the API's ranker (ranking) read
    features: tuple[str, ...]  # the model's inputs, in order: its registry signature


MODELS = {
    "propensity": Model(
        "CATEGORY_PROPENSITY_MODEL", propensity.udf_module().MODEL_FILE, tuple(propensity.udf_module().FEATURES)
    ),
    "ranking": Model("PRODUCT_RANKING_MODEL", ranking.MODEL_FILE, tuple(PAIR_FEATURES)),
}
# each model's training metrics, under the target's artifacts (what the train step wrote)
METRICS_FILES = {"propensity": Path("propensity", "metrics.json"), "ranking": Path("ranking", ranking.METRICS_FILE)}
# Entities: name -> (join keys, description).
ENTITIES: dict[str, tuple[list[str], str]] = {
    "CUSTOMER": (["CUSTOMER_ID"], "a retail customer (BRONZE.CUSTOMERS)"),
    "CATEGORY": (["CATEGORY_ID"], "a product category (BRONZE.PRODUCT_CATEGORIES)"),
    "PRODUCT": (["PRODUCT_ID"], "a catalogue product (BRONZE.PRODUCT_CATALOG)"),
}
# Feature views: name -> (entities, columns left out, description); the query is the sql/ file's.
FEATURE_VIEWS: dict[str, tuple[list[str], list[str], str]] = {
    "CUSTOMER_CATEGORY_FEATURES": (
        ["CUSTOMER", "CATEGORY"],
        ["LABEL"],  # the training label (always 0 as of now), not a feature
        "propensity model inputs per (customer, category), as of now",
    ),
    "PRODUCT_POPULARITY": (
        ["PRODUCT"],
        [],
        "ranking model inputs per product: purchases, views, its category's repeat rate",
    ),
    "CUSTOMER_PRODUCT_INTERACTIONS": (
        ["CUSTOMER", "PRODUCT"],
        [],
        "ranking model inputs: a customer's views, carts and purchases of a product",
    ),
}
NOW = "CURRENT_TIMESTAMP()"


def feature_queries(database: str) -> dict[str, str]:
    """Each feature view's query: the FEATURE_STORE views' own SQL (sql/recommendations/), as of now."""
    return {
        "CUSTOMER_CATEGORY_FEATURES": catalog.category_features_sql(database, NOW),
        **catalog.pair_signals_sql(database, NOW),
    }


def view_version(query: str) -> str:
    """A feature view's version: a digest of its SQL, so a changed file registers a new version and a
    re-run registers nothing."""
    return "V_" + hashlib.sha256(query.encode()).hexdigest()[:12].upper()


def features_spec(t: RecommendationsTarget) -> dict[str, Any]:
    queries = feature_queries(t.database)
    return {
        "database": t.database,
        "schema": catalog.CATALOG.schema("CUSTOMER_CATEGORY_FEATURES"),
        "entities": [{"name": n, "join_keys": k, "desc": d} for n, (k, d) in ENTITIES.items()],
        "feature_views": [
            {"name": n, "entities": e, "drop": drop, "desc": d, "query": q, "version": view_version(q)}
            for n, (e, drop, d) in FEATURE_VIEWS.items()
            for q in [queries[n]]
        ],
    }


def run_version(t: RecommendationsTarget, now: datetime | None = None) -> str:
    """The registry version of this training run (both models share it): RUN_<UTC start>."""
    if t.model_version is None:
        t.model_version = f"RUN_{(now or datetime.now(UTC)):%Y%m%d_%H%M%S}"
    return t.model_version


def _model_spec(t: RecommendationsTarget, key: str, version: str) -> dict[str, Any]:
    if key not in MODELS:
        raise LoadError(f"unknown model {key!r} (known: {', '.join(sorted(MODELS))})")
    m = MODELS[key]
    return {
        "database": t.database,
        "schema": catalog.CATALOG.schema("REGISTRY_OPS"),
        "model": m.name,
        "version": version,
        "stage": t.q("MODEL_STAGE"),
        "file": m.file,
    }


def call(cur: Any, t: RecommendationsTarget, action: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One CALL of the registry procedure; its JSON answer."""
    cur.execute(f"CALL {t.q('REGISTRY_OPS')}(%s, %s)", (action, json.dumps(spec, sort_keys=True)))
    return json.loads(cur.fetchone()[0])


def register_features(cur: Any, t: RecommendationsTarget) -> dict[str, Any]:
    """The entities and feature views the models read (a new version only when a query changed)."""
    spec = features_spec(t)
    done = call(cur, t, "features", spec)
    views = ", ".join(f"{v['name']}/{v['version']}" for v in spec["feature_views"])
    console.print(f"  feature store: entities {', '.join(ENTITIES)}; views {views}")
    return done


def release(cur: Any, t: RecommendationsTarget, key: str, path: Path, *, promote: bool) -> dict[str, Any]:
    """A trained model to the stage's runs/<version>/ and into the registry as that version (`candidate`);
    promoted (the publish gate passed), it becomes `production` and the file the UDF or the API reads."""
    version = run_version(t)
    spec = _model_spec(t, key, version)
    if path.name != spec["file"]:
        raise LoadError(f"{key}: model file {path.name!r}, expected {spec['file']!r}")
    metrics_file = t.artifacts / METRICS_FILES[key]
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    cur.execute(f"PUT 'file://{path}' @{spec['stage']}/runs/{version}/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
    spec |= {
        "features": list(MODELS[key].features),
        "metrics": metrics,
        "promote": promote,
        "comment": f"train step on {t.stack}, as of {t.scale.as_of.isoformat()}",
    }
    done = call(cur, t, "log", spec)
    where = "production (published)" if promote else "candidate only (production unchanged)"
    console.print(f"  registry: {spec['model']} version {version} → {where}")
    return done


def promote(cur: Any, t: RecommendationsTarget, key: str, version: str) -> dict[str, Any]:
    """`production` moved to an existing version and its file published: a promotion by hand, or a rollback."""
    spec = _model_spec(t, key, version.upper())
    done = call(cur, t, "promote", spec)
    console.print(f"  registry: {spec['model']} production → {spec['version']} (published)")
    return done
