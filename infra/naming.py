"""The one place physical names are made and quoted.

Every account-level Snowflake identifier and every AWS name carries the project prefix and the
stack, so dev, prod and per-PR review stacks coexist in one Snowflake account and one AWS account.
Schema-level objects live in the stack's own database; each capability lists them in one `Catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_PART = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Naming:
    prefix: str
    stack: str

    def __post_init__(self) -> None:
        for label, value in (("prefix", self.prefix), ("stack", self.stack)):
            if not value or not _PART.match(value):
                raise ValueError(f"naming {label} {value!r} must be letters, digits, '-' or '_'")

    @property
    def sf_prefix(self) -> str:
        """`RDP_DEV`: the start of every account-level Snowflake identifier of this stack."""
        return f"{self.prefix}_{self.stack}".upper().replace("-", "_")

    @property
    def aws_prefix(self) -> str:
        """`rdp-dev`: the start of every AWS name of this stack."""
        return f"{self.prefix}-{self.stack}".lower().replace("_", "-")

    def sf(self, *parts: str) -> str:
        """An account-level Snowflake identifier: database, warehouse, role, user, integration."""
        return "_".join([self.sf_prefix, *(_check(p).upper().replace("-", "_") for p in parts)])

    def aws(self, *parts: str) -> str:
        """An AWS resource name (IAM roles, topics, tables)."""
        return "-".join([self.aws_prefix, *(_check(p).lower().replace("_", "-") for p in parts)])

    def pg(self, *parts: str) -> str:
        """A Postgres role name (lower case, unquoted identifiers)."""
        return "_".join([self.sf_prefix.lower(), *(_check(p).lower().replace("-", "_") for p in parts)])

    def bucket(self, purpose: str, account_id: str) -> str:
        """S3 names are global across all accounts, so the account id makes them unique."""
        name = f"{self.aws(purpose)}-{account_id}"
        if len(name) > 63:
            raise ValueError(f"bucket name {name!r} is longer than 63 characters")
        return name

    @property
    def database(self) -> str:
        return self.sf("RETAIL")

    def fq(self, schema: str, obj: str) -> str:
        """Fully qualified, quoted name of a schema-level object, as SQL bodies reference it."""
        return quote(self.database, schema, obj)


def review_naming(prefix: str) -> Naming:
    """The names of the identity every per-PR review stack deploys with (hosted by one stack)."""
    return Naming(prefix, "review")


def quote(*parts: str) -> str:
    """`"DB"."SCHEMA"."NAME"`: the one way Snowflake identifiers are quoted in SQL the platform writes."""
    for p in parts:
        if not p or '"' in p:
            raise ValueError(f"identifier part {p!r} is empty or contains a double quote")
    return ".".join(f'"{p}"' for p in parts)


def object_ref(object_type: str, object_name: object) -> dict:
    """`{"object_type": …, "object_name": …}`: an account or schema object a grant is on."""
    return {"object_type": object_type, "object_name": object_name}


def unquote(fq: str) -> str:
    """`"DB"."SCHEMA"."NAME"` → `DB.SCHEMA.NAME`, for YAML specs and stage references (upper-case names)."""
    return fq.replace('"', "")


@dataclass(frozen=True)
class Catalog:
    """Every schema-level object of one capability: key → (schema, name). Pulumi resources, SQL files
    and the local path all look names up here, so a rename happens in one place."""

    objects: Mapping[str, tuple[str, str]]

    def schema(self, key: str) -> str:
        return self._entry(key)[0]

    def name(self, key: str) -> str:
        return self._entry(key)[1]

    def fq(self, database: str, key: str) -> str:
        """Fully qualified, quoted name of `key` in `database`."""
        schema, name = self._entry(key)
        return quote(database, schema, name)

    def _entry(self, key: str) -> tuple[str, str]:
        try:
            return self.objects[key]
        except KeyError:
            raise KeyError(f"no object {key!r} in this catalog (known: {', '.join(sorted(self.objects))})") from None


def slug(key: str) -> str:
    """`order_items` → `order-items`: a catalog key as part of a Pulumi logical name."""
    return key.replace("_", "-")


def _check(part: str) -> str:
    if not _PART.match(part):
        raise ValueError(f"name part {part!r} must be letters, digits, '-' or '_'")
    return part
