"""The scheduled DynamoDB export: a child task of the serving refresh that calls a Python stored procedure
(sql/serving/export_dynamodb.py) writing the recommendations to the stack's DynamoDB table.

The job service of the refresh has no AWS identity; a procedure does, through Snowflake's AWS IAM API
authentication: a security integration names the role Snowflake assumes, a CLOUD_PROVIDER_TOKEN secret
hands the procedure the role's temporary credentials, and an external access integration lets it reach
DynamoDB's endpoint with that secret. The provider has no resource for the security integration or that
kind of secret, so they are `snowflake.Execute` statements from sql/serving/dynamodb_export.sql, as the
project does for other SQL the provider lacks. The handshake is the error alerts' (infra/foundation/
alerts.py): the integration is given the role's ARN built from its name, and the role trusts exactly the
IAM user and external id that DESCRIBE of the integration reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.grants import RoleGrants
from infra.iam import EXPORT_ACTIONS, policy, snowflake_trust_policy
from infra.naming import Naming, quote
from infra.providers import Providers
from infra.serving.catalog import CATALOG, EXPORT_HANDLER, NETWORK_SCHEMA
from infra.serving.config import RefreshConfig
from infra.sqlfiles import named_queries, read_sql

PYTHON_RUNTIME = "3.11"
SNOWPARK_VERSION = "1.14.0"  # snowflake-snowpark-python, which a Python procedure requires
SQL = "serving/dynamodb_export.sql"
# what the role may do: write items, and describe the table (nothing else, on nothing else)
ACTIONS = EXPORT_ACTIONS
# what DESCRIBE SECURITY INTEGRATION reports for the trust (the names Snowflake's API integrations use)
TRUST_PROPERTIES = ("API_AWS_IAM_USER_ARN", "API_AWS_EXTERNAL_ID")


def statements(**params: str) -> dict[str, str]:
    """sql/serving/dynamodb_export.sql, each statement without its comment lines."""
    return {
        k: "\n".join(line for line in v.splitlines() if not line.lstrip().startswith("--")).strip()
        for k, v in named_queries(SQL, **params).items()
    }


def reported(rows: Iterable[Mapping[str, Any]] | None) -> tuple[str, str]:
    """The IAM user ARN and external id from DESCRIBE SECURITY INTEGRATION's rows; a missing one fails the
    update naming it, rather than writing a trust policy no one can satisfy."""
    found = {str(r.get("property", "")).upper(): str(r.get("property_value") or "") for r in rows or []}
    missing = [p for p in TRUST_PROPERTIES if not found.get(p)]
    if missing:
        raise ValueError(f"DESCRIBE SECURITY INTEGRATION reported no {', '.join(missing)}: cannot write the trust")
    return found[TRUST_PROPERTIES[0]], found[TRUST_PROPERTIES[1]]


@dataclass(kw_only=True)
class DynamoDbExportArgs:
    naming: Naming
    providers: Providers
    config: RefreshConfig  # the child task is resumed with the refresh (`servingRefresh.enabled`)
    region: str
    database: pulumi.Input[str]
    warehouse: pulumi.Input[str]
    error_integration: pulumi.Input[str]
    refresh_task: snowflake.Task  # the parent: the export runs only after it succeeded
    source: pulumi.Input[str]  # USER_PRODUCT_RECOMMENDATIONS, fully qualified
    table: aws.dynamodb.Table
    permissions_boundary: pulumi.Input[str] | None = None
    reads: list[pulumi.Resource] | None = None  # what declares the source
    monitor_role: pulumi.Input[str] | None = None  # MONITOR on the task: the monitor reads its history


class DynamoDbExport(pulumi.ComponentResource):
    """Role, security integration, token secret, egress rule, external access integration, procedure, task."""

    task: snowflake.Task

    def __init__(self, name: str, args: DynamoDbExportArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:DynamoDbExport", name, None, opts)
        self._name, self._args = name, args
        self._identity()
        self._access()
        self._procedure_and_task()
        if args.monitor_role is not None:
            grants = RoleGrants(f"{name}-monitor", args.providers.on("securityadmin", self))
            grants.on_object("task", args.monitor_role, ["MONITOR"], "TASK", self.task)
        self.register_outputs(
            {"task": self.task.fully_qualified_name, "procedure": self.procedure.fully_qualified_name}
        )

    def _identity(self) -> None:
        """The security integration and the role it assumes, trusting only what the integration reports."""
        name, args, prov = self._name, self._args, self._args.providers
        role_name = args.naming.aws("snowflake-dynamodb")
        role_arn = pulumi.Output.concat("arn:aws:iam::", prov.aws_account_id, ":role/", role_name)
        self.integration_name = args.naming.sf("DYNAMODB_EXPORT_AUTH")
        sql = role_arn.apply(lambda arn: statements(**self._params(role_arn=arn)))
        self.integration = snowflake.Execute(
            f"{name}-auth-integration",
            execute=sql["create_integration"],
            revert=sql["drop_integration"],
            query=sql["describe_integration"],
            opts=prov.on("accountadmin", self),
        )
        trust = self.integration.query_results.apply(reported)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description="assumed by Snowflake for the scheduled DynamoDB export",
            assume_role_policy=trust.apply(lambda t: snowflake_trust_policy(t[0], t[1])),
            permissions_boundary=args.permissions_boundary,
            opts=prov.on("aws", self),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-write",
            role=self.role.id,
            policy=args.table.arn.apply(lambda arn: policy({"Effect": "Allow", "Action": ACTIONS, "Resource": arn})),
            opts=prov.on("aws", self),
        )

    def _params(self, role_arn: str = "", procedure: str = "", source: str = "") -> dict[str, str]:
        args = self._args
        return {
            "integration": self.integration_name,
            "role_arn": role_arn,
            "secret": "",
            "procedure": procedure,
            "source": source,
            "table": "",
            "region": args.region,
        }

    def _access(self) -> None:
        """The token secret, DynamoDB's endpoint as an egress rule, and the integration allowing both."""
        name, args, prov = self._name, self._args, self._args.providers
        secret = pulumi.Output.from_input(args.database).apply(
            lambda d: quote(d, CATALOG.schema("export_secret"), CATALOG.name("export_secret"))
        )
        self.secret_name = secret
        sql = secret.apply(lambda s: statements(**{**self._params(), "secret": s}))
        self.secret = snowflake.Execute(
            f"{name}-token-secret",
            execute=sql["create_secret"],
            revert=sql["drop_secret"],
            opts=prov.on("sysadmin", self, depends_on=[self.integration]),
        )
        self.egress_rule = snowflake.NetworkRule(
            f"{name}-egress-rule",
            database=args.database,
            schema=NETWORK_SCHEMA,
            name=args.naming.sf("DYNAMODB_EGRESS_RULE"),
            type="HOST_PORT",
            mode="EGRESS",
            value_lists=[f"dynamodb.{args.region}.amazonaws.com:443"],
            comment="the scheduled DynamoDB export → DynamoDB's regional endpoint",
            opts=prov.on("sysadmin", self),
        )
        self.access = snowflake.ExternalAccessIntegration(
            f"{name}-external-access",
            name=args.naming.sf("DYNAMODB_EXPORT_ACCESS_INTEGRATION"),
            allowed_network_rules=[self.egress_rule.fully_qualified_name],
            allowed_authentication_secrets={"secrets": [secret]},
            enabled=True,
            comment="lets the scheduled DynamoDB export reach DynamoDB with the assumed role's token",
            opts=prov.on("accountadmin", self, depends_on=[self.secret]),
        )

    def _procedure_and_task(self) -> None:
        """The procedure (owner's rights) and the child task that calls it after the refresh succeeded."""
        name, args, prov = self._name, self._args, self._args.providers
        self.procedure = snowflake.ProcedurePython(
            f"{name}-procedure",
            database=args.database,
            schema=CATALOG.schema("export_procedure"),
            name=CATALOG.name("export_procedure"),
            arguments=[{"arg_name": a, "arg_data_type": "VARCHAR"} for a in ("SOURCE", "TARGET_TABLE", "REGION")],
            return_type="VARCHAR",
            runtime_version=PYTHON_RUNTIME,
            snowpark_package=SNOWPARK_VERSION,
            packages=["boto3"],
            handler="run",
            procedure_definition=read_sql(EXPORT_HANDLER),
            external_access_integrations=[self.access.name],
            secrets=[{"secret_variable_name": "cred", "secret_id": self.secret_name}],
            execute_as="OWNER",
            comment="writes the recommendations to DynamoDB (run in sql/serving/export_dynamodb.py)",
            opts=prov.on("sysadmin", self, depends_on=[self.access, self.secret, *(args.reads or [])]),
        )
        call = pulumi.Output.all(self.procedure.fully_qualified_name, args.source, args.table.name).apply(
            lambda a: statements(**{**self._params(procedure=a[0], source=a[1]), "table": a[2]})["call"]
        )
        self.task = snowflake.Task(
            f"{name}-task",
            database=args.database,
            schema=CATALOG.schema("export_task"),
            name=CATALOG.name("export_task"),
            warehouse=args.warehouse,
            afters=[args.refresh_task.fully_qualified_name],
            sql_statement=call,
            started=args.config.enabled,
            error_integration=args.error_integration,
            user_task_timeout_ms=args.config.timeout_minutes * 60_000,
            comment="writes the recommendations to DynamoDB after the serving refresh succeeded",
            opts=prov.on("sysadmin", self, depends_on=[args.refresh_task, self.procedure, self.role, self.role_policy]),
        )
