"""Where the serving Postgres roles' passwords live for the people and jobs outside Snowflake: AWS
Secrets Manager, one secret per role, in the shape RDS tools read (username, password, host, port,
dbname, sslmode). Stack outputs carry only the secrets' ARNs, so `pulumi stack output --show-secrets`
never prints a password, and reading one is an IAM permission on one ARN that can be granted, audited
and revoked per role. The admin password is not exported at all: only the deploy run uses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Naming
from infra.providers import Providers
from infra.serving.catalog import PG_PORT
from infra.serving.config import PostgresConfig

# The roles whose passwords leave the stack: the loads (loader) and BI tools (bi). The API's own
# password reaches its containers through a Snowflake secret instead.
EXPORTED_ROLES = ("loader", "bi")
SSLMODE = "verify-full"


@dataclass(kw_only=True)
class ServingSecretsArgs:
    naming: Naming
    providers: Providers
    config: PostgresConfig
    protect: bool
    host: pulumi.Input[str]
    passwords: dict[str, pulumi.Input[str]]
    ca_certificate: pulumi.Input[str]


class ServingSecrets(pulumi.ComponentResource):
    """A Secrets Manager secret per exported Postgres role."""

    secrets: dict[str, aws.secretsmanager.Secret]

    def __init__(self, name: str, args: ServingSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:ServingSecrets", name, None, opts)
        n = args.naming
        self.secrets = {}
        for role in EXPORTED_ROLES:
            secret = aws.secretsmanager.Secret(
                f"{name}-{role}",
                name=n.aws("postgres", role),
                description=f"serving Postgres: the {role} role's connection (username, password, host)",
                # prod keeps a deleted secret 30 days; dev deletes at once so a redeploy can reuse the name
                recovery_window_in_days=30 if args.protect else 0,
                opts=args.providers.on("aws", self),
            )
            value = pulumi.Output.all(args.host, args.passwords[role], args.ca_certificate).apply(
                lambda a, r=role: json.dumps(connection_secret(n.pg(r), a[1], a[0], args.config.database, a[2]))
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-{role}-value",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(value),
                opts=args.providers.on("aws", self),
            )
            self.secrets[role] = secret
        self.register_outputs({k: v.arn for k, v in self.secrets.items()})


def connection_secret(user: str, password: str, host: str, dbname: str, root_ca: str) -> dict:
    """The secret's JSON: what a client needs to connect, TLS verified against the account's root CA
    (`sslrootcert_pem`) and the host name."""
    return {
        "username": user,
        "password": password,
        "host": host,
        "port": PG_PORT,
        "dbname": dbname,
        "sslmode": SSLMODE,
        "sslrootcert_pem": root_ca,
    }
