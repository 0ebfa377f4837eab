"""Ingestion end to end, for each feed (customers, sales, inventory): S3 → storage integration → stage →
Snowpipe → Bronze, then stream → procedure (transform + MERGE) → Silver on the feed's task, and the
customers' Gold view. One component builds every feed from its `Feed` spec (infra/ingestion/catalog.py).

How the two clouds are wired without a cycle: the storage integration receives the role ARN as a
string built from the account id and the role's name; the role's trust policy then uses the IAM
user and external id the integration describes. The bucket notification (one per bucket) targets
each pipe's own notification channel (an SQS ARN Snowflake owns) for that feed's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.grants import RoleGrants
from infra.iam import policy, snowflake_trust_policy
from infra.ingestion.catalog import CSV_FORMAT, CUSTOMER, FEEDS, Feed
from infra.ingestion.config import IngestionConfig
from infra.pipeline import PipelineArgs, PipelineComponent
from infra.tables import catalog_table


@dataclass(kw_only=True)
class IngestionArgs(PipelineArgs):
    config: IngestionConfig
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    loader_role: pulumi.Input[str]  # operates the pipes; TRANSFORMER runs the procedures and the tasks
    permissions_boundary: pulumi.Input[str] | None = None  # the most the role may do (infra/iam.py)
    feeds: tuple[Feed, ...] = tuple(FEEDS.values())


@dataclass(frozen=True)
class FeedObjects:
    """What one feed is made of on a stack, for the stack's outputs, the alerts and the tests."""

    stage: snowflake.StageExternalS3
    file_format: snowflake.FileFormatCsv
    bronze: snowflake.Table
    pipe: snowflake.Pipe
    xfm: snowflake.Table
    silver: snowflake.Table
    stream: snowflake.StreamOnTable
    procedure: snowflake.ProcedureSql
    task: snowflake.Task
    view: snowflake.View | None


