"""Fakes of a Snowpark session and of snowflake.ml that record every call and keep aliases as Snowflake
does (one version per alias), and a cursor whose CALL of ML_REGISTRY.REGISTRY_OPS runs the procedure's
own body against them: what tests/recommendations/test_registry.py drives `train`'s registry calls with."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from infra.recommendations import catalog
from infra.sqlfiles import load_module

HANDLER = load_module(catalog.REGISTRY_HANDLER_FILE)
DB = "RDP_DEV_RETAIL"
STAGE = f'"{DB}"."ML_REGISTRY"."MODEL_STAGE"'


# ------------------------------------------------------------------------------ the fakes
class FakeDataFrame:
    def __init__(self, query: str, dropped: tuple[str, ...] = ()) -> None:
        self.query, self.dropped = query, dropped

    def drop(self, *cols: str) -> FakeDataFrame:
        return FakeDataFrame(self.query, self.dropped + cols)


class FakeSession:
    """Snowpark's session as the handler uses it: sql(), file.get() and the stage's files."""

    COPY = re.compile(r"COPY FILES INTO @(?P<into>.+)/ FROM @(?P<src>.+)/ FILES = \('(?P<file>[^']+)'\)$")

    def __init__(self, stage: dict[str, bytes]) -> None:
        self.stage, self.statements = stage, []
        self.file = SimpleNamespace(get=self._get)

    def sql(self, query: str) -> FakeDataFrame:
        df = FakeDataFrame(query)
        df.collect = lambda: self._run(query)
        return df

    def _run(self, query: str) -> list:
        self.statements.append(query)
        m = self.COPY.match(query)
        assert m, query
        self.stage[f"{m['into']}/{m['file']}"] = self.stage[f"{m['src']}/{m['file']}"]
        return []

    def _get(self, location: str, directory: str) -> None:
        key = location.removeprefix("@")
        (Path(directory) / key.rsplit("/", 1)[1]).write_bytes(self.stage[key])

    def get_current_warehouse(self) -> str:
        return "RDP_DEV_TRANSFORM_WH"


class FakeVersion:
    def __init__(self, model: FakeModel, name: str) -> None:
        self.model, self.version_name = model, name

    def set_alias(self, alias: str) -> None:
        held = [v for v, aliases in self.model.aliases.items() if alias.upper() in aliases]
        if held:  # Snowflake refuses an alias another version holds
            raise RuntimeError(f"alias {alias} already exists on version {held[0]}")
        self.model.aliases[self.version_name].add(alias.upper())
        self.model.calls.append(("set_alias", self.version_name, alias))

    def unset_alias(self, version_or_alias: str) -> None:
        for aliases in self.model.aliases.values():
            aliases.discard(version_or_alias.upper())
        self.model.calls.append(("unset_alias", version_or_alias))


class FakeModel:
    def __init__(self, name: str) -> None:
        self.name, self.aliases, self.calls, self._default = name, {}, [], None

    def show_versions(self) -> pd.DataFrame:
        rows = [{"name": v, "aliases": json.dumps(sorted(a))} for v, a in self.aliases.items()]
        return pd.DataFrame(rows, columns=["name", "aliases"])

    def version(self, name: str) -> FakeVersion:
        found = [v for v, a in self.aliases.items() if name.upper() in a or v == name.upper()]
        if not found:
            raise ValueError(f"Unable to find version or alias with name {name}")
        return FakeVersion(self, found[0])

    @property
    def default(self) -> str | None:
        return self._default

    @default.setter
    def default(self, version: str) -> None:
        self._default = version.upper()


class FakeML:
    """snowflake.ml's classes the handler uses, recording what they were asked."""

    def __init__(self) -> None:
        self.models: dict[str, FakeModel] = {}
        self.logged: list[dict] = []
        self.entities: list[tuple] = []
        self.views: list[tuple] = []
        self.stores: list[tuple] = []
        self.CreationMode = SimpleNamespace(FAIL_IF_NOT_EXIST="FAIL_IF_NOT_EXIST", CREATE_IF_NOT_EXIST="CREATE")
        ml = self

        class Entity:
            def __init__(self, name, join_keys, *, desc=""):
                self.name, self.join_keys, self.desc = name, join_keys, desc

        class FeatureView:
            def __init__(self, name, entities, feature_df, *, desc="", **kwargs):
                self.name, self.entities, self.feature_df, self.desc, self.kwargs = (
                    name,
                    entities,
                    feature_df,
                    desc,
                    kwargs,
                )

        class FeatureStore:
            def __init__(self, session, database, name, default_warehouse, *, creation_mode):
                ml.stores.append((database, name, default_warehouse, creation_mode))

            def register_entity(self, entity):
                ml.entities.append((entity.name, entity.join_keys, entity.desc))

            def register_feature_view(self, view, version):
                ml.views.append((view, version))

        class Registry:
            def __init__(self, session, *, database_name, schema_name):
                assert (database_name, schema_name) == (DB, "ML_REGISTRY")

            def log_model(self, model, **kw):
                model_ = ml.models.setdefault(kw["model_name"], FakeModel(kw["model_name"]))
                assert kw["version_name"].upper() not in model_.aliases, "a version is logged once"
                model_.aliases[kw["version_name"].upper()] = set()
                ml.logged.append({"model": model, **kw})

            def get_model(self, name):
                return ml.models[name]

        self.Entity, self.FeatureView, self.FeatureStore, self.Registry = Entity, FeatureView, FeatureStore, Registry


class ProcedureCursor:
    """The train step's cursor: PUT lands on the fake stage, CALL runs the procedure's body."""

    def __init__(self, ml: FakeML) -> None:
        self.ml, self.stage, self.sql = ml, {}, []
        self.session = FakeSession(self.stage)
        self._result = None

    def execute(self, sql: str, params: tuple | None = None) -> None:
        self.sql.append(sql)
        if sql.startswith("PUT "):
            m = re.match(r"PUT 'file://(?P<path>[^']+)' @(?P<to>\S+)/ ", sql)
            self.stage[f"{m['to']}/{Path(m['path']).name}"] = Path(m["path"]).read_bytes()
        elif sql.startswith("CALL "):
            assert sql == f'CALL "{DB}"."ML_REGISTRY"."REGISTRY_OPS"(%s, %s)'
            action, spec = params
            self._result = HANDLER.run.__globals__["execute"](self.session, action, json.loads(spec), self.ml)

    def fetchone(self) -> tuple:
        return (json.dumps(self._result),)
