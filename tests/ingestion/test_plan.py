"""Ingestion wiring, asserted on the offline plans: who feeds whom, by value."""

from __future__ import annotations

import json

from tests.conftest import by_type, one


def test_bucket_notification_targets_the_pipes_channel(plans):
    for stack in plans:
        plan = plans[stack]
        pipe, note = one(plan, "ingestion-pipe"), one(plan, "ingestion-bucket-notification")
        queue = note["inputs"]["queues"][0]
        assert queue["queueArn"].startswith("arn:aws:sqs:us-east-1:210987654321:sf-snowpipe-")
        assert pipe["urn"] in note["dependencies"]
        assert queue["events"] == ["s3:ObjectCreated:*"]
        assert queue["filterPrefix"] == "landing/customer/" and queue["filterSuffix"] == ".csv"
        assert note["inputs"]["bucket"] == one(plan, "landing-bucket")["inputs"]["bucket"]
        assert pipe["inputs"]["autoIngest"] is True


def test_trust_policy_uses_integration_outputs_without_a_cycle(plans):
    plan = plans["prod"]
    integ, role = one(plan, "ingestion-storage-integration"), one(plan, "ingestion-s3-role")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"]["AWS"].startswith("arn:aws:iam::210987654321:user/sf-")
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"].startswith("RETAILORG_SFCRole=1_")
    assert integ["urn"] in role["dependencies"]
    assert role["urn"] not in integ["dependencies"]
    assert integ["inputs"]["storageAwsRoleArn"] == "arn:aws:iam::123456789012:role/rdp-prod-snowflake-s3"
    assert role["inputs"]["name"] == "rdp-prod-snowflake-s3"
    assert integ["inputs"]["storageAllowedLocations"] == ["s3://rdp-prod-landing-123456789012/landing/customer/"]
    read = json.loads(one(plan, "ingestion-s3-read")["inputs"]["policy"])["Statement"]
    assert read[0]["Resource"] == "arn:aws:s3:::rdp-prod-landing-123456789012/landing/customer/*"
    assert read[1]["Condition"]["StringLike"]["s3:prefix"] == ["landing/customer/*"]
    # s3:prefix is no key of GetBucketLocation: under that condition it would never be allowed
    bucket = "arn:aws:s3:::rdp-prod-landing-123456789012"
    assert read[2] == {"Action": "s3:GetBucketLocation", "Effect": "Allow", "Resource": bucket}


def test_pipe_depends_on_stage_and_table_and_is_replaced_with_the_stage(plans):
    plan = plans["dev"]
    pipe = one(plan, "ingestion-pipe")
    stage, table = one(plan, "ingestion-stage"), one(plan, "ingestion-bronze")
    assert stage["urn"] in pipe["dependencies"] and table["urn"] in pipe["dependencies"]
    assert pipe["replaceWith"] == [stage["urn"]]
    assert pipe["inputs"]["errorIntegration"] == "RDP_DEV_INGEST_ERRORS"
    assert '"RDP_DEV_RETAIL"."BRONZE"."WORK_CUSTOMER_COPY"' in pipe["inputs"]["copyStatement"]
    assert "ON_ERROR = CONTINUE" in pipe["inputs"]["copyStatement"]