class Ingestion(PipelineComponent):
    """Everything between a CSV landing under a feed's prefix in S3 and a row in that feed's Silver table
    (and, for customers, GOLD.CUSTOMER_VIEW): one storage integration and one bucket notification for
    the bucket, and per feed a file format, stage, Bronze table, pipe, stream, procedure and task."""

    integration: snowflake.StorageIntegrationAws
    feeds: dict[str, FeedObjects]

    def __init__(self, name: str, args: IngestionArgs, opts: pulumi.ResourceOptions | None = None):
        # Released as retail:ingestion:CustomerIngestion with the customer feed only; the alias keeps the
        # deployed customer objects (and their children's URNs) in place.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="retail:ingestion:CustomerIngestion")])
        )
        super().__init__("retail:ingestion:Ingestion", name, args, opts)
        self._integration()
        self.feeds = {f.key: self._feed(f) for f in args.feeds}
        self._notification()
        self.register_outputs(
            {
                **{f"{key}_pipe_notification_channel": o.pipe.notification_channel for key, o in self.feeds.items()},
                **{f"{key}_stage": o.stage.fully_qualified_name for key, o in self.feeds.items()},
            }
        )

    @property
    def pipe(self) -> snowflake.Pipe:
        """The customer feed's pipe (the stack output `pipeNotificationChannel` is its channel)."""
        return self.feeds["customer"].pipe

    def _url(self, feed: Feed) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "s3://", self._args.bucket_name, "/", self._args.config.feed(feed.key).landing_prefix
        )

    def _rname(self, feed: Feed, suffix: str) -> str:
        """`ingestion-pipe` (customers, released so), `ingestion-sales-pipe`."""
        return "-".join(p for p in (self._name, feed.logical, suffix) if p)

    def _integration(self) -> None:
        """The storage integration and the role it assumes (no cycle: the ARN is built from the name)."""
        name, args, prov = self._name, self._args, self._args.providers
        on_aws = args.on("aws", self)
        role_name = args.naming.aws("snowflake-s3")
        role_arn = pulumi.Output.concat("arn:aws:iam::", prov.aws_account_id, ":role/", role_name)
        self.integration = snowflake.StorageIntegrationAws(
            f"{name}-storage-integration",
            name=args.naming.sf("LANDING_S3"),
            enabled=True,
            storage_provider="S3",
            storage_aws_role_arn=role_arn,
            storage_allowed_locations=[self._url(f) for f in args.feeds],
            comment="read access to the landing prefixes",
            opts=args.on("accountadmin", self),
        )
        described = self.integration.describe_outputs[0]
        self.role = aws.iam.Role(
            f"{name}-s3-role",
            name=role_name,
            description="assumed by Snowflake's storage integration to read landing files",
            assume_role_policy=pulumi.Output.all(described.iam_user_arn, described.external_id).apply(
                lambda a: snowflake_trust_policy(a[0], a[1])
            ),
            permissions_boundary=args.permissions_boundary,
            opts=on_aws,
        )
        prefixes = [args.config.feed(f.key).landing_prefix for f in args.feeds]
        aws.iam.RolePolicy(
            f"{name}-s3-read",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.bucket_arn).apply(lambda arn: _read_prefixes(arn, prefixes)),
            opts=on_aws,
        )

    def _feed(self, feed: Feed) -> FeedObjects:
        """One feed's objects: Snowpipe into Bronze, then stream → procedure → Silver on its task."""
        loading = self._snowpipe(feed)
        objects = FeedObjects(**loading, **self._transform(feed, loading["bronze"]))
        self._grants(feed, objects)
        return objects

    def _snowpipe(self, feed: Feed) -> dict[str, pulumi.Resource]:
        """File format, stage, Bronze table and the auto-ingest pipe the bucket notifies."""
        args, db, cat, rn = self._args, self._db, feed.catalog, lambda s: self._rname(feed, s)
        as_sys = args.on("sysadmin", self)
        file_format = snowflake.FileFormatCsv(
            rn("file-format"),
            database=db,
            schema=cat.schema("file_format"),
            name=cat.name("file_format"),
            **CSV_FORMAT,
            opts=as_sys,
        )
        stage = snowflake.StageExternalS3(
            rn("stage"),
            database=db,
            schema=cat.schema("stage"),
            name=cat.name("stage"),
            url=self._url(feed),
            storage_integration=self.integration.name,
            file_format={"format_name": file_format.fully_qualified_name},
            comment=f"landing prefix of the {feed.noun} feed",
            opts=args.on("sysadmin", self, depends_on=[self.role]),
        )
        bronze = catalog_table(
            rn("bronze"),
            cat,
            "bronze",
            database=db,
            columns=feed.bronze_columns,
            opts=args.kept(self),
            change_tracking=True,
            comment=None if feed is CUSTOMER else f"the {feed.noun} feed's rows as loaded, all text",
        )
        pipe = snowflake.Pipe(
            rn("pipe"),
            database=db,
            schema=cat.schema("pipe"),
            name=cat.name("pipe"),
            auto_ingest=True,
            error_integration=args.error_integration,
            copy_statement=db.apply(feed.pipe_copy_sql),
            comment=f"auto-ingest of the {feed.noun} feed",
            # Snowflake stops a pipe whose stage was recreated, so a new stage means a new pipe.
            opts=args.on("sysadmin", self, depends_on=[stage, bronze], replace_with=[stage]),
        )
        return {"file_format": file_format, "stage": stage, "bronze": bronze, "pipe": pipe}

    def _notification(self) -> None:
        """One notification configuration per bucket (S3 keeps one): a queue entry per feed's prefix."""
        self.notification = aws.s3.BucketNotification(
            f"{self._name}-bucket-notification",
            bucket=self._args.bucket_name,
            queues=[
                {
                    "id": f"snowpipe-{key}",
                    "queue_arn": objects.pipe.notification_channel,
                    "events": ["s3:ObjectCreated:*"],
                    "filter_prefix": self._args.config.feed(key).landing_prefix,
                    "filter_suffix": ".csv",
                }
                for key, objects in self.feeds.items()
            ],
            opts=self._args.on("aws", self),
        )

    def _transform(self, feed: Feed, bronze: snowflake.Table) -> dict[str, pulumi.Resource | None]:
        """Stream → procedure (transform + MERGE) → Silver on the feed's task, and its Gold view if any."""
        args, db, cfg, cat, rn = self._args, self._db, self._args.config, feed.catalog, lambda s: self._rname(feed, s)
        kept = args.kept(self)
        new = feed is not CUSTOMER  # the customer tables were released without comments
        xfm = catalog_table(
            rn("xfm"),
            cat,
            "xfm",
            database=db,
            columns=feed.xfm_columns,
            opts=kept,
            comment=f"the {feed.noun} batch being merged (the procedure's work table)" if new else None,
        )
        silver = catalog_table(
            rn("silver"),
            cat,
            "silver",
            database=db,
            columns=feed.silver_columns,
            opts=kept,
            primary_key=feed.primary_key,
            comment=f"the {feed.noun} feed, typed, cleaned, one row per key" if new else None,
        )
        stream = snowflake.StreamOnTable(
            rn("stream"),
            database=db,
            schema=cat.schema("stream"),
            name=cat.name("stream"),
            table=bronze.fully_qualified_name,
            append_only="true",
            comment=f"new Bronze {feed.noun} rows not yet merged into Silver",
            opts=kept,  # its offset is state: re-created, it would skip rows not merged yet
        )
        procedure = snowflake.ProcedureSql(
            rn("procedure"),
            database=db,
            schema=cat.schema("procedure"),
            name=cat.name("procedure"),
            return_type="VARCHAR",
            execute_as="OWNER",
            procedure_definition=db.apply(feed.procedure_sql),
            comment=f"transform the stream and MERGE into SILVER.{cat.name('silver')} in one transaction",
            opts=args.on("sysadmin", self, depends_on=[stream, xfm, silver]),
        )
        task = self._task(
            rn("task"),
            cat,
            "task",
            schedule={"using_cron": f"{cfg.feed(feed.key).task_schedule} {cfg.task_timezone}"},
            when=db.apply(feed.task_when_sql),
            sql=feed.task_call_sql,
            started=cfg.task_enabled,
            comment=f"{feed.schedule_note}: Bronze stream → Silver {cat.name('silver')}",
            depends_on=[procedure],
        )
        view = None
        if feed.has_view:
            view = snowflake.View(
                rn("gold-view"),
                database=db,
                schema=cat.schema("view"),
                name=cat.name("view"),
                statement=db.apply(feed.gold_view_sql),
                comment=f"analyst-facing {feed.noun} dimension",
                opts=args.on("sysadmin", self, depends_on=[silver]),
            )
        return {"xfm": xfm, "silver": silver, "stream": stream, "procedure": procedure, "task": task, "view": view}

    def _grants(self, feed: Feed, o: FeedObjects) -> None:
        """Grants beyond the schema-level future grants of the access roles."""
        grants = RoleGrants(self._rname(feed, ""), self._args.on("securityadmin", self))
        loader, transformer = self._args.loader_role, self._args.transformer_role
        grants.on_object("loader-stage", loader, ["USAGE"], "STAGE", o.stage)
        grants.on_object("loader-format", loader, ["USAGE"], "FILE FORMAT", o.file_format)
        grants.on_object("loader-pipe", loader, ["OPERATE", "MONITOR"], "PIPE", o.pipe)
        grants.on_object("transformer-proc", transformer, ["USAGE"], "PROCEDURE", o.procedure)
        grants.on_object("transformer-task", transformer, ["OPERATE", "MONITOR"], "TASK", o.task)
        # the monitor (python -m scripts.monitor, as TRANSFORMER) reads SYSTEM$PIPE_STATUS: owner or MONITOR only
        grants.on_object("transformer-pipe", transformer, ["MONITOR"], "PIPE", o.pipe)


def _read_prefixes(bucket_arn: str, prefixes: list[str]) -> str:
    """What Snowflake's storage integration needs: GetObject(Version) and ListBucket under the feeds'
    prefixes, and GetBucketLocation, which it lists as required. The latter has no `s3:prefix` key, so
    under the prefix condition (Snowflake's sample policy) it would never be allowed: its own statement."""
    objects = [f"{bucket_arn}/{p}*" for p in prefixes]
    return policy(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": objects[0] if len(objects) == 1 else objects,
        },
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
        },
        {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
    )
