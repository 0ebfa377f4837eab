"""The recommendations data plane in Snowflake: reference and generated tables, the GENERATE_*
Python UDTFs, CUSTOMER_360 (dynamic table), the per-category feature view, the propensity scoring
UDF and model stage, and the two refresh tasks.

Every SQL body and handler comes from sql/recommendations/, the files the post-deploy loads run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.config.base import target_lag
from infra.grants import RoleGrants
from infra.naming import slug
from infra.pipeline import PipelineArgs, PipelineComponent
from infra.recommendations import catalog
from infra.recommendations.catalog import CATALOG
from infra.recommendations.config import RecommendationsConfig
from infra.sqlfiles import load_module, read_sql
from infra.tables import catalog_table

PYTHON_RUNTIME = "3.11"
# snowflake-snowpark-python, which a Python procedure requires: snowflake-ml-python 2.x needs >= 1.43
SNOWPARK_VERSION = "1.43.0"


@dataclass(kw_only=True)
class RecommendationsDataArgs(PipelineArgs):
    config: RecommendationsConfig
    loader_role: pulumi.Input[str]  # writes the BRONZE inputs through the GENERATE_* UDTFs (generate)


class RecommendationsData(PipelineComponent):
    """Tables, generators, CUSTOMER_360 and the refresh tasks of the recommendations system."""

    tables: dict[str, snowflake.Table]
    customer_360: snowflake.DynamicTable

    def __init__(self, name: str, args: RecommendationsDataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:recommendations:RecommendationsData", name, args, opts)
        self._tables_and_generators()
        self._features()
        features = self._model()
        self._registry()
        self._tasks(features)
        grants = RoleGrants(f"{name}-transformer", args.on("securityadmin", self))
        role = args.transformer_role
        grants.on_object("task-recs", role, ["OPERATE", "MONITOR"], "TASK", self.refresh_recommendations)
        grants.on_object("task-propensity", role, ["OPERATE", "MONITOR"], "TASK", self.refresh_propensity)
        grants.on_object("stage", role, ["READ", "WRITE"], "STAGE", self.model_stage)
        grants.on_object("dynamic-table", role, ["OPERATE", "MONITOR", "SELECT"], "DYNAMIC TABLE", self.customer_360)
        # `train` scores CUSTOMER_PROPENSITY through the UDF as TRANSFORMER (the task runs as its owner)
        grants.on_object("predict-propensity", role, ["USAGE"], "FUNCTION", self.predict)
        # `train` registers the feature views and logs the models through the caller's-rights procedure;
        # the feature store tags each view it creates with its own two tags
        grants.on_object("registry-ops", role, ["USAGE"], "PROCEDURE", self.registry_ops)
        for key, tag in self.feature_store_tags.items():
            grants.on_object(f"tag-{slug(key.lower())}", role, ["APPLY"], "TAG", tag)
        # `generate` fills BRONZE as LOADER, calling the generators
        loader = RoleGrants(f"{name}-loader", args.on("securityadmin", self))
        for key, udtf in self.udtfs.items():
            loader.on_object(slug(key.lower()), args.loader_role, ["USAGE"], "FUNCTION", udtf)
        for duty, g, grantee in (("LOADER", loader, args.loader_role), ("TRANSFORMER", grants, role)):
            for key, privileges in catalog.WRITES[duty].items():
                g.on_object(f"table-{slug(key.lower())}", grantee, privileges, "TABLE", self.tables[key])
        self.register_outputs(
            {
                "customer_360": self.customer_360.fully_qualified_name,
                "tables": {k: v.fully_qualified_name for k, v in self.tables.items()},
            }
        )

    def _tables_and_generators(self) -> None:
        """The reference, generated and output tables, and the GENERATE_* UDTFs that fill them."""
        name, db = self._name, self._db
        self.tables = {
            key: catalog_table(
                f"{name}-{slug(key.lower())}",
                CATALOG,
                key,
                database=db,
                columns=cols,
                opts=self._args.kept(self),
                explicit=False,
                comment=catalog.COMMENTS[key],
            )
            for key, (_, cols) in catalog.TABLES.items()
        }
        handler_code = read_sql("recommendations/udtf/generate.py")
        self.udtfs = {
            key: snowflake.FunctionPython(
                f"{name}-{slug(key.lower())}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                arguments=[{"arg_name": a, "arg_data_type": t} for a, t in fargs],
                return_type=catalog.udtf_return_type(cols),
                runtime_version=PYTHON_RUNTIME,
                handler=handler,
                packages=packages or None,
                function_definition=handler_code,
                comment=f"synthetic data generator ({handler} in sql/recommendations/udtf/generate.py)",
                opts=self._args.on("sysadmin", self),
            )
            for key, (handler, fargs, cols, packages) in catalog.UDTFS.items()
        }

    def _features(self) -> None:
        """CUSTOMER_360, the per-category propensity features and the ranking model's input views."""
        name, db, args = self._name, self._db, self._args
        raw = [self.tables[t] for t in ("CUSTOMERS", "EVENT_STREAM", "PRODUCT_CATEGORIES")]
        self.customer_360 = snowflake.DynamicTable(
            f"{name}-customer-360",
            database=db,
            schema=CATALOG.schema("CUSTOMER_360"),
            name=CATALOG.name("CUSTOMER_360"),
            target_lag=target_lag(args.config.customer360_target_lag),
            warehouse=args.transform_warehouse,
            query=db.apply(catalog.customer_360_sql),
            comment="Customer 360 profile: RFM segment, engagement, abandonment, favourites",
            opts=args.kept(self, depends_on=raw),
        )
        now = "CURRENT_TIMESTAMP()"
        self.features_view = self._view(
            "CUSTOMER_CATEGORY_FEATURES",
            lambda d: catalog.category_features_sql(d, now),
            "propensity features per (customer, category), as of now",
            raw,
        )
        signal_inputs = [self.tables[t] for t in ("EVENT_STREAM", "PRODUCT_CATALOG")]
        self.signal_views = {
            view: self._view(
                view,
                lambda d, v=view: catalog.pair_signals_sql(d, now)[v],
                "ranking model inputs, as of now (sql/recommendations/pair_signals.sql)",
                signal_inputs,
            )
            for view in catalog.PAIR_SIGNALS
        }
        self.candidates_view = self._view(
            "CUSTOMER_CANDIDATES",
            lambda d: catalog.candidates_sql(d, now),
            "the products the ranker scores for each customer, as of now (sql/recommendations/candidates.sql)",
            [self.tables[t] for t in ("EVENT_STREAM", "PRODUCT_CATALOG", "CUSTOMERS", "INVENTORY")],
        )

    def _view(
        self, key: str, query: Callable[[str], str], comment: str, inputs: list[pulumi.Resource]
    ) -> snowflake.View:
        """A catalogue view whose statement is `query(database)`, made after the tables it reads."""
        return snowflake.View(
            f"{self._name}-{slug(key.lower())}",
            database=self._db,
            schema=CATALOG.schema(key),
            name=CATALOG.name(key),
            statement=self._db.apply(query),
            comment=comment,
            opts=self._args.on("sysadmin", self, depends_on=inputs),
        )

    def _model(self) -> list[str]:
        """The model stage the `train` step uploads to, and the propensity UDF that reads it; its features."""
        name, db, args = self._name, self._db, self._args
        self.model_stage = snowflake.StageInternal(
            f"{name}-model-stage",
            database=db,
            schema=CATALOG.schema("MODEL_STAGE"),
            name=CATALOG.name("MODEL_STAGE"),
            comment="propensity model artifacts uploaded by the post-deploy `train` step",
            opts=args.kept(self),  # the trained models
        )
        udf_code = read_sql("recommendations/udf/predict_propensity.py")
        features = load_module(catalog.PROPENSITY_UDF_FILE).FEATURES
        self.predict = snowflake.FunctionPython(
            f"{name}-predict-propensity",
            database=db,
            schema=CATALOG.schema("PREDICT_PROPENSITY"),
            name=CATALOG.name("PREDICT_PROPENSITY"),
            arguments=[{"arg_name": f, "arg_data_type": "FLOAT"} for f in features],
            return_type="FLOAT",
            runtime_version=PYTHON_RUNTIME,
            handler="predict",
            packages=["xgboost", "numpy", "snowflake-snowpark-python"],
            function_definition=db.apply(
                lambda d: f"MODEL_LOCATION = '@{catalog.q(d, 'MODEL_STAGE')}/propensity_model.json'\n" + udf_code
            ),
            comment="XGBoost category propensity (sql/recommendations/udf/predict_propensity.py)",
            opts=args.on("sysadmin", self, depends_on=[self.model_stage]),
        )
        return features

    def _registry(self) -> None:
        """The feature store's own tags and the procedure that runs snowflake-ml for `train` (as its
        caller: the objects it creates are the training role's, under the CREATE grants it holds)."""
        name, db, args = self._name, self._db, self._args
        self.feature_store_tags = {
            key: snowflake.Tag(
                f"{name}-{slug(key.lower())}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                comment="snowflake-ml feature store metadata tag (declared: the training role only applies it)",
                opts=args.on("sysadmin", self),
            )
            for key in catalog.FEATURE_STORE_TAGS
        }
        self.registry_ops = snowflake.ProcedurePython(
            f"{name}-registry-ops",
            database=db,
            schema=CATALOG.schema("REGISTRY_OPS"),
            name=CATALOG.name("REGISTRY_OPS"),
            arguments=[{"arg_name": a, "arg_data_type": "VARCHAR"} for a in ("ACTION", "SPEC")],
            return_type="VARCHAR",
            runtime_version=PYTHON_RUNTIME,
            snowpark_package=SNOWPARK_VERSION,
            packages=["snowflake-ml-python", "xgboost", "pandas"],
            handler="run",
            procedure_definition=read_sql("recommendations/ml_registry.py"),
            execute_as="CALLER",
            comment="feature store and model registry calls of `train` (sql/recommendations/ml_registry.py)",
            opts=args.on("sysadmin", self, depends_on=[self.model_stage, *self.feature_store_tags.values()]),
        )

    def _tasks(self, features: list[str]) -> None:
        """The recommendations refresh and the daily propensity scoring, on their own schedules."""
        name, cfg = self._name, self._args.config
        served = [self.customer_360, *(self.tables[t] for t in ("INVENTORY", "USER_PRODUCT_RECOMMENDATIONS"))]
        self.refresh_recommendations = self._task(
            f"{name}-refresh-recommendations",
            CATALOG,
            "REFRESH_RECOMMENDATIONS_TASK",
            schedule={"using_cron": f"{cfg.refresh_schedule} {cfg.task_timezone}"},
            sql=lambda d: catalog.refresh_recommendations_sql(d).strip(),
            started=cfg.tasks_enabled,
            comment="USER_PRODUCT_RECOMMENDATIONS: top 5 of each user's favourite category, in stock at home",
            depends_on=served,
        )
        self.refresh_propensity = self._task(
            f"{name}-refresh-propensity",
            CATALOG,
            "REFRESH_PROPENSITY_TASK",
            schedule={"using_cron": f"{cfg.propensity_schedule} {cfg.task_timezone}"},
            sql=lambda d: catalog.refresh_propensity_sql(d, features).strip(),
            started=cfg.tasks_enabled,
            comment="daily: CUSTOMER_PROPENSITY for every (customer, category)",
            depends_on=[self.predict, self.features_view, self.tables["CUSTOMER_PROPENSITY"]],
        )
