"""Ingestion wiring, asserted on the offline plans: who feeds whom, by value."""

from __future__ import annotations

import json

import pytest

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
    prefixes = ["landing/customer/", "landing/sales/", "landing/inventory/"]
    assert integ["inputs"]["storageAllowedLocations"] == [f"s3://rdp-prod-landing-123456789012/{p}" for p in prefixes]
    read = json.loads(one(plan, "ingestion-s3-read")["inputs"]["policy"])["Statement"]
    assert read[0]["Resource"] == [f"arn:aws:s3:::rdp-prod-landing-123456789012/{p}*" for p in prefixes]
    assert read[1]["Condition"]["StringLike"]["s3:prefix"] == [f"{p}*" for p in prefixes]
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
        assert {r["filter"]["prefix"] for r in rules} == {
            "landing/customer/",
            "landing/sales/",
            "landing/inventory/",
            "rejected/",
            "",
        }


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


FEED_NAMES = {  # feed → (logical infix, landing prefix, Bronze, Silver, merge key)
    "customer": ("ingestion", "landing/customer/", "WORK_CUSTOMER_COPY", "CUSTOMER", ["CUSTOMER_ID"]),
    "sales": ("ingestion-sales", "landing/sales/", "WORK_SALES_COPY", "SALES", ["SALE_ID"]),
    "inventory": (
        "ingestion-inventory",
        "landing/inventory/",
        "WORK_INVENTORY_COPY",
        "INVENTORY",
        ["PRODUCT_ID", "STORE_ID"],
    ),
}


@pytest.mark.parametrize("feed", FEED_NAMES)
def test_each_feeds_pipe_reads_its_own_prefix_and_reports_to_the_error_topic(plans, feed):
    """Stage on the feed's prefix; its pipe copies from that stage into its own Bronze table and reports
    errors through the stack's error integration; the bucket notification sends that prefix's files to
    this pipe's channel, and the feed's pipe alert watches this pipe."""
    rn, prefix, bronze, _, _ = FEED_NAMES[feed]
    for stack in plans:
        plan, db = plans[stack], f"RDP_{stack.upper()}_RETAIL"
        stage, pipe = one(plan, f"{rn}-stage"), one(plan, f"{rn}-pipe")
        assert stage["inputs"]["url"] == f"s3://rdp-{stack}-landing-123456789012/{prefix}"
        copy = pipe["inputs"]["copyStatement"]
        assert f'COPY INTO "{db}"."BRONZE"."{bronze}" (' in copy
        assert f'FROM @"{db}"."BRONZE"."{stage["inputs"]["name"]}" t' in copy
        assert pipe["inputs"]["errorIntegration"] == f"RDP_{stack.upper()}_INGEST_ERRORS"
        assert pipe["inputs"]["autoIngest"] is True and pipe["replaceWith"] == [stage["urn"]]
        queues = {q["id"]: q for q in one(plan, "ingestion-bucket-notification")["inputs"]["queues"]}
        assert queues[f"snowpipe-{feed}"]["filterPrefix"] == prefix
        assert pipe["urn"] in one(plan, "ingestion-bucket-notification")["dependencies"]
        alert = "operations-pipe-unhealthy" + ("" if feed == "customer" else f"-{feed}")
        condition = one(plan, alert)["inputs"]["condition"]
        assert f"PIPE_NAME = '{pipe['inputs']['name']}'" in condition
        assert f"COPY_HISTORY(TABLE_NAME => '{db}.BRONZE.{bronze}'" in condition
        assert pipe["urn"] in one(plan, alert)["dependencies"]


@pytest.mark.parametrize("feed", FEED_NAMES)
def test_each_feeds_stream_task_procedure_merge_chain(plans, feed):
    """Bronze → append-only stream → task (WHEN the stream has data) → procedure → MERGE into the feed's
    Silver table on its key; the task reports to the error topic; the tables holding data are protected in
    prod; the loader and transformer get the same grants as for customers."""
    rn, _, bronze, silver, key = FEED_NAMES[feed]
    prod, db = plans["prod"], "RDP_PROD_RETAIL"
    stream = one(prod, f"{rn}-stream")["inputs"]
    assert stream["table"] == f'"{db}"."BRONZE"."{bronze}"' and stream["appendOnly"] == "true"
    task, proc = one(prod, f"{rn}-task"), one(prod, f"{rn}-procedure")
    assert task["inputs"]["when"] == f'SYSTEM$STREAM_HAS_DATA(\'"{db}"."STREAMS_TASKS"."{stream["name"]}"\')'
    assert task["inputs"]["sqlStatement"] == f'CALL "{db}"."STREAMS_TASKS"."{proc["inputs"]["name"]}"()'
    assert task["inputs"]["errorIntegration"] == "RDP_PROD_INGEST_ERRORS" and proc["urn"] in task["dependencies"]
    body = proc["inputs"]["procedureDefinition"]
    assert f'MERGE INTO "{db}"."SILVER"."{silver}" t' in body
    assert f'FROM "{db}"."STREAMS_TASKS"."{stream["name"]}"' in body
    assert "  ON " + " AND ".join(f"t.{k} = s.{k}" for k in key) in body
    table = one(prod, f"{rn}-silver")
    assert table["inputs"]["primaryKey"]["keys"] == key and table["protect"]
    assert one(prod, f"{rn}-bronze")["protect"] and one(prod, f"{rn}-bronze")["inputs"]["changeTracking"]
    grants = {
        (g["inputs"]["accountRoleName"], g["inputs"]["onSchemaObject"]["objectType"], tuple(g["inputs"]["privileges"]))
        for g in by_type(prod, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if g["name"].startswith(f"{rn}-")
        and g["name"].removeprefix(f"{rn}-").split("-")[0] in ("loader", "transformer")
    }
    assert grants == {
        ("RDP_PROD_LOADER", "STAGE", ("USAGE",)),
        ("RDP_PROD_LOADER", "FILE FORMAT", ("USAGE",)),
        ("RDP_PROD_LOADER", "PIPE", ("OPERATE", "MONITOR")),
        ("RDP_PROD_TRANSFORMER", "PROCEDURE", ("USAGE",)),
        ("RDP_PROD_TRANSFORMER", "TASK", ("OPERATE", "MONITOR")),
        ("RDP_PROD_TRANSFORMER", "PIPE", ("MONITOR",)),
    }


def test_the_customer_feeds_sql_is_what_was_released(plans):
    """Built from the feed spec now, the customer pipe's COPY and procedure are the released text, so the
    pipe (its COPY forces a new pipe) and the procedure stay as they are."""
    copy = one(plans["dev"], "ingestion-pipe")["inputs"]["copyStatement"]
    assert (
        'COPY INTO "RDP_DEV_RETAIL"."BRONZE"."WORK_CUSTOMER_COPY" (\n'
        "  CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE,\n"
        "  SIGNUP_DATE, LOYALTY_TIER, UPDATED_AT, _FILE_NAME, _FILE_ROW_NUMBER, _LOADED_AT, _FILE_LAST_MODIFIED\n)"
    ) in copy
    assert "  SELECT t.$1, t.$2, t.$3, t.$4, t.$5, t.$6, t.$7, t.$8, t.$9, t.$10, t.$11,\n" in copy
    proc = one(plans["dev"], "ingestion-procedure")["inputs"]["procedureDefinition"]
    assert proc.startswith("-- WORK_CUSTOMER_SRC_TO_SL_SP: consume the stream")
    assert (
        "    CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE, SIGNUP_DATE,\n"
        "    LOYALTY_TIER, UPDATED_AT, SOURCE_FILE, SOURCE_ROW\n  )"
    ) in proc
