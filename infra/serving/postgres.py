"""The Snowflake Postgres instance that serves the recommendation API: who may reach it (ingress rule
and network policy from `allowedCidrs`; prod may not allow 0.0.0.0/0), its admin credential (never
pasted: see credential.py), and how container services reach it (egress rule on the instance's own
host, secrets, external access integration).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
import pulumi_snowflake as snowflake

from infra.foundation.config import SnowflakeConnection
from infra.naming import Naming
from infra.network import Ingress, ingress_policy
from infra.providers import Providers
from infra.serving.catalog import CATALOG, NETWORK_SCHEMA, PG_PORT
from infra.serving.config import PostgresConfig
from infra.serving.credential import PostgresAdminCredential, PostgresAdminCredentialArgs


@dataclass(kw_only=True)
class SnowflakePostgresArgs:
    naming: Naming
    providers: Providers
    config: PostgresConfig
    ingress_cidrs: list[str]
    # the deploy user's connection: the admin credential is regenerated with it during `up`
    connection: SnowflakeConnection
    private_key: pulumi.Input[str] | None
    protect: bool
    database: pulumi.Input[str]


class SnowflakePostgres(pulumi.ComponentResource):
    """The instance, who may reach it, and how container services reach it."""

    instance: snowflake.PostgresInstance
    host: pulumi.Output[str]
    admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: SnowflakePostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:SnowflakePostgres", name, None, opts)
        n, cfg, prov = args.naming, args.config, args.providers
        as_sys = prov.on("sysadmin", self)
        as_acct = prov.on("accountadmin", self)

        self.ingress_rule, self.policy = ingress_policy(
            self,
            prov,
            args.database,
            Ingress(f"{name}-ingress-rule", f"{name}-policy", n.sf("PG_INGRESS"), n.sf("PG_POLICY"),
                    args.ingress_cidrs, "the serving Postgres instance (allowedCidrs)", mode="POSTGRES_INGRESS"),
        )  # fmt: skip
        self.instance = snowflake.PostgresInstance(
            f"{name}-instance",
            name=n.sf("PG"),
            compute_family=cfg.compute_family,
            storage_size_gb=cfg.storage_gb,
            postgres_version=cfg.version,
            high_availability="true" if cfg.high_availability else "false",
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
                rotation=cfg.credential_rotation,
                organization=args.connection.organization,
                account=args.connection.account,
                user=prov.login.user,
                login_role=prov.login.roles["accountadmin"],
                private_key=args.private_key,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.instance]),
        )
        self.admin_password = self.credential.password
        self.ca_certificate = self.credential.ca_certificate
        # not secret, but a secret is how a file reaches a container: the API mounts it to verify the
        # instance's TLS certificate (sslmode=verify-full)
        self.ca_secret = snowflake.SecretWithGenericString(
            f"{name}-ca-secret",
            database=args.database,
            schema=CATALOG.schema("ca_secret"),
            name=CATALOG.name("ca_secret"),
            secret_string=pulumi.Output.secret(self.ca_certificate),
            comment="the account's Postgres root CA certificate (DESCRIBE POSTGRES INSTANCE)",
            opts=as_sys,
        )
        self.egress_rule = snowflake.NetworkRule(
            f"{name}-egress-rule",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=n.sf("PG_EGRESS_RULE"),
            type="HOST_PORT",
            mode="EGRESS",
            value_lists=[pulumi.Output.concat(self.host, f":{PG_PORT}")],
            comment="container services → the serving Postgres instance (host from the instance's outputs)",
            opts=as_sys,
        )
        self.admin_secret = snowflake.SecretWithGenericString(
            f"{name}-admin-secret",
            database=args.database,
            schema=CATALOG.schema("admin_secret"),
            name=CATALOG.name("admin_secret"),
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
            schema=CATALOG.schema("app_secret"),
            name=CATALOG.name("app_secret"),
            secret_string=self.app_password,
            comment="password of the read-only app role the recommendation API connects as",
            opts=as_sys,
        )
        self.integration = snowflake.ExternalAccessIntegration(
            f"{name}-external-access",
            name=n.sf("PG_ACCESS_INTEGRATION"),
            allowed_network_rules=[self.egress_rule.fully_qualified_name],
            # only what the API uses: the admin secret stays out of reach of every container
            allowed_authentication_secrets={"secrets": [self.app_secret.fully_qualified_name]},
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
                "ca_secret": self.ca_secret.fully_qualified_name,
            }
        )
