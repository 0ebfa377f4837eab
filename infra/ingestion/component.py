"""Customer ingestion end to end: S3 → storage integration → stage → Snowpipe → Bronze, then
stream → procedure (transform + MERGE) → Silver on a nightly task, and the Gold view.

How the two clouds are wired without a cycle: the storage integration receives the role ARN as a
string built from the account id and the role's name; the role's trust policy then uses the IAM
user and external id the integration describes. The bucket notification targets the pipe's own
notification channel (an SQS ARN Snowflake owns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.iam import policy, snowflake_trust_policy
from infra.ingestion import catalog
from infra.ingestion.catalog import BRONZE_COLUMNS, CATALOG, CSV_FORMAT, SILVER_COLUMNS, XFM_COLUMNS
from infra.ingestion.config import IngestionConfig
from infra.naming import Naming
from infra.providers import Providers


@dataclass
class CustomerIngestionArgs:
    naming: Naming
    providers: Providers
    config: IngestionConfig
    protect: bool
    database: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    error_integration: pulumi.Input[str]
    transform_warehouse: pulumi.Input[str]
    # functional role → its name; LOADER operates the pipe, TRANSFORMER the procedure and the task
    roles: Mapping[str, pulumi.Input[str]]
    permissions_boundary: pulumi.Input[str] | None = None  # the most the role may do (infra/iam.py)


class CustomerIngestion(pulumi.ComponentResource):
    """Everything between a CSV landing in S3 and a row in GOLD.CUSTOMER_VIEW."""

    pipe: snowflake.Pipe
    integration: snowflake.StorageIntegrationAws

    def __init__(self, name: str, args: CustomerIngestionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:ingestion:CustomerIngestion", name, None, opts)
        db = pulumi.Output.from_input(args.database)
        cfg, n, prov = args.config, args.naming, args.providers
        as_sys = prov.on("sysadmin", self)
        as_sys_kept = prov.on("sysadmin", self, protect=args.protect)
        on_aws = prov.on("aws", self)
        landing_url = pulumi.Output.concat("s3://", args.bucket_name, "/", cfg.landing_prefix)

        # --- storage integration and the role it assumes (no cycle: ARN built from the name)
        role_name = n.aws("snowflake-s3")
        role_arn = pulumi.Output.concat("arn:aws:iam::", prov.aws_account_id, ":role/", role_name)
        self.integration = snowflake.StorageIntegrationAws(
            f"{name}-storage-integration",
            name=n.sf("LANDING_S3"),
            enabled=True,
            storage_provider="S3",
            storage_aws_role_arn=role_arn,
            storage_allowed_locations=[landing_url],
            comment="read access to the landing prefix",
            opts=prov.on("accountadmin", self),
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
        aws.iam.RolePolicy(
            f"{name}-s3-read",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.bucket_arn).apply(lambda arn: _read_prefix(arn, cfg.landing_prefix)),
            opts=on_aws,
        )
        # SYSADMIN owns the stage, so it needs USAGE on the ACCOUNTADMIN-owned integration.
        grant_usage = snowflake.GrantPrivilegesToAccountRole(
            f"{name}-integration-usage",
            account_role_name="SYSADMIN",
            privileges=["USAGE"],
            on_account_object={"object_type": "INTEGRATION", "object_name": self.integration.name},
            opts=prov.on("securityadmin", self),
        )

        # --- file format, stage, Bronze table, pipe
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
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[grant_usage, self.role])),
        )
        self.bronze = _table(f"{name}-bronze", db, "bronze", BRONZE_COLUMNS, as_sys_kept, change_tracking=True)
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
            opts=pulumi.ResourceOptions.merge(
                as_sys, pulumi.ResourceOptions(depends_on=[self.stage, self.bronze], replace_with=[self.stage])
            ),
        )
        self.notification = aws.s3.BucketNotification(
            f"{name}-bucket-notification",
            bucket=args.bucket_name,
            queues=[
                {
                    "id": "snowpipe-customer",
                    "queue_arn": self.pipe.notification_channel,
                    "events": ["s3:ObjectCreated:*"],
                    "filter_prefix": cfg.landing_prefix,
                    "filter_suffix": ".csv",
                }
            ],
            opts=on_aws,
        )

        # --- CDC chain: stream → procedure (transform + MERGE) → Silver, nightly task, Gold view
        self.xfm = _table(f"{name}-xfm", db, "xfm", XFM_COLUMNS, as_sys_kept)
        self.silver = _table(f"{name}-silver", db, "silver", SILVER_COLUMNS, as_sys_kept, primary_key="CUSTOMER_ID")
        self.stream = snowflake.StreamOnTable(
            f"{name}-stream",
            database=db,
            schema=CATALOG.schema("stream"),
            name=CATALOG.name("stream"),
            table=self.bronze.fully_qualified_name,
            append_only="true",
            comment="new Bronze customer rows not yet merged into Silver",
            opts=as_sys_kept,  # its offset is state: re-created, it would skip rows not merged yet
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
            opts=pulumi.ResourceOptions.merge(
                as_sys, pulumi.ResourceOptions(depends_on=[self.stream, self.xfm, self.silver])
            ),
        )
        self.task = snowflake.Task(
            f"{name}-task",
            database=db,
            schema=CATALOG.schema("task"),
            name=CATALOG.name("task"),
            warehouse=args.transform_warehouse,
            schedule={"using_cron": f"{cfg.task_schedule} {cfg.task_timezone}"},
            when=db.apply(catalog.task_when_sql),
            sql_statement=db.apply(catalog.task_call_sql),
            started=cfg.task_enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            comment="nightly: Bronze stream → Silver CUSTOMER",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.procedure])),
        )
        self.view = snowflake.View(
            f"{name}-gold-view",
            database=db,
            schema=CATALOG.schema("view"),
            name=CATALOG.name("view"),
            statement=db.apply(catalog.gold_view_sql),
            comment="analyst-facing customer dimension",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.silver])),
        )

        # --- grants beyond the schema-level future grants of the access roles
        self._grant = prov.on("securityadmin", self)
        loader, transformer = args.roles["LOADER"], args.roles["TRANSFORMER"]
        self._object_grant(f"{name}-loader-stage", loader, ["USAGE"], "STAGE", self.stage)
        self._object_grant(f"{name}-loader-format", loader, ["USAGE"], "FILE FORMAT", self.file_format)
        self._object_grant(f"{name}-loader-pipe", loader, ["OPERATE", "MONITOR"], "PIPE", self.pipe)
        self._object_grant(f"{name}-transformer-proc", transformer, ["USAGE"], "PROCEDURE", self.procedure)
        self._object_grant(f"{name}-transformer-task", transformer, ["OPERATE", "MONITOR"], "TASK", self.task)

        self.register_outputs(
            {
                "pipe_notification_channel": self.pipe.notification_channel,
                "stage": self.stage.fully_qualified_name,
                "view": self.view.fully_qualified_name,
            }
        )

    def _object_grant(self, rname: str, role: pulumi.Input[str], privs: list[str], kind: str, obj) -> None:
        snowflake.GrantPrivilegesToAccountRole(
            rname,
            account_role_name=role,
            privileges=privs,
            on_schema_object={"object_type": kind, "object_name": obj.fully_qualified_name},
            opts=self._grant,
        )


def _table(rname, db, key, columns, opts, change_tracking=False, primary_key=None) -> snowflake.Table:
    return snowflake.Table(
        rname,
        database=db,
        schema=CATALOG.schema(key),
        name=CATALOG.name(key),
        columns=[{"name": c, "type": t, "nullable": c != primary_key} for c, t in columns],
        change_tracking=change_tracking,
        primary_key={"keys": [primary_key]} if primary_key else None,
        opts=opts,
    )


def _read_prefix(bucket_arn: str, prefix: str) -> str:
    return policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket_arn}/{prefix}*"},
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        },
    )
