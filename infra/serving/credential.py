"""The Snowflake Postgres admin credential, obtained during `pulumi up` with no human copying it.

Snowflake shows the `snowflake_admin` password once, in the output of CREATE POSTGRES INSTANCE, and
the provider's resource does not surface it. So right after the instance exists this dynamic resource
runs Snowflake's documented regeneration statement,

    ALTER POSTGRES INSTANCE <name> RESET ACCESS FOR 'snowflake_admin'

which returns one row with the new `password`, and keeps it as a secret output (with the account's
root CA certificate from DESCRIBE POSTGRES INSTANCE, for `sslmode=verify-full`) (encrypted in the
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
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

ADMIN_ROLE = "snowflake_admin"


def _instance(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"Postgres instance name {name!r} must be letters, digits and '_'")
    return name


def reset_access_sql(instance: str, role: str = ADMIN_ROLE) -> str:
    _instance(instance)
    if role not in ("snowflake_admin", "application"):
        raise ValueError(f"role {role!r}: Snowflake regenerates only 'snowflake_admin' or 'application'")
    return f"ALTER POSTGRES INSTANCE {instance} RESET ACCESS FOR '{role}'"


def describe_sql(instance: str) -> str:
    return f"DESCRIBE POSTGRES INSTANCE {_instance(instance)}"


def root_certificate(described: list[dict[str, Any]], instance: str) -> str:
    """The account's Postgres root CA from DESCRIBE's `certificate` row: clients verify the server
    against it (sslmode=verify-full) instead of trusting any certificate."""
    for row in described:
        low = {k.lower(): v for k, v in row.items()}
        if str(low.get("property", "")).lower() == "certificate" and "BEGIN CERTIFICATE" in str(low.get("value")):
            return str(low["value"])
    raise RuntimeError(f"DESCRIBE POSTGRES INSTANCE {instance} returned no root CA certificate")


class _Provider(ResourceProvider):
    """Runs the regeneration statement as ACCOUNTADMIN with the deploy user's key pair."""

    def _run(self, props: dict[str, Any], *statements: str) -> list[list[dict[str, Any]]]:
        """Each statement's rows, run as ACCOUNTADMIN with the deploy user's key pair."""
        import snowflake.connector
        from cryptography.hazmat.primitives import serialization

        key = props.get("private_key") or os.environ.get("SNOWFLAKE_PRIVATE_KEY")
        if not key:
            raise RuntimeError("no deploy key: set snowflakePrivateKey (secret) or SNOWFLAKE_PRIVATE_KEY")
        pkey = serialization.load_pem_private_key(key.encode(), password=None)
        der = pkey.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with snowflake.connector.connect(
            account=f"{props['organization']}-{props['account']}",
            user=props["user"],
            role=props.get("login_role") or "ACCOUNTADMIN",
            private_key=der,
        ) as conn:
            cur = conn.cursor(snowflake.connector.DictCursor)
            results = []
            for statement in statements:
                cur.execute(statement)
                results.append(cur.fetchall())
            return results

    def create(self, props: dict[str, Any]) -> CreateResult:
        reset, described = self._run(
            props, reset_access_sql(props["instance"], props.get("role", ADMIN_ROLE)), describe_sql(props["instance"])
        )
        password = {k.lower(): v for k, v in (reset[0] if reset else {}).items()}.get("password")
        if not password:
            raise RuntimeError(f"Snowflake returned no password for instance {props['instance']}")
        return CreateResult(
            id_=f"{props['instance']}/{props.get('role', ADMIN_ROLE)}/{props['rotation']}",
            outs={
                **props,
                "password": password,
                "username": props.get("role", ADMIN_ROLE),
                "ca_certificate": root_certificate(described, props["instance"]),
            },
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only the certificate is missing (a credential made before it was kept): read it, keep the password."""
        (described,) = self._run(news, describe_sql(news["instance"]))
        outs = {**olds, **{k: v for k, v in news.items() if k not in ("password", "username", "ca_certificate")}}
        return UpdateResult(outs={**outs, "ca_certificate": root_certificate(described, news["instance"])})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = [k for k in ("instance", "role", "rotation") if olds.get(k) != news.get(k)]
        changed = bool(keys) or not olds.get("ca_certificate")
        return DiffResult(changes=changed, replaces=keys, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


@dataclass(kw_only=True)
class PostgresAdminCredentialArgs:
    instance: pulumi.Input[str]
    rotation: int
    organization: str
    account: str
    user: str
    private_key: pulumi.Input[str] | None = None
    role: str = ADMIN_ROLE
    login_role: str = "ACCOUNTADMIN"  # the role the statements run as (the review identity's in review stacks)


class PostgresAdminCredential(Resource):
    """`password` and `username` of the instance's managed admin role (`password` is a secret), and
    the account's root CA certificate that verifies the instance's TLS certificate."""

    password: pulumi.Output[str]
    username: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]

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
                "login_role": args.login_role,
                "private_key": pulumi.Output.secret(args.private_key) if args.private_key is not None else None,
                "password": None,
                "username": None,
                "ca_certificate": None,
            },
            opts,
        )
        # The engine marks it secret through additional_secret_outputs; wrapping it as well keeps it
        # secret for every consumer even where that marking is not applied (mocks, older engines).
        self.password = pulumi.Output.secret(self.password)
