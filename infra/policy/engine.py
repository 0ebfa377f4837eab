"""How the pack sees secrets during a real `pulumi preview --policy-pack infra/policy`.

The engine sends the analyzer every resource's inputs with secrets kept (a map carrying the secret
signature and the value). pulumi_policy (1.21, pinned) deserializes the inputs it hands to validations
with `proxy_secrets=False`, which unwraps them: a rule would see a `--secret` private key as the plain
PEM and could not tell it from a literal. Only remediations get `pulumi_policy.Secret` wrappers.

`install()` (called by the pack's entry point before the pack starts) makes the validation path mask
each engine-reported secret as SECRET_MARK, exactly as the offline plan does (`infra/mocks.py`), so
rules decide secretness the same way on both paths and secret values never reach a rule or a violation
message. Remediations keep the SDK's own behaviour.
"""

from __future__ import annotations

from typing import Any

import pulumi_policy.policy as sdk
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from infra.config.reader import SECRET_MARK

_original = sdk.deserialize_properties


def mask_secrets(value: Any) -> Any:
    """Wire-format inputs with every secret replaced by SECRET_MARK."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return SECRET_MARK
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def deserialize_masked(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """pulumi_policy's deserializer, with secrets masked wherever it would have unwrapped them."""
    return _original(props if proxy_secrets else mask_secrets(props), proxy_secrets)


def install() -> None:
    sdk.deserialize_properties = deserialize_masked
