"""The Snowflake foundation: the database, its layer schemas, warehouses and the cost guard-rails."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.foundation.catalog import SCHEMAS, STATEMENT_TIMEOUT_SECONDS, WAREHOUSE_PURPOSES
from infra.foundation.config import ResourceMonitorConfig, Warehouses
from infra.grants import RoleGrants
from infra.naming import Naming, quote
from infra.providers import Providers


@dataclass(kw_only=True)
class SnowflakeFoundationArgs:
    naming: Naming
    providers: Providers
    warehouses: Warehouses
    monitor: ResourceMonitorConfig
    data_retention_days: int
    protect: bool
    # Only ACCOUNTADMIN (or MANAGE GRANTS) creates and assigns resource monitors and grants EXECUTE TASK;
    # a review stack deploys as the review identity, which holds neither: its warehouses are bounded by
    # the size and auto-suspend caps and the statement timeout instead, and its tasks stay suspended.
    account_admin: bool = True


class SnowflakeFoundation(pulumi.ComponentResource):
    """Database, schemas, warehouses and a resource monitor attached to every warehouse."""

    database: snowflake.Database
    schemas: dict[str, snowflake.Schema]
    warehouses: dict[str, snowflake.Warehouse]
    monitor: snowflake.ResourceMonitor | None

    def __init__(self, name: str, args: SnowflakeFoundationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:foundation:SnowflakeFoundation", name, None, opts)
        n = args.naming
        as_sys = args.providers.on("sysadmin", self)
        as_admin = args.providers.on("accountadmin", self)

        self.database = snowflake.Database(
            f"{name}-database",
            name=n.database,
            comment=f"Retail data platform ({n.stack})",
            data_retention_time_in_days=args.data_retention_days,
            drop_public_schema_on_creation=True,
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(protect=args.protect)),
        )
        self.schemas = {
            schema: snowflake.Schema(
                f"{name}-schema-{schema.lower().replace('_', '-')}",
                database=self.database.name,
                name=schema,
                comment=purpose,
                with_managed_access="true",
                data_retention_time_in_days=args.data_retention_days,
                opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(protect=args.protect)),
            )
            for schema, purpose in SCHEMAS.items()
        }

        mon = args.monitor
        # Only ACCOUNTADMIN may create resource monitors and assign them to warehouses.
        self.monitor = (
            None
            if not args.account_admin
            else snowflake.ResourceMonitor(
                f"{name}-monitor",
                name=n.sf("MONITOR"),
                credit_quota=mon.credit_quota,
                frequency=mon.frequency,
                start_timestamp="IMMEDIATELY",
                notify_triggers=mon.notify_at,
                suspend_trigger=mon.suspend_at,
                suspend_immediate_trigger=mon.suspend_immediate_at,
                opts=as_admin,
            )
        )
        self.warehouses = {}
        for purpose in WAREHOUSE_PURPOSES:
            wh_cfg = getattr(args.warehouses, purpose)
            wh = snowflake.Warehouse(
                f"{name}-wh-{purpose}",
                name=n.sf(purpose.upper(), "WH"),
                warehouse_size=wh_cfg.size,
                auto_suspend=wh_cfg.auto_suspend_seconds,
                auto_resume="true",
                initially_suspended=True,
                statement_timeout_in_seconds=STATEMENT_TIMEOUT_SECONDS,
                comment=f"{purpose} warehouse",
                opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(ignore_changes=["resourceMonitor"])),
            )
            if self.monitor is not None:
                self._attach(f"{name}-wh-{purpose}-monitor", wh, self.monitor, as_admin)
            self.warehouses[purpose] = wh
        if args.account_admin:
            self._execute_task(name, args)
        self.register_outputs(
            {
                "database": self.database.name,
                "warehouses": {k: v.name for k, v in self.warehouses.items()},
                "monitor": self.monitor.name if self.monitor is not None else None,
            }
        )

    def _attach(
        self,
        logical: str,
        wh: snowflake.Warehouse,
        monitor: snowflake.ResourceMonitor,
        as_admin: pulumi.ResourceOptions,
    ) -> None:
        snowflake.Execute(
            logical,
            execute=pulumi.Output.all(wh.name, monitor.name).apply(
                lambda a: f"ALTER WAREHOUSE {quote(a[0])} SET RESOURCE_MONITOR = {quote(a[1])}"
            ),
            revert=wh.name.apply(lambda w: f"ALTER WAREHOUSE IF EXISTS {quote(w)} UNSET RESOURCE_MONITOR"),
            opts=pulumi.ResourceOptions.merge(as_admin, pulumi.ResourceOptions(depends_on=[wh, monitor])),
        )

    def _execute_task(self, name: str, args: SnowflakeFoundationArgs) -> None:
        # SYSADMIN owns every task; a task runs (and resumes) only with EXECUTE TASK, an account privilege
        grants = RoleGrants(name, args.providers.on("securityadmin", self))
        grants.grant("sysadmin-execute-task", "SYSADMIN", ["EXECUTE TASK"], on_account=True)
