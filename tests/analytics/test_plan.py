"""The analytics pipeline as declared, under Pulumi's mocks."""

from __future__ import annotations

import json

import pytest

from infra.analytics.catalog import DYNAMIC_TABLES, LOADER_WRITES, STREAMS, TABLES
from infra.config.reader import ConfigError, own_keys, parse_config, read_stack_file, stack_config
from tests.conftest import by_type, one

SOURCES = ("customers", "products", "orders", "order_items", "movements")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_stream_per_consumer_on_the_right_tables(plans, stack):
    db = f"RDP_{stack.upper()}_RETAIL"
    streams = {r["inputs"]["name"]: r["inputs"] for r in by_type(plans[stack], "streamOnTable:StreamOnTable")}
    for key, s in STREAMS.items():
        name = f"{TABLES[s.table][1]}_STREAM"
        assert streams[name]["table"] == f'"{db}"."{TABLES[s.table][0]}"."{TABLES[s.table][1]}"'
        # updates matter on customers, products and orders; order items are only ever inserted
        assert streams[name]["appendOnly"] == ("true" if key == "items_stream" else "false")
    assert {s.table for s in STREAMS.values()} - {"facts"} <= set(SOURCES)  # only the summary reads a GOLD table
    sources = [one(plans[stack], f"analytics-{k.replace('_', '-')}")["inputs"] for k in SOURCES]
    assert all(s["changeTracking"] for s in sources) and all(s["name"].startswith("SHOP_") for s in sources)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_two_task_graphs_on_their_own_cadences_and_the_summary_after_loaded_facts(plans, stack):
    cfg = stack_config(stack).analytics
    db = f"RDP_{stack.upper()}_RETAIL"
    root = one(plans[stack], "analytics-dimensions-task")
    facts = one(plans[stack], "analytics-facts-task")
    summary = one(plans[stack], "analytics-summary-task")
    assert root["inputs"]["schedule"] == {"usingCron": f"{cfg.task_schedule} {cfg.task_timezone}"}
    assert summary["inputs"]["schedule"] == {"usingCron": f"{cfg.summary_schedule} {cfg.task_timezone}"}
    # the facts graph wakes on the source streams, the summary on committed facts only
    assert root["inputs"]["when"].count("SYSTEM$STREAM_HAS_DATA(") == 4 and "FACT_SALES" not in root["inputs"]["when"]
    assert summary["inputs"]["when"] == f"SYSTEM$STREAM_HAS_DATA('{db}.STREAMS_TASKS.FACT_SALES_STREAM')"
    errors = f"RDP_{stack.upper()}_INGEST_ERRORS"
    assert root["inputs"]["errorIntegration"] == summary["inputs"]["errorIntegration"] == errors
    assert "afters" not in root["inputs"] and "afters" not in summary["inputs"] and "schedule" not in facts["inputs"]
    assert facts["inputs"]["afters"] == [f'"{db}"."STREAMS_TASKS"."ANALYTICS_DIMENSIONS_TASK"']
    assert {t["inputs"]["started"] for t in (root, facts, summary)} == {cfg.tasks_enabled}
    assert root["urn"] in facts["dependencies"]
    assert facts["inputs"]["sqlStatement"].endswith('."LOAD_FACT_SALES"()')
    stream = one(plans[stack], "analytics-facts-stream")["inputs"]
    assert stream["table"] == f'"{db}"."GOLD"."FACT_SALES"' and stream["appendOnly"] == "false"
    assert one(plans[stack], "analytics-facts")["inputs"]["changeTracking"] is True
    # the summary procedure reads FACT_SALES (through its stream) and nothing upstream of it
    body = one(plans[stack], "analytics-summary-procedure")["inputs"]["procedureDefinition"]
    assert f'"{db}"."STREAMS_TASKS"."FACT_SALES_STREAM"' in body and "SHOP_" not in body and "BEGIN TRANSACTION" in body


def test_prod_cadences_are_the_references_and_the_summary_runs_after_a_facts_run():
    cfg = stack_config("prod").analytics
    assert cfg.task_schedule == "*/10 * * * *"  # facts every 10 minutes
    minutes = [int(m) for m in cfg.summary_schedule.split()[0].split(",")]
    assert minutes == [5, 35]  # every 30 minutes, 5 minutes after a facts run starts


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_fact_sales_is_clustered_by_day_and_nothing_else_is(plans, stack):
    analytics = [r for r in by_type(plans[stack], "table:Table") if "retail:analytics:" in r["urn"]]
    tables = {r["inputs"]["name"]: r["inputs"] for r in analytics}
    assert len(tables) == len(TABLES)
    clustered = {n: t["clusterBies"] for n, t in tables.items() if t.get("clusterBies")}
    assert clustered == {"FACT_SALES": ["DATE_KEY"]}


