"""The account stack: what only an account administrator may do, applied by a human once and on change.

It hosts the environment stacks listed in its config (`environments`): each one's admin role, resource
monitor and deploy user are read from that environment's own stack file, so an environment is configured
in one place. One Snowflake account may host every environment (one account stack), or each environment
its own account (one account stack per account, e.g. `account-prod`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.account.budgets import BudgetAlerts, BudgetAlertsArgs, EnvironmentBudget, EnvironmentBudgetArgs
from infra.account.catalog import BUDGET_SCHEMA, account_naming, snowflake_budget_credits
from infra.account.component import (
    AccountBase,
    AccountBaseArgs,
    DeployUser,
    EnvironmentAccess,
    EnvironmentAccessArgs,
    ReviewIdentity,
    ReviewIdentityArgs,
)
from infra.account.config import AccountConfig, check_hosted
from infra.account.github import RepositoryEnvironments, RepositoryEnvironmentsArgs
from infra.config.engine import load_account_config
from infra.config.reader import ConfigError, stack_config
from infra.config.stack import StackConfig
from infra.providers import (
    ACCOUNT_PREVIEW_FEATURES,
    ROLES,
    AwsAccountArgs,
    Login,
    Providers,
    SnowflakeProvidersArgs,
    stack_providers,
)


@dataclass(frozen=True, kw_only=True)
class Account:
    """The account stack's components, for the outputs and for tests."""

    base: AccountBase
    environments: dict[str, EnvironmentAccess]
    budgets: dict[str, EnvironmentBudget]
    review: ReviewIdentity | None
    github: RepositoryEnvironments | None


def _providers(cfg: AccountConfig) -> Providers:
    """The account administrator's own login, with the built-in roles (the only stack that uses them)."""
    login = Login(user=cfg.snowflake.admin_user, roles=dict(ROLES))
    return stack_providers(
        SnowflakeProvidersArgs(
            organization=cfg.snowflake.organization,
            account=cfg.snowflake.account,
            user=login.user,
            private_key=pulumi.Config().get_secret("snowflakePrivateKey"),
            roles=login.roles,
            preview_features=ACCOUNT_PREVIEW_FEATURES,
        ),
        AwsAccountArgs(region=cfg.aws_region, stack=cfg.stack),
        owner_role="ACCOUNTADMIN",
        login=login,
    )


def hosted(cfg: AccountConfig) -> dict[str, StackConfig]:
    """The environment stacks' own configs, read from their stack files and checked against this one."""
    try:
        envs = {stack: stack_config(stack) for stack in cfg.environments}
        check_hosted(cfg, envs)
    except (ConfigError, ValueError) as e:
        raise ConfigError(f"invalid account configuration: {e}") from None
    return envs


def build(cfg: AccountConfig) -> Account:
    providers = _providers(cfg)
    base = AccountBase("account", AccountBaseArgs(prefix=cfg.prefix, providers=providers))
    alerts = BudgetAlerts(
        "budget-alerts",
        BudgetAlertsArgs(naming=account_naming(cfg.prefix), providers=providers, emails=cfg.alert_emails),
    )
    environments, budgets = {}, {}
    for stack, env in hosted(cfg).items():
        n = env.naming
        user = DeployUser(
            name=env.snowflake.deploy_user,
            public_key=cfg.environments[stack].public_key,
            cidrs=env.ci.runner_cidrs,
        )
        environments[stack] = EnvironmentAccess(
            stack,
            EnvironmentAccessArgs(
                prefix=cfg.prefix,
                naming=n,
                providers=providers,
                base=base,
                deployer=user,
                monitor=env.resource_monitor,
            ),
        )
        budgets[stack] = _budget(cfg, env, base, environments[stack], providers, alerts)
    review = None
    if cfg.review is not None:
        review = ReviewIdentity(
            "review", ReviewIdentityArgs(prefix=cfg.prefix, providers=providers, base=base, config=cfg.review)
        )
    github = None
    if cfg.github is not None:
        stacks = cfg.github.stacks or list(cfg.environments)
        github = RepositoryEnvironments("github", RepositoryEnvironmentsArgs(config=cfg.github, stacks=stacks))
    return Account(base=base, environments=environments, budgets=budgets, review=review, github=github)


def _budget(
    cfg: AccountConfig,
    env: StackConfig,
    base: AccountBase,
    access: EnvironmentAccess,
    providers: Providers,
    alerts: BudgetAlerts,
) -> EnvironmentBudget:
    """The environment's budgets, from its own stack file's `cost` and monitor; declared inside its
    EnvironmentAccess, so they count as the environment's (infra/isolation.py)."""
    return EnvironmentBudget(
        f"{env.stack}-budget",
        EnvironmentBudgetArgs(
            prefix=cfg.prefix,
            naming=env.naming,
            providers=providers,
            database=base.database.name,
            schema=base.schemas[BUDGET_SCHEMA],
            role=access.role,
            credits=snowflake_budget_credits(env.cost, env.resource_monitor),
            aws_usd=float(env.cost.aws_monthly_budget or 0),
            emails=cfg.alert_emails,
            topic=alerts.topic,
        ),
        opts=pulumi.ResourceOptions(parent=access),
    )


def outputs(account: Account) -> dict[str, object]:
    return {
        "adminDatabase": account.base.database.name,
        "adminRoles": {k: v.role.name for k, v in account.environments.items()},
        "deployUsers": {k: v.user.name for k, v in account.environments.items()},
        **({"reviewAwsRole": account.review.role.arn} if account.review else {}),
        **({"githubEnvironments": sorted(account.github.environments)} if account.github else {}),
    }


def main() -> None:
    for key, value in outputs(build(load_account_config())).items():
        pulumi.export(key, value)