def test_prod_bucket_is_protected_and_not_force_destroyable(plans):
    prod, dev = one(plans["prod"], "landing-bucket"), one(plans["dev"], "landing-bucket")
    assert prod["protect"] is True and prod["inputs"]["forceDestroy"] is False
    assert dev["protect"] is False and dev["inputs"]["forceDestroy"] is True
    assert by_type(plans["prod"], "/bucketVersioning:BucketVersioning")
    assert not by_type(plans["dev"], "/bucketVersioning:BucketVersioning")
    for stack in plans:
        pab = by_type(plans[stack], "/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]["inputs"]
        assert all(
            pab[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        tls = json.loads(one(plans[stack], "landing-tls-only")["inputs"]["policy"])["Statement"][0]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        rules = one(plans[stack], "landing-lifecycle")["inputs"]["rules"]
        assert {r["filter"]["prefix"] for r in rules} == {"landing/customer/", "rejected/", ""}


def test_topic_policy_is_scoped_to_the_integrations_principal(plans):
    plan = plans["prod"]
    integ = one(plan, "alerts-integration")
    pol = json.loads(one(plan, "alerts-topic-policy")["inputs"]["policy"])["Statement"]
    assert len(pol) == 1 and pol[0]["Action"] == "sns:Publish"
    principals = pol[0]["Principal"]["AWS"]
    assert "*" not in json.dumps(pol[0]["Principal"])
    assert any(p.startswith("arn:aws:iam::210987654321:user/sf-sns-") for p in principals)
    assert "arn:aws:iam::123456789012:role/rdp-prod-snowflake-sns" in principals
    assert integ["urn"] in one(plan, "alerts-topic-policy")["dependencies"]
    assert pol[0]["Resource"] == "arn:aws:sns:us-east-1:123456789012:rdp-prod-ingest-errors"
    sns_role = json.loads(one(plan, "alerts-role")["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert sns_role["Principal"]["AWS"] in principals
    assert integ["inputs"]["awsSnsRoleArn"] == "arn:aws:iam::123456789012:role/rdp-prod-snowflake-sns"
    assert integ["inputs"]["direction"] == "OUTBOUND"
    emails = sorted(r["inputs"]["endpoint"] for r in by_type(plan, "/topicSubscription:TopicSubscription"))
    assert emails == ["data-platform-oncall@example.com", "retail-analytics@example.com"]


def test_cdc_chain_task_and_grants(plans):
    dev, prod = plans["dev"], plans["prod"]
    task = one(prod, "ingestion-task")["inputs"]
    assert task["schedule"] == {"usingCron": "0 1 * * * America/New_York"} and task["started"] is True
    assert one(dev, "ingestion-task")["inputs"]["started"] is False
    assert (
        task["when"] == 'SYSTEM$STREAM_HAS_DATA(\'"RDP_PROD_RETAIL"."STREAMS_TASKS"."WORK_CUSTOMER_SRC_TO_SL_STREAM"\')'
    )
    assert task["sqlStatement"] == 'CALL "RDP_PROD_RETAIL"."STREAMS_TASKS"."WORK_CUSTOMER_SRC_TO_SL_SP"()'
    assert task["errorIntegration"] == "RDP_PROD_INGEST_ERRORS"
    stream = one(prod, "ingestion-stream")["inputs"]
    assert stream["table"] == '"RDP_PROD_RETAIL"."BRONZE"."WORK_CUSTOMER_COPY"' and stream["appendOnly"] == "true"
    proc = one(prod, "ingestion-procedure")["inputs"]["procedureDefinition"]
    assert "BEGIN TRANSACTION" in proc and 'MERGE INTO "RDP_PROD_RETAIL"."SILVER"."CUSTOMER"' in proc
    assert 'FROM "RDP_PROD_RETAIL"."STREAMS_TASKS"."WORK_CUSTOMER_SRC_TO_SL_STREAM"' in proc
    view = one(prod, "ingestion-gold-view")["inputs"]
    assert view["schema"] == "GOLD" and view["name"] == "CUSTOMER_VIEW"
    grants = {
        (g["inputs"]["accountRoleName"], g["inputs"]["onSchemaObject"]["objectType"])
        for g in by_type(prod, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if g["name"].startswith("ingestion-") and "onSchemaObject" in g["inputs"]
    }
    assert grants == {
        ("RDP_PROD_LOADER", "STAGE"),
        ("RDP_PROD_LOADER", "FILE FORMAT"),
        ("RDP_PROD_LOADER", "PIPE"),
        ("RDP_PROD_TRANSFORMER", "PROCEDURE"),
        ("RDP_PROD_TRANSFORMER", "TASK"),
        ("RDP_PROD_TRANSFORMER", "PIPE"),  # MONITOR: the monitor reads the pipe's status
    }
    assert one(prod, "ingestion-bronze")["protect"] and one(prod, "ingestion-silver")["protect"]
    assert not one(dev, "ingestion-silver")["protect"]


def test_integrations_are_accountadmin_and_objects_sysadmin(plans):
    prod = plans["prod"]
    for n in ("ingestion-storage-integration", "alerts-integration"):
        assert one(prod, n)["provider"].endswith("snowflake-accountadmin")
    for n in ("ingestion-pipe", "ingestion-stage", "ingestion-task", "ingestion-procedure", "ingestion-bronze"):
        assert one(prod, n)["provider"].endswith("snowflake-sysadmin")
    for r in prod:
        if r["type"].startswith("aws:"):
            assert r["provider"].endswith("::aws"), r["name"]


def test_load_order_columns_are_appended_to_bronze_and_filled_by_snowpipe(plans):
    """Ties on UPDATED_AT go to the later load in Snowflake too: the pipe copies the file's
    last-modified time and the load's start, and the procedure orders by them, not by file name.
    The columns are appended, so the Bronze table is altered in place (existing columns unchanged)."""
    for stack in plans:
        plan = plans[stack]
        columns = [(c["name"], c["type"]) for c in one(plan, "ingestion-bronze")["inputs"]["columns"]]
        assert columns[-3:] == [
            ("_LOADED_AT", "TIMESTAMP_NTZ"),
            ("_FILE_LAST_MODIFIED", "TIMESTAMP_NTZ"),
            ("_LOAD_SEQ", "NUMBER(38,0)"),
        ]
        copy = one(plan, "ingestion-pipe")["inputs"]["copyStatement"]
        assert "METADATA$START_SCAN_TIME, METADATA$FILE_LAST_MODIFIED" in copy
        assert "_LOADED_AT, _FILE_LAST_MODIFIED\n)" in copy
        proc = one(plan, "ingestion-procedure")["inputs"]["procedureDefinition"]
        assert (
            "ORDER BY UPDATED_AT DESC NULLS LAST, LOAD_SEQ DESC NULLS LAST, FILE_LAST_MODIFIED DESC NULLS LAST,\n"
            "           LOADED_AT DESC NULLS LAST, SOURCE_FILE DESC, SOURCE_ROW DESC"
        ) in proc
