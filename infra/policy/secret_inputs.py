"""Secret material only arrives as Pulumi secrets.

Secretness is what the engine reports, never a guess from the value: the pack's entry point masks
every engine-reported secret as SECRET_MARK before any rule runs (`infra/policy/engine.py`), and the
offline plan masks them the same way (`infra/mocks.py`). So a correctly set
`pulumi config set --secret snowflakePrivateKey` reaches the rules as SECRET_MARK and passes, while
the same key given in plain text is a visible value in an input known to hold a secret, and fails.
"""

from __future__ import annotations

import re
from typing import Any

from infra.policy.common import Report, get_path, is_secret, label, values

# Inputs that hold secret material, per type (dotted paths into the inputs).
SECRET_INPUTS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:snowflake": ("privateKey", "privateKeyPassphrase", "password", "token", "oauthClientSecret"),
    "pulumi:providers:postgresql": ("password",),
    "pulumi:providers:aws": ("secretKey", "token"),
    "snowflake:index/secretWithGenericString:SecretWithGenericString": ("secretString",),
    "snowflake:index/secretWithBasicAuthentication:SecretWithBasicAuthentication": ("password",),
    "snowflake:index/user:User": ("password",),
    "snowflake:index/legacyServiceUser:LegacyServiceUser": ("password",),
    "postgresql:index/role:Role": ("password",),
    "docker:index/image:Image": ("registry.password",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
}
# Secret material pasted into an input the engine does not report as secret (a spec, a comment).
LITERAL_PATTERNS = {
    "a PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "a password inside a connection URI": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@"),
}


def secret_inputs_are_secrets(args: Any, report: Report) -> None:
    """Every stack: each input known to hold secret material (SECRET_INPUTS: private keys, passwords,
    tokens, secret strings) is a Pulumi secret as the engine reports it, so it is encrypted in the
    state and masked in previews and logs."""
    for path in SECRET_INPUTS.get(args.resource_type, ()):
        value = get_path(args.props, path)
        if value is None or value == "" or is_secret(value):
            continue
        report(
            f"{label(args)}: input {path} holds a secret in plain text; "
            "fix: pass it as a Pulumi secret (pulumi config set --secret, config.require_secret)"
        )


def no_secret_literals(args: Any, report: Report) -> None:
    """Every stack: no input the engine reports as not secret contains a private key, an access key,
    a token or a password in a URI (secrets are masked before rules run, so a proper secret never
    matches)."""
    for path, value in values(args.props):
        if not isinstance(value, str) or is_secret(value):
            continue
        for what, pattern in LITERAL_PATTERNS.items():
            if pattern.search(value):
                report(f"{label(args)}: input {path} contains {what} in plain text; fix: pass it as a Pulumi secret")
