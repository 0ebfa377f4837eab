"""Explicit Snowflake providers, and who they log in as.

An environment stack logs in as its own deploy user with its own admin role, `RDP_<STACK>_ADMIN`, which
the account stack declares with exactly the account privileges an environment needs: every object of the
stack is owned by that role, and no environment stack uses a built-in administrative role. The three
providers keep their released names (`sysadmin`: objects, `securityadmin`: roles, users and grants,
`accountadmin`: integrations, the compute pool and the Postgres instance), so no resource changes
provider, but all three log in with the same role. The account stack (`stacks/account.py`), applied by a
human account administrator, is the one program that logs in with SYSADMIN, SECURITYADMIN and
ACCOUNTADMIN. Each provider enables exactly the preview features of the resource types it manages;
tests/plan/test_preview_features.py checks the plans against the list the installed provider declares.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.naming import Naming, review_naming

# Kept as data so the offline test can compare them with what each plan actually uses.
PREVIEW_FEATURES: dict[str, list[str]] = {
    "sysadmin": [
        "snowflake_table_resource",
        "snowflake_pipe_resource",
        "snowflake_procedure_sql_resource",
        "snowflake_dynamic_table_resource",
        "snowflake_function_python_resource",
        "snowflake_procedure_python_resource",
        "snowflake_sequence_resource",
        "snowflake_alert_resource",
    ],
    "securityadmin": [],
    "accountadmin": [
        "snowflake_notification_integration_resource",
        "snowflake_external_access_integration_resource",
        "snowflake_postgres_instance_resource",
    ],
}
# the account stack: its monitor procedures
ACCOUNT_PREVIEW_FEATURES: dict[str, list[str]] = {
    "sysadmin": [],
    "securityadmin": [],
    "accountadmin": ["snowflake_procedure_sql_resource"],
}

ROLES = {"sysadmin": "SYSADMIN", "securityadmin": "SECURITYADMIN", "accountadmin": "ACCOUNTADMIN"}
# `RDP_IDENTITY=preview`: CI's pull-request preview logs every provider in as the stack's read-only
# preview user and role (infra/foundation/identity.py); unset or `deploy`, the stack's deploy user.
IDENTITY_VARIABLE = "RDP_IDENTITY"


@dataclass(frozen=True, kw_only=True)
class Login:
    """Who the Snowflake providers log in as, and with which role each: the deploy user with the stack's
    owner role; in a preview the read-only preview user and role (a preview never applies, so it needs no
    write grant)."""

    user: str
    roles: dict[str, str]
    preview: bool = False


def owner_role(naming: Naming, prefix: str, environment: str) -> str:
    """The role that owns every object of the stack and that its roles roll up to: the environment's admin
    role, or in a per-PR review stack the review identity's role (both declared by the account stack)."""
    return (review_naming(prefix) if environment == "review" else naming).sf("ADMIN")


def login_for(naming: Naming, prefix: str, environment: str, deploy_user: str, env: dict | None = None) -> Login:
    identity = (os.environ if env is None else env).get(IDENTITY_VARIABLE, "deploy")
    if identity == "preview":
        return Login(user=naming.sf("PREVIEW"), roles=dict.fromkeys(ROLES, naming.sf("PREVIEWER")), preview=True)
    if identity != "deploy":
        raise ValueError(f"{IDENTITY_VARIABLE}={identity!r}: expected 'deploy' or 'preview'")
    return Login(user=deploy_user, roles=dict.fromkeys(ROLES, owner_role(naming, prefix, environment)))


@dataclass(frozen=True, kw_only=True)
class Providers:
    """What every component deploys with: one Snowflake provider per role and the AWS account."""

    sysadmin: snowflake.Provider
    securityadmin: snowflake.Provider
    accountadmin: snowflake.Provider
    aws: aws.Provider
    aws_account_id: pulumi.Output[str]
    owner_role: str  # the stack's own admin role: owns its objects, its roles roll up to it
    login: Login = field(default_factory=lambda: Login(user="DEPLOYER", roles=dict(ROLES)))

    def on(self, role: str, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """Options of a child of `parent` managed by the `role` provider (sysadmin, securityadmin,
        accountadmin or aws)."""
        return pulumi.ResourceOptions(parent=parent, provider=getattr(self, role), **options)


@dataclass(kw_only=True)
class SnowflakeProvidersArgs:
    organization: pulumi.Input[str]
    account: pulumi.Input[str]
    user: pulumi.Input[str]
    # Optional: without it the provider reads SNOWFLAKE_PRIVATE_KEY from the environment (CI).
    private_key: pulumi.Input[str] | None = None
    roles: dict[str, str] = field(default_factory=lambda: dict(ROLES))
    preview_features: dict[str, list[str]] = field(default_factory=lambda: PREVIEW_FEATURES)


class SnowflakeProviders(pulumi.ComponentResource):
    """The three providers every Snowflake resource of a stack uses (see the module docstring)."""

    sysadmin: snowflake.Provider
    securityadmin: snowflake.Provider
    accountadmin: snowflake.Provider

    def __init__(self, name: str, args: SnowflakeProvidersArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:providers:SnowflakeProviders", name, None, opts)
        for key in ROLES:
            provider = snowflake.Provider(
                f"{name}-{key}",
                organization_name=args.organization,
                account_name=args.account,
                user=args.user,
                role=args.roles[key],
                authenticator="SNOWFLAKE_JWT",
                private_key=args.private_key,
                preview_features_enabled=args.preview_features[key] or None,
                opts=pulumi.ResourceOptions(parent=self),
            )
            setattr(self, key, provider)
        self.register_outputs({})


@dataclass(kw_only=True)
class AwsAccountArgs:
    region: str
    stack: str


class AwsAccount(pulumi.ComponentResource):
    """The explicit AWS provider (region, default tags) and the account id names are built from."""

    provider: aws.Provider
    account_id: pulumi.Output[str]

    def __init__(self, name: str, args: AwsAccountArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:providers:AwsAccount", name, None, opts)
        self.provider = aws.Provider(
            f"{name}",
            region=args.region,
            default_tags={"tags": {"project": "retail-data-platform", "stack": args.stack, "managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=self.provider)
        ).account_id
        self.register_outputs({"account_id": self.account_id})


def stack_providers(
    snowflake: SnowflakeProvidersArgs, aws: AwsAccountArgs, *, owner_role: str, login: Login
) -> Providers:
    """What a stack deploys with (an environment's or the account stack's): the three Snowflake providers
    logging in as `login`, and the AWS account, under the logical names `snowflake` and `aws`."""
    sf = SnowflakeProviders("snowflake", snowflake)
    account = AwsAccount("aws", aws)
    return Providers(
        sysadmin=sf.sysadmin,
        securityadmin=sf.securityadmin,
        accountadmin=sf.accountadmin,
        aws=account.provider,
        aws_account_id=account.account_id,
        owner_role=owner_role,
        login=login,
    )
