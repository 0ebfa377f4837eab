"""The serving schema in Postgres and the three roles that use it: the API reads (app), the loads
write (loader), BI tools read (bi). Managed through the postgresql provider as the instance's admin."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql
import pulumi_random as random

from infra.naming import Naming
from infra.serving.catalog import PG_PORT
from infra.serving.config import PostgresConfig
from infra.serving.tls import root_certificate_file

# role key → (connection limit, statement timeout, idle-in-transaction timeout; ms, 0 = none). A BI
# query or an idle BI transaction holds its tables' locks: bounded, so a sync's switch (which retries
# for two minutes) always gets them. The loader's COPYs may take long; its switch bounds its own waits.
ROLE_LIMITS = {"app": (50, 2000, 5000), "loader": (10, 0, 600_000), "bi": (10, 60_000, 60_000)}


@dataclass(kw_only=True)
class PostgresServingAccessArgs:
    naming: Naming
    config: PostgresConfig
    protect: bool
    host: pulumi.Input[str]
    admin_user: pulumi.Input[str]
    admin_password: pulumi.Input[str]
    app_password: pulumi.Input[str]
    ca_certificate: pulumi.Input[str]


class PostgresServingAccess(pulumi.ComponentResource):
    """The serving schema and the three roles that use it: the API reads, the loader writes, BI reads."""

    passwords: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PostgresServingAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:PostgresServingAccess", name, None, opts)
        cfg = args.config
        # the file the provider reads; `refresh`/`destroy` run no program, so the stack exports it
        # (output postgresRootCa) and `python -m scripts.serving write-ca` puts it back before them
        self.root_ca_file = root_certificate_file(args.naming.pg("root_ca"), args.ca_certificate)
        self.provider = postgresql.Provider(
            f"{name}-provider",
            host=args.host,
            port=PG_PORT,
            database=cfg.database,
            username=args.admin_user,
            password=pulumi.Output.secret(args.admin_password),
            # the server's certificate is checked against the account's root CA and the host name
            sslmode="verify-full",
            sslrootcert=self.root_ca_file,
            superuser=False,  # snowflake_admin is not a full superuser
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._name, self._args = name, args
        self._on_pg = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self._roles()
        self._schema()
        self.register_outputs({"schema": self.schema.name, "roles": {k: r.name for k, r in self.roles.items()}})

    def _roles(self) -> None:
        """app reads the serving tables (API), loader owns and writes them (loads), bi reads them."""
        name, args = self._name, self._args
        self.passwords = {}
        self.roles: dict[str, postgresql.Role] = {}
        for key, (connection_limit, statement_timeout, idle_timeout) in ROLE_LIMITS.items():
            if key == "app":
                self.passwords[key] = pulumi.Output.secret(args.app_password)
            else:
                self.passwords[key] = random.RandomPassword(
                    f"{name}-{key}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
                ).result
            self.roles[key] = postgresql.Role(
                f"{name}-{key}-role",
                name=args.naming.pg(key),
                login=True,
                password=self.passwords[key],
                connection_limit=connection_limit,
                statement_timeout=statement_timeout,
                idle_in_transaction_session_timeout=idle_timeout,
                opts=self._on_pg,
            )

    def _schema(self) -> None:
        """The schema the loader owns, and what app and bi may read in it, now and later."""
        name, args, cfg, on_pg = self._name, self._args, self._args.config, self._on_pg
        # snowflake_admin joins the loader role so it may give it the schema and set its default grants.
        admin_in_loader = postgresql.GrantRole(
            f"{name}-admin-in-loader", role=args.admin_user, grant_role=self.roles["loader"].name, opts=on_pg
        )
        self.schema = postgresql.Schema(
            f"{name}-schema",
            name=cfg.serving_schema,
            database=cfg.database,
            owner=self.roles["loader"].name,
            drop_cascade=not args.protect,
            opts=pulumi.ResourceOptions.merge(
                on_pg, pulumi.ResourceOptions(protect=args.protect, depends_on=[admin_in_loader])
            ),
        )
        where = {"database": cfg.database, "schema": self.schema.name}
        for key in ("app", "bi"):
            role = self.roles[key].name
            grants = (("schema-usage", "schema", "USAGE"), ("tables-select", "table", "SELECT"))
            for label, object_type, privilege in grants:
                postgresql.Grant(
                    f"{name}-{key}-{label}",
                    **where,
                    role=role,
                    object_type=object_type,
                    privileges=[privilege],
                    opts=on_pg,
                )
            # Tables the loader creates later (migrations, staging tables swapped in) are readable too.
            postgresql.DefaultPrivileges(
                f"{name}-{key}-default-select",
                **where,
                owner=self.roles["loader"].name,
                role=role,
                object_type="table",
                privileges=["SELECT"],
                opts=pulumi.ResourceOptions.merge(on_pg, pulumi.ResourceOptions(depends_on=[admin_in_loader])),
            )
