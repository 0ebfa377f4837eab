"""The scheduled DynamoDB export in the offline plans: dev and prod declare the security integration, the
role it assumes (trusting exactly what the integration reports, bounded, writing only the stack's table),
the token secret, the egress rule, the external access integration, the procedure and the child task of
the refresh, each waiting for what it names; a review stack declares none of it. A planted missing
privilege is a lifecycle finding."""

from __future__ import annotations

import copy
import json
import re

import pytest

from infra import lifecycle, lifecycle_privileges
from infra.config.reader import stack_config
from infra.serving.export import reported
from infra.sqlfiles import read_sql
from tests.conftest import STACKS, one

P = "serving-dynamodb-export"


def deps(plan: list[dict], name: str) -> set[str]:
    return {u.rsplit("::", 1)[-1] for u in one(plan, name)["dependencies"]}


@pytest.mark.parametrize("stack", STACKS)
def test_the_role_trusts_exactly_the_integrations_principal_and_writes_only_the_stacks_table(plans, stack):
    plan, s = plans[stack], stack.upper()
    integration = one(plan, f"{P}-auth-integration")["inputs"]
    assert integration["execute"].startswith(f"CREATE SECURITY INTEGRATION RDP_{s}_DYNAMODB_EXPORT_AUTH\n")
    assert "TYPE = API_AUTHENTICATION" in integration["execute"] and "AUTH_TYPE = AWS_IAM" in integration["execute"]
    assert f"AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/rdp-{stack}-snowflake-dynamodb'" in integration["execute"]
    assert integration["query"] == f"DESCRIBE SECURITY INTEGRATION RDP_{s}_DYNAMODB_EXPORT_AUTH"
    role = one(plan, f"{P}-role")["inputs"]
    assert role["name"] == f"rdp-{stack}-snowflake-dynamodb"
    assert role["permissionsBoundary"].endswith(f":policy/ci/rdp-{stack}-ci-boundary")
    (statement,) = json.loads(role["assumeRolePolicy"])["Statement"]
    # what the mocks' DESCRIBE of the integration reports (infra/mocks.py), the only source of these values
    assert re.fullmatch(r"arn:aws:iam::210987654321:user/sf-api-[0-9a-f]{8}", statement["Principal"]["AWS"])
    assert statement["Action"] == "sts:AssumeRole"
    assert re.fullmatch(r"RETAILORG_SFCRole=3_[0-9a-f]{20}", statement["Condition"]["StringEquals"]["sts:ExternalId"])
    assert list(statement["Condition"]) == ["StringEquals"] and list(statement["Condition"]["StringEquals"]) == [
        "sts:ExternalId"
    ]
    (allowed,) = json.loads(one(plan, f"{P}-write")["inputs"]["policy"])["Statement"]
    assert allowed["Action"] == ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:PutItem"]
    table = one(plan, "dynamodb-table")["inputs"]["name"]
    assert allowed["Resource"].endswith(f":table/{table}") and table == f"rdp-{stack}-product-recommendations"
    assert {f"{P}-auth-integration"} <= deps(plan, f"{P}-role")


@pytest.mark.parametrize("stack", STACKS)
def test_the_procedure_reads_the_token_through_its_own_integration(plans, stack):
    plan, s = plans[stack], stack.upper()
    secret_fq = f'"RDP_{s}_RETAIL"."BRONZE"."DYNAMODB_EXPORT_TOKEN"'
    secret = one(plan, f"{P}-token-secret")["inputs"]["execute"]
    assert secret.startswith(f"CREATE SECRET {secret_fq}\n  TYPE = CLOUD_PROVIDER_TOKEN\n")
    assert f"API_AUTHENTICATION = 'RDP_{s}_DYNAMODB_EXPORT_AUTH'" in secret
    assert one(plan, f"{P}-egress-rule")["inputs"]["valueLists"] == [
        f"dynamodb.{stack_config(stack).aws_region}.amazonaws.com:443"
    ]
    access = one(plan, f"{P}-external-access")["inputs"]
    assert access["allowedAuthenticationSecrets"] == {"secrets": [secret_fq]}
    proc = one(plan, f"{P}-procedure")["inputs"]
    assert (proc["database"], proc["schema"], proc["name"]) == (f"RDP_{s}_RETAIL", "STREAMS_TASKS", "EXPORT_DYNAMODB")
    assert proc["packages"] == ["boto3"] and proc["handler"] == "run" and proc["executeAs"] == "OWNER"
    assert proc["procedureDefinition"] == read_sql("serving/export_dynamodb.py")
    assert proc["externalAccessIntegrations"] == [f"RDP_{s}_DYNAMODB_EXPORT_ACCESS_INTEGRATION"]
    assert proc["secrets"] == [{"secretId": secret_fq, "secretVariableName": "cred"}]
    assert {f"{P}-external-access", f"{P}-token-secret"} <= deps(plan, f"{P}-procedure")
    assert {f"{P}-token-secret", f"{P}-egress-rule"} <= deps(plan, f"{P}-external-access")
    assert f"{P}-auth-integration" in deps(plan, f"{P}-token-secret")


