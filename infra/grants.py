"""Roles and grants as SECURITYADMIN manages them, under one component's logical names: the one way
every component declares a role, grants it privileges (on the account, an object or schema objects),
and hands it on."""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import quote, slug

Role = snowflake.AccountRole | pulumi.Input[str]

# What a refresh reads (SHOW/DESCRIBE) in each schema, by the least privilege that shows the object: none
# of these reads a row (REFERENCES shows a table's or view's structure only) or runs anything. Left out on
# purpose: procedures and the Streamlit app (USAGE would run them with the owner's rights), internal and
# external stages (READ/USAGE reads their files), streams (SELECT reads change rows), sequences (USAGE
# takes values), secrets; tests/foundation/test_metadata_reads.py lists what the role therefore cannot see.
PREVIEW_READS = {
    "TABLES": "REFERENCES",
    "VIEWS": "REFERENCES",
    "DYNAMIC TABLES": "MONITOR",
    "TASKS": "MONITOR",
    "PIPES": "MONITOR",
    "ALERTS": "MONITOR",  # DESCRIBE ALERT takes MONITOR, OPERATE or OWNERSHIP
    "FILE FORMATS": "USAGE",
    "FUNCTIONS": "USAGE",  # the UDFs run as their caller, and the role has no warehouse to run them on
}


def quote_output(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """`quote` of parts that may be Pulumi Outputs, as an Output (schema and object names in grants)."""
    return pulumi.Output.all(*parts).apply(lambda p: quote(*p))


def _name(role: Role) -> pulumi.Input[str]:
    return role.name if isinstance(role, snowflake.AccountRole) else role


class RoleGrants:
    """`<prefix>-<suffix>` logical names, every resource with `opts` (the SECURITYADMIN provider)."""

    def __init__(self, prefix: str, opts: pulumi.ResourceOptions) -> None:
        self.prefix, self.opts = prefix, opts

    def role(self, suffix: str, physical: str, comment: str) -> snowflake.AccountRole:
        return snowflake.AccountRole(f"{self.prefix}-{suffix}", name=physical, comment=comment, opts=self.opts)

    def grant(
        self, suffix: str, role: Role, privileges: list[str], **on: object
    ) -> snowflake.GrantPrivilegesToAccountRole:
        """Privileges to `role` on an object, schema objects or the account (`on_…` as the provider takes it)."""
        return snowflake.GrantPrivilegesToAccountRole(
            f"{self.prefix}-{suffix}", account_role_name=_name(role), privileges=privileges, opts=self.opts, **on
        )

    def on_object(
        self, suffix: str, role: Role, privileges: list[str], kind: str, obj: pulumi.Resource | pulumi.Input[str]
    ) -> snowflake.GrantPrivilegesToAccountRole:
        """Privileges on one schema object (a declared resource, so the grant depends on it, or its name)."""
        name = obj.fully_qualified_name if isinstance(obj, pulumi.Resource) else obj
        return self.grant(suffix, role, privileges, on_schema_object={"object_type": kind, "object_name": name})

    def inherit(
        self, suffix: str, role: Role, *, to_role: Role | None = None, to_user: pulumi.Input[str] | None = None
    ) -> snowflake.GrantAccountRole:
        """`role` granted to a parent role or to a user."""
        parent = {"parent_role_name": _name(to_role)} if to_role is not None else {"user_name": to_user}
        return snowflake.GrantAccountRole(f"{self.prefix}-{suffix}", role_name=_name(role), opts=self.opts, **parent)


def preview_reads(
    g: RoleGrants, role: Role, database: pulumi.Input[str], schemas: dict[str, pulumi.Input[str]]
) -> None:
    """USAGE on each schema, and PREVIEW_READS on every object of it that exists and that will: one way for
    every schema a stack declares, wherever it is declared, so a preview sees all of them."""
    for schema, schema_name in schemas.items():
        s, in_schema = slug(schema.lower()), quote_output(database, schema_name)
        g.grant(f"preview-{s}-schema", role, ["USAGE"], on_schema={"schema_name": in_schema})
        for plural, privilege in PREVIEW_READS.items():
            for scope in ("all", "future"):
                on = {scope: {"object_type_plural": plural, "in_schema": in_schema}}
                g.grant(
                    f"preview-{s}-{scope}-{plural.lower().replace(' ', '-')}", role, [privilege], on_schema_object=on
                )
