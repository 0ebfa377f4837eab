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

from infra.config import SnowflakeConnection
from infra.naming import Naming, quote
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
    opts = args.providers.on("securityadmin", parent)

    def grant(suffix: str, privileges: list[str], **on: object) -> pulumi.Resource:
        return snowflake.GrantPrivilegesToAccountRole(
            f"{name}-{suffix}", account_role_name=role, privileges=privileges, opts=opts, **on
        )

    physical = args.naming.sf("API_OWNER")
    owner = snowflake.AccountRole(
        f"{name}-owner-role", name=physical, comment="owns the API's services: what its containers may do", opts=opts
    )
    role, db = owner.name, args.database
    grants = [
        grant("owner-database", ["USAGE"], on_account_object=_obj("DATABASE", db)),
        grant("owner-schema", ["USAGE", "CREATE SERVICE"], on_schema={"schema_name": _fq(db, SERVICE_SCHEMA)}),
        grant("pool-usage", ["USAGE", "MONITOR"], on_account_object=_obj("COMPUTE POOL", args.pool)),
        grant("integration-usage", ["USAGE"],
              on_account_object=_obj("INTEGRATION", args.integration)),
        grant("owner-warehouse", ["USAGE"], on_account_object=_obj("WAREHOUSE", args.warehouse)),
        grant("owner-endpoint", ["BIND SERVICE ENDPOINT"], on_account=True),
        grant("owner-images", ["READ"], on_schema_object=_obj("IMAGE REPOSITORY", args.repository)),
        grant("owner-models", ["READ"], on_schema_object=_obj("STAGE", args.model_stage)),
    ]  # fmt: skip
    grants += [
        grant(f"owner-secret-{i}", ["READ"], on_schema_object=_obj("SECRET", secret))
        for i, secret in enumerate(args.secrets)
    ]
    for schema, tables in SERVED_TABLES.items():
        grants.append(grant(f"owner-{schema.lower()}", ["USAGE"], on_schema={"schema_name": _fq(db, schema)}))
        grants += [
            grant(f"owner-{table.lower().replace('_', '-')}", ["SELECT"],
                  on_schema_object={"object_type": "TABLE", "object_name": _fq(db, schema, table)})
            for table in tables
        ]  # fmt: skip
    grants.append(snowflake.GrantAccountRole(f"{name}-owner-to-sysadmin", role_name=role, parent_role_name="SYSADMIN",
                                             opts=opts))  # fmt: skip
    grants.append(snowflake.GrantAccountRole(f"{name}-owner-to-deployer", role_name=role,
                                             user_name=args.connection.deploy_user, opts=opts))  # fmt: skip
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


def _obj(object_type: str, object_name: pulumi.Input[str]) -> dict:
    return {"object_type": object_type, "object_name": object_name}


def _fq(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.all(*parts).apply(lambda p: quote(*p))
