"""The Snowflake foundation: the database, its layer schemas, warehouses and the cost guard-rails.

The resource monitor belongs to the account stack (only ACCOUNTADMIN creates or assigns one); each
warehouse is attached to it by calling the account stack's procedure for this environment, which its
admin role may call for exactly this environment's warehouses."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.foundation.catalog import (
    SCHEMAS,
    STATEMENT_TIMEOUT_SECONDS,
    WAREHOUSE_COMMENTS,
    WAREHOUSE_PURPOSES,
    warehouse_name,
)
from infra.foundation.config import Warehouses
from infra.naming import Naming
from infra.providers import Providers


@dataclass(kw_only=True)
class SnowflakeFoundationArgs:
    naming: Naming
    providers: Providers
    warehouses: Warehouses
    data_retention_days: int
    protect: bool
    # The account stack's procedure that attaches the environment's monitor (quoted). A review stack has
    # no monitor of its own (None): its warehouses are bounded by the size and auto-suspend caps and the
    # statement timeout instead, and its tasks stay suspended.
    monitor_procedure: str | None
    # The account stack's tag that puts an object under the environment's Snowflake budget (quoted), set on
    # the database so the budget tracks what it contains (serverless tasks, pipes, dynamic tables); a review
    # stack has no budget (None).
    budget_tag: str | None = None


class SnowflakeFoundation(pulumi.ComponentResource):
    """Database, schemas, and warehouses each attached to the environment's resource monitor."""

    database: snowflake.Database
    schemas: dict[str, snowflake.Schema]
    warehouses: dict[str, snowflake.Warehouse]

    def __init__(self, name: str, args: SnowflakeFoundationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:foundation:SnowflakeFoundation", name, None, opts)
        n = args.naming
        as_sys = args.providers.on("sysadmin", self)

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

        if args.budget_tag:
            snowflake.TagAssociation(
                f"{name}-budget-scope",
                object_identifiers=[self.database.fully_qualified_name],
                object_type="DATABASE",
                tag_id=args.budget_tag,
                tag_value=n.stack,
                opts=as_sys,
            )
        self.warehouses = {}
        for purpose in WAREHOUSE_PURPOSES:
            wh_cfg = getattr(args.warehouses, purpose)
            wh = snowflake.Warehouse(
                f"{name}-wh-{purpose}",
                name=warehouse_name(n, purpose),
                warehouse_size=wh_cfg.size,
                auto_suspend=wh_cfg.auto_suspend_seconds,
                auto_resume="true",
                initially_suspended=True,
                statement_timeout_in_seconds=STATEMENT_TIMEOUT_SECONDS,
                comment=WAREHOUSE_COMMENTS[purpose],
                opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(ignore_changes=["resourceMonitor"])),
            )
            if args.monitor_procedure:
                self._attach(f"{name}-wh-{purpose}-attach", wh, args.monitor_procedure, as_sys)
            self.warehouses[purpose] = wh
        self.register_outputs(
            {
                "database": self.database.name,
                "warehouses": {k: v.name for k, v in self.warehouses.items()},
            }
        )

    def _attach(self, logical: str, wh: snowflake.Warehouse, procedure: str, opts: pulumi.ResourceOptions) -> None:
        """The warehouse under the environment's monitor, through the account stack's procedure (detached
        when the warehouse is dropped, so the revert has nothing to undo)."""
        snowflake.Execute(
            logical,
            execute=wh.name.apply(lambda w: f"CALL {procedure}('{w}')"),
            revert="SELECT 1",
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[wh])),
        )
