"""ML_REGISTRY.REGISTRY_OPS: the Feature Store and Model Registry side of the `train` step.

This file is the body of a Python stored procedure (handler `run`, packages snowflake-ml-python and
xgboost from Snowflake's Anaconda channel, EXECUTE AS CALLER): snowflake-ml-python cannot share the
project's environment (it pins packaging<26, the Pulumi SDK needs >=26), so it runs where Snowflake
provides it, as the role that trains, which holds CREATE TAG and CREATE VIEW on FEATURE_STORE and
CREATE MODEL on ML_REGISTRY. scripts/recommendations/registry.py builds each call's spec (entities,
feature views from sql/recommendations/, model and version names) and CALLs it; tests call `execute`
with a fake session and a fake snowflake.ml.

Actions:
- `features`: the entities and feature views (views: no refresh schedule), skipped when the same
  name and version exist (the version is a digest of the view's SQL).
- `log`: a training run's model file (PUT under the stage's runs/<version>/) logged as a version,
  `candidate` moved to it; with `promote` also `production` and the default version, and the file
  copied to the stage path the UDF and the API read: what they read is always the production version.
- `promote`: `production` (and the default version) moved to an existing version and its file copied
  to the published path: a promotion by hand, or a rollback.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

PRODUCTION, CANDIDATE = "PRODUCTION", "CANDIDATE"


class RegistryError(Exception):
    """A spec the procedure cannot carry out, worded with the field or object at fault."""


def _snowflake_ml() -> Any:
    """The snowflake.ml API, imported only inside Snowflake (the project's environment has none)."""
    from types import SimpleNamespace

    from snowflake.ml.feature_store import CreationMode, Entity, FeatureStore, FeatureView
    from snowflake.ml.registry import Registry

    return SimpleNamespace(
        Entity=Entity, FeatureView=FeatureView, FeatureStore=FeatureStore, CreationMode=CreationMode, Registry=Registry
    )


def run(session: Any, action: str, spec: str) -> str:
    """Snowflake's entry point: `spec` is the JSON the caller built; the result says what was done."""
    return json.dumps(execute(session, action, json.loads(spec), _snowflake_ml()), sort_keys=True)


def execute(session: Any, action: str, spec: dict, ml: Any) -> dict:
    """`action` with `spec`, through `ml` (snowflake.ml, or a fake in tests)."""
    actions = {"features": register_features, "log": log_version, "promote": promote}
    if action not in actions:
        raise RegistryError(f"unknown action {action!r} (known: {', '.join(sorted(actions))})")
    return actions[action](session, spec, ml)


def _need(spec: dict, *keys: str) -> list:
    missing = [k for k in keys if spec.get(k) in (None, "", [])]
    if missing:
        raise RegistryError(f"spec lacks {', '.join(missing)}")
    return [spec[k] for k in keys]


def register_features(session: Any, spec: dict, ml: Any) -> dict:
    """Entities first (a feature view names them), then each feature view at its version."""
    database, schema, entities, views = _need(spec, "database", "schema", "entities", "feature_views")
    warehouse = spec.get("warehouse") or session.get_current_warehouse()
    if not warehouse:
        raise RegistryError("no warehouse: the spec names none and the session has none in use")
    store = ml.FeatureStore(session, database, schema, warehouse, creation_mode=ml.CreationMode.FAIL_IF_NOT_EXIST)
    known = {}
    for e in entities:
        name, keys = _need(e, "name", "join_keys")
        known[name] = ml.Entity(name, keys, desc=e.get("desc", ""))
        store.register_entity(known[name])
    done = []
    for v in views:
        name, names, query, version = _need(v, "name", "entities", "query", "version")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise RegistryError(f"feature view {name} names unknown entities {unknown}")
        df = session.sql(query)
        if v.get("drop"):
            df = df.drop(*v["drop"])
        view = ml.FeatureView(name, [known[n] for n in names], df, desc=v.get("desc", ""))
        store.register_feature_view(view, version)
        done.append(f"{name}/{version}")
    return {"entities": sorted(known), "feature_views": done}


def _aliases(model: Any) -> dict[str, list[str]]:
    """Version name -> its aliases, from SHOW VERSIONS IN MODEL (`aliases` is a JSON list)."""
    rows = model.show_versions().to_dict("records")
    return {str(r["name"]).upper(): [a.upper() for a in json.loads(r.get("aliases") or "[]")] for r in rows}


def _move(model: Any, alias: str, version: str) -> None:
    """`alias` onto `version`: a model holds an alias on one version at most, so it is unset first."""
    held = _aliases(model)
    for name, aliases in held.items():
        if alias in aliases and name != version.upper():
            model.version(name).unset_alias(alias)
    if alias not in held.get(version.upper(), []):
        model.version(version).set_alias(alias)


def _publish(session: Any, spec: dict, version: str) -> None:
    """The version's own run file copied to the path the UDF and the API read."""
    stage, file = _need(spec, "stage", "file")
    session.sql(f"COPY FILES INTO @{stage}/ FROM @{stage}/runs/{version}/ FILES = ('{file}')").collect()


def log_version(session: Any, spec: dict, ml: Any) -> dict:
    """A training run's model logged as a version; `candidate` moves to it, `production` only if promoted."""
    database, schema, model_name, version, stage, file, features = _need(
        spec, "database", "schema", "model", "version", "stage", "file", "features"
    )
    import pandas as pd
    import xgboost as xgb

    booster = xgb.Booster()
    with tempfile.TemporaryDirectory() as tmp:
        session.file.get(f"@{stage}/runs/{version}/{file}", tmp)
        booster.load_model(f"{tmp}/{file}")
    registry = ml.Registry(session, database_name=database, schema_name=schema)
    registry.log_model(
        booster,
        model_name=model_name,
        version_name=version,
        comment=spec.get("comment", ""),
        metrics=spec.get("metrics") or {},
        conda_dependencies=["xgboost"],
        target_platforms=["WAREHOUSE"],
        sample_input_data=pd.DataFrame([[0.0] * len(features)], columns=features),
    )
    model = registry.get_model(model_name)
    _move(model, CANDIDATE, version)
    promoted = bool(spec.get("promote"))
    if promoted:
        _production(session, spec, model, version)
    return {"model": model_name, "version": version, "candidate": version, "promoted": promoted}


def _production(session: Any, spec: dict, model: Any, version: str) -> None:
    _move(model, PRODUCTION, version)
    model.default = version
    _publish(session, spec, version)


def promote(session: Any, spec: dict, ml: Any) -> dict:
    """`production` moved to an existing version (a promotion by hand, or a rollback)."""
    database, schema, model_name, version = _need(spec, "database", "schema", "model", "version")
    registry = ml.Registry(session, database_name=database, schema_name=schema)
    model = registry.get_model(model_name)
    names = list(_aliases(model))
    if version.upper() not in names:
        raise RegistryError(f"{model_name} has no version {version} (versions: {', '.join(sorted(names)) or 'none'})")
    _production(session, spec, model, version)
    return {"model": model_name, "production": version}
