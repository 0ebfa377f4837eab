"""The role the recommendation API's containers run as, and the provider that creates them with it.

A service's owner role is the role its containers connect to Snowflake as (the SPCS token), so the
owner is a dedicated role holding exactly what the two services need: the pool, the images, the
model stage, the integration and its one secret, the serve warehouse, and SELECT on the two tables
the warehouse fallback reads. Nothing else of the stack is visible from a container. The role rolls
up to the stack's admin role (so the object owner still sees the services) and is granted to the deploy user, which
creates the services with the `owner` provider below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.api.catalog import SERVED_TABLE_KEYS, SERVED_TABLES, SERVICE_SCHEMA
from infra.foundation.config import SnowflakeConnection
from infra.grants import RoleGrants, quote_output
from infra.naming import Naming, object_ref, slug
from infra.providers import Providers


@dataclass(kw_only=True)
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
    # the tables the warehouse fallback reads, by their catalog key (SERVED_TABLE_KEYS): each SELECT grant
    # depends on its table, so `up` creates the table first and `destroy` revokes before the drop
    tables: Mapping[str, pulumi.Resource]


@dataclass(kw_only=True)
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
    on_account = {
        "owner-database": (["USAGE"], "DATABASE", db),
        "pool-usage": (["USAGE", "MONITOR"], "COMPUTE POOL", args.pool),
        "integration-usage": (["USAGE"], "INTEGRATION", args.integration),
        "owner-warehouse": (["USAGE"], "WAREHOUSE", args.warehouse),
    }
    on_objects = {
        "owner-images": ("IMAGE REPOSITORY", args.repository),
        "owner-models": ("STAGE", args.model_stage),
        **{f"owner-secret-{i}": ("SECRET", secret) for i, secret in enumerate(args.secrets)},
    }
    grants = [
        *(g.grant(k, owner, p, on_account_object=object_ref(kind, obj)) for k, (p, kind, obj) in on_account.items()),
        g.grant("owner-endpoint", owner, ["BIND SERVICE ENDPOINT"], on_account=True),
        *(g.on_object(k, owner, ["READ"], kind, obj) for k, (kind, obj) in on_objects.items()),
    ]
    schemas = {SERVICE_SCHEMA: ["USAGE", "CREATE SERVICE"], **{s: ["USAGE"] for s in SERVED_TABLES}}
    for schema, privileges in schemas.items():
        label = "owner-schema" if schema == SERVICE_SCHEMA else f"owner-{schema.lower()}"
        grants.append(g.grant(label, owner, privileges, on_schema={"schema_name": quote_output(db, schema)}))
    missing = sorted({k for keys in SERVED_TABLE_KEYS.values() for k in keys} - set(args.tables))
    if missing:
        raise ValueError(f"the API's owner needs the table resources {missing} (the recommendations component's)")
    for keys in SERVED_TABLE_KEYS.values():
        grants += [
            g.on_object(f"owner-{slug(key.lower())}", owner, ["SELECT"], "TABLE", args.tables[key]) for key in keys
        ]
    grants.append(g.inherit("owner-to-admin", owner, to_role=args.providers.owner_role))
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
    return ServiceOwner(role=owner, provider=provider)
