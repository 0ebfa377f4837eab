"""The role the recommendation API's containers run as, and the provider that creates them with it.

A service's owner role is the role its containers connect to Snowflake as (the SPCS token), so the
owner is a dedicated role holding exactly what the two services need: the pool, the images, the
model stage, the integration and its one secret, the serve warehouse, and SELECT on the two tables
the warehouse fallback reads. Nothing else of the stack is visible from a container. The role rolls
up to SYSADMIN (so the object owner still sees the services) and is granted to the deploy user, which
creates the services with the `owner` provider below.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.foundation.config import SnowflakeConnection
from infra.grants import RoleGrants
from infra.naming import Naming, object_ref, quote_output, slug
from infra.providers import Providers

# What the warehouse fallback reads (services/orchestrator/orchestrator/backends.py): schema → tables.
SERVED_TABLES = {"GOLD": ["USER_PRODUCT_RECOMMENDATIONS"], "BRONZE": ["PRODUCT_CATALOG", "INVENTORY"]}
SERVICE_SCHEMA = "ML_REGISTRY"


@dataclass
class ServiceOwnerArgs:
    naming: Naming
    providers: Providers
    connection: SnowflakeConnection
    private_key: pulumi.Input[str] | None
    database: pulumi.Input[str]
    pool: pulumi.Input[str]
    repository: pulumi.Input[str]  # fully qualified
    model_stage: pulumi.Input[str]  # fully qualified
    integration: pulumi.Input[str]
    secrets: list[pulumi.Input[str]]  # fully qualified: the app password and the root CA
    warehouse: pulumi.Input[str]


@dataclass
class ServiceOwner:
    role: snowflake.AccountRole
    provider: snowflake.Provider


def service_owner(name: str, parent: pulumi.Resource, args: ServiceOwnerArgs) -> ServiceOwner:
    """The API's owner role, its grants, and a provider that creates objects as that role; children of
    the API component (the pool and integration grants keep their released names)."""
    g = RoleGrants(name, args.providers.on("securityadmin", parent))
    physical = args.naming.sf("API_OWNER")
    owner = g.role("owner-role", physical, "owns the API's services: what its containers may do")
    db = args.database
    grants = [
        g.grant("owner-database", owner, ["USAGE"], on_account_object=object_ref("DATABASE", db)),
        g.grant("owner-schema", owner, ["USAGE", "CREATE SERVICE"],
                on_schema={"schema_name": quote_output(db, SERVICE_SCHEMA)}),
        g.grant("pool-usage", owner, ["USAGE", "MONITOR"], on_account_object=object_ref("COMPUTE POOL", args.pool)),
        g.grant("integration-usage", owner, ["USAGE"], on_account_object=object_ref("INTEGRATION", args.integration)),
        g.grant("owner-warehouse", owner, ["USAGE"], on_account_object=object_ref("WAREHOUSE", args.warehouse)),
        g.grant("owner-endpoint", owner, ["BIND SERVICE ENDPOINT"], on_account=True),
        g.grant("owner-images", owner, ["READ"], on_schema_object=object_ref("IMAGE REPOSITORY", args.repository)),
        g.grant("owner-models", owner, ["READ"], on_schema_object=object_ref("STAGE", args.model_stage)),
        *(g.grant(f"owner-secret-{i}", owner, ["READ"], on_schema_object=object_ref("SECRET", secret))
          for i, secret in enumerate(args.secrets)),
    ]  # fmt: skip
    for schema, tables in SERVED_TABLES.items():
        grants.append(g.grant(f"owner-{schema.lower()}", owner, ["USAGE"],
                              on_schema={"schema_name": quote_output(db, schema)}))  # fmt: skip
        grants += [
            g.grant(f"owner-{slug(table.lower())}", owner, ["SELECT"],
                    on_schema_object=object_ref("TABLE", quote_output(db, schema, table)))
            for table in tables
        ]  # fmt: skip
    grants.append(g.inherit("owner-to-sysadmin", owner, to_role="SYSADMIN"))
    grants.append(g.inherit("owner-to-deployer", owner, to_user=args.connection.deploy_user))
    provider = snowflake.Provider(
        f"{name}-owner-provider",
        organization_name=args.connection.organization,
        account_name=args.connection.account,
        user=args.providers.login.user,
        # a preview logs in read-only like every other provider; a deployment creates as the owner
        # (the role's own output: before the role exists a preview leaves the provider unconfigured)
        role=args.providers.login.roles["sysadmin"] if args.providers.login.preview else owner.name,
        authenticator="SNOWFLAKE_JWT",
        private_key=args.private_key,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=grants),
    )
    return ServiceOwner(owner, provider)
