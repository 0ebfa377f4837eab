"""The recommendations data plane in Snowflake: reference and generated tables, the GENERATE_*
Python UDTFs, CUSTOMER_360 (dynamic table), the per-category feature view, the propensity scoring
UDF and model stage, and the two refresh tasks.

Every SQL body and handler comes from sql/recommendations/, the files the post-deploy loads run.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.config.base import target_lag
from infra.pipeline import PipelineArgs
from infra.recommendations import catalog
from infra.recommendations.config import RecommendationsConfig
from infra.sqlfiles import load_module, read_sql

PYTHON_RUNTIME = "3.11"


@dataclass(kw_only=True)
class RecommendationsDataArgs(PipelineArgs):
    config: RecommendationsConfig


class RecommendationsData(pulumi.ComponentResource):
    """Tables, generators, CUSTOMER_360 and the refresh tasks of the recommendations system."""

    tables: dict[str, snowflake.Table]
    customer_360: snowflake.DynamicTable

    def __init__(self, name: str, args: RecommendationsDataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:recommendations:RecommendationsData", name, None, opts)
        db = pulumi.Output.from_input(args.database)
        cfg = args.config
        as_sys = args.providers.on("sysadmin", self)
        kept = pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(protect=args.protect))

        self.tables = {
            tname: snowflake.Table(
                f"{name}-{tname.lower().replace('_', '-')}",
                database=db,
                schema=schema,
                name=tname,
                columns=[{"name": c, "type": t} for c, t in cols],
                opts=kept,
            )
            for tname, (schema, cols) in catalog.TABLES.items()
        }
        handler_code = read_sql("recommendations/udtf/retail_generators.py")
        self.udtfs = {
            fname: snowflake.FunctionPython(
                f"{name}-{fname.lower().replace('_', '-')}",
                database=db,
                schema=catalog.CATALOG.schema(fname),
                name=fname,
                arguments=[{"arg_name": a, "arg_data_type": t} for a, t in fargs],
                return_type=catalog.udtf_return_type(cols),
                runtime_version=PYTHON_RUNTIME,
                handler=handler,
                packages=packages or None,
                function_definition=handler_code,
                comment=f"synthetic data generator ({handler} in sql/recommendations/udtf/retail_generators.py)",
                opts=as_sys,
            )
            for fname, (handler, fargs, cols, packages) in catalog.UDTFS.items()
        }
        raw = [self.tables[t] for t in ("CUSTOMERS", "EVENT_STREAM", "PRODUCT_CATEGORIES")]
        self.customer_360 = snowflake.DynamicTable(
            f"{name}-customer-360",
            database=db,
            schema=catalog.CATALOG.schema("CUSTOMER_360"),
            name="CUSTOMER_360",
            target_lag=target_lag(cfg.customer360_target_lag),
            warehouse=args.transform_warehouse,
            query=db.apply(catalog.customer_360_sql),
            comment="Customer 360 profile: RFM segment, engagement, abandonment, favourites",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=raw, protect=args.protect)),
        )
        self.features_view = snowflake.View(
            f"{name}-customer-category-features",
            database=db,
            schema=catalog.CATALOG.schema("CUSTOMER_CATEGORY_FEATURES"),
            name="CUSTOMER_CATEGORY_FEATURES",
            statement=db.apply(lambda d: catalog.category_features_sql(d, "CURRENT_TIMESTAMP()")),
            comment="propensity features per (customer, category), as of now",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=raw)),
        )
        signal_inputs = [self.tables[t] for t in ("EVENT_STREAM", "PRODUCT_CATALOG")]
        self.signal_views = {
            view: snowflake.View(
                f"{name}-{view.lower().replace('_', '-')}",
                database=db,
                schema=catalog.CATALOG.schema(view),
                name=view,
                statement=db.apply(lambda d, v=view: catalog.pair_signals_sql(d, "CURRENT_TIMESTAMP()")[v]),
                comment="ranking model inputs, as of now (sql/recommendations/pair_signals.sql)",
                opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=signal_inputs)),
            )
            for view in catalog.PAIR_SIGNALS
        }
        self.model_stage = snowflake.StageInternal(
            f"{name}-model-stage",
            database=db,
            schema=catalog.CATALOG.schema("MODEL_STAGE"),
            name="MODEL_STAGE",
            comment="propensity model artifacts uploaded by the post-deploy `train` step",
            opts=kept,  # the trained models
        )
        udf_code = read_sql("recommendations/udf/predict_propensity.py")
        features = load_module(catalog.PROPENSITY_UDF_FILE).FEATURES
        self.predict = snowflake.FunctionPython(
            f"{name}-predict-propensity",
            database=db,
            schema=catalog.CATALOG.schema("PREDICT_PROPENSITY"),
            name="PREDICT_PROPENSITY",
            arguments=[{"arg_name": f, "arg_data_type": "FLOAT"} for f in features],
            return_type="FLOAT",
            runtime_version=PYTHON_RUNTIME,
            handler="predict",
            packages=["xgboost", "numpy", "snowflake-snowpark-python"],
            function_definition=db.apply(
                lambda d: f"MODEL_LOCATION = '@{catalog.q(d, 'MODEL_STAGE')}/propensity_model.json'\n" + udf_code
            ),
            comment="XGBoost category propensity (sql/recommendations/udf/predict_propensity.py)",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.model_stage])),
        )
        self.refresh_recommendations = snowflake.Task(
            f"{name}-refresh-recommendations",
            database=db,
            schema=catalog.CATALOG.schema("REFRESH_RECOMMENDATIONS_TASK"),
            name="REFRESH_RECOMMENDATIONS_TASK",
            warehouse=args.transform_warehouse,
            schedule={"using_cron": f"{cfg.refresh_schedule} {cfg.task_timezone}"},
            sql_statement=db.apply(lambda d: catalog.refresh_recommendations_sql(d).strip()),
            started=cfg.tasks_enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            comment="USER_PRODUCT_RECOMMENDATIONS: top 5 of each user's favourite category, in stock at home",
            opts=pulumi.ResourceOptions.merge(
                as_sys,
                pulumi.ResourceOptions(
                    depends_on=[
                        self.customer_360,
                        *(self.tables[t] for t in ("INVENTORY", "USER_PRODUCT_RECOMMENDATIONS")),
                    ]
                ),
            ),
        )
        self.refresh_propensity = snowflake.Task(
            f"{name}-refresh-propensity",
            database=db,
            schema=catalog.CATALOG.schema("REFRESH_PROPENSITY_TASK"),
            name="REFRESH_PROPENSITY_TASK",
            warehouse=args.transform_warehouse,
            schedule={"using_cron": f"{cfg.propensity_schedule} {cfg.task_timezone}"},
            sql_statement=db.apply(lambda d: catalog.refresh_propensity_sql(d, features).strip()),
            started=cfg.tasks_enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            comment="daily: CUSTOMER_PROPENSITY for every (customer, category)",
            opts=pulumi.ResourceOptions.merge(
                as_sys,
                pulumi.ResourceOptions(
                    depends_on=[self.predict, self.features_view, self.tables["CUSTOMER_PROPENSITY"]]
                ),
            ),
        )
        as_sec = args.providers.on("securityadmin", self)
        for label, kind, obj, privs in (
            ("task-recs", "TASK", self.refresh_recommendations, ["OPERATE", "MONITOR"]),
            ("task-propensity", "TASK", self.refresh_propensity, ["OPERATE", "MONITOR"]),
            ("stage", "STAGE", self.model_stage, ["READ", "WRITE"]),
            ("dynamic-table", "DYNAMIC TABLE", self.customer_360, ["OPERATE", "MONITOR", "SELECT"]),
        ):
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-transformer-{label}",
                account_role_name=args.transformer_role,
                privileges=privs,
                on_schema_object={"object_type": kind, "object_name": obj.fully_qualified_name},
                opts=as_sec,
            )
        self.register_outputs(
            {
                "customer_360": self.customer_360.fully_qualified_name,
                "tables": {k: v.fully_qualified_name for k, v in self.tables.items()},
            }
        )