@pytest.mark.parametrize("stack", STACKS)
def test_the_child_task_runs_after_the_refresh_as_the_owner_with_its_error_integration(plans, stack):
    plan, s = plans[stack], stack.upper()
    task, refresh = one(plan, f"{P}-task"), one(plan, "serving-refresh-task")
    i = task["inputs"]
    assert i["afters"] == [f'"RDP_{s}_RETAIL"."STREAMS_TASKS"."REFRESH_SERVING"'] and "schedule" not in i
    assert i["sqlStatement"] == (
        f'CALL "RDP_{s}_RETAIL"."STREAMS_TASKS"."EXPORT_DYNAMODB"('
        f'\'"RDP_{s}_RETAIL"."GOLD"."USER_PRODUCT_RECOMMENDATIONS"\', \'rdp-{stack}-product-recommendations\', '
        f"'{stack_config(stack).aws_region}')"
    )
    assert i["errorIntegration"] == refresh["inputs"]["errorIntegration"] == f"RDP_{s}_INGEST_ERRORS"
    assert i["started"] is refresh["inputs"]["started"]
    assert task["provider"] == refresh["provider"] and task["provider"].endswith("::snowflake-sysadmin")
    assert {"serving-refresh-task", f"{P}-procedure", f"{P}-role", f"{P}-write"} <= deps(plan, f"{P}-task")
    other = "PROD" if stack == "dev" else "DEV"
    assert not [r["name"] for r in plan if r["name"].startswith(P) and f"RDP_{other}" in json.dumps(r["inputs"])]


def test_a_review_stack_declares_no_export(review_stack_plan):
    plan = review_stack_plan
    assert [r["name"] for r in plan if P in r["name"] or "EXPORT_DYNAMODB" in json.dumps(r["inputs"])] == []
    assert not [r for r in plan if "snowflake-dynamodb" in json.dumps(r["inputs"])]


def test_a_trust_without_what_describe_reports_fails_naming_it():
    assert reported(
        [
            {"property": "API_AWS_IAM_USER_ARN", "property_value": "u"},
            {"property": "API_AWS_EXTERNAL_ID", "property_value": "e"},
        ]
    ) == ("u", "e")
    with pytest.raises(ValueError, match="reported no API_AWS_EXTERNAL_ID"):
        reported([{"property": "API_AWS_IAM_USER_ARN", "property_value": "u"}])
    with pytest.raises(ValueError, match="reported no API_AWS_IAM_USER_ARN, API_AWS_EXTERNAL_ID"):
        reported(None)


def test_a_missing_privilege_of_the_export_is_a_lifecycle_finding(plans, account_plan):
    dev = copy.deepcopy(plans["dev"])
    secret = one(dev, f"{P}-token-secret")["inputs"]
    secret["execute"] = secret["execute"].replace('"RDP_DEV_RETAIL"."BRONZE"', '"OTHER_DB"."BRONZE"')
    task = one(dev, f"{P}-task")["inputs"]
    task["sqlStatement"] = task["sqlStatement"].replace('"STREAMS_TASKS"."EXPORT_DYNAMODB"', '"STREAMS_TASKS"."THEIRS"')
    account = copy.deepcopy(account_plan)
    one(account, "dev-admin-account")["inputs"]["privileges"].remove("CREATE INTEGRATION")
    found = lifecycle.render("dev", lifecycle_privileges.snowflake_privileges("dev", dev, account))
    assert (
        f"create {P}-token-secret: missing-privilege: RDP_DEV_ADMIN lacks CREATE SECRET on SCHEMA OTHER_DB.BRONZE, "
        "USAGE on DATABASE OTHER_DB when it runs" in found
    )
    assert f"create {P}-auth-integration: missing-privilege: RDP_DEV_ADMIN lacks CREATE INTEGRATION on ACCOUNT" in found
    assert (
        f"create {P}-task: missing-privilege: RDP_DEV_ADMIN lacks USAGE on SCHEMA OBJECT "
        "RDP_DEV_RETAIL.STREAMS_TASKS.THEIRS when it runs" in found
    )
    assert lifecycle_privileges.snowflake_privileges("dev", plans["dev"], account_plan) == []
