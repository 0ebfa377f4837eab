"""What every warehouse pipeline (ingestion, analytics, CDC, recommendations) is given — where it runs, who
operates it, where its task errors go, whether its state is protected (`PipelineArgs`, which each
pipeline's Args extend) — and what each pipeline's component shares (`PipelineComponent`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import Catalog, Naming
from infra.providers import Providers


@dataclass(kw_only=True)
class PipelineArgs:
    naming: Naming
    providers: Providers
    protect: bool
    database: pulumi.Input[str]
    transform_warehouse: pulumi.Input[str]
    error_integration: pulumi.Input[str]
    transformer_role: pulumi.Input[str]

    def on(self, role: str, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """Options of a child of `parent` on the `role` provider (see `Providers.on`)."""
        return self.providers.on(role, parent, **options)

    def kept(self, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """A SYSADMIN-owned child that holds state: protected where the stack protects."""
        return self.providers.on("sysadmin", parent, protect=self.protect, **options)


class PipelineComponent(pulumi.ComponentResource):
    """A warehouse pipeline's component: its logical name, Args and database, and the one way its tasks
    are declared."""

    def __init__(self, type_: str, name: str, args: PipelineArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        self._name, self._args = name, args
        self._db = pulumi.Output.from_input(args.database)

    def _task(
        self,
        rname: str,
        catalog: Catalog,
        key: str,
        *,
        sql: Callable[[str], str],
        started: bool,
        comment: str,
        depends_on: list[pulumi.Resource],
        schedule: dict | None = None,
        **inputs: object,
    ) -> snowflake.Task:
        """`key`'s task on the transform warehouse, its statement rendered for the database. A scheduled
        (root) task reports failures to the error integration and suspends itself after three in a row;
        a child (`afters=`) runs when its parents succeed."""
        root = schedule is not None
        return snowflake.Task(
            rname,
            database=self._db,
            schema=catalog.schema(key),
            name=catalog.name(key),
            warehouse=self._args.transform_warehouse,
            schedule=schedule,
            sql_statement=self._db.apply(sql),
            started=started,
            error_integration=self._args.error_integration if root else None,
            suspend_task_after_num_failures=3 if root else None,
            comment=comment,
            opts=self._args.on("sysadmin", self, depends_on=depends_on),
            **inputs,
        )
