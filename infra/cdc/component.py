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
from infra.grants import RoleGrants, quote_output
from infra.naming import object_ref, slug
from infra.pipeline import PipelineArgs, PipelineComponent
from infra.tables import catalog_dynamic_table, catalog_table


@dataclass(kw_only=True)
class OrderChangesArgs(PipelineArgs):
    config: CdcConfig
    load_warehouse: pulumi.Input[str]
    analyst_role: pulumi.Input[str]
    service_user: pulumi.Input[str]


class OrderChanges(PipelineComponent):
    """Change log → current orders → derived orders → monthly aggregates; the generator may only insert."""

    change_log: snowflake.Table
    dynamic_tables: dict[str, snowflake.DynamicTable]
    writer_role: snowflake.AccountRole

    def __init__(self, name: str, args: OrderChangesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:cdc:OrderChanges", name, args, opts)
        self._state()
        self._derived()
        self._writer()
        self._operators()
        self.register_outputs(
            {
                "change_log": self.change_log.fully_qualified_name,
                "orders_aggregated": self.dynamic_tables["orders_aggregated"].fully_qualified_name,
                "monitoring": self.monitoring.fully_qualified_name,
                "orders_with_age": self.orders_with_age.fully_qualified_name,
                "writer_role": self.writer_role.name,
            }
        )

    def _state(self) -> None:
        """The change log (the pipeline's only state), the id sequences and the generator's stage."""
        name, args, db = self._name, self._args, self._db
        self.change_log = catalog_table(
            f"{name}-change-log",
            CATALOG,
            "changes",
            database=db,
            columns=[(c, t) for c, t, _ in CHANGE_COLUMNS],
            not_null=[c for c, _, null in CHANGE_COLUMNS if not null],
            change_tracking=True,
            comment="append-only log of order changes: full image, CHANGE_TYPE, CHANGE_SEQ (commit order)",
            opts=args.kept(self),  # the log is the pipeline's only state
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
                opts=args.kept(self),  # re-created, it would hand out ids again
            )
            for key in SEQUENCES
        }
        self.stage = snowflake.StageInternal(
            f"{name}-stage",
            database=db,
            schema=CATALOG.schema("stage"),
            name=CATALOG.name("stage"),
            comment="Parquet batches of the change generator, COPY'd into ORDER_CHANGES and purged",
            opts=args.on("sysadmin", self),
        )

    def _derived(self) -> None:
        """The incremental dynamic tables, the monitoring view and the task refreshing the top table."""
        name, args, db, cfg = self._name, self._args, self._db, self._args.config
        self.dynamic_tables = {}
        for key, dt in DYNAMIC_TABLES.items():
            inputs = [self.change_log if s == "changes" else self.dynamic_tables[s] for s in dt.sources]
            self.dynamic_tables[key] = catalog_dynamic_table(
                f"{name}-{slug(key)}",
                CATALOG,
                key,
                database=db,
                lag=dt.lag if dt.lag == "DOWNSTREAM" else getattr(cfg.lags, dt.lag),
                refresh_mode="INCREMENTAL",  # fails at deploy, not silently FULL, if the query stops qualifying
                initialize="ON_CREATE",
                warehouse=args.transform_warehouse,
                query=lambda d, k=key: catalog.dynamic_table_sql(d, k),
                comment=f"{key} (sql/{dt.sql})",
                opts=args.kept(self, depends_on=inputs),
            )
        self.monitoring = snowflake.View(
            f"{name}-monitoring",
            database=db,
            schema=CATALOG.schema("monitoring"),
            name=CATALOG.name("monitoring"),
            statement=db.apply(catalog.monitoring_sql),
            comment="order changes per hour by type, and how far each CDC dynamic table is behind the log",
            opts=args.on("sysadmin", self, depends_on=[self.change_log, *self.dynamic_tables.values()]),
        )
        self.orders_with_age = snowflake.View(
            f"{name}-orders-with-age",
            database=db,
            schema=CATALOG.schema("orders_with_age"),
            name=CATALOG.name("orders_with_age"),
            statement=db.apply(catalog.orders_with_age_sql),
            comment="ORDERS_DERIVED with DAYS_SINCE_ORDER as of the query (an incremental table cannot hold it)",
            opts=args.on("sysadmin", self, depends_on=[self.dynamic_tables["orders_derived"]]),
        )
        top = self.dynamic_tables["orders_aggregated"]
        self.refresh_task = self._task(
            f"{name}-refresh-task",
            CATALOG,
            "refresh_task",
            schedule={"minutes": cfg.refresh_minutes},
            sql=catalog.refresh_task_sql,
            started=cfg.task_enabled,
            comment=f"refreshes {CATALOG.name('orders_aggregated')} and what it reads, every {cfg.refresh_minutes} min",
            depends_on=[top],
        )

    def _writer(self) -> None:
        """The generator's role may insert into the change log and nothing else (plus what inserting
        needs: the stage it copies from, the sequences it numbers with, a warehouse)."""
        args, db = self._args, self._db
        g = RoleGrants(self._name, args.on("securityadmin", self))
        self.writer_role = g.role(
            "writer-role", args.naming.sf("CDC_WRITER"), "order change generator: INSERT into ORDER_CHANGES only"
        )
        writer = self.writer_role.name
        g.inherit("writer-to-admin", writer, to_role=args.providers.owner_role)
        g.inherit("writer-to-service-user", writer, to_user=args.service_user)
        g.grant("writer-db", writer, ["USAGE"], on_account_object=object_ref("DATABASE", db))
        g.grant("writer-wh", writer, ["USAGE"], on_account_object=object_ref("WAREHOUSE", args.load_warehouse))
        schema = quote_output(db, CATALOG.schema("changes"))
        g.grant("writer-schema", writer, ["USAGE"], on_schema={"schema_name": schema})
        g.on_object("writer-log", writer, ["INSERT"], "TABLE", self.change_log)
        g.on_object("writer-stage", writer, ["READ", "WRITE"], "STAGE", self.stage)
        for key, sequence in self.sequences.items():
            g.on_object(f"writer-{slug(key)}", writer, ["USAGE"], "SEQUENCE", sequence)

    def _operators(self) -> None:
        """TRANSFORMER operates the tables and the task; ANALYST monitors the tables it reads (SELECT
        comes with GOLD/SILVER)."""
        args = self._args
        g = RoleGrants(self._name, args.on("securityadmin", self))
        g.on_object("transformer-task", args.transformer_role, ["OPERATE", "MONITOR"], "TASK", self.refresh_task)
        for key, table in self.dynamic_tables.items():
            privileges = ["OPERATE", "MONITOR", "SELECT"]
            g.on_object(f"transformer-dt-{slug(key)}", args.transformer_role, privileges, "DYNAMIC TABLE", table)
        for key, table in self.dynamic_tables.items():
            g.on_object(f"analyst-dt-{slug(key)}", args.analyst_role, ["MONITOR"], "DYNAMIC TABLE", table)
