"""The one way a component declares a table or a dynamic table from its catalog entry: schema and name
from the catalog; a table's columns as (name, type) pairs, the primary key NOT NULL and the rest nullable."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_snowflake as snowflake

from infra.config.base import target_lag
from infra.naming import Catalog


def catalog_table(
    rname: str,
    catalog: Catalog,
    key: str,
    *,
    database: pulumi.Input[str],
    columns: Sequence[tuple[str, str]],
    opts: pulumi.ResourceOptions,
    primary_key: str | Sequence[str] | None = None,
    not_null: Sequence[str] = (),
    change_tracking: bool = False,
    comment: str | None = None,
    explicit: bool = True,
    cluster_by: Sequence[str] = (),
) -> snowflake.Table:
    """`key`'s table in `database`; the primary key is one column or several, `not_null` adds NOT NULL
    columns beyond it. Not `explicit`: nullability and change tracking are left to Snowflake's defaults
    (nullable, off), as the tables that were released that way keep them. `cluster_by`: the clustering
    key (none if empty)."""
    keys = [primary_key] if isinstance(primary_key, str) else list(primary_key or ())
    required = {*keys, *not_null}
    nullable = (lambda c: {"nullable": c not in required}) if explicit else (lambda c: {})
    return snowflake.Table(
        rname,
        database=database,
        schema=catalog.schema(key),
        name=catalog.name(key),
        columns=[{"name": c, "type": t, **nullable(c)} for c, t in columns],
        primary_key={"keys": keys} if keys else None,
        change_tracking=change_tracking if explicit else None,
        cluster_bies=list(cluster_by) or None,
        comment=comment,
        opts=opts,
    )


def catalog_dynamic_table(
    rname: str,
    catalog: Catalog,
    key: str,
    *,
    database: pulumi.Output[str],
    lag: str,
    warehouse: pulumi.Input[str],
    query: Callable[[str], str],
    comment: str,
    opts: pulumi.ResourceOptions,
    **inputs: object,
) -> snowflake.DynamicTable:
    """`key`'s dynamic table in `database`: its query rendered for the database, its checked lag."""
    return snowflake.DynamicTable(
        rname,
        database=database,
        schema=catalog.schema(key),
        name=catalog.name(key),
        target_lag=target_lag(lag),
        warehouse=warehouse,
        query=database.apply(query),
        comment=comment,
        opts=opts,
        **inputs,
    )
