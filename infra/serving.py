"""Serving stores of the recommendations: the Snowflake Postgres instance with its network rules,
policy, credential, secrets and external access integration; the Postgres roles and grants on it;
and the DynamoDB table `product_recommendations`.

Fixes against seed 001: ingress CIDRs come from config (prod may not allow 0.0.0.0/0), the egress
rule's host is the instance's own output, and no password is ever pasted (see infra/pgcredential.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql
import pulumi_random as random
import pulumi_snowflake as snowflake

from infra.pgcredential import PostgresAdminCredential, PostgresAdminCredentialArgs

PG_PORT = 5432
NETWORK_SCHEMA = "BRONZE"  # seed 001 keeps its network rules and secret in RAW


@dataclass
class SnowflakePostgresArgs:
    database: pulumi.Input[str]
    instance_name: str
    ingress_rule_name: str
    policy_name: str
    egress_rule_name: str
    admin_secret_name: str
    app_secret_name: str
    integration_name: str
    ingress_cidrs: list[str]
    compute_family: str
    storage_gb: int
    version: int
    high_availability: bool
    credential_rotation: int
    organization: str
    account: str
    deploy_user: str
    private_key: pulumi.Input[str] | None
    protect: bool
    sysadmin: snowflake.Provider
    securityadmin: snowflake.Provider
    accountadmin: snowflake.Provider


class SnowflakePostgres(pulumi.ComponentResource):
    """The instance, who may reach it, and how container services reach it."""

    instance: snowflake.PostgresInstance
    host: pulumi.Output[str]
    admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: SnowflakePostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:SnowflakePostgres", name, None, opts)
        as_sys = pulumi.ResourceOptions(parent=self, provider=args.sysadmin)
        as_acct = pulumi.ResourceOptions(parent=self, provider=args.accountadmin)

        self.ingress_rule = snowflake.NetworkRule(
            f"{name}-ingress-rule",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.ingress_rule_name,
            type="IPV4",
            mode="POSTGRES_INGRESS",
            value_lists=args.ingress_cidrs,
            comment="who may connect to the serving Postgres instance (allowedCidrs)",
            opts=as_sys,
        )
        self.policy = snowflake.NetworkPolicy(
            f"{name}-policy",
            name=args.policy_name,
            allowed_network_rule_lists=[self.ingress_rule.fully_qualified_name],
            comment="attached to the serving Postgres instance",
            opts=pulumi.ResourceOptions(parent=self, provider=args.securityadmin),
        )
        self.instance = snowflake.PostgresInstance(
            f"{name}-instance",
            name=args.instance_name,
            compute_family=args.compute_family,
            storage_size_gb=args.storage_gb,
            postgres_version=args.version,
            high_availability="true" if args.high_availability else "false",
            authentication_authority="POSTGRES",
            network_policy=self.policy.name,
            comment="low-latency serving store of the recommendation API",
            opts=pulumi.ResourceOptions.merge(as_acct, pulumi.ResourceOptions(protect=args.protect)),
        )
        self.host = self.instance.describe_outputs.apply(lambda d: d[0].host if d and d[0].host else "")
        self.credential = PostgresAdminCredential(
            f"{name}-admin-credential",
            PostgresAdminCredentialArgs(
                instance=self.instance.name,
                rotation=args.credential_rotation,
                organization=args.organization,
                account=args.account,
                user=args.deploy_user,
                private_key=args.private_key,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.instance]),
        )
        self.admin_password = self.credential.password
        self.egress_rule = snowflake.NetworkRule(
            f"{name}-egress-rule",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.egress_rule_name,
            type="HOST_PORT",
            mode="EGRESS",
            value_lists=[pulumi.Output.concat(self.host, f":{PG_PORT}")],
            comment="container services → the serving Postgres instance (host from the instance's outputs)",
            opts=as_sys,
        )
        self.admin_secret = snowflake.SecretWithGenericString(
            f"{name}-admin-secret",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.admin_secret_name,
            secret_string=self.credential.password,
            comment="snowflake_admin password of the serving Postgres instance (regenerated during deploy)",
            opts=as_sys,
        )
        # The API's own (read-only) Postgres password: made here so its secret can sit in the
        # integration; PostgresServingAccess gives the app role this password.
        self.app_password = random.RandomPassword(
            f"{name}-app-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        ).result
        self.app_secret = snowflake.SecretWithGenericString(
            f"{name}-app-secret",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.app_secret_name,
            secret_string=self.app_password,
            comment="password of the read-only app role the recommendation API connects as",
            opts=as_sys,
        )
        self.integration = snowflake.ExternalAccessIntegration(
            f"{name}-external-access",
            name=args.integration_name,
            allowed_network_rules=[self.egress_rule.fully_qualified_name],
            allowed_authentication_secrets={
                "secrets": [self.admin_secret.fully_qualified_name, self.app_secret.fully_qualified_name]
            },
            enabled=True,
            comment="lets the container services reach the serving Postgres instance",
            opts=as_acct,
        )
        self.register_outputs(
            {
                "host": self.host,
                "integration": self.integration.name,
                "admin_secret": self.admin_secret.fully_qualified_name,
                "app_secret": self.app_secret.fully_qualified_name,
            }
        )


@dataclass
class PostgresServingAccessArgs:
    host: pulumi.Input[str]
    admin_user: pulumi.Input[str]
    admin_password: pulumi.Input[str]
    app_password: pulumi.Input[str]
    database: str
    schema: str
    app_role: str
    loader_role: str
    bi_role: str
    protect: bool


class PostgresServingAccess(pulumi.ComponentResource):
    """The serving schema and the three roles that use it: the API reads, the loader writes, BI reads."""

    passwords: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PostgresServingAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:PostgresServingAccess", name, None, opts)
        self.provider = postgresql.Provider(
            f"{name}-provider",
            host=args.host,
            port=PG_PORT,
            database=args.database,
            username=args.admin_user,
            password=pulumi.Output.secret(args.admin_password),
            sslmode="require",
            superuser=False,  # snowflake_admin is not a full superuser
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_pg = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.passwords = {}
        self.roles: dict[str, postgresql.Role] = {}
        # app: reads the serving tables (API); loader: owns and writes them (loads); bi: reads them.
        for key, role_name in (("app", args.app_role), ("loader", args.loader_role), ("bi", args.bi_role)):
            if key == "app":
                self.passwords[key] = pulumi.Output.secret(args.app_password)
            else:
                self.passwords[key] = random.RandomPassword(
                    f"{name}-{key}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
                ).result
            self.roles[key] = postgresql.Role(
                f"{name}-{key}-role",
                name=role_name,
                login=True,
                password=self.passwords[key],
                connection_limit=50 if key == "app" else 10,
                statement_timeout=2000 if key == "app" else 0,
                opts=on_pg,
            )
        # snowflake_admin joins the loader role so it may give it the schema and set its default grants.
        admin_in_loader = postgresql.GrantRole(
            f"{name}-admin-in-loader", role=args.admin_user, grant_role=self.roles["loader"].name, opts=on_pg
        )
        self.schema = postgresql.Schema(
            f"{name}-schema",
            name=args.schema,
            database=args.database,
            owner=self.roles["loader"].name,
            drop_cascade=not args.protect,
            opts=pulumi.ResourceOptions.merge(
                on_pg, pulumi.ResourceOptions(protect=args.protect, depends_on=[admin_in_loader])
            ),
        )
        for key in ("app", "bi"):
            role = self.roles[key].name
            postgresql.Grant(
                f"{name}-{key}-schema-usage",
                database=args.database,
                schema=self.schema.name,
                role=role,
                object_type="schema",
                privileges=["USAGE"],
                opts=on_pg,
            )
            postgresql.Grant(
                f"{name}-{key}-tables-select",
                database=args.database,
                schema=self.schema.name,
                role=role,
                object_type="table",
                privileges=["SELECT"],
                opts=on_pg,
            )
            # Tables the loader creates later (migrations, staging tables swapped in) are readable too.
            postgresql.DefaultPrivileges(
                f"{name}-{key}-default-select",
                database=args.database,
                schema=self.schema.name,
                owner=self.roles["loader"].name,
                role=role,
                object_type="table",
                privileges=["SELECT"],
                opts=pulumi.ResourceOptions.merge(on_pg, pulumi.ResourceOptions(depends_on=[admin_in_loader])),
            )
        self.register_outputs({"schema": self.schema.name, "roles": {k: r.name for k, r in self.roles.items()}})


@dataclass
class RecommendationsTableArgs:
    name: str
    point_in_time_recovery: bool
    deletion_protection: bool
    protect: bool


class RecommendationsTable(pulumi.ComponentResource):
    """DynamoDB `product_recommendations` (seed 000): one item per user, keyed by user_id (Number)."""

    table: aws.dynamodb.Table

    def __init__(self, name: str, args: RecommendationsTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:RecommendationsTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="user_id",
            attributes=[{"name": "user_id", "type": "N"}],
            server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": args.point_in_time_recovery},
            deletion_protection_enabled=args.deletion_protection,
            tags={"purpose": "product_recommendations"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.register_outputs({"name": self.table.name, "arn": self.table.arn})
