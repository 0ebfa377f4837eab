"""The one config reader: the running program, the offline plan, the policy pack and the scripts all
get their StackConfig from here, whether the values come from the Pulumi engine or from
Pulumi.<stack>.yaml, so they validate and reject exactly the same things.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.account.catalog import ACCOUNT_STACK
from infra.account.config import AccountConfig
from infra.config.base import PROJECT
from infra.config.stack import StackConfig

ROOT = Path(__file__).resolve().parents[2]
# Config keys whose values must only ever be set with `pulumi config set --secret`.
SECRET_KEYS = ("snowflakePrivateKey", "registryToken")
# What a stack file shows instead of a secret's ciphertext, and what the offline plan passes on.
SECRET_MARK = "[secret]"
# Config keys that were renamed: the old key is still read (with a warning) until every stack file moves.
RENAMED_KEYS = {"spcs": "api"}
_SECRETISH = re.compile(r"(password|passwd|secret|private.?key|token|credential)", re.I)


class ConfigError(ValueError):
    """A stack configuration problem, worded with the offending `project:key` names."""


def _error_message(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(stack config)"
        lines.append(f"  {PROJECT}:{key}: {e['msg']}")
    return "invalid stack configuration:\n" + "\n".join(lines)


def parse_config(values: Mapping[str, Any], stack: str, secret_keys: set[str] | None = None) -> StackConfig:
    """Validate raw config values (already stripped of the `project:` namespace)."""
    data = _data(values, stack, secret_keys or set())
    if data.get("environment") == ACCOUNT_STACK:
        raise ConfigError(f"{stack} is the account stack: read it with parse_account_config")
    try:
        return StackConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_error_message(e)) from None


def parse_account_config(values: Mapping[str, Any], stack: str, secret_keys: set[str] | None = None) -> AccountConfig:
    """The account stack's config (Pulumi.account.yaml), validated like an environment's."""
    try:
        return AccountConfig.model_validate(_data(values, stack, secret_keys or set()))
    except ValidationError as e:
        raise ConfigError(_error_message(e)) from None


def is_account(values: Mapping[str, Any]) -> bool:
    """Whether raw config values are the account stack's (`environment: account`)."""
    return _decode(values.get("environment")) == ACCOUNT_STACK


def _data(values: Mapping[str, Any], stack: str, secret_keys: set[str]) -> dict[str, Any]:
    """Raw values decoded, secrets refused in plain text, renamed keys read as the new ones."""
    plain_secrets = [k for k in values if (k in SECRET_KEYS or _SECRETISH.search(k)) and k not in secret_keys]
    if plain_secrets:
        raise ConfigError(
            "invalid stack configuration:\n"
            + "\n".join(
                f"  {PROJECT}:{k}: must be set with `pulumi config set --secret {k}`, not in plain text"
                for k in sorted(set(plain_secrets))
            )
        )
    data = _renamed({k: _decode(v) for k, v in values.items() if k not in SECRET_KEYS})
    data["stack"] = stack
    return data


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """Old key names read as the new ones, with a warning naming both; both at once is an error."""
    for old, new in RENAMED_KEYS.items():
        if old not in data:
            continue
        if new in data:
            raise ConfigError(
                f"invalid stack configuration:\n  {PROJECT}:{old}: renamed to {PROJECT}:{new}; set only {new}"
            )
        warnings.warn(f"{PROJECT}:{old} is deprecated: rename it to {PROJECT}:{new}", FutureWarning, stacklevel=3)
        data[new] = data.pop(old)
    return data


def _decode(v: Any) -> Any:
    """Pulumi passes structured config as JSON text; plain strings stay strings."""
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def own_keys(values: Mapping[str, Any], secret_keys: set[str]) -> tuple[dict[str, Any], set[str]]:
    prefix = f"{PROJECT}:"
    own = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    return own, {k[len(prefix) :] for k in secret_keys if k.startswith(prefix)}


def read_stack_file(stack: str) -> tuple[dict[str, str], list[str]]:
    """Config values of Pulumi.<stack>.yaml as the Pulumi CLI would hand them over: objects as JSON
    text, secrets masked (their ciphertext is useless without the stack's key)."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigError(f"no stack file {path.name} (stacks are the Pulumi.<stack>.yaml files beside Pulumi.yaml)")
    doc = yaml.safe_load(path.read_text()) or {}
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (doc.get("config") or {}).items():
        if ":" not in key:
            key = f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = SECRET_MARK
            secret_keys.append(key)
        elif isinstance(value, str):
            values[key] = value
        else:
            values[key] = json.dumps(value)
    return values, secret_keys


def stack_config(stack: str) -> StackConfig:
    """A stack's validated config read from its stack file (for code that runs outside Pulumi)."""
    values, secret_keys = read_stack_file(stack)
    own, own_secret = own_keys(values, set(secret_keys))
    return parse_config(own, stack, own_secret)


def account_config(stack: str) -> AccountConfig:
    """The account stack's validated config read from its stack file."""
    values, secret_keys = read_stack_file(stack)
    own, own_secret = own_keys(values, set(secret_keys))
    return parse_account_config(own, stack, own_secret)
