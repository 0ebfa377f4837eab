"""The Snowflake Postgres admin credential, obtained during `pulumi up` with no human copying it.

Snowflake shows the `snowflake_admin` password once, in the output of CREATE POSTGRES INSTANCE, and
the provider's resource does not surface it. So right after the instance exists this dynamic resource
runs Snowflake's documented regeneration statement,

    ALTER POSTGRES INSTANCE <name> RESET ACCESS FOR 'snowflake_admin'

which returns one row with the new `password`, and keeps it as a secret output (encrypted in the
stack's state). From there it flows, still secret, into the Snowflake secret the services read and
into the pulumi-postgresql provider. Rotation: bump `postgres.credentialRotation` in the stack config;
the resource is replaced, which regenerates the password and updates every consumer in the same `up`.
Limits: the previous password stops working at once (services pick up the new secret on restart);
the value exists only in state, so losing the state means rotating; `pulumi refresh` cannot read
it back from Snowflake (there is nothing to read), so `read` keeps the stored value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

ADMIN_ROLE = "snowflake_admin"


def reset_access_sql(instance: str, role: str = ADMIN_ROLE) -> str:
    if not instance.replace("_", "").isalnum():
        raise ValueError(f"Postgres instance name {instance!r} must be letters, digits and '_'")
    if role not in ("snowflake_admin", "application"):
        raise ValueError(f"role {role!r}: Snowflake regenerates only 'snowflake_admin' or 'application'")
    return f"ALTER POSTGRES INSTANCE {instance} RESET ACCESS FOR '{role}'"


class _Provider(ResourceProvider):
    """Runs the regeneration statement as ACCOUNTADMIN with the deploy user's key pair."""

    def _regenerate(self, props: dict[str, Any]) -> str:
        import snowflake.connector

        key = props.get("private_key") or os.environ.get("SNOWFLAKE_PRIVATE_KEY")
        if not key:
            raise RuntimeError("no deploy key: set snowflakePrivateKey (secret) or SNOWFLAKE_PRIVATE_KEY")
        from cryptography.hazmat.primitives import serialization

        pkey = serialization.load_pem_private_key(key.encode(), password=None)
        der = pkey.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with snowflake.connector.connect(
            account=f"{props['organization']}-{props['account']}",
            user=props["user"],
            role="ACCOUNTADMIN",
            private_key=der,
        ) as conn:
            cur = conn.cursor(snowflake.connector.DictCursor)
            cur.execute(reset_access_sql(props["instance"], props.get("role", ADMIN_ROLE)))
            row = cur.fetchone() or {}
        password = {k.lower(): v for k, v in row.items()}.get("password")
        if not password:
            raise RuntimeError(f"Snowflake returned no password for instance {props['instance']}")
        return password

    def create(self, props: dict[str, Any]) -> CreateResult:
        password = self._regenerate(props)
        return CreateResult(
            id_=f"{props['instance']}/{props.get('role', ADMIN_ROLE)}/{props['rotation']}",
            outs={**props, "password": password, "username": props.get("role", ADMIN_ROLE)},
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = [k for k in ("instance", "role", "rotation") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(keys), replaces=keys, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


@dataclass
class PostgresAdminCredentialArgs:
    instance: pulumi.Input[str]
    rotation: int
    organization: str
    account: str
    user: str
    private_key: pulumi.Input[str] | None = None
    role: str = ADMIN_ROLE


class PostgresAdminCredential(Resource):
    """`password` and `username` of the instance's managed admin role; `password` is a secret."""

    password: pulumi.Output[str]
    username: pulumi.Output[str]

    def __init__(self, name: str, args: PostgresAdminCredentialArgs, opts: pulumi.ResourceOptions | None = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password"]))
        super().__init__(
            _Provider(),
            name,
            {
                "instance": args.instance,
                "rotation": args.rotation,
                "organization": args.organization,
                "account": args.account,
                "user": args.user,
                "role": args.role,
                "private_key": pulumi.Output.secret(args.private_key) if args.private_key is not None else None,
                "password": None,
                "username": None,
            },
            opts,
        )
        # The engine marks it secret through additional_secret_outputs; wrapping it as well keeps it
        # secret for every consumer even where that marking is not applied (mocks, older engines).
        self.password = pulumi.Output.secret(self.password)
