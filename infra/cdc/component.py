"""The order CDC pipeline in Snowflake: the append-only change log ORDER_CHANGES with change tracking,
ORDERS_CURRENT → ORDERS_DERIVED → ORDERS_AGGREGATED as incremental dynamic tables, the CDC_MONITORING
view, the task that refreshes the top table on schedule, and the generator's insert-only role.

Every SQL body comes from sql/cdc/ through the catalog, the files the local rehearsal runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.cdc import catalog
from infra.cdc.catalog import BLOCK, CATALOG, CHANGE_COLUMNS, DYNAMIC_TABLES, SEQUENCES
from infra.cdc.config import CdcConfig
from infra.config.base import target_lag
from infra.naming import quote, slug
from infra.pipeline import PipelineArgs


@dataclass(kw_only=True)
class OrderChangesArgs(PipelineArgs):
    config: CdcConfig
    load_warehouse: pulumi.Input[str]
    analyst_role: pulumi.Input[str]
    service_user: pulumi.Input[str]


class OrderChanges(pulumi.ComponentResource):
    """Change log → current orders → derived orders → monthly aggregates; the generator may only insert."""

    change_log: snowflake.Table
    dynamic_tables: dict[str, snowflake.DynamicTable]
    writer_role: snowflake.AccountRole

    def __init__(self, name: str, args: OrderChangesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:cdc:OrderChanges", name, None, opts)
        db = pulumi.Output.from_input(args.database)
        cfg, prov = args.config, args.providers
        as_sys = prov.on("sysadmin", self)

        self.change_log = snowflake.Table(
            f"{name}-change-log",
            database=db,
            schema=CATALOG.schema("changes"),
            name=CATALOG.name("changes"),
            columns=[{"name": c, "type": t, "nullable": null} for c, t, null in CHANGE_COLUMNS],
            change_tracking=True,
            comment="append-only log of order changes: full image, CHANGE_TYPE, CHANGE_SEQ (commit order)",
            opts=prov.on("sysadmin", self, protect=args.protect),  # the log is the pipeline's only state
        )
        self.sequences = {
            key: snowflake.Sequence(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                increment=BLOCK,
                ordering="ORDER",
                comment=f"blocks of {BLOCK:,} {key.replace('_', ' ')} for change writers",
                opts=prov.on("sysadmin", self, protect=args.protect),  # re-created, it would hand out ids again
            )
            for key in SEQUENCES
        }
        self.stage = snowflake.StageInternal(
            f"{name}-stage",
            database=db,
            schema=CATALOG.schema("stage"),
            name=CATALOG.name("stage"),
            comment="Parquet batches of the change generator, COPY'd into ORDER_CHANGES and purged",
            opts=as_sys,
        )
        self.dynamic_tables = {}
        for key, dt in DYNAMIC_TABLES.items():
            lag = dt.lag if dt.lag == "DOWNSTREAM" else getattr(cfg.lags, dt.lag)
            inputs = [self.change_log if s == "changes" else self.dynamic_tables[s] for s in dt.sources]
            self.dynamic_tables[key] = snowflake.DynamicTable(
                f"{name}-{slug(key)}",
                database=db,
                schema=CATALOG.schema(key),
                name=CATALOG.name(key),
                target_lag=target_lag(lag),
                refresh_mode="INCREMENTAL",  # fails at deploy, not silently FULL, if the query stops qualifying
                initialize="ON_CREATE",
                warehouse=args.transform_warehouse,
                query=db.apply(lambda d, k=key: catalog.dynamic_table_sql(d, k)),
                comment=f"{key} (sql/{dt.sql})",
                opts=pulumi.ResourceOptions.merge(
                    as_sys, pulumi.ResourceOptions(depends_on=inputs, protect=args.protect)
                ),
            )
        self.monitoring = snowflake.View(
            f"{name}-monitoring",
            database=db,
            schema=CATALOG.schema("monitoring"),
            name=CATALOG.name("monitoring"),
            statement=db.apply(catalog.monitoring_sql),
            comment="order changes per hour by type, and how far each CDC dynamic table is behind the log",
            opts=pulumi.ResourceOptions.merge(
                as_sys, pulumi.ResourceOptions(depends_on=[self.change_log, *self.dynamic_tables.values()])
            ),
        )
        top = self.dynamic_tables["orders_aggregated"]
        self.refresh_task = snowflake.Task(
            f"{name}-refresh-task",
            database=db,
            schema=CATALOG.schema("refresh_task"),
            name=CATALOG.name("refresh_task"),
            warehouse=args.transform_warehouse,
            schedule={"minutes": cfg.refresh_minutes},
            sql_statement=db.apply(catalog.refresh_task_sql),
            started=cfg.task_enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            comment=f"refreshes {CATALOG.name('orders_aggregated')} and what it reads, every {cfg.refresh_minutes} min",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[top])),
        )
        self._access(name, args)
        self.register_outputs(
            {
                "change_log": self.change_log.fully_qualified_name,
                "orders_aggregated": top.fully_qualified_name,
                "monitoring": self.monitoring.fully_qualified_name,
                "writer_role": self.writer_role.name,
            }
        )

    def _access(self, name: str, args: OrderChangesArgs) -> None:
        """The generator's role may insert into the change log and nothing else (plus what inserting
        needs: the stage it copies from, the sequences it numbers with, a warehouse); TRANSFORMER operates
        the tables and the task; ANALYST monitors the tables it reads (SELECT comes with GOLD/SILVER)."""
        as_sec = args.providers.on("securityadmin", self)
        self.writer_role = snowflake.AccountRole(
            f"{name}-writer-role",
            name=args.naming.sf("CDC_WRITER"),
            comment="order change generator: INSERT into ORDER_CHANGES only",
            opts=as_sec,
        )
        writer = self.writer_role.name
        snowflake.GrantAccountRole(f"{name}-writer-to-sysadmin", role_name=writer, parent_role_name="SYSADMIN",
                                   opts=as_sec)  # fmt: skip
        snowflake.GrantAccountRole(f"{name}-writer-to-service-user", role_name=writer, user_name=args.service_user,
                                   opts=as_sec)  # fmt: skip
        db = pulumi.Output.from_input(args.database)
        schema = db.apply(lambda d: quote(d, CATALOG.schema("changes")))
        grants = [
            ("writer-db", writer, ["USAGE"], {"on_account_object": {"object_type": "DATABASE", "object_name": db}}),
            ("writer-wh", writer, ["USAGE"],
             {"on_account_object": {"object_type": "WAREHOUSE", "object_name": args.load_warehouse}}),
            ("writer-schema", writer, ["USAGE"], {"on_schema": {"schema_name": schema}}),
            ("writer-log", writer, ["INSERT"], _obj("TABLE", self.change_log)),
            ("writer-stage", writer, ["READ", "WRITE"], _obj("STAGE", self.stage)),
            *((f"writer-{slug(k)}", writer, ["USAGE"], _obj("SEQUENCE", s)) for k, s in self.sequences.items()),
            ("transformer-task", args.transformer_role, ["OPERATE", "MONITOR"], _obj("TASK", self.refresh_task)),
            *((f"transformer-dt-{slug(k)}", args.transformer_role, ["OPERATE", "MONITOR", "SELECT"],
               _obj("DYNAMIC TABLE", t)) for k, t in self.dynamic_tables.items()),
            *((f"analyst-dt-{slug(k)}", args.analyst_role, ["MONITOR"], _obj("DYNAMIC TABLE", t))
              for k, t in self.dynamic_tables.items()),
        ]  # fmt: skip
        for label, role, privileges, on in grants:
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-{label}", account_role_name=role, privileges=privileges, opts=as_sec, **on
            )


def _obj(kind: str, resource: pulumi.CustomResource) -> dict:
    return {"on_schema_object": {"object_type": kind, "object_name": resource.fully_qualified_name}}  # type: ignore[attr-defined]
