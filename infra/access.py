"""Role-based access: access roles per schema, functional roles on top, and the service user.

Privileges are granted to access roles only; people and services get functional roles, which are
granted access roles. Future grants are made at schema level only, because Snowflake lets schema
future grants silently override database ones. Every functional role rolls up to SYSADMIN so the
object owner can always see what the platform's roles can.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import Naming, quote
from infra.providers import Providers

READ_FUTURE_OBJECTS = ("TABLES", "VIEWS", "DYNAMIC TABLES", "STREAMS")
READ_OBJECT_PRIVILEGES = ["SELECT"]
WRITE_SCHEMA_PRIVILEGES = [
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE DYNAMIC TABLE",
    "CREATE STAGE",
    "CREATE FILE FORMAT",
    "CREATE PIPE",
    "CREATE STREAM",
    "CREATE TASK",
    "CREATE PROCEDURE",
    "CREATE FUNCTION",
]
WRITE_TABLE_PRIVILEGES = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"]

# Which functional role reads and writes which schema, and which warehouse it runs on.
FUNCTIONAL_ROLES: dict[str, dict] = {
    "LOADER": {"read": [], "write": ["BRONZE"], "warehouse": "load"},
    "TRANSFORMER": {
        "read": ["BRONZE"],
        "write": ["SILVER", "GOLD", "FEATURE_STORE", "ML_REGISTRY", "STREAMS_TASKS"],
        "warehouse": "transform",
    },
    "ANALYST": {"read": ["SILVER", "GOLD"], "write": [], "warehouse": "serve"},
    "APP_SERVICE": {"read": ["GOLD", "FEATURE_STORE"], "write": [], "warehouse": "serve"},
}
SERVICE_USER_ROLES = ("LOADER", "TRANSFORMER", "APP_SERVICE")


@dataclass
class AccessControlArgs:
    naming: Naming
    providers: Providers
    database: pulumi.Input[str]
    schemas: dict[str, pulumi.Input[str]]
    warehouses: dict[str, pulumi.Input[str]]
    service_user_public_key: str


class AccessControl(pulumi.ComponentResource):
    """Access roles, functional roles, their grants and the key-pair service user."""

    functional_roles: dict[str, snowflake.AccountRole]
    service_user: snowflake.ServiceUser

    def __init__(self, name: str, args: AccessControlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:access:AccessControl", name, None, opts)
        n = args.naming
        self._opts = args.providers.on("securityadmin", self)
        self._name = name
        db = args.database

        self.access_roles: dict[tuple[str, str], snowflake.AccountRole] = {}
        for schema, schema_name in args.schemas.items():
            slug_s = schema.lower().replace("_", "-")
            fq_schema = pulumi.Output.all(db, schema_name).apply(lambda a: quote(*a))
            read = self._role(f"ar-{slug_s}-r", n.sf("AR", schema, "R"), f"read {schema}")
            write = self._role(f"ar-{slug_s}-rw", n.sf("AR", schema, "RW"), f"read/write {schema}")
            self.access_roles[(schema, "R")] = read
            self.access_roles[(schema, "RW")] = write
            self._grant(f"ar-{slug_s}-r-db", read, ["USAGE"], on_account_object=_db(db))
            self._grant(f"ar-{slug_s}-r-schema", read, ["USAGE"], on_schema={"schema_name": fq_schema})
            for plural in READ_FUTURE_OBJECTS:
                slug = plural.lower().replace(" ", "-")
                self._grant(
                    f"ar-{slug_s}-r-future-{slug}",
                    read,
                    READ_OBJECT_PRIVILEGES,
                    on_schema_object={"future": {"object_type_plural": plural, "in_schema": fq_schema}},
                )
            self._grant(
                f"ar-{slug_s}-r-all-tables",
                read,
                READ_OBJECT_PRIVILEGES,
                on_schema_object={"all": {"object_type_plural": "TABLES", "in_schema": fq_schema}},
            )
            self._inherit(f"ar-{slug_s}-rw-inherits-r", read, write)
            self._grant(f"ar-{slug_s}-rw-schema", write, WRITE_SCHEMA_PRIVILEGES, on_schema={"schema_name": fq_schema})
            self._grant(
                f"ar-{slug_s}-rw-future-tables",
                write,
                WRITE_TABLE_PRIVILEGES,
                on_schema_object={"future": {"object_type_plural": "TABLES", "in_schema": fq_schema}},
            )

        self.functional_roles = {}
        for fr, spec in FUNCTIONAL_ROLES.items():
            role = self._role(f"fr-{fr.lower().replace('_', '-')}", n.sf(fr), f"functional role {fr}")
            self.functional_roles[fr] = role
            for schema in spec["read"]:
                self._inherit(
                    f"fr-{fr.lower().replace('_', '-')}-{schema.lower().replace('_', '-')}-r",
                    self.access_roles[(schema, "R")],
                    role,
                )
            for schema in spec["write"]:
                self._inherit(
                    f"fr-{fr.lower().replace('_', '-')}-{schema.lower().replace('_', '-')}-rw",
                    self.access_roles[(schema, "RW")],
                    role,
                )
            self._grant(
                f"fr-{fr.lower().replace('_', '-')}-wh",
                role,
                ["USAGE", "OPERATE"],
                on_account_object={"object_type": "WAREHOUSE", "object_name": args.warehouses[spec["warehouse"]]},
            )
            snowflake.GrantAccountRole(
                f"{name}-fr-{fr.lower().replace('_', '-')}-to-sysadmin",
                role_name=role.name,
                parent_role_name="SYSADMIN",
                opts=self._opts,
            )

        self.service_user = snowflake.ServiceUser(
            f"{name}-service-user",
            name=n.sf("SVC"),
            comment="key-pair service user for post-deploy loads and container services",
            rsa_public_key=args.service_user_public_key,
            default_role=self.functional_roles["LOADER"].name,
            default_warehouse=args.warehouses["load"],
            default_secondary_roles_option="ALL",
            opts=self._opts,
        )
        for fr in SERVICE_USER_ROLES:
            snowflake.GrantAccountRole(
                f"{name}-svc-{fr.lower().replace('_', '-')}",
                role_name=self.functional_roles[fr].name,
                user_name=self.service_user.name,
                opts=self._opts,
            )
        self.register_outputs(
            {
                "functional_roles": {k: v.name for k, v in self.functional_roles.items()},
                "service_user": self.service_user.name,
            }
        )

    def _role(self, suffix: str, physical: str, comment: str) -> snowflake.AccountRole:
        return snowflake.AccountRole(f"{self._name}-{suffix}", name=physical, comment=comment, opts=self._opts)

    def _inherit(self, suffix: str, child: snowflake.AccountRole, parent: snowflake.AccountRole) -> None:
        snowflake.GrantAccountRole(
            f"{self._name}-{suffix}", role_name=child.name, parent_role_name=parent.name, opts=self._opts
        )

    def _grant(self, suffix: str, role: snowflake.AccountRole, privileges: list[str], **on: object) -> None:
        snowflake.GrantPrivilegesToAccountRole(
            f"{self._name}-{suffix}",
            account_role_name=role.name,
            privileges=privileges,
            opts=self._opts,
            **on,
        )


def _db(db: pulumi.Input[str]) -> dict:
    return {"object_type": "DATABASE", "object_name": db}
