"""What the account stack declares: the account's own database and parameters, and per environment its
admin role, resource monitor, monitor procedure and deploy user; and the review identity.

Environment stacks log in as their deploy user with their admin role and own what they create; they use
no built-in role. Only this stack, applied by a human account administrator, uses SYSADMIN, SECURITYADMIN
and ACCOUNTADMIN. The admin roles roll up to SYSADMIN, as Snowflake recommends, so the account's
administrators keep sight of every environment; no environment's user holds SYSADMIN.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.account.catalog import (
    ACCOUNT_PARAMETERS,
    ADMIN_SCHEMAS,
    ENVIRONMENT_PRIVILEGES,
    GRANTABLE_PRIVILEGES,
    MONITOR_SCHEMA,
    NETWORK_SCHEMA,
    REVIEW_PRIVILEGES,
    SNOWFLAKE_DATABASE_ROLES,
    admin_database,
    admin_role,
    attach_procedure,
    monitor_name,
)
from infra.account.config import ReviewIdentityConfig
from infra.ci_roles import boundary, github_role
from infra.foundation.catalog import WAREHOUSE_PURPOSES, warehouse_name
from infra.foundation.config import ResourceMonitorConfig
from infra.grants import RoleGrants, quote_output
from infra.iam import review_run_policy
from infra.naming import Naming, object_ref, review_naming
from infra.providers import Providers
from infra.sqlfiles import render_sql


@dataclass(frozen=True, kw_only=True)
class DeployUser:
    """A deploy user: its name, its key and the ranges it may log in from (its one role is passed apart)."""

    name: str
    public_key: str
    cidrs: list[str]


@dataclass(kw_only=True)
class AccountBaseArgs:
    prefix: str
    providers: Providers


class AccountBase(pulumi.ComponentResource):
    """The account's own database (monitor procedures, deployers' network rules) and its parameters."""

    database: snowflake.Database
    schemas: dict[str, snowflake.Schema]

    def __init__(self, name: str, args: AccountBaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:AccountBase", name, None, opts)
        as_admin = args.providers.on("accountadmin", self)
        self.database = snowflake.Database(
            f"{name}-database",
            name=admin_database(args.prefix),
            comment="the account stack's own objects",
            drop_public_schema_on_creation=True,
            opts=as_admin,
        )
        self.schemas = {
            schema: snowflake.Schema(
                f"{name}-schema-{schema.lower()}",
                database=self.database.name,
                name=schema,
                comment=purpose,
                with_managed_access="true",
                opts=as_admin,
            )
            for schema, purpose in ADMIN_SCHEMAS.items()
        }
        for key, value in ACCOUNT_PARAMETERS.items():
            snowflake.AccountParameter(f"{name}-{key.lower().replace('_', '-')}", key=key, value=value, opts=as_admin)
        self.register_outputs({"database": self.database.name})


@dataclass(kw_only=True)
class EnvironmentAccessArgs:
    prefix: str
    naming: Naming  # the environment's
    providers: Providers  # the account stack's
    base: AccountBase
    deployer: DeployUser
    monitor: ResourceMonitorConfig


class EnvironmentAccess(pulumi.ComponentResource):
    """One environment's admin role with its account privileges, its resource monitor and the procedure
    that attaches it, and its deploy user. Named after the environment's stack."""

    role: snowflake.AccountRole
    user: snowflake.ServiceUser

    def __init__(self, name: str, args: EnvironmentAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:EnvironmentAccess", name, None, opts)
        n, prov = args.naming, args.providers
        g = RoleGrants(name, prov.on("securityadmin", self))
        self.role = g.role("admin-role", admin_role(n), f"owns everything the {n.stack} stack creates")
        g.grant("admin-account", self.role, ENVIRONMENT_PRIVILEGES, on_account=True)
        g.grant("admin-grantable", self.role, GRANTABLE_PRIVILEGES, on_account=True, with_grant_option=True)
        for db_role in SNOWFLAKE_DATABASE_ROLES:  # SNOWFLAKE's own roles: ACCOUNTADMIN grants them
            snowflake.GrantDatabaseRole(
                f"{name}-{db_role.lower().replace('_', '-')}",
                database_role_name=f'"SNOWFLAKE"."{db_role}"',
                parent_role_name=self.role.name,
                opts=prov.on("accountadmin", self),
            )
        g.inherit("admin-to-sysadmin", self.role, to_role="SYSADMIN")
        self._monitor(name, args, g)
        self.user = deployer(name, self, args.base, prov, args.deployer, self.role)
        g.inherit("admin-to-deployer", self.role, to_user=self.user.name)
        self.register_outputs({"role": self.role.name, "user": self.user.name})

    def _monitor(self, name: str, args: EnvironmentAccessArgs, g: RoleGrants) -> None:
        """The monitor, and the owner's-rights procedure the environment calls to attach its warehouses."""
        n, mon, as_admin = args.naming, args.monitor, args.providers.on("accountadmin", self)
        monitor = snowflake.ResourceMonitor(
            f"{name}-monitor",
            name=monitor_name(n),
            credit_quota=mon.credit_quota,
            frequency=mon.frequency,
            start_timestamp="IMMEDIATELY",
            notify_triggers=mon.notify_at,
            suspend_trigger=mon.suspend_at,
            suspend_immediate_trigger=mon.suspend_immediate_at,
            opts=as_admin,
        )
        warehouses = ", ".join(f"'{warehouse_name(n, p)}'" for p in WAREHOUSE_PURPOSES)
        procedure = snowflake.ProcedureSql(
            f"{name}-attach-monitor",
            database=args.base.database.name,
            schema=args.base.schemas[MONITOR_SCHEMA].name,
            name=attach_procedure(args.prefix, n).rsplit(".", 1)[1].strip('"'),
            arguments=[{"arg_name": "WAREHOUSE_NAME", "arg_data_type": "VARCHAR"}],
            return_type="VARCHAR",
            execute_as="OWNER",
            procedure_definition=monitor.name.apply(
                lambda m: render_sql("account/attach_monitor.sql", warehouses=warehouses, monitor=m)
            ),
            comment=f"attaches {monitor_name(n)} to a warehouse of {n.stack}",
            opts=as_admin,
        )
        db = args.base.database.name
        g.grant("monitor-database", self.role, ["USAGE"], on_account_object=object_ref("DATABASE", db))
        schema = quote_output(db, args.base.schemas[MONITOR_SCHEMA].name)
        g.grant("monitor-schema", self.role, ["USAGE"], on_schema={"schema_name": schema})
        signature = procedure.fully_qualified_name.apply(lambda q: f"{q}(VARCHAR)")
        g.on_object("monitor-procedure", self.role, ["USAGE"], "PROCEDURE", signature)


def deployer(
    name: str,
    parent: pulumi.Resource,
    base: AccountBase,
    providers: Providers,
    user: DeployUser,
    role: snowflake.AccountRole,
) -> snowflake.ServiceUser:
    """A key-pair deploy user that may log in only from the runners' ranges, with no secondary roles."""
    rule = snowflake.NetworkRule(
        f"{name}-deployer-ingress",
        database=base.database.name,
        schema=base.schemas[NETWORK_SCHEMA].name,
        name=f"{user.name}_INGRESS",
        type="IPV4",
        mode="INGRESS",
        value_lists=user.cidrs,
        comment=f"who may connect: {user.name} (the CI runners' ranges)",
        opts=providers.on("accountadmin", parent),
    )
    policy = snowflake.NetworkPolicy(
        f"{name}-deployer-policy",
        name=f"{user.name}_POLICY",
        allowed_network_rule_lists=[rule.fully_qualified_name],
        comment=f"attached to {user.name}",
        opts=providers.on("securityadmin", parent),
    )
    return snowflake.ServiceUser(
        f"{name}-deployer",
        name=user.name,
        comment="deploys one environment (key pair in its GitHub environment)",
        rsa_public_key=user.public_key,
        default_role=role.name,  # the role's output: the user is made after its role
        default_secondary_roles_option="NONE",
        network_policy=policy.name,
        opts=providers.on("securityadmin", parent),
    )


@dataclass(kw_only=True)
class ReviewIdentityArgs:
    prefix: str
    providers: Providers
    base: AccountBase
    config: ReviewIdentityConfig


class ReviewIdentity(pulumi.ComponentResource):
    """The identity per-PR review stacks deploy with: it may create account objects but is granted nothing
    of any environment (Snowflake cannot scope CREATE by name, so it owns only what it creates and the
    policy pack holds it to `RDP_PR_*` names), and an AWS role limited to `rdp-pr-*` resources."""

    def __init__(self, name: str, args: ReviewIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:ReviewIdentity", name, None, opts)
        r, prov, cfg = review_naming(args.prefix), args.providers, args.config
        g = RoleGrants(name, prov.on("securityadmin", self))
        role = g.role("role", r.sf("ADMIN"), "deploys per-PR review stacks (RDP_PR_*) only")
        g.grant("account", role, REVIEW_PRIVILEGES, on_account=True)
        login = DeployUser(name=r.sf("DEPLOYER"), public_key=cfg.public_key, cidrs=cfg.runner_cidrs)
        user = deployer(name, self, args.base, prov, login, role)
        g.inherit("user-role", role, to_user=user.name)
        scope = Naming(args.prefix, "pr").aws_prefix  # rdp-pr: every review stack's names
        aws_opts = prov.on("aws", self)
        acct = prov.aws_account_id
        policy = boundary(f"{name}-aws-boundary", r, scope, acct, aws_opts)
        self.role = github_role(f"{name}-aws-review", r, cfg.github_repository, "review", acct, aws_opts, policy, scope)
        # beyond deploying: the loads' landing files into review buckets (review-stack.yml)
        aws.iam.RolePolicy(f"{name}-aws-review-run", role=self.role.id, policy=review_run_policy(scope), opts=aws_opts)
        self.register_outputs({"role": self.role.arn, "user": user.name})
