"""Customer ingestion end to end: S3 → storage integration → stage → Snowpipe → Bronze, then
stream → procedure (transform + MERGE) → Silver on a nightly task, and the Gold view.

How the two clouds are wired without a cycle: the storage integration receives the role ARN as a
string built from the account id and the role's name; the role's trust policy then uses the IAM
user and external id the integration describes. The bucket notification targets the pipe's own
notification channel (an SQS ARN Snowflake owns).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.grants import RoleGrants
from infra.iam import policy, snowflake_trust_policy
from infra.ingestion import catalog
from infra.ingestion.catalog import BRONZE_COLUMNS, CATALOG, CSV_FORMAT, SILVER_COLUMNS, XFM_COLUMNS
from infra.ingestion.config import IngestionConfig
from infra.pipeline import PipelineArgs, PipelineComponent
from infra.tables import catalog_table


@dataclass(kw_only=True)
class CustomerIngestionArgs(PipelineArgs):
    config: IngestionConfig
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    loader_role: pulumi.Input[str]  # operates the pipe; TRANSFORMER runs the procedure and the task
    permissions_boundary: pulumi.Input[str] | None = None  # the most the role may do (infra/iam.py)


class CustomerIngestion(PipelineComponent):
    """Everything between a CSV landing in S3 and a row in GOLD.CUSTOMER_VIEW."""

    pipe: snowflake.Pipe
    integration: snowflake.StorageIntegrationAws

    def __init__(self, name: str, args: CustomerIngestionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:ingestion:CustomerIngestion", name, args, opts)
        landing_url = pulumi.Output.concat("s3://", args.bucket_name, "/", args.config.landing_prefix)
        self._integration(landing_url)
        self._snowpipe(landing_url)
        self._transform()
        self._grants()
        self.register_outputs(
            {
                "pipe_notification_channel": self.pipe.notification_channel,
                "stage": self.stage.fully_qualified_name,
                "view": self.view.fully_qualified_name,
            }
        )

    def _integration(self, landing_url: pulumi.Output[str]) -> None:
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
            storage_allowed_locations=[landing_url],
            comment="read access to the landing prefix",
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
        prefix = args.config.landing_prefix
        aws.iam.RolePolicy(
            f"{name}-s3-read",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.bucket_arn).apply(lambda arn: _read_prefix(arn, prefix)),
            opts=on_aws,
        )

    def _snowpipe(self, landing_url: pulumi.Output[str]) -> None:
        """File format, stage, Bronze table and the auto-ingest pipe the bucket notifies."""
        name, args, db = self._name, self._args, self._db
        as_sys = args.on("sysadmin", self)
        self.file_format = snowflake.FileFormatCsv(
            f"{name}-file-format",
            database=db,
            schema=CATALOG.schema("file_format"),
            name=CATALOG.name("file_format"),
            **CSV_FORMAT,
            opts=as_sys,
        )
        self.stage = snowflake.StageExternalS3(
            f"{name}-stage",
            database=db,
            schema=CATALOG.schema("stage"),
            name=CATALOG.name("stage"),
            url=landing_url,
            storage_integration=self.integration.name,
            file_format={"format_name": self.file_format.fully_qualified_name},
            comment="landing prefix of the customer feed",
            opts=args.on("sysadmin", self, depends_on=[self.role]),
        )
        self.bronze = catalog_table(
            f"{name}-bronze",
            CATALOG,
            "bronze",
            database=db,
            columns=BRONZE_COLUMNS,
            opts=args.kept(self),
            change_tracking=True,
        )
        self.pipe = snowflake.Pipe(
            f"{name}-pipe",
            database=db,
            schema=CATALOG.schema("pipe"),
            name=CATALOG.name("pipe"),
            auto_ingest=True,
            error_integration=args.error_integration,
            copy_statement=db.apply(catalog.pipe_copy_sql),
            comment="auto-ingest of the customer feed",
            # Snowflake stops a pipe whose stage was recreated, so a new stage means a new pipe.
            opts=args.on("sysadmin", self, depends_on=[self.stage, self.bronze], replace_with=[self.stage]),
        )
        self.notification = aws.s3.BucketNotification(
            f"{name}-bucket-notification",
            bucket=args.bucket_name,
            queues=[
                {
                    "id": "snowpipe-customer",
                    "queue_arn": self.pipe.notification_channel,
                    "events": ["s3:ObjectCreated:*"],
                    "filter_prefix": args.config.landing_prefix,
                    "filter_suffix": ".csv",
                }
            ],
            opts=args.on("aws", self),
        )

    def _transform(self) -> None:
        """Stream → procedure (transform + MERGE) → Silver on the nightly task, and the Gold view."""
        name, args, db, cfg = self._name, self._args, self._db, self._args.config
        kept = args.kept(self)
        self.xfm = catalog_table(f"{name}-xfm", CATALOG, "xfm", database=db, columns=XFM_COLUMNS, opts=kept)
        self.silver = catalog_table(
            f"{name}-silver",
            CATALOG,
            "silver",
            database=db,
            columns=SILVER_COLUMNS,
            opts=kept,
            primary_key="CUSTOMER_ID",
        )
        self.stream = snowflake.StreamOnTable(
            f"{name}-stream",
            database=db,
            schema=CATALOG.schema("stream"),
            name=CATALOG.name("stream"),
            table=self.bronze.fully_qualified_name,
            append_only="true",
            comment="new Bronze customer rows not yet merged into Silver",
            opts=kept,  # its offset is state: re-created, it would skip rows not merged yet
        )
        self.procedure = snowflake.ProcedureSql(
            f"{name}-procedure",
            database=db,
            schema=CATALOG.schema("procedure"),
            name=CATALOG.name("procedure"),
            return_type="VARCHAR",
            execute_as="OWNER",
            procedure_definition=db.apply(catalog.procedure_sql),
            comment="transform the stream and MERGE into SILVER.CUSTOMER in one transaction",
            opts=args.on("sysadmin", self, depends_on=[self.stream, self.xfm, self.silver]),
        )
        self.task = self._task(
            f"{name}-task",
            CATALOG,
            "task",
            schedule={"using_cron": f"{cfg.task_schedule} {cfg.task_timezone}"},
            when=db.apply(catalog.task_when_sql),
            sql=catalog.task_call_sql,
            started=cfg.task_enabled,
            comment="nightly: Bronze stream → Silver CUSTOMER",
            depends_on=[self.procedure],
        )
        self.view = snowflake.View(
            f"{name}-gold-view",
            database=db,
            schema=CATALOG.schema("view"),
            name=CATALOG.name("view"),
            statement=db.apply(catalog.gold_view_sql),
            comment="analyst-facing customer dimension",
            opts=args.on("sysadmin", self, depends_on=[self.silver]),
        )

    def _grants(self) -> None:
        """Grants beyond the schema-level future grants of the access roles."""
        grants = RoleGrants(self._name, self._args.on("securityadmin", self))
        loader, transformer = self._args.loader_role, self._args.transformer_role
        grants.on_object("loader-stage", loader, ["USAGE"], "STAGE", self.stage)
        grants.on_object("loader-format", loader, ["USAGE"], "FILE FORMAT", self.file_format)
        grants.on_object("loader-pipe", loader, ["OPERATE", "MONITOR"], "PIPE", self.pipe)
        grants.on_object("transformer-proc", transformer, ["USAGE"], "PROCEDURE", self.procedure)
        grants.on_object("transformer-task", transformer, ["OPERATE", "MONITOR"], "TASK", self.task)
        # the monitor (python -m scripts.monitor, as TRANSFORMER) reads SYSTEM$PIPE_STATUS: owner or MONITOR only
        grants.on_object("transformer-pipe", transformer, ["MONITOR"], "PIPE", self.pipe)


def _read_prefix(bucket_arn: str, prefix: str) -> str:
    """What Snowflake's storage integration needs: GetObject(Version) and ListBucket under the prefix, and
    GetBucketLocation, which it lists as required. The latter has no `s3:prefix` key, so under the prefix
    condition (Snowflake's sample policy) it would never be allowed: it gets its own statement."""
    return policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket_arn}/{prefix}*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        },
        {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
    )
