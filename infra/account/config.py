"""The account stack's config: which Snowflake account it administers, which environment stacks live
there (each one's own stack file is read for its names, monitor and runner ranges), their deployers' keys,
and the review identity. A wrong value fails at start naming its key."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from infra.account.catalog import snowflake_budget_credits
from infra.config.base import ConfigModel
from infra.foundation.config import cidr_list, rsa_public_key

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


class AccountSnowflake(ConfigModel):
    """The account, and the account administrator's own user the account stack logs in as."""

    organization: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    account: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    admin_user: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class Deployer(ConfigModel):
    """An environment's deploy user: its key pair's public half (the private one is its CI environment's)."""

    public_key: str

    @field_validator("public_key")
    @classmethod
    def _key(cls, v: str) -> str:
        return rsa_public_key(v)


class ReviewIdentityConfig(ConfigModel):
    """The identity per-PR review stacks deploy with: may create account objects, granted nothing of any
    environment."""

    github_repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    runner_cidrs: list[str] = Field(min_length=1)
    public_key: str

    @field_validator("runner_cidrs")
    @classmethod
    def _runners(cls, v: list[str]) -> list[str]:
        return cidr_list(v)

    @field_validator("public_key")
    @classmethod
    def _key(cls, v: str) -> str:
        return rsa_public_key(v)


class GithubReviewers(ConfigModel):
    """Who approves a job in a reviewed environment: team slugs and user logins of the repository's owner."""

    teams: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)


class GithubConfig(ConfigModel):
    """The repository whose deployment environments this account stack declares (one account stack only,
    when there are several: the environments belong to the repository, not to an account)."""

    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    # the environment stacks the repository deploys (default: the ones this account hosts)
    stacks: list[str] = Field(default_factory=list)
    reviewers: GithubReviewers

    @field_validator("reviewers")
    @classmethod
    def _someone(cls, v: GithubReviewers) -> GithubReviewers:
        if not (v.teams or v.users):
            raise ValueError("name at least one team or user: prod, preview-prod and review need a reviewer")
        return v


class AccountConfig(ConfigModel):
    """Everything the account stack may vary. Field aliases are the keys in Pulumi.account.yaml."""

    stack: str = Field(pattern=r"^account(-[a-z0-9-]{1,20})?$")
    prefix: str = Field(default="RDP", pattern=r"^[A-Z][A-Z0-9]{1,7}$")
    environment: Literal["account"]
    aws_region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    snowflake: AccountSnowflake
    # the environment stacks this account hosts (their Pulumi.<stack>.yaml), each with its deployer's key
    environments: dict[str, Deployer] = Field(min_length=1)
    # who hears of a budget: the AWS budgets' topic mails them, and the Snowflake budgets mail them (each must be
    # a verified e-mail address of a Snowflake user)
    alert_emails: list[str] = Field(min_length=1)
    review: ReviewIdentityConfig | None = None
    github: GithubConfig | None = None

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if not re.match(r"^[^@\s,']+@[^@\s,']+\.[^@\s,']+$", e)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return v

    @field_validator("environments")
    @classmethod
    def _stacks(cls, v: dict[str, Deployer]) -> dict[str, Deployer]:
        keys: dict[str, str] = {}
        for stack, deployer in v.items():
            if stack in keys.values() or deployer.public_key in keys:
                other = keys.get(deployer.public_key, stack)
                raise ValueError(f"{stack}.publicKey is the same key as {other}.publicKey; give each its own")
            keys[deployer.public_key] = stack
        return v


def check_hosted(cfg: AccountConfig, hosted: dict[str, StackConfig]) -> None:
    """Every listed environment lives in this account, with its own prefix and its own deploy user."""
    for stack, env in hosted.items():
        where = f"environments.{stack}"
        if env.environment == "review":
            raise ValueError(f"{where}: review stacks are not listed; they deploy as the review identity")
        if (env.snowflake.organization, env.snowflake.account) != (cfg.snowflake.organization, cfg.snowflake.account):
            raise ValueError(
                f"{where}: Pulumi.{stack}.yaml's snowflake.account is {env.snowflake.organization}."
                f"{env.snowflake.account}, not this stack's {cfg.snowflake.organization}.{cfg.snowflake.account}"
            )
        if env.prefix != cfg.prefix:
            raise ValueError(f"{where}: Pulumi.{stack}.yaml's prefix {env.prefix} is not this stack's {cfg.prefix}")
        try:
            snowflake_budget_credits(env.cost, env.resource_monitor)
        except ValueError as e:
            raise ValueError(f"{where}: Pulumi.{stack}.yaml: {e}") from None
