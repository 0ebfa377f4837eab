"""Roles and grants as SECURITYADMIN manages them, under one component's logical names: the one way
every component declares a role, grants it privileges (on the account, an object or schema objects),
and hands it on."""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import quote

Role = snowflake.AccountRole | pulumi.Input[str]


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
