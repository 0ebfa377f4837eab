"""The one way a component declares a table from its catalog entry: schema and name from the catalog,
columns as (name, type) pairs, the primary key NOT NULL and everything else nullable."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import Catalog


def catalog_table(
    rname: str,
    catalog: Catalog,
    key: str,
    *,
    database: pulumi.Input[str],
    columns: Sequence[tuple[str, str]],
    opts: pulumi.ResourceOptions,
    primary_key: str | None = None,
    not_null: Sequence[str] = (),
    change_tracking: bool = False,
    comment: str | None = None,
    declare_nullable: bool = True,
) -> snowflake.Table:
    """`key`'s table in `database`; `not_null` adds NOT NULL columns beyond the primary key. Without
    `declare_nullable`, columns carry no nullability and Snowflake's default (nullable) applies."""
    required = {primary_key, *not_null}
    nullable = (lambda c: {"nullable": c not in required}) if declare_nullable else (lambda c: {})
    return snowflake.Table(
        rname,
        database=database,
        schema=catalog.schema(key),
        name=catalog.name(key),
        columns=[{"name": c, "type": t, **nullable(c)} for c, t in columns],
        primary_key={"keys": [primary_key]} if primary_key else None,
        change_tracking=change_tracking,
        comment=comment,
        opts=opts,
    )
