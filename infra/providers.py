"""Explicit Snowflake providers, one per administrative role.

Objects are owned by SYSADMIN, roles and grants are managed by SECURITYADMIN, and ACCOUNTADMIN is
used only where Snowflake insists on it (resource monitors, integrations). Each provider enables
exactly the preview features of the resource types it manages; tests/plan/test_preview_features.py
checks the plans against the list the installed provider declares as preview.
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
        "snowflake_sequence_resource",
    ],
    "securityadmin": [],
    "accountadmin": [
        "snowflake_notification_integration_resource",
        "snowflake_external_access_integration_resource",
        "snowflake_postgres_instance_resource",
    ],
}

ROLES = {"sysadmin": "SYSADMIN", "securityadmin": "SECURITYADMIN", "accountadmin": "ACCOUNTADMIN"}
# `RDP_IDENTITY=preview`: CI's pull-request preview logs every provider in as the stack's read-only
# preview user and role (infra/foundation/identity.py); unset or `deploy`, the stack's deploy user.
IDENTITY_VARIABLE = "RDP_IDENTITY"


@dataclass(frozen=True, kw_only=True)
class Login:
    """Who the Snowflake providers log in as, and with which role each: the deploy user with the three
    administrative roles; in a review stack the review identity's one role; in a preview the read-only
    preview user and role (a preview never applies, so it needs no write grant)."""

    user: str
    roles: dict[str, str]
    preview: bool = False


def login_for(naming: Naming, prefix: str, environment: str, deploy_user: str, env: dict | None = None) -> Login:
    identity = (os.environ if env is None else env).get(IDENTITY_VARIABLE, "deploy")
    if identity == "preview":
        return Login(user=naming.sf("PREVIEW"), roles=dict.fromkeys(ROLES, naming.sf("PREVIEWER")), preview=True)
    if identity != "deploy":
        raise ValueError(f"{IDENTITY_VARIABLE}={identity!r}: expected 'deploy' or 'preview'")
    if environment == "review":
        return Login(user=deploy_user, roles=dict.fromkeys(ROLES, review_naming(prefix).sf("ADMIN")))
    return Login(user=deploy_user, roles=dict(ROLES))


@dataclass(frozen=True, kw_only=True)
class Providers:
    """What every component deploys with: one Snowflake provider per role and the AWS account."""

    sysadmin: snowflake.Provider
    securityadmin: snowflake.Provider
    accountadmin: snowflake.Provider
    aws: aws.Provider
    aws_account_id: pulumi.Output[str]
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


class SnowflakeProviders(pulumi.ComponentResource):
    """The three role-scoped providers every Snowflake resource of the platform uses."""

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
                preview_features_enabled=PREVIEW_FEATURES[key] or None,
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
