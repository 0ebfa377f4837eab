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
        self._name, self._args = name, args
        self._instance()
        self._secrets()
        self._egress()
        self.register_outputs(
            {
                "host": self.host,
                "integration": self.integration.name,
                "admin_secret": self.admin_secret.fully_qualified_name,
                "app_secret": self.app_secret.fully_qualified_name,
                "ca_secret": self.ca_secret.fully_qualified_name,
            }
        )

    def _instance(self) -> None:
        """Who may reach the instance, the instance, and its admin credential (regenerated during `up`)."""
        name, args, n, cfg, prov = self._name, self._args, self._args.naming, self._args.config, self._args.providers
        ingress = Ingress(
            rule=f"{name}-ingress-rule",
            policy=f"{name}-policy",
            rule_name=n.sf("PG_INGRESS"),
            policy_name=n.sf("PG_POLICY"),
            cidrs=args.ingress_cidrs,
            purpose="the serving Postgres instance (allowedCidrs)",
            mode="POSTGRES_INGRESS",
        )
        self.ingress_rule, self.policy = ingress_policy(self, prov, args.database, ingress)
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
            opts=prov.on("accountadmin", self, protect=args.protect),
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

    def _secrets(self) -> None:
        """The root CA (not secret, but a secret is how a file reaches a container: the API verifies the
        instance's certificate with it), the admin password, and the API's own read-only password (made
        here so its secret can sit in the integration; PostgresServingAccess gives the app role it)."""
        self.ca_secret = self._secret(
            "ca",
            pulumi.Output.secret(self.ca_certificate),
            "the account's Postgres root CA certificate (DESCRIBE POSTGRES INSTANCE)",
        )
        self.admin_secret = self._secret(
            "admin",
            self.credential.password,
            "snowflake_admin password of the serving Postgres instance (regenerated during deploy)",
        )
        self.app_password = random.RandomPassword(
            f"{self._name}-app-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        ).result
        self.app_secret = self._secret(
            "app", self.app_password, "password of the read-only app role the recommendation API connects as"
        )

    def _secret(self, kind: str, value: pulumi.Input[str], comment: str) -> snowflake.SecretWithGenericString:
        return snowflake.SecretWithGenericString(
            f"{self._name}-{kind}-secret",
            database=self._args.database,
            schema=CATALOG.schema(f"{kind}_secret"),
            name=CATALOG.name(f"{kind}_secret"),
            secret_string=value,
            comment=comment,
            opts=self._args.providers.on("sysadmin", self),
        )

    def _egress(self) -> None:
        """How container services reach the instance: an egress rule on its own host, and the integration
        that allows only the app's secret (the admin secret stays out of reach of every container)."""
        name, args, prov = self._name, self._args, self._args.providers
        self.egress_rule = snowflake.NetworkRule(
            f"{name}-egress-rule",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.naming.sf("PG_EGRESS_RULE"),
            type="HOST_PORT",
            mode="EGRESS",
            value_lists=[pulumi.Output.concat(self.host, f":{PG_PORT}")],
            comment="container services → the serving Postgres instance (host from the instance's outputs)",
            opts=prov.on("sysadmin", self),
        )
        self.integration = snowflake.ExternalAccessIntegration(
            f"{name}-external-access",
            name=args.naming.sf("PG_ACCESS_INTEGRATION"),
            allowed_network_rules=[self.egress_rule.fully_qualified_name],
            # every secret the API mounts: the app's password, and the root CA it verifies the server with
            allowed_authentication_secrets={
                "secrets": [self.app_secret.fully_qualified_name, self.ca_secret.fully_qualified_name]
            },
            enabled=True,
            comment="lets the container services reach the serving Postgres instance",
            opts=prov.on("accountadmin", self),
        )
