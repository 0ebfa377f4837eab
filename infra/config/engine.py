"""The running stack's config as the Pulumi engine (or the offline plan's mocks) hands it over, validated
by the one reader. Apart from the reader so that code outside Pulumi (the scripts) never imports the SDK."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from infra.account.config import AccountConfig
from infra.config.reader import is_account, own_keys, parse_account_config, parse_config
from infra.config.stack import StackConfig


def _own() -> tuple[dict, set[str]]:
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    env_secrets = set(runtime_config.get_config_secret_keys_env())
    secret = {k for k in merged if runtime_config.is_config_secret(k) or k in env_secrets}
    return own_keys(merged, secret)


def running_account_stack() -> bool:
    """Whether the running stack is the account stack (`environment: account`), not an environment."""
    return is_account(_own()[0])


def load_stack_config() -> StackConfig:
    """Every `retail-data-platform:` key of the running stack, secrets marked as the engine marks them."""
    own, own_secret = _own()
    return parse_config(own, pulumi.get_stack(), own_secret)


def load_account_config() -> AccountConfig:
    """The running account stack's config."""
    own, own_secret = _own()
    return parse_account_config(own, pulumi.get_stack(), own_secret)
