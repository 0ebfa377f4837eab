"""The dbt layer's place in the stack: its own schemas and the one role that builds there.

dbt creates what it builds (tables, a view, the snapshot and its temporary staging table), and the
platform's service roles hold no schema DDL; so the DBT role gets CREATE only in the schemas dbt builds
in (DBT_SILVER: tables, DBT_GOLD: views), owns what it creates there, and reads nothing but the two
tables the project declares as sources. The stack's transformer service user holds the role beside
TRANSFORMER (no secondary roles: a session is one or the other), so dbt needs no key of its own. The
schemas are managed access, so the objects' owner cannot grant them on; the analysts read DBT_GOLD
through the schema owner's future grants.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.grants import Role, RoleGrants, preview_reads, quote_output
from infra.ingestion.dbt_catalog import CREATES, SCHEMAS
from infra.naming import Naming, object_ref, slug
from infra.providers import Providers

GOLD = "DBT_GOLD"


@dataclass(kw_only=True)
class DbtLayerArgs:
    naming: Naming
    providers: Providers
    protect: bool
    database: pulumi.Input[str]
    data_retention_days: int
    transform_warehouse: pulumi.Input[str]
    transformer_user: pulumi.Input[str]  # the service user that runs dbt with the DBT role
    sources: dict[str, snowflake.Table]  # dbt_catalog.SOURCE_KEYS → the declared table
    analyst_role: pulumi.Input[str]
    preview_role: Role | None = None  # the stack's CI preview role, if it has one: it sees these schemas too


class DbtLayer(pulumi.ComponentResource):
    """DBT_SILVER and DBT_GOLD, the DBT role with least privilege, and the analysts' reads of DBT_GOLD."""

    role: snowflake.AccountRole
    schemas: dict[str, snowflake.Schema]

    def __init__(self, name: str, args: DbtLayerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:ingestion:DbtLayer", name, None, opts)
        self._name, self._args = name, args
        self.schemas = {
            schema: snowflake.Schema(
                f"{name}-schema-{slug(schema.lower())}",
                database=args.database,
                name=schema,
                comment=purpose,
                with_managed_access="true",
                data_retention_time_in_days=args.data_retention_days,
                opts=args.providers.on("sysadmin", self, protect=args.protect),
            )
            for schema, purpose in SCHEMAS.items()
        }
        self._g = RoleGrants(name, args.providers.on("securityadmin", self))
        self.role = self._g.role("role", args.naming.sf("DBT"), "dbt: builds DBT_SILVER and DBT_GOLD from its sources")
        self._builder()
        self._readers()
        if args.preview_role is not None:  # as the foundation schemas: a preview's refresh reads them
            names = {schema: resource.name for schema, resource in self.schemas.items()}
            preview_reads(self._g, args.preview_role, args.database, names)
        self.register_outputs({"role": self.role.name, "schemas": {k: v.name for k, v in self.schemas.items()}})

    def _builder(self) -> None:
        """Read on the sources, CREATE in its own schemas only, the transform warehouse, and who holds it."""
        g, args, role = self._g, self._args, self.role
        g.grant("database", role, ["USAGE"], on_account_object=object_ref("DATABASE", args.database))
        g.grant("warehouse", role, ["USAGE"], on_account_object=object_ref("WAREHOUSE", args.transform_warehouse))
        for key, table in args.sources.items():
            g.grant(f"source-{key}-schema", role, ["USAGE"], on_schema={"schema_name": _schema_of(table)})
            g.on_object(f"source-{key}", role, ["SELECT"], "TABLE", table)
        for schema, resource in self.schemas.items():
            in_schema = quote_output(args.database, resource.name)
            privileges = ["USAGE", *CREATES[schema]]
            g.grant(f"{slug(schema.lower())}-create", role, privileges, on_schema={"schema_name": in_schema})
        g.inherit("to-transformer-user", role, to_user=args.transformer_user)
        g.inherit("to-admin", role, to_role=args.providers.owner_role)

    def _readers(self) -> None:
        """The analysts read what dbt builds in DBT_GOLD (its views), now and as it rebuilds them."""
        g, args = self._g, self._args
        in_gold = quote_output(args.database, self.schemas[GOLD].name)
        g.grant("analyst-gold-schema", args.analyst_role, ["USAGE"], on_schema={"schema_name": in_gold})
        for scope in ("all", "future"):
            on = {scope: {"object_type_plural": "VIEWS", "in_schema": in_gold}}
            g.grant(f"analyst-gold-{scope}-views", args.analyst_role, ["SELECT"], on_schema_object=on)


def _schema_of(table: snowflake.Table) -> pulumi.Output[str]:
    """`"DB"."SCHEMA"` of a declared table."""
    return quote_output(table.database, table.schema)
