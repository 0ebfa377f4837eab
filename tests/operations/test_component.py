"""OperationsAlerts constructed directly under Pulumi's mocks: the serving alert exists only when the stack
has the serving refresh task, and then waits for it."""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from infra.mocks import PlanMocks, RecordingMonitor
from infra.naming import Naming
from infra.operations.catalog import CATALOG, LagTarget
from infra.operations.component import OperationsAlerts, OperationsAlertsArgs
from infra.operations.config import OperationsConfig
from infra.serving.catalog import CATALOG as SERVING
from tests.foundation.test_components import providers


def _declare(with_refresh: bool) -> list[dict]:
    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="retail-data-platform", stack="prod", preview=False, monitor=monitor)

    def program() -> None:
        prov = providers()
        on = pulumi.ResourceOptions(provider=prov.sysadmin)
        pipe = snowflake.Pipe("pipe", database="DB", schema="BRONZE", name="P", copy_statement="COPY", opts=on)
        table = snowflake.DynamicTable(
            "dt",
            database="DB",
            schema="SILVER",
            name="T",
            query="SELECT 1",
            warehouse="WH",
            target_lag={"maximum_duration": "5 minutes"},
            opts=on,
        )
        task = snowflake.Task(
            "refresh",
            database="DB",
            schema=SERVING.schema("refresh_task"),
            name=SERVING.name("refresh_task"),
            sql_statement="SELECT 1",
            started=False,
            opts=on,
        )
        OperationsAlerts(
            "ops",
            OperationsAlertsArgs(
                naming=Naming("RDP", "prod"),
                providers=prov,
                config=OperationsConfig(enabled=True),
                database="DB",
                warehouse="WH",
                error_integration="RDP_PROD_INGEST_ERRORS",
                lag_targets=(LagTarget("cdc", "orders_derived", "SILVER", "T", 300),),
                pipes={"customer": pipe},
                dynamic_tables=[table],
                serving_refresh=task if with_refresh else None,
            ),
        )

    pulumi.runtime.test(program)()
    return monitor.records


def test_the_serving_alert_waits_for_the_refresh_task_and_is_absent_without_it():
    records = {r["name"]: r for r in _declare(with_refresh=True)}
    serving = records["ops-serving-stale"]
    assert serving["inputs"]["name"] == CATALOG.name("serving_stale")
    assert f"NAME = '{SERVING.name('refresh_task')}'" in serving["inputs"]["condition"]
    assert records["refresh"]["urn"] in serving["dependencies"]
    assert records["pipe"]["urn"] in records["ops-pipe-unhealthy"]["dependencies"]
    assert records["dt"]["urn"] in records["ops-dynamic-table-behind"]["dependencies"]
    without = {r["name"] for r in _declare(with_refresh=False)}
    assert "ops-serving-stale" not in without and "ops-task-failed" in without
