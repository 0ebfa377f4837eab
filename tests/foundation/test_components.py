"""Components constructed directly under Pulumi's official mocks."""

from __future__ import annotations

import pulumi

from infra.mocks import PlanMocks

pulumi.runtime.set_mocks(PlanMocks(), project="retail-data-platform", stack="prod", preview=False)

from infra.config.reader import stack_config  # noqa: E402
from infra.foundation.component import SnowflakeFoundation, SnowflakeFoundationArgs  # noqa: E402
from infra.naming import Naming  # noqa: E402
from infra.providers import ROLES, AwsAccountArgs, Login, Providers, SnowflakeProvidersArgs, stack_providers  # noqa: E402


def providers() -> Providers:
    return stack_providers(
        SnowflakeProvidersArgs(organization="ORG", account="ACC", user="DEPLOYER"),
        AwsAccountArgs(region="us-east-1", stack="prod"),
        owner_role="RDP_PROD_ADMIN",
        login=Login(user="DEPLOYER", roles=dict(ROLES)),
    )


@pulumi.runtime.test
def test_foundation_names_and_outputs():
    cfg = stack_config("prod")
    f = SnowflakeFoundation(
        "f",
        SnowflakeFoundationArgs(
            naming=Naming("RDP", "prod"),
            providers=providers(),
            warehouses=cfg.warehouses,
            monitor_procedure='"RDP_ACCOUNT_ADMIN"."MONITORS"."ATTACH_RDP_PROD_MONITOR"',
            data_retention_days=cfg.data_retention_days,
            protect=True,
        ),
    )

    def check(args):
        db, wh = args
        assert db == "RDP_PROD_RETAIL"
        assert wh == "RDP_PROD_TRANSFORM_WH"

    return pulumi.Output.all(f.database.name, f.warehouses["transform"].name).apply(check)


@pulumi.runtime.test
def test_regenerated_admin_password_is_a_secret_output():
    """The credential component's password never becomes a plain value."""
    import asyncio

    from infra.serving.credential import PostgresAdminCredential, PostgresAdminCredentialArgs, reset_access_sql

    assert reset_access_sql("RDP_PROD_PG") == "ALTER POSTGRES INSTANCE RDP_PROD_PG RESET ACCESS FOR 'snowflake_admin'"
    cred = PostgresAdminCredential(
        "cred", PostgresAdminCredentialArgs(instance="RDP_PROD_PG", rotation=1, organization="O", account="A", user="U")
    )

    async def check() -> None:
        assert await cred.password.is_secret()
        assert (await cred.password.future()).startswith("mock-admin-")
        assert await cred.username.future() == "snowflake_admin"

    return asyncio.ensure_future(check())
