"""What one environment of the platform is made of. Stacks differ only by their config."""

from __future__ import annotations

import pulumi

from infra.access import AccessControl, AccessControlArgs
from infra.config import StackConfig, load_stack_config
from infra.foundation import SnowflakeFoundation, SnowflakeFoundationArgs
from infra.naming import Naming
from infra.providers import SnowflakeProviders, SnowflakeProvidersArgs


def build(cfg: StackConfig) -> dict[str, pulumi.Output]:
    """Compose the platform's components for one stack and return its outputs."""
    naming = Naming(cfg.prefix, cfg.stack)
    secrets = pulumi.Config()
    providers = SnowflakeProviders(
        "snowflake",
        SnowflakeProvidersArgs(
            organization=cfg.snowflake.organization,
            account=cfg.snowflake.account,
            user=cfg.snowflake.deploy_user,
            private_key=secrets.get_secret("snowflakePrivateKey"),
        ),
    )
    foundation = SnowflakeFoundation(
        "foundation",
        SnowflakeFoundationArgs(
            naming=naming,
            warehouses=cfg.warehouses,
            monitor=cfg.resource_monitor,
            data_retention_days=cfg.data_retention_days,
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            accountadmin=providers.accountadmin,
        ),
    )
    access = AccessControl(
        "access",
        AccessControlArgs(
            naming=naming,
            database=foundation.database.name,
            schemas={k: v.name for k, v in foundation.schemas.items()},
            warehouses={k: v.name for k, v in foundation.warehouses.items()},
            service_user_public_key=cfg.service_user_public_key,
            securityadmin=providers.securityadmin,
        ),
    )
    return {
        "database": foundation.database.name,
        "warehouses": pulumi.Output.all(**{k: v.name for k, v in foundation.warehouses.items()}),
        "functionalRoles": pulumi.Output.all(**{k: v.name for k, v in access.functional_roles.items()}),
        "serviceUser": access.service_user.name,
    }


def main() -> None:
    """Entry point used by __main__.py and by the offline plan."""
    outputs = build(load_stack_config())
    for key, value in outputs.items():
        pulumi.export(key, value)
