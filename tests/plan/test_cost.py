"""The cost model: its rates file, a rate for every billable type the plans declare, an estimate
checked by hand, and the monthly change a planted warehouse resize shows in the diff."""

from __future__ import annotations

import pytest

from infra import cost, cost_report, plandiff
from infra.config.cost import CostConfig, UsageConfig
from infra.foundation.config import ResourceMonitorConfig
from tests.conftest import STACKS

URN = "urn:pulumi:dev::retail-data-platform::"
WH = "snowflake:index/warehouse:Warehouse"


def res(typ: str, name: str, inputs: dict, parent: str = "") -> dict:
    chain = f"{parent}${typ}" if parent else typ
    return {"type": typ, "name": name, "urn": f"{URN}{chain}::{name}", "inputs": inputs, "parent": None}


def test_the_rates_file_parses_and_names_a_source_and_status_for_every_rate():
    rates = cost.load_rates()
    assert rates["warehouse.XSMALL"].value == 1 and rates["warehouse.X6LARGE"].value == 512
    assert {r.status for r in rates.values()} <= set(cost.STATUSES)
    assert all(r.status == "placeholder" for k, r in rates.items() if k.startswith("postgres."))


@pytest.mark.parametrize("stack", STACKS)
def test_every_type_in_the_plans_is_priced_or_listed_as_free(plans, stack):
    types = {r["type"] for r in plans[stack]}
    unpriced = sorted(t for t in types if t not in cost.PRICERS and not cost.is_free(t))
    assert unpriced == [], "rate these types (infra/cost_rates.yaml, cost.PRICERS) or list them in FREE_TYPES"
    lines = cost.estimate(plans[stack], CostConfig())
    assert [ln.name for ln in lines if ln.error] == []
    assert {ln.capability for ln in lines} <= {
        "foundation",
        "api",
        "ingestion",
        "serving",
        "analytics",
        "cdc",
        "recommendations",
        "dashboard",
        "operations",
    }


def test_a_billable_type_without_a_rate_fails():
    plan = [res("snowflake:index/gpuFarm:GpuFarm", "farm", {})]
    with pytest.raises(cost.EstimateError, match="no price and not in FREE_TYPES"):
        cost.estimate(plan, CostConfig())


def fixture_plan() -> list[dict]:
    foundation = "retail:foundation:SnowflakeFoundation"
    return [
        res(WH, "foundation-wh", {"name": "WH", "warehouseSize": "SMALL", "autoSuspend": 60}, foundation),
        res(
            "snowflake:index/task:Task",
            "t1",
            {"warehouse": "WH", "started": True, "schedule": {"minutes": 10}},
            foundation,
        ),
        res(
            "snowflake:index/task:Task",
            "t2",
            {"warehouse": "WH", "started": True, "when": "x", "schedule": {"minutes": 1}},
            foundation,
        ),
        res(
            "snowflake:index/resourceMonitor:ResourceMonitor",
            "foundation-monitor",
            {"name": "MON", "creditQuota": 100, "frequency": "MONTHLY", "suspendImmediateTrigger": 110},
            foundation,
        ),
        res(
            "snowflake:index/execute:Execute",
            "attach",
            {"execute": 'ALTER WAREHOUSE "WH" SET RESOURCE_MONITOR = "MON"'},
            foundation,
        ),
        res(
            "snowflake:index/computePool:ComputePool",
            "api-pool",
            {"instanceFamily": "CPU_X64_XS", "minNodes": 1, "maxNodes": 3},
            "retail:api:RecommendationApi",
        ),
        res("aws:s3/bucket:Bucket", "landing-bucket", {"bucket": "b"}, "retail:ingestion:LandingBucket"),
        res(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "landing-lifecycle",
            {"bucket": "b", "rules": [{"expiration": {"days": 38}}]},
            "retail:ingestion:LandingBucket",
        ),
        res("aws:secretsmanager/secret:Secret", "serving-secret", {"name": "s"}, "retail:serving:ServingSecrets"),
    ]


FIXTURE_CFG = CostConfig(
    credit_price=2.0,
    warehouse_active_share=0.05,
    run_seconds=30,
    usage=UsageConfig(landing_gb=10, landing_files=2000, secret_calls=10_000),
)