def test_dynamic_table_lags_per_stack(plans):
    lags = {
        s: {r["inputs"]["name"]: r["inputs"]["targetLag"] for r in by_type(plans[s], "dynamicTable:DynamicTable")}
        for s in ("dev", "prod")
    }
    assert lags["prod"]["ENRICHED_ORDERS"] == {"maximumDuration": "5 minutes"}
    assert lags["prod"]["PRODUCT_PERFORMANCE"] == {"maximumDuration": "10 minutes"}
    assert lags["prod"]["CURRENT_INVENTORY"] == {"maximumDuration": "2 minutes"}
    assert lags["dev"]["ENRICHED_ORDERS"] == {"maximumDuration": "60 minutes"}
    for s in ("dev", "prod"):
        assert lags[s]["ORDER_LINES"] == {"downstream": True}
        order_lines = one(plans[s], "analytics-order-lines")["urn"]
        assert order_lines in one(plans[s], "analytics-enriched-orders")["dependencies"]
    assert set(lags["dev"]) >= {k.upper() for k in DYNAMIC_TABLES}


def test_procedures_run_their_sql_files_in_one_transaction(plans):
    bodies = {
        r["inputs"]["name"]: r["inputs"]["procedureDefinition"]
        for r in by_type(plans["dev"], "procedureSql:ProcedureSql")
    }
    facts = bodies["LOAD_FACT_SALES"]
    assert (
        facts.index("BEGIN TRANSACTION") < facts.index("MERGE INTO") < facts.index("COMMIT") < facts.index("ROLLBACK")
    )
    assert '"RDP_DEV_RETAIL"."STREAMS_TASKS"."SHOP_ORDER_ITEMS_STREAM"' in facts
    dims = bodies["APPLY_DIMENSION_CHANGES"]
    assert dims.count("METADATA$ACTION") == 2 and "DIM_CUSTOMER" in dims and "DIM_PRODUCT" in dims
    assert "DELETE FROM" in bodies["REFRESH_DAILY_SALES_SUMMARY"]


def test_transformer_operates_the_tasks_and_prod_protects_the_state(plans):
    grants = [
        r["inputs"]
        for r in by_type(plans["dev"], "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if r["name"].startswith("analytics-transformer-task")
    ]
    assert len(grants) == 3 and all(g["accountRoleName"] == "RDP_DEV_TRANSFORMER" for g in grants)
    for stack, protect in (("dev", False), ("prod", True)):
        assert one(plans[stack], "analytics-facts")["protect"] is protect
        assert one(plans[stack], "analytics-dim-customer")["protect"] is protect
        assert one(plans[stack], "analytics-work-customers")["protect"] is protect


def test_a_bad_lag_or_schedule_names_the_config_key():
    values, secrets = read_stack_file("dev")
    own, own_secret = own_keys(values, set(secrets))
    bad = json.loads(own["analytics"])
    bad["lags"]["enrichedOrders"] = "soon"
    bad["taskSchedule"] = "hourly"
    with pytest.raises(ConfigError) as e:
        parse_config({**own, "analytics": json.dumps(bad)}, "dev", own_secret)
    assert "retail-data-platform:analytics.lags.enrichedOrders" in str(e.value)
    assert "retail-data-platform:analytics.taskSchedule" in str(e.value)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_loader_writes_the_sources_through_a_declared_stage(plans, stack):
    """The bulk loads' stage is the admin's, in BRONZE, protected where the stack protects (the policy
    pack's rule for internal stages); LOADER's grants on it and on each source name the resources, so
    they are made after them."""
    plan, loader = plans[stack], f"RDP_{stack.upper()}_LOADER"
    stage = one(plan, "analytics-load-stage")
    assert (stage["inputs"]["schema"], stage["inputs"]["name"]) == ("BRONZE", "SHOP_LOAD_STAGE")
    assert stage["protect"] is (stack == "prod")
    assert stage["provider"].endswith("snowflake-sysadmin")
    grant = one(plan, "analytics-loader-stage")
    assert grant["inputs"]["accountRoleName"] == loader and grant["inputs"]["privileges"] == ["READ", "WRITE"]
    assert stage["urn"] in grant["dependencies"]
    for key, privileges in LOADER_WRITES.items():
        g, table = (
            one(plan, f"analytics-loader-{key.replace('_', '-')}"),
            one(plan, f"analytics-{key.replace('_', '-')}"),
        )
        assert (g["inputs"]["accountRoleName"], g["inputs"]["privileges"]) == (loader, privileges)
        assert table["urn"] in g["dependencies"] and table["inputs"]["schema"] == "BRONZE"
