"""The scheduled refresh of the serving stores: a task that runs the refresh image (the repository's own
post-deploy steps, services/refresh/) as a Snowpark Container Services job on the API's compute pool,
so train-when-due → sync → export runs inside Snowflake, on a schedule, as the stack's owner role, with
its logs and run history where the rest of the stack's tasks keep theirs.

The job reaches Postgres through an external access integration of its own (the instance's egress rule,
the loader's password and the root CA: the API's integration stays read-only). It has no AWS identity:
SPCS documents none, so the DynamoDB half of the export is not run in the job: the child task of
infra/serving/export.py runs it after the refresh succeeded (README: Scheduled refresh).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_snowflake as snowflake

from infra.grants import RoleGrants
from infra.images import ImageBuild, spcs_image_path
from infra.naming import Naming, quote, unquote
from infra.providers import Providers
from infra.registry import Registry, pushed_image
from infra.serving.catalog import CATALOG, REFRESH_CONTEXT, REFRESH_DOCKERFILE, REFRESH_IMAGE
from infra.serving.config import PostgresConfig, RefreshConfig
from infra.serving.postgres import SnowflakePostgres
from infra.sqlfiles import render_sql, render_template

SPEC = Path(__file__).resolve().parents[2] / "services" / "refresh" / "spec.yaml.tmpl"


def job_statement(*, spec: str, pool: str, warehouse: str, integration: str) -> str:
    """The task's one statement: sql/serving/refresh_job.sql without its comment lines, the spec inlined."""
    text = render_sql(
        "serving/refresh_job.sql",
        spec=spec,
        pool=quote(pool),
        warehouse=quote(warehouse),
        integration=quote(integration),
    )
    return text[text.index("EXECUTE JOB SERVICE") :].strip()


@dataclass(kw_only=True)
class ServingRefreshArgs:
    naming: Naming
    providers: Providers
    config: RefreshConfig
    postgres_config: PostgresConfig
    stack: str
    database: pulumi.Input[str]
    warehouse: pulumi.Input[str]  # the transform warehouse: the task's, and the job's QUERY_WAREHOUSE
    error_integration: pulumi.Input[str]
    postgres: SnowflakePostgres  # its egress rule, root CA secret and host
    loader_password: pulumi.Input[str]
    pool: snowflake.ComputePool  # the API's
    repository: snowflake.ImageRepository  # the API's
    registry: Registry  # who pushes images to it, once the push grant exists
    image_version: str
    # what the job reads and writes in the warehouse (the recommendations' tables, views and model stage)
    reads: list[pulumi.Resource] = field(default_factory=list)
    # reads the task's history for the monitor (scripts/monitor runs as TRANSFORMER): MONITOR on the task
    monitor_role: pulumi.Input[str] | None = None


class ServingRefresh(pulumi.ComponentResource):
    """The loader's secret, the job's integration, its image, and the task that runs it on schedule."""

    task: snowflake.Task

    def __init__(self, name: str, args: ServingRefreshArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:ServingRefresh", name, None, opts)
        self._name, self._args = name, args
        self._access()
        self.image = pushed_image(
            f"{name}-image",
            ImageBuild(
                name=REFRESH_IMAGE, version=args.image_version, dockerfile=REFRESH_DOCKERFILE, context=REFRESH_CONTEXT
            ),
            args.registry,
            self,
        )
        self._task()
        if args.monitor_role is not None:
            grants = RoleGrants(f"{name}-monitor", args.providers.on("securityadmin", self))
            grants.on_object("task", args.monitor_role, ["MONITOR"], "TASK", self.task)
        self.register_outputs(
            {
                "task": self.task.fully_qualified_name,
                "integration": self.integration.name,
                "image": self.image.repo_digest,
            }
        )

    def _access(self) -> None:
        """The loader's password as a Snowflake secret, and an integration that lets the job reach the
        instance with it and the root CA (the admin and app secrets stay out of the job's reach)."""
        name, args, prov = self._name, self._args, self._args.providers
        self.loader_secret = snowflake.SecretWithGenericString(
            f"{name}-loader-secret",
            database=args.database,
            schema=CATALOG.schema("loader_secret"),
            name=CATALOG.name("loader_secret"),
            secret_string=pulumi.Output.secret(args.loader_password),
            comment="password of the serving schema's loader role, for the scheduled refresh's job",
            opts=prov.on("sysadmin", self),
        )
        pg = args.postgres
        self.integration = snowflake.ExternalAccessIntegration(
            f"{name}-external-access",
            name=args.naming.sf("REFRESH_ACCESS_INTEGRATION"),
            allowed_network_rules=[pg.egress_rule.fully_qualified_name],
            allowed_authentication_secrets={
                "secrets": [self.loader_secret.fully_qualified_name, pg.ca_secret.fully_qualified_name]
            },
            enabled=True,
            comment="lets the scheduled refresh's job reach the serving Postgres instance as its loader",
            opts=prov.on("accountadmin", self),
        )

    def _statement(self) -> pulumi.Output[str]:
        """sql/serving/refresh_job.sql with the spec rendered from services/refresh/spec.yaml.tmpl."""
        args, cfg = self._args, self._args.config
        pg = args.postgres
        spec = pulumi.Output.all(
            image=self.image.repo_digest,
            database=args.database,
            warehouse=args.warehouse,
            pg_host=pg.host,
            pg_secret=self.loader_secret.fully_qualified_name.apply(unquote),
            pg_ca_secret=pg.ca_secret.fully_qualified_name.apply(unquote),
        ).apply(
            lambda a: render_template(
                SPEC,
                **{**a, "image": spcs_image_path(a["image"])},
                stack=args.stack,
                pg_db=args.postgres_config.database,
                pg_user=args.naming.pg("loader"),
                cpu=f"{cfg.cpu:g}",
                memory=cfg.memory,
            )
        )
        return pulumi.Output.all(
            spec=spec, pool=args.pool.name, warehouse=args.warehouse, integration=self.integration.name
        ).apply(
            lambda a: job_statement(
                spec=a["spec"].strip(), pool=a["pool"], warehouse=a["warehouse"], integration=a["integration"]
            )
        )

    def _task(self) -> None:
        """The task: on `servingRefresh.schedule`, resumed when `servingRefresh.enabled`; a failed run reaches
        the error integration, and three in a row suspend it (as the pipelines' tasks)."""
        name, args, cfg = self._name, self._args, self._args.config
        pg = args.postgres
        self.task = snowflake.Task(
            f"{name}-task",
            database=args.database,
            schema=CATALOG.schema("refresh_task"),
            name=CATALOG.name("refresh_task"),
            warehouse=args.warehouse,
            schedule={"using_cron": f"{cfg.schedule} {cfg.timezone}"},
            sql_statement=self._statement(),
            started=cfg.enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            user_task_timeout_ms=cfg.timeout_minutes * 60_000,
            comment=(
                f"refreshes the serving stores (train every {cfg.train_every_days} days, sync, export) as a job "
                "on the API's compute pool"
            ),
            opts=args.providers.on(
                "sysadmin",
                self,
                depends_on=[
                    args.pool,
                    args.repository,
                    self.image,
                    self.integration,
                    self.loader_secret,
                    pg.ca_secret,
                    pg.egress_rule,
                    *args.reads,
                ],
            ),
        )
