"""Customer ingestion, seed 002 end to end: S3 → storage integration → stage → Snowpipe → Bronze,
then stream → procedure (transform + MERGE) → Silver on a nightly task, and the Gold view.

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

from infra.iam import policy, snowflake_trust_policy
from infra.sqlfiles import render_sql

# Column specs shared by the Pulumi tables and the local path (scripts/ingest.py).
RAW_COLUMNS = [
    "CUSTOMER_ID",
    "FIRST_NAME",
    "LAST_NAME",
    "EMAIL",
    "PHONE",
    "CITY",
    "STATE",
    "ZIP_CODE",
    "SIGNUP_DATE",
    "LOYALTY_TIER",
    "UPDATED_AT",
]
BRONZE_COLUMNS: list[tuple[str, str]] = [(c, "VARCHAR") for c in RAW_COLUMNS] + [
    ("_FILE_NAME", "VARCHAR"),
    ("_FILE_ROW_NUMBER", "NUMBER(38,0)"),
    ("_LOADED_AT", "TIMESTAMP_NTZ"),
]
XFM_COLUMNS: list[tuple[str, str]] = [
    ("CUSTOMER_ID", "NUMBER(38,0)"),
    ("FIRST_NAME", "VARCHAR"),
    ("LAST_NAME", "VARCHAR"),
    ("EMAIL", "VARCHAR"),
    ("PHONE", "VARCHAR"),
    ("CITY", "VARCHAR"),
    ("STATE", "VARCHAR"),
    ("ZIP_CODE", "VARCHAR"),
    ("SIGNUP_DATE", "DATE"),
    ("LOYALTY_TIER", "VARCHAR"),
    ("UPDATED_AT", "TIMESTAMP_NTZ"),
    ("SOURCE_FILE", "VARCHAR"),
    ("SOURCE_ROW", "NUMBER(38,0)"),
]
SILVER_COLUMNS = [*XFM_COLUMNS, ("MERGED_AT", "TIMESTAMP_NTZ")]
# The CSV format Snowpipe parses with; the local loader parses with the same settings.
CSV_FORMAT = {
    "field_delimiter": ",",
    "skip_header": 1,
    "field_optionally_enclosed_by": '"',
    "null_ifs": ["", "NULL", "null", "\\N"],
    "empty_field_as_null": True,
    "trim_space": True,
    "error_on_column_count_mismatch": True,
    "encoding": "UTF8",
    "multi_line": False,  # one record per line, so one bad line never swallows the next
}

OBJECTS = {
    "stage": "SOURCE_DATA_CUSTOMER_STAGE",
    "file_format": "CUSTOMER_CSV_FORMAT",
    "bronze": "WORK_CUSTOMER_COPY",
    "pipe": "WORK_CUSTOMER_SRC_TO_SL_PIPE",
    "stream": "WORK_CUSTOMER_SRC_TO_SL_STREAM",
    "xfm": "WORK_CUSTOMER_XFM",
    "silver": "CUSTOMER",
    "procedure": "WORK_CUSTOMER_SRC_TO_SL_SP",
    "task": "WORK_CUSTOMER_SRC_TO_SL_TASK",
    "view": "CUSTOMER_VIEW",
}
SCHEMA_OF = {
    "stage": "BRONZE",
    "file_format": "BRONZE",
    "bronze": "BRONZE",
    "pipe": "BRONZE",
    "stream": "STREAMS_TASKS",
    "xfm": "SILVER",
    "silver": "SILVER",
    "procedure": "STREAMS_TASKS",
    "task": "STREAMS_TASKS",
    "view": "GOLD",
}


def fq(database: str, key: str) -> str:
    """Fully qualified, quoted name of one of the ingestion objects."""
    return f'"{database}"."{SCHEMA_OF[key]}"."{OBJECTS[key]}"'


def procedure_sql(database: str, source: str | None = None) -> str:
    """The procedure body: the same xfm_select and merge files the local path runs."""
    xfm_select = render_sql("ingestion/xfm_select.sql", source=source or fq(database, "stream"))
    merge = render_sql("ingestion/merge_customer.sql", target=fq(database, "silver"), xfm=fq(database, "xfm"))
    return render_sql("ingestion/transform_procedure.sql", xfm=fq(database, "xfm"), xfm_select=xfm_select, merge=merge)


@dataclass
class CustomerIngestionArgs:
    database: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    landing_prefix: str
    account_id: pulumi.Input[str]
    integration_name: str
    role_name: str
    error_integration: pulumi.Input[str]
    transform_warehouse: pulumi.Input[str]
    task_schedule: str
    task_timezone: str
    task_enabled: bool
    loader_role: pulumi.Input[str]
    transformer_role: pulumi.Input[str]
    protect: bool
    sysadmin: snowflake.Provider
    securityadmin: snowflake.Provider
    accountadmin: snowflake.Provider
    aws_provider: aws.Provider


class CustomerIngestion(pulumi.ComponentResource):
    """Everything between a CSV landing in S3 and a row in GOLD.CUSTOMER_VIEW."""

    pipe: snowflake.Pipe
    integration: snowflake.StorageIntegrationAws

    def __init__(self, name: str, args: CustomerIngestionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:ingestion:CustomerIngestion", name, None, opts)
        db = args.database
        as_sys = pulumi.ResourceOptions(parent=self, provider=args.sysadmin)
        as_sys_kept = pulumi.ResourceOptions(parent=self, provider=args.sysadmin, protect=args.protect)
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        landing_url = pulumi.Output.concat("s3://", args.bucket_name, "/", args.landing_prefix)

        # --- storage integration and the role it assumes (no cycle: ARN built from the name)
        role_arn = pulumi.Output.concat("arn:aws:iam::", args.account_id, ":role/", args.role_name)
        self.integration = snowflake.StorageIntegrationAws(
            f"{name}-storage-integration",
            name=args.integration_name,
            enabled=True,
            storage_provider="S3",
            storage_aws_role_arn=role_arn,
            storage_allowed_locations=[landing_url],
            comment="read access to the landing prefix",
            opts=pulumi.ResourceOptions(parent=self, provider=args.accountadmin),
        )
        described = self.integration.describe_outputs[0]
        self.role = aws.iam.Role(
            f"{name}-s3-role",
            name=args.role_name,
            description="assumed by Snowflake's storage integration to read landing files",
            assume_role_policy=pulumi.Output.all(described.iam_user_arn, described.external_id).apply(
                lambda a: snowflake_trust_policy(a[0], a[1])
            ),
            opts=on_aws,
        )
        aws.iam.RolePolicy(
            f"{name}-s3-read",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.bucket_arn).apply(lambda arn: _read_prefix(arn, args.landing_prefix)),
            opts=on_aws,
        )
        # SYSADMIN owns the stage, so it needs USAGE on the ACCOUNTADMIN-owned integration.
        grant_usage = snowflake.GrantPrivilegesToAccountRole(
            f"{name}-integration-usage",
            account_role_name="SYSADMIN",
            privileges=["USAGE"],
            on_account_object={"object_type": "INTEGRATION", "object_name": self.integration.name},
            opts=pulumi.ResourceOptions(parent=self, provider=args.securityadmin),
        )

        # --- file format, stage, Bronze table, pipe
        self.file_format = snowflake.FileFormatCsv(
            f"{name}-file-format", database=db, schema="BRONZE", name=OBJECTS["file_format"], **CSV_FORMAT, opts=as_sys
        )
        self.stage = snowflake.StageExternalS3(
            f"{name}-stage",
            database=db,
            schema="BRONZE",
            name=OBJECTS["stage"],
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
            schema="BRONZE",
            name=OBJECTS["pipe"],
            auto_ingest=True,
            error_integration=args.error_integration,
            copy_statement=pulumi.Output.from_input(db).apply(
                lambda d: render_sql(
                    "ingestion/pipe_copy.sql",
                    bronze_table=fq(d, "bronze"),
                    stage=f'"{d}"."BRONZE"."{OBJECTS["stage"]}"',
                    file_format=f'"{d}"."BRONZE"."{OBJECTS["file_format"]}"',
                )
            ),
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
                    "filter_prefix": args.landing_prefix,
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
            schema=SCHEMA_OF["stream"],
            name=OBJECTS["stream"],
            table=self.bronze.fully_qualified_name,
            append_only="true",
            comment="new Bronze customer rows not yet merged into Silver",
            opts=as_sys,
        )
        self.procedure = snowflake.ProcedureSql(
            f"{name}-procedure",
            database=db,
            schema=SCHEMA_OF["procedure"],
            name=OBJECTS["procedure"],
            return_type="VARCHAR",
            execute_as="OWNER",
            procedure_definition=pulumi.Output.from_input(db).apply(procedure_sql),
            comment="transform the stream and MERGE into SILVER.CUSTOMER in one transaction",
            opts=pulumi.ResourceOptions.merge(
                as_sys, pulumi.ResourceOptions(depends_on=[self.stream, self.xfm, self.silver])
            ),
        )
        self.task = snowflake.Task(
            f"{name}-task",
            database=db,
            schema=SCHEMA_OF["task"],
            name=OBJECTS["task"],
            warehouse=args.transform_warehouse,
            schedule={"using_cron": f"{args.task_schedule} {args.task_timezone}"},
            when=pulumi.Output.from_input(db).apply(
                lambda d: render_sql("ingestion/task_when.sql", stream=fq(d, "stream")).strip()
            ),
            sql_statement=pulumi.Output.from_input(db).apply(
                lambda d: render_sql("ingestion/task_call.sql", procedure=fq(d, "procedure")).strip()
            ),
            started=args.task_enabled,
            error_integration=args.error_integration,
            suspend_task_after_num_failures=3,
            comment="nightly: Bronze stream → Silver CUSTOMER",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.procedure])),
        )
        self.view = snowflake.View(
            f"{name}-gold-view",
            database=db,
            schema=SCHEMA_OF["view"],
            name=OBJECTS["view"],
            statement=pulumi.Output.from_input(db).apply(
                lambda d: render_sql("ingestion/gold_customer_view.sql", silver_customer=fq(d, "silver"))
            ),
            comment="analyst-facing customer dimension",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(depends_on=[self.silver])),
        )

        # --- grants beyond the schema-level future grants of the access roles
        self._grant = pulumi.ResourceOptions(parent=self, provider=args.securityadmin)
        self._object_grant(f"{name}-loader-stage", args.loader_role, ["USAGE"], "STAGE", self.stage)
        self._object_grant(f"{name}-loader-format", args.loader_role, ["USAGE"], "FILE FORMAT", self.file_format)
        self._object_grant(f"{name}-loader-pipe", args.loader_role, ["OPERATE", "MONITOR"], "PIPE", self.pipe)
        self._object_grant(f"{name}-transformer-proc", args.transformer_role, ["USAGE"], "PROCEDURE", self.procedure)
        self._object_grant(f"{name}-transformer-task", args.transformer_role, ["OPERATE", "MONITOR"], "TASK", self.task)

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
        schema=SCHEMA_OF[key],
        name=OBJECTS[key],
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
