"""The operations alerts as the dev and prod plans declare them: the condition text the stand-in tests run,
the action to the stack's own error integration, what each waits for, the schedule and switch from config,
and the privileges they take (the lifecycle check finds a missing one)."""

from __future__ import annotations

import copy

import pytest

from infra import lifecycle_privileges
from infra.config.reader import stack_config
from infra.operations import catalog
from infra.operations.catalog import ALERTS, Thresholds
from tests.conftest import by_type, one

ALERT = "snowflake:index/alert:Alert"
ON_EVERY_STACK = list(ALERTS)  # dev and prod declare the serving refresh task serving_stale watches


def thresholds(stack: str) -> Thresholds:
    cfg = stack_config(stack)
    return Thresholds(
        lag_targets=catalog.lag_targets(cfg.analytics.lags, cfg.cdc.lags),
        silence_hours=cfg.operations.pipe_silence_hours,
        max_age_hours=cfg.operations.serving_max_age_hours,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alert_runs_its_condition_and_notifies_the_stack_error_integration(plans, stack):
    plan, cfg = plans[stack], stack_config(stack)
    db = f"RDP_{stack.upper()}_RETAIL"
    integration = by_type(plan, "notificationIntegration:NotificationIntegration")
    assert [i["inputs"]["name"] for i in integration] == [f"RDP_{stack.upper()}_INGEST_ERRORS"]
    conditions = catalog.stack_conditions(db, thresholds(stack))
    alerts = {r["inputs"]["name"]: r for r in by_type(plan, "alert:Alert")}
    assert set(alerts) == {catalog.CATALOG.name(k) for k in ON_EVERY_STACK}
    for key in ON_EVERY_STACK:
        i = alerts[catalog.CATALOG.name(key)]["inputs"]
        assert (i["database"], i["schema"], i["warehouse"]) == (
            db,
            "STREAMS_TASKS",
            f"RDP_{stack.upper()}_TRANSFORM_WH",
        )
        assert i["condition"] == conditions[key]
        assert i["action"] == catalog.action_sql(key, db, f"RDP_{stack.upper()}_INGEST_ERRORS")
        assert f"SNOWFLAKE.NOTIFICATION.INTEGRATION('RDP_{stack.upper()}_INGEST_ERRORS')" in i["action"]
        assert i["alertSchedule"] == {"interval": cfg.operations.schedule_minutes}
        assert i["enabled"] is cfg.operations.enabled
    assert [stack_config(s).operations.enabled for s in ("dev", "prod")] == [False, True]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alerts_wait_for_the_objects_their_conditions_name(plans, stack):
    plan = plans[stack]
    alerts = {r["name"].removeprefix("operations-"): r for r in by_type(plan, "alert:Alert")}
    pipe = one(plan, "ingestion-pipe")
    assert pipe["inputs"]["name"] in alerts["pipe-unhealthy"]["inputs"]["condition"]
    assert pipe["urn"] in alerts["pipe-unhealthy"]["dependencies"]
    refresh = one(plan, "serving-refresh-task")
    assert refresh["inputs"]["name"] in alerts["serving-stale"]["inputs"]["condition"]
    assert refresh["urn"] in alerts["serving-stale"]["dependencies"]
    procedure = one(plan, "operations-stream-states")
    assert procedure["urn"] in alerts["stream-stale"]["dependencies"]
    assert (
        procedure["inputs"]["executeAs"] == "OWNER"
        and "SHOW STREAMS IN DATABASE" in procedure["inputs"]["procedureDefinition"]
    )
    behind = alerts["dynamic-table-behind"]
    named = [
        r
        for r in by_type(plan, "dynamicTable:DynamicTable")
        if f"'{r['inputs']['name']}' AS NAME" in behind["inputs"]["condition"]
    ]
    assert {r["inputs"]["name"] for r in named} == {t.name for t in thresholds(stack).lag_targets} != set()
    assert all(r["urn"] in behind["dependencies"] for r in named)
    integration = one(plan, "alerts-integration")
    assert all(integration["urn"] in a["dependencies"] for a in alerts.values())


def test_an_enabled_alert_needs_execute_alert_which_the_account_stack_grants(plans, account_plan):
    prod = plans["prod"]
    assert lifecycle_privileges.snowflake_privileges("prod", prod, account_plan) == []
    account = copy.deepcopy(account_plan)
    one(account, "prod-admin-account")["inputs"]["privileges"].remove("EXECUTE ALERT")
    found = [f.resource + ": " + f.reason for f in lifecycle_privileges.snowflake_privileges("prod", prod, account)]
    assert "operations-task-failed: RDP_PROD_ADMIN lacks EXECUTE ALERT on ACCOUNT when it runs" in found
    assert len(found) == len(ON_EVERY_STACK)
    # dev's alerts are suspended: nothing to resume, nothing needed
    dev_account = copy.deepcopy(account_plan)
    one(dev_account, "dev-admin-account")["inputs"]["privileges"].remove("EXECUTE ALERT")
    assert lifecycle_privileges.snowflake_privileges("dev", plans["dev"], dev_account) == []


def test_an_alert_in_a_schema_its_role_cannot_create_in_is_found(plans, account_plan):
    prod = copy.deepcopy(plans["prod"])
    one(prod, "operations-task-failed")["inputs"]["database"] = "RDP_DEV_RETAIL"
    found = [f.reason for f in lifecycle_privileges.snowflake_privileges("prod", prod, account_plan)]
    assert any("lacks CREATE ALERT on SCHEMA RDP_DEV_RETAIL.STREAMS_TASKS" in w for w in found), found


def test_an_alert_notifying_an_integration_its_role_cannot_use_is_found(plans, account_plan):
    prod = copy.deepcopy(plans["prod"])
    alert = one(prod, "operations-task-failed")["inputs"]
    alert["action"] = alert["action"].replace("RDP_PROD_INGEST_ERRORS", "RDP_DEV_INGEST_ERRORS")
    found = [f.reason for f in lifecycle_privileges.snowflake_privileges("prod", prod, account_plan)]
    assert any("lacks USAGE on INTEGRATION RDP_DEV_INGEST_ERRORS" in w for w in found), found


def test_the_account_stack_lets_each_admin_role_read_its_alerts_times(account_plan):
    grants = {
        (r["inputs"]["databaseRoleName"], r["inputs"]["parentRoleName"])
        for r in by_type(account_plan, "grantDatabaseRole:GrantDatabaseRole")
    }
    assert {('"SNOWFLAKE"."ALERT_VIEWER"', f"RDP_{s}_ADMIN") for s in ("DEV", "PROD")} <= grants


def test_the_thresholds_are_the_monitor_ones():
    from services.features import health as checks

    assert catalog.FAILED_TASK_STATES == checks.FAILED_TASK_STATES
    assert catalog.FAILED_REFRESH_STATES == checks.FAILED_REFRESH_STATES
    assert catalog.LAG_FACTOR == checks.LAG_FACTOR
    assert catalog.STALE_WITHIN_HOURS * 3600 == checks.STALE_WITHIN_SECONDS
    assert catalog.lag_seconds("5 minutes") == checks.lag_seconds("5 minutes") == 300


def test_enabled_alerts_keep_their_warehouse_awake_in_the_cost_model(plans):
    from infra.cost import Pricing

    plan, cfg = copy.deepcopy(plans["prod"]), stack_config("prod")
    share = Pricing(plan, cfg.cost).schedule_share("RDP_PROD_TRANSFORM_WH", 60)
    alerts = by_type(plan, "alert:Alert")
    for alert in alerts:
        alert["inputs"]["enabled"] = False
    without = Pricing(plan, cfg.cost).schedule_share("RDP_PROD_TRANSFORM_WH", 60)
    per_alert = (max(60, cfg.cost.run_seconds) + 60) / (cfg.operations.schedule_minutes * 60)  # run, then suspend
    assert share == pytest.approx(without + len(alerts) * per_alert)