def test_a_small_plan_is_estimated_as_computed_by_hand():
    # Warehouse SMALL = 2 cr/h. t1 runs every 600 s and keeps WH awake max(60, 30) + 60 = 120 s: share 0.2;
    # t2 is gated by `when` (runs only when data arrives): not in the min. Runs 0.05 + 0.2 = 0.25 of 730 h.
    #   min = 730 * 2 * 0.25 * $2 = $730.00        max = 730 * 2 * $2 = $2,920.00
    # The monitor caps WH at 100 credits * 110% = 110 credits = $220: cuts -$510.00 (min) and -$2,700.00 (max).
    # Pool CPU_X64_XS 0.06 cr/node-h: min 730 * 0.06 * 1 * $2 = $87.60, max * 3 nodes = $262.80.
    # Bucket: 10 GB/month kept 38 days = 12.5 GB * $0.023 = $0.2875; 2000 files * ($0.005 + $0.0004)/1000 =
    #   $0.0108: $0.2983. Secret: $0.40 + 10000/10000 * $0.05 = $0.45.
    # Total: min 730 - 510 + 87.60 + 0.2983 + 0.45 = $308.35; max 2920 - 2700 + 262.80 + 0.2983 + 0.45 = $483.55.
    lines = {ln.name: ln for ln in cost.estimate(fixture_plan(), FIXTURE_CFG)}
    assert (lines["foundation-wh"].min, lines["foundation-wh"].max) == pytest.approx((730.0, 2920.0))
    assert (lines["foundation-monitor"].min, lines["foundation-monitor"].max) == pytest.approx((-510.0, -2700.0))
    assert (lines["api-pool"].min, lines["api-pool"].max) == pytest.approx((87.6, 262.8))
    assert lines["landing-bucket"].min == pytest.approx(0.2983)
    assert lines["t1"].max == 0 and "charged there" in lines["t1"].note
    assert cost.totals(list(lines.values())) == {
        "api": {"min": 87.6, "max": 262.8},
        "foundation": {"min": 220.0, "max": 220.0},
        "ingestion": {"min": 0.3, "max": 0.3},
        "serving": {"min": 0.45, "max": 0.45},
        "total": {"min": 308.35, "max": 483.55},
    }


def test_cron_schedules_count_their_runs():
    assert cost.runs_per_day({"usingCron": "*/15 * * * * UTC"}) == 96
    assert cost.runs_per_day({"usingCron": "0 */6 * * *"}) == 4
    assert cost.runs_per_day({"usingCron": "30 3 * * * UTC"}) == 1
    assert cost.runs_per_day({"minutes": 5}) == 288


def test_a_planted_warehouse_resize_shows_its_monthly_change():
    # XSMALL (1 cr/h) → SMALL (2 cr/h), no monitor, no schedules, active share 0.05, $3 a credit:
    #   min +730 * 0.05 * 1 * $3 = +$109.50, max +730 * 1 * $3 = +$2,190.00.
    old = [res(WH, "foundation-wh-load", {"name": "W", "warehouseSize": "XSMALL", "autoSuspend": 60})]
    new = [res(WH, "foundation-wh-load", {"name": "W", "warehouseSize": "SMALL", "autoSuspend": 60})]
    for plan in (old, new):
        plan[0].update(protect=False, provider=None)
    result = plandiff.diff_plans(old, new)
    cost_report.annotate(result, old, new, cost_report.Pricing(CostConfig()), cost_report.Pricing(CostConfig()))
    (change,) = result["changes"]
    assert change["monthly"] == {"min": 109.5, "max": 2190.0}
    assert result["cost"]["change"] == {"min": 109.5, "max": 2190.0}
    assert "[monthly +$109.50..+$2,190.00]" in plandiff.render_text({"dev": result}, "main")
    md = plandiff.render_markdown({"dev": result}, "main")
    assert "| monthly change |" in md and "+\\$109.50..+\\$2,190.00" in md
    assert "monthly: \\$109.50..\\$2,190.00 → \\$219.00..\\$4,380.00" in md


def test_the_account_stacks_monitor_caps_the_warehouses_attached_through_its_procedure():
    # the same plan, its monitor declared by the account stack and attached by calling its procedure
    plan = [r for r in fixture_plan() if r["name"] not in ("foundation-monitor", "attach")]
    call = """CALL "RDP_ACCOUNT_ADMIN"."MONITORS"."ATTACH_MON"('WH')"""
    plan.append(res("snowflake:index/execute:Execute", "attach", {"execute": call}, "retail:foundation:X"))
    mon = ResourceMonitorConfig(credit_quota=100, notify_at=[50], suspend_at=100, suspend_immediate_at=110)
    lines = {ln.name: ln for ln in cost.estimate(plan, FIXTURE_CFG, monitors=[cost.monitor_record("MON", mon)])}
    assert (lines["foundation-monitor"].min, lines["foundation-monitor"].max) == pytest.approx((-510.0, -2700.0))
    assert lines["foundation-monitor"].capability == "foundation"
    # without it nothing caps the warehouse; a monitor the plan declares itself is not counted twice
    assert "foundation-monitor" not in {ln.name for ln in cost.estimate(plan, FIXTURE_CFG)}
    twice = cost.estimate(fixture_plan(), FIXTURE_CFG, monitors=[cost.monitor_record("MON", mon)])
    assert [ln.name for ln in twice].count("foundation-monitor") == 1
