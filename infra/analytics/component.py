"""The e-commerce analytics pipeline in Snowflake: source tables in BRONZE with change tracking, one
stream per consumer, the dynamic tables in SILVER, the SCD2 star schema in GOLD, the procedures that
each run as one transaction, and the task graphs dimensions → facts and summary, each on its own cadence
(infra/analytics/tasks.py: why the summary still only sees loaded facts).

Every SQL body comes from sql/analytics/ through the catalog, the files the local rehearsal runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.analytics import catalog
from infra.analytics.catalog import (
    CATALOG,
    CLUSTER_BY,
    DYNAMIC_TABLES,
    LOADER_WRITES,
    PRIMARY_KEYS,
    PROCEDURES,
    STREAMS,
    TABLES,
    TASKS,
)
from infra.analytics.config import AnalyticsConfig
from infra.grants import RoleGrants
from infra.naming import slug
from infra.pipeline import PipelineArgs, PipelineComponent
from infra.tables import catalog_dynamic_table, catalog_table

SOURCES = ("customers", "products", "orders", "order_items", "movements")
TRACKED = {*SOURCES, *(s.table for s in STREAMS.values())}  # change tracking: what a stream reads


@dataclass(kw_only=True)
class CommerceAnalyticsArgs(PipelineArgs):
    config: AnalyticsConfig
    loader_role: pulumi.Input[str]  # writes the sources (generate, changes) through the load stage


class CommerceAnalytics(PipelineComponent):
    """Sources → streams → procedures on a task graph → star schema; sources → dynamic tables."""

    tables: dict[str, snowflake.Table]
    streams: dict[str, snowflake.StreamOnTable]
    dynamic_tables: dict[str, snowflake.DynamicTable]
    tasks: dict[str, snowflake.Task]

    def __init__(self, name: str, args: CommerceAnalyticsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:analytics:CommerceAnalytics", name, args, opts)
        self._tables_and_streams()
        self._dynamic_tables()
        self._task_graph()
        self._load_stage()
        g = RoleGrants(f"{name}-transformer", args.on("securityadmin", self))
        role = args.transformer_role
        for key, task in self.tasks.items():
            g.on_object(f"task-{slug(key)}", role, ["OPERATE", "MONITOR"], "TASK", task)
        for key, procedure in self.procedures.items():
            g.on_object(f"procedure-{slug(key)}", role, ["USAGE"], "PROCEDURE", procedure)
        for key, table in self.dynamic_tables.items():
            g.on_object(f"dt-{slug(key)}", role, ["OPERATE", "MONITOR", "SELECT"], "DYNAMIC TABLE", table)
        self.register_outputs(
            {
                "root_task": self.tasks["dimensions_task"].fully_qualified_name,
                "summary_task": self.tasks["summary_task"].fully_qualified_name,
                "fact_sales": self.tables["facts"].fully_qualified_name,
                "daily_sales_summary": self.tables["summary"].fully_qualified_name,
            }
        )

    def _tables_and_streams(self) -> None:
        """Every table (sources with change tracking) and one stream per consuming procedure."""
        name, args, db = self._name, self._args, self._db
        # every table holds pipeline state (work tables too, mid-run): protected where the stack protects
        self.tables = {
            key: catalog_table(
                f"{name}-{slug(key)}",
                CATALOG,
                key,
                database=db,
                columns=cols,
                primary_key=PRIMARY_KEYS.get(key),
                change_tracking=key in TRACKED,
                cluster_by=CLUSTER_BY.get(key, ()),
                opts=args.kept(self),
            )
            for key, (_, _, cols) in TABLES.items()
        }
        self.streams = {
            key: snowflake.StreamOnTable(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                table=self.tables[s.table].fully_qualified_name,
                append_only="true" if s.append_only else "false",
                comment=f"changes of {TABLES[s.table][1]} for the {s.consumer} procedure",
                opts=args.kept(self),  # the offset is state
            )
            for key, s in STREAMS.items()
        }

    def _load_stage(self) -> None:
        """The internal stage the loader bulk-loads the sources through (PUT, then COPY … PURGE), so no
        step creates a temporary stage: LOADER may read and write it, and write the sources."""
        name, args = self._name, self._args
        self.load_stage = snowflake.StageInternal(
            f"{name}-load-stage",
            database=self._db,
            schema=CATALOG.schema("load_stage"),
            name=CATALOG.name("load_stage"),
            comment="Parquet batches of the sources, COPY'd into the SHOP_* tables and purged",
            # files live here only until COPY purges them; protected where the stack protects all the same,
            # as the policy pack asks of every internal stage it does not exempt (ORDER_CHANGES_STAGE is)
            opts=args.kept(self),
        )
        g = RoleGrants(f"{name}-loader", args.on("securityadmin", self))
        g.on_object("stage", args.loader_role, ["READ", "WRITE"], "STAGE", self.load_stage)
        for key, privileges in LOADER_WRITES.items():
            g.on_object(slug(key), args.loader_role, privileges, "TABLE", self.tables[key])

    def _dynamic_tables(self) -> None:
        """The SILVER dynamic tables the dashboard reads, each after what it reads."""
        self.dynamic_tables = {}
        for key, dt in DYNAMIC_TABLES.items():
            inputs = [self.tables[s] if s in self.tables else self.dynamic_tables[s] for s in dt.sources]
            self.dynamic_tables[key] = catalog_dynamic_table(
                f"{self._name}-{slug(key)}",
                CATALOG,
                key,
                database=self._db,
                lag=dt.lag if dt.lag == "DOWNSTREAM" else getattr(self._args.config.lags, dt.lag),
                warehouse=self._args.transform_warehouse,
                query=lambda d, k=key: catalog.dynamic_table_sql(d, k),
                comment=f"{key} (sql/{dt.sql})",
                # re-created, a dynamic table is a full re-materialization readers wait for: protected too
                opts=self._args.kept(self, depends_on=inputs),
            )

    def _task_graph(self) -> None:
        """The procedures (each one transaction) and the task graphs dimensions → facts and summary."""
        name, args, db, cfg = self._name, self._args, self._db, self._args.config
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
                opts=args.on("sysadmin", self, depends_on=[*self.tables.values(), *self.streams.values()]),
            )
            for key, (pname, purpose) in PROCEDURES.items()
        }
        self.tasks = {}
        for key, t in TASKS.items():
            root = t.after is None
            when = f"scheduled root, {t.schedule}" if root else f"after {TASKS[t.after].name}"
            self.tasks[key] = self._task(
                f"{name}-{slug(key)}",
                CATALOG,
                key,
                schedule={"using_cron": f"{getattr(cfg, t.schedule)} {cfg.task_timezone}"} if root else None,
                when=db.apply(lambda d, k=key: catalog.root_when_sql(d, k)) if root else None,
                afters=None if root else [self.tasks[t.after].fully_qualified_name],
                sql=lambda d, k=key: catalog.task_call_sql(d, k),
                started=cfg.tasks_enabled,
                comment=f"{PROCEDURES[t.procedure][1]} ({when})",
                depends_on=[self.procedures[t.procedure]],
            )
