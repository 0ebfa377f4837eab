"""The running stack's config as the Pulumi engine (or the offline plan's mocks) hands it over, validated
by the one reader. Apart from the reader so that code outside Pulumi (the scripts) never imports the SDK."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from infra.config.reader import own_keys, parse_config
from infra.config.stack import StackConfig


def load_stack_config() -> StackConfig:
    """Every `retail-data-platform:` key of the running stack, secrets marked as the engine marks them."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    env_secrets = set(runtime_config.get_config_secret_keys_env())
    secret = {k for k in merged if runtime_config.is_config_secret(k) or k in env_secrets}
    own, own_secret = own_keys(merged, secret)
    return parse_config(own, pulumi.get_stack(), own_secret)
