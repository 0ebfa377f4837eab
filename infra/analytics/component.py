"""The e-commerce analytics pipeline in Snowflake: source tables in BRONZE with change tracking, one
stream per consumer, the dynamic tables in SILVER, the SCD2 star schema in GOLD, the procedures that
each run as one transaction, and the task graph dimensions → facts → summary.

Every SQL body comes from sql/analytics/ through the catalog, the files the local rehearsal runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.analytics import catalog
from infra.analytics.catalog import CATALOG, DYNAMIC_TABLES, PRIMARY_KEYS, PROCEDURES, STREAMS, TABLES, TASKS
from infra.analytics.config import AnalyticsConfig
from infra.config.base import target_lag
from infra.naming import slug
from infra.pipeline import PipelineArgs

SOURCES = ("customers", "products", "orders", "order_items", "movements")


@dataclass(kw_only=True)
class CommerceAnalyticsArgs(PipelineArgs):
    config: AnalyticsConfig


class CommerceAnalytics(pulumi.ComponentResource):
    """Sources → streams → procedures on a task graph → star schema; sources → dynamic tables."""

    tables: dict[str, snowflake.Table]
    streams: dict[str, snowflake.StreamOnTable]
    dynamic_tables: dict[str, snowflake.DynamicTable]
    tasks: dict[str, snowflake.Task]

    def __init__(self, name: str, args: CommerceAnalyticsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:analytics:CommerceAnalytics", name, None, opts)
        db = pulumi.Output.from_input(args.database)
        cfg, prov = args.config, args.providers
        as_sys = prov.on("sysadmin", self)

        self.tables = {}
        for key, (schema, tname, cols) in TABLES.items():
            pk = PRIMARY_KEYS.get(key)
            self.tables[key] = snowflake.Table(
                f"{name}-{slug(key)}",
                database=db,
                schema=schema,
                name=tname,
                columns=[{"name": c, "type": t, "nullable": c != pk} for c, t in cols],
                primary_key={"keys": [pk]} if pk else None,
                change_tracking=key in SOURCES,
                # every table holds pipeline state (work tables too, mid-run): protected where the stack protects
                opts=prov.on("sysadmin", self, protect=args.protect),
            )
        self.streams = {
            key: snowflake.StreamOnTable(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                table=self.tables[s.table].fully_qualified_name,
                append_only="true" if s.append_only else "false",
                comment=f"changes of {TABLES[s.table][1]} for the {s.consumer} procedure",
                opts=prov.on("sysadmin", self, protect=args.protect),  # the offset is state
            )
            for key, s in STREAMS.items()
        }
        self.dynamic_tables = {}
        for key, dt in DYNAMIC_TABLES.items():
            lag = dt.lag if dt.lag == "DOWNSTREAM" else getattr(cfg.lags, dt.lag)
            inputs = [self.tables[s] if s in self.tables else self.dynamic_tables[s] for s in dt.sources]
            self.dynamic_tables[key] = snowflake.DynamicTable(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                target_lag=target_lag(lag),
                warehouse=args.transform_warehouse,
                query=db.apply(lambda d, k=key: catalog.dynamic_table_sql(d, k)),
                comment=f"{key} (sql/{dt.sql})",
                # re-created, a dynamic table is a full re-materialization readers wait for: protected too
                opts=pulumi.ResourceOptions.merge(
                    as_sys, pulumi.ResourceOptions(depends_on=inputs, protect=args.protect)
                ),
            )
        self.procedures = {
            key: snowflake.ProcedureSql(
                f"{name}-{slug(key)}-procedure",
                database=db,
                schema=CATALOG.schema(f"{key}_procedure"),
                name=pname,
                return_type="VARCHAR",
                execute_as="OWNER",
                procedure_definition=db.apply(lambda d, k=key: catalog.procedure_sql(d, k, cfg.date_horizon_days)),
                comment=purpose,
                opts=pulumi.ResourceOptions.merge(
                    as_sys,
                    pulumi.ResourceOptions(depends_on=[*self.tables.values(), *self.streams.values()]),
                ),
            )
            for key, (pname, purpose) in PROCEDURES.items()
        }
        self.tasks = {}
        for key, (tname, proc, after) in TASKS.items():
            root = after is None
            self.tasks[key] = snowflake.Task(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=tname,
                warehouse=args.transform_warehouse,
                schedule={"using_cron": f"{cfg.task_schedule} {cfg.task_timezone}"} if root else None,
                when=db.apply(catalog.root_when_sql) if root else None,
                afters=None if root else [self.tasks[after].fully_qualified_name],
                sql_statement=db.apply(lambda d, k=key: catalog.task_call_sql(d, k)),
                started=cfg.tasks_enabled,
                error_integration=args.error_integration if root else None,
                suspend_task_after_num_failures=3 if root else None,
                comment=f"{PROCEDURES[proc][1]} ({'scheduled root' if root else 'after ' + TASKS[after][0]})",
                opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.procedures[proc]])),
            )
        as_sec = prov.on("securityadmin", self)
        dt_privileges = ["OPERATE", "MONITOR", "SELECT"]
        grants = [
            *((f"task-{slug(k)}", "TASK", t, ["OPERATE", "MONITOR"]) for k, t in self.tasks.items()),
            *((f"procedure-{slug(k)}", "PROCEDURE", p, ["USAGE"]) for k, p in self.procedures.items()),
            *((f"dt-{slug(k)}", "DYNAMIC TABLE", t, dt_privileges) for k, t in self.dynamic_tables.items()),
        ]
        for label, kind, obj, privs in grants:
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-transformer-{label}",
                account_role_name=args.transformer_role,
                privileges=privs,
                on_schema_object={"object_type": kind, "object_name": obj.fully_qualified_name},
                opts=as_sec,
            )
        self.register_outputs(
            {
                "root_task": self.tasks["dimensions_task"].fully_qualified_name,
                "fact_sales": self.tables["facts"].fully_qualified_name,
                "daily_sales_summary": self.tables["summary"].fully_qualified_name,
            }
        )
