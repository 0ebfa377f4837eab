"""The foundation's config: the Snowflake account and warehouses with their cost guard-rails, and who the
stack's identities are (a key-pair service user per duty, what CI runs as). Keys and network ranges are
checked here, so a wrong one fails at start naming its config key."""

from __future__ import annotations

import base64
import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel, WarehouseSize

# RFC 5737 / 3849 documentation ranges: examples, never anybody's egress.
DOCUMENTATION_RANGES = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


# Ranges that are nobody's public egress: private networks (RFC 1918), shared address space (RFC 6598)
# and unique local IPv6 (RFC 4193). Anything else is public and, in prod, needs a reviewed reason.
NON_PUBLIC_RANGES = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
]
_EVERYTHING = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}


def is_public(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return not any(net.version == p.version and net.subnet_of(p) for p in NON_PUBLIC_RANGES)


def whole_spaces(cidrs: list[str]) -> list[str]:
    """The address spaces (IPv4, IPv6) that the union of `cidrs` covers entirely, however it is split."""
    nets = [ipaddress.ip_network(c) for c in cidrs]
    return [
        f"IPv{version}"
        for version, everything in _EVERYTHING.items()
        if list(ipaddress.collapse_addresses(n for n in nets if n.version == version)) == [everything]
    ]


def cidr_list(v: list[str]) -> list[str]:
    """Valid CIDR blocks, none a documentation example, and together not open to the whole internet."""
    out = []
    for c in v:
        try:
            net = ipaddress.ip_network(c, strict=True)
        except ValueError as e:
            raise ValueError(f"{c!r} is not a CIDR block ({e})") from None
        if net.prefixlen == 0:  # review stacks copy dev's config: no stack opens anything to everyone
            raise ValueError(f"{c} opens access to the whole internet; list your own ranges")
        if any(net.version == d.version and net.subnet_of(d) for d in DOCUMENTATION_RANGES):
            raise ValueError(f"{c} is a documentation example range; list your own egress ranges")
        out.append(str(net))
    if spaces := whole_spaces(out):
        raise ValueError(f"{', '.join(v)} together open access to the whole {' and '.join(spaces)} internet")
    return out


def rsa_public_key(v: str) -> str:
    """The base64 body of an RSA public key of at least 2048 bits (PEM armour removed)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    body = "".join(line.strip() for line in v.strip().splitlines() if "-----" not in line)
    try:
        key = load_der_public_key(base64.b64decode(body, validate=True))
    except Exception:
        raise ValueError("must be an RSA public key (PEM body, base64 DER)") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("must be an RSA public key of at least 2048 bits")
    return body


class ServiceUserConfig(ConfigModel):
    """One key-pair service user: its public key and where it may log in from (default: allowedCidrs)."""

    public_key: str
    allowed_cidrs: list[str] | None = Field(default=None, min_length=1)

    @field_validator("public_key")
    @classmethod
    def _key(cls, v: str) -> str:
        return rsa_public_key(v)

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else cidr_list(v)


SERVICE_DUTIES = ("loader", "transformer", "app", "registry")


class ServiceUsers(ConfigModel):
    """A service user per duty, each with its own key: a leaked loader key cannot transform, serve or
    push images."""

    loader: ServiceUserConfig
    transformer: ServiceUserConfig
    app: ServiceUserConfig
    registry: ServiceUserConfig

    @model_validator(mode="after")
    def _distinct_keys(self) -> ServiceUsers:
        seen: dict[str, str] = {}
        for duty in SERVICE_DUTIES:
            key = getattr(self, duty).public_key
            if key in seen:
                raise ValueError(f"{duty}.publicKey is the same key as {seen[key]}.publicKey; give every duty its own")
            seen[key] = duty
        return self


class CiConfig(ConfigModel):
    """Who CI runs as: the repository GitHub's OIDC tokens must name, and the key of the read-only
    preview user. (The identity per-PR review stacks deploy with is the account stack's: Pulumi.account.yaml.)"""

    github_repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    # where CI's Snowflake users may log in from: the egress ranges of your runners
    runner_cidrs: list[str] = Field(min_length=1)
    preview_public_key: str

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: object) -> object:
        if isinstance(data, dict) and (moved := sorted({"reviewStacks", "reviewPublicKey"} & set(data))):
            raise ValueError(
                f"{', '.join(moved)}: the review identity moved to the account stack (Pulumi.account.yaml, key review)"
            )
        return data

    @field_validator("runner_cidrs")
    @classmethod
    def _runners(cls, v: list[str]) -> list[str]:
        return cidr_list(v)

    @field_validator("preview_public_key")
    @classmethod
    def _keys(cls, v: str) -> str:
        return rsa_public_key(v)


class WarehouseConfig(ConfigModel):
    size: WarehouseSize
    auto_suspend_seconds: int = Field(ge=60, le=86400)


class Warehouses(ConfigModel):
    load: WarehouseConfig
    transform: WarehouseConfig
    serve: WarehouseConfig


class ResourceMonitorConfig(ConfigModel):
    credit_quota: int = Field(gt=0, le=100_000)
    frequency: Literal["DAILY", "WEEKLY", "MONTHLY", "YEARLY"] = "MONTHLY"
    notify_at: list[int] = Field(min_length=1)
    suspend_at: int = Field(gt=0, le=200)
    suspend_immediate_at: int = Field(gt=0, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> ResourceMonitorConfig:
        if any(not 0 < t <= 200 for t in self.notify_at):
            raise ValueError("notifyAt thresholds must be percentages in 1..200")
        if self.suspend_immediate_at < self.suspend_at:
            raise ValueError("suspendImmediateAt must be >= suspendAt")
        return self


class SnowflakeConnection(ConfigModel):
    organization: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    account: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    deploy_user: str = Field(pattern=r"^[A-Za-z0-9_]+$")
