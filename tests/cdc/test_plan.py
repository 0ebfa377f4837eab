"""The CDC pipeline as declared, under Pulumi's mocks: the dynamic-table chain, lags per stack, the
refresh task, the generator's insert-only role and the grants."""

from __future__ import annotations

import json
import re

import pytest

from infra.cdc.catalog import DYNAMIC_TABLES
from infra.config.reader import ConfigError, own_keys, parse_config, read_stack_file, stack_config
from tests.conftest import by_type, one

GRANT = "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"


def _cdc(plan: list[dict]) -> list[dict]:
    return [r for r in plan if "retail:cdc:OrderChanges" in r["urn"] and r["type"] != "retail:cdc:OrderChanges"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_dynamic_table_chain_incremental_with_the_stack_lags(plans, stack):
    cfg = stack_config(stack).cdc
    db = f"RDP_{stack.upper()}_RETAIL"
    current, derived, aggregated = (one(plans[stack], f"cdc-{k.replace('_', '-')}") for k in DYNAMIC_TABLES)
    log = one(plans[stack], "cdc-change-log")
    assert (
        log["urn"] in current["dependencies"] and f'FROM "{db}"."BRONZE"."ORDER_CHANGES"' in current["inputs"]["query"]
    )
    assert (
        current["urn"] in derived["dependencies"]
        and f'FROM "{db}"."SILVER"."ORDERS_CURRENT"' in derived["inputs"]["query"]
    )
    assert derived["urn"] in aggregated["dependencies"] and log["urn"] in aggregated["dependencies"]
    assert (current["inputs"]["schema"], derived["inputs"]["schema"], aggregated["inputs"]["schema"]) == (
        "SILVER",
        "SILVER",
        "GOLD",
    )
    assert current["inputs"]["targetLag"] == {"downstream": True}
    assert derived["inputs"]["targetLag"] == {"maximumDuration": cfg.lags.orders_derived}
    assert aggregated["inputs"]["targetLag"] == {"maximumDuration": cfg.lags.orders_aggregated}
    for dt in (current, derived, aggregated):
        assert dt["inputs"]["refreshMode"] == "INCREMENTAL"
        # nothing that would force a full refresh
        code = "\n".join(ln for ln in dt["inputs"]["query"].splitlines() if not ln.lstrip().startswith("--"))
        assert not re.search(r"CURRENT_(TIMESTAMP|DATE|TIME)|SYSDATE|GETDATE|RANDOM|UUID_STRING", code)


def test_lags_differ_per_stack(plans):
    lag = {s: one(plans[s], "cdc-orders-aggregated")["inputs"]["targetLag"] for s in ("dev", "prod")}
    assert lag == {"dev": {"maximumDuration": "60 minutes"}, "prod": {"maximumDuration": "5 minutes"}}
    assert one(plans["prod"], "cdc-orders-derived")["inputs"]["targetLag"] == {"maximumDuration": "60 seconds"}


@pytest.mark.parametrize(("stack", "started", "minutes"), [("dev", False, 60), ("prod", True, 5)])
def test_refresh_task_runs_the_documented_refresh_suspended_in_dev(plans, stack, started, minutes):
    task = one(plans[stack], "cdc-refresh-task")["inputs"]
    assert (
        task["sqlStatement"] == f'ALTER DYNAMIC TABLE "RDP_{stack.upper()}_RETAIL"."GOLD"."ORDERS_AGGREGATED" REFRESH'
    )
    assert "SYSTEM$REFRESH_DYNAMIC_TABLE" not in json.dumps(plans[stack])
    assert task["schedule"] == {"minutes": minutes} and task["started"] is started
    assert task["errorIntegration"] == f"RDP_{stack.upper()}_INGEST_ERRORS"


def test_the_generator_role_may_only_insert_into_the_change_log(plans):
    grants = [
        r["inputs"] for r in by_type(plans["dev"], GRANT) if r["inputs"]["accountRoleName"] == "RDP_DEV_CDC_WRITER"
    ]
    on_objects = {
        (g["onSchemaObject"]["objectType"], g["onSchemaObject"]["objectName"].split(".")[-1]): g["privileges"]
        for g in grants
        if "onSchemaObject" in g
    }
    assert on_objects == {
        ("TABLE", '"ORDER_CHANGES"'): ["INSERT"],
        ("STAGE", '"ORDER_CHANGES_STAGE"'): ["READ", "WRITE"],
        ("SEQUENCE", '"ORDER_ID_BLOCKS"'): ["USAGE"],
        ("SEQUENCE", '"ORDER_CHANGE_SEQ_BLOCKS"'): ["USAGE"],
    }
    others = [g for g in grants if "onSchemaObject" not in g]
    assert all(g["privileges"] == ["USAGE"] for g in others) and len(others) == 3  # database, schema, warehouse
    assert not any("SELECT" in g["privileges"] for g in grants)
    members = [
        r["inputs"]
        for r in by_type(plans["dev"], "grantAccountRole:GrantAccountRole")
        if r["inputs"]["roleName"] == "RDP_DEV_CDC_WRITER"
    ]
    assert {m.get("userName") or m.get("parentRoleName") for m in members} == {"RDP_DEV_SVC_LOADER", "RDP_DEV_ADMIN"}


def test_transformer_operates_and_analyst_monitors(plans):
    grants = {r["name"]: r["inputs"] for r in by_type(plans["dev"], GRANT) if r["name"].startswith("cdc-")}
    assert grants["cdc-transformer-task"]["accountRoleName"] == "RDP_DEV_TRANSFORMER"
    assert grants["cdc-transformer-task"]["privileges"] == ["OPERATE", "MONITOR"]
    for key in DYNAMIC_TABLES:
        slug = key.replace("_", "-")
        assert grants[f"cdc-analyst-dt-{slug}"]["accountRoleName"] == "RDP_DEV_ANALYST"
        assert "OPERATE" in grants[f"cdc-transformer-dt-{slug}"]["privileges"]


def test_change_log_tracks_changes_and_is_protected_in_prod(plans):
    for stack, protect in (("dev", False), ("prod", True)):
        log = one(plans[stack], "cdc-change-log")
        assert log["inputs"]["changeTracking"] is True and log["protect"] is protect
        cols = {c["name"]: c for c in log["inputs"]["columns"]}
        assert cols["AMOUNT"]["type"] == "NUMBER(12,2)" and not cols["CHANGE_SEQ"]["nullable"]
        assert {"CHANGE_TYPE", "CHANGE_SEQ", "CHANGED_AT", "RECORD_SOURCE"} <= set(cols)


def test_every_cdc_object_is_a_child_of_the_component_so_destroy_drops_it(plans):
    children = _cdc(plans["dev"])
    kinds = sorted({r["type"].split(":")[-1] for r in children})
    assert kinds == [
        "AccountRole",
        "DynamicTable",
        "GrantAccountRole",
        "GrantPrivilegesToAccountRole",
        "Sequence",
        "StageInternal",
        "Table",
        "Task",
        "View",
    ]
    names = {r["inputs"].get("name") for r in children}
    # the seed's objects, each declared (and so dropped by `pulumi destroy`)
    assert {
        "ORDER_CHANGES",
        "ORDERS_DERIVED",
        "ORDERS_AGGREGATED",
        "CDC_MONITORING",
        "REFRESH_ORDERS_AGGREGATED",
    } <= names


def test_a_bad_cdc_value_names_the_config_key():
    values, secrets = read_stack_file("dev")
    own, own_secret = own_keys(values, set(secrets))
    bad = json.loads(own["cdc"])
    bad["lags"]["ordersDerived"] = "30 seconds"  # below Snowflake's minimum
    bad["lags"]["ordersAggregated"] = "1 minute please"
    bad["generator"]["mix"] = {"insert": 0.7, "update": 0.2, "delete": 0.05}
    bad["generator"]["rate"] = -3
    with pytest.raises(ConfigError) as e:
        parse_config({**own, "cdc": json.dumps(bad)}, "dev", own_secret)
    assert "below Snowflake's minimum target lag" in str(e.value)
    for key in ("cdc.lags.ordersDerived", "cdc.lags.ordersAggregated", "cdc.generator.mix", "cdc.generator.rate"):
        assert f"retail-data-platform:{key}" in str(e.value)


def test_the_order_age_is_a_view_over_the_derived_table_which_carries_the_v2_columns(plans):
    derived, aggregated = (one(plans["prod"], f"cdc-orders-{k}")["inputs"]["query"] for k in ("derived", "aggregated"))
    for column in ("ORDER_VALUE_CATEGORY", "ORDER_COMPLETION_STATUS"):
        assert f"AS {column}" in derived
    for column in ("TOTAL_ITEMS_SOLD", "TOTAL_HIGH_VALUE_ORDERS", "TOTAL_LOW_VALUE_ORDERS"):
        assert f"AS {column}" in aggregated
    aged = one(plans["prod"], "cdc-orders-with-age")
    assert (aged["inputs"]["schema"], aged["inputs"]["name"]) == ("SILVER", "ORDERS_WITH_AGE")
    assert 'FROM "RDP_PROD_RETAIL"."SILVER"."ORDERS_DERIVED"' in aged["inputs"]["statement"]
    assert "DATEDIFF('day', d.ORDER_DATE, CURRENT_TIMESTAMP()) AS DAYS_SINCE_ORDER" in aged["inputs"]["statement"]
    assert one(plans["prod"], "cdc-orders-derived")["urn"] in aged["dependencies"]
