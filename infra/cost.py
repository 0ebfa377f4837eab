"""The cost model: a monthly estimate (USD, a min..max range) of every billable resource of a plan, read
from the plan alone, so the offline plan, its diff and the policy pack price the same resources alike.

- min is the month the stack runs as configured: warehouses at `cost.warehouseActiveShare` plus what
  their started, ungated schedules keep them awake; compute pools at `minNodes`; usage at `cost.usage`;
- max is the month at the caps: warehouses always on (times `maxClusterCount`), pools at `maxNodes`;
- a resource monitor (the account stack's: `monitor_record`) caps the warehouses attached to it at its
  suspend-immediate level, a (negative) line of its own, so a warehouse's line shows its own inputs' cost;
- tasks, alerts and dynamic tables that name a warehouse run on it and are charged there (line 0); a
  serverless task is priced per run from its schedule.

Rates come from infra/cost_rates.yaml (each with its source and date), the credit price and volumes
from `cost` in the stack's config (infra/config/cost.py). Types that cost nothing, or are charged on
another resource, are listed in FREE_TYPES (the rates file's `free`); a type in neither is a test failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.account.catalog import MONITOR_PERIODS
from infra.config.cost import CostConfig
from infra.foundation.config import ResourceMonitorConfig

HOURS = 730  # hours in a month, as AWS and Snowflake price a month
RATES_FILE = Path(__file__).with_name("cost_rates.yaml")
STATUSES = ("published", "unsure", "placeholder")
# Folded into a capability: component modules that are part of one (infra/foundation/{alerts,access,identity}.py).
FOLDED = {"alerts": "foundation", "access": "foundation", "identity": "foundation", "providers": "foundation"}
_P = "snowflake:index/"
WAREHOUSE, MONITOR, TASK = f"{_P}warehouse:Warehouse", f"{_P}resourceMonitor:ResourceMonitor", f"{_P}task:Task"
EXECUTE, ALERT = f"{_P}execute:Execute", f"{_P}alert:Alert"
_ATTACH = re.compile(r'ALTER WAREHOUSE "?([A-Za-z0-9_]+)"? SET RESOURCE_MONITOR = "?([A-Za-z0-9_]+)"?')
# the account stack's procedure ATTACH_<monitor>(warehouse), as an environment stack calls it
_ATTACH_CALL = re.compile(r"\"ATTACH_([A-Za-z0-9_]+)\"\('([A-Za-z0-9_]+)'\)")

# Types with no cost of their own, and why (`free` in the rates file). Structural types (retail:*,
# pulumi:providers:*) are free too.
FREE_TYPES: dict[str, str] = yaml.safe_load(RATES_FILE.read_text())["free"]


class EstimateError(ValueError):
    """A billable resource lacks an input its price depends on."""


@dataclass(frozen=True)
class Rate:
    value: float
    unit: str
    source: str
    status: str


@dataclass
class Line:
    """One resource's monthly estimate in USD."""

    capability: str
    type: str
    name: str
    urn: str
    min: float
    max: float
    note: str = ""
    rates: list[str] = field(default_factory=list)
    error: str | None = None


@cache
def load_rates(path: Path = RATES_FILE) -> dict[str, Rate]:
    """The rates file, checked: every rate has a number, a unit, a known source and a status."""
    doc = yaml.safe_load(path.read_text())
    sources = doc["sources"]
    for key, src in sources.items():
        if not (src.get("title") and src.get("url") and src.get("asOf")):
            raise ValueError(f"{path.name}: source {key} needs a title, a url and an asOf date")
    rates = {}
    for key, r in doc["rates"].items():
        if not isinstance(r.get("value"), int | float) or r.get("source") not in sources:
            raise ValueError(f"{path.name}: rate {key} needs a numeric value and a source from `sources`")
        if r.get("status") not in STATUSES or not r.get("unit"):
            raise ValueError(f"{path.name}: rate {key} needs a unit and a status ({', '.join(STATUSES)})")
        rates[key] = Rate(float(r["value"]), r["unit"], r["source"], r["status"])
    return rates


def capability(urn: str, name: str = "") -> str:
    """The capability a resource belongs to: the module of the first `retail:<cap>:<Type>` component in
    its URN's type chain (its outermost component), else its logical name's first word."""
    chain = urn.split("::")[2].split("$") if urn.count("::") >= 3 else []
    for part in chain:
        if part.startswith("retail:"):
            module = part.split(":")[1]
            return FOLDED.get(module, module)
    return name.split("-")[0] or "unassigned"


def is_free(typ: str) -> bool:
    return typ in FREE_TYPES or typ.startswith(("retail:", "pulumi:providers:"))


def runs_per_day(schedule: Any) -> float | None:
    """Runs a day of a task's schedule (`{"minutes": n}`, an alert's `{"interval": n}`, or `{"usingCron": "..."}`),
    counting only the minute and hour fields (every day); None without a schedule."""
    if not schedule:
        return None
    if minutes := schedule.get("minutes") or schedule.get("interval"):
        return 1440 / float(minutes)
    fields = str(schedule.get("usingCron", "")).split()
    if len(fields) < 5:
        raise EstimateError(f"schedule {schedule!r} is not one the model reads")
    return float(_count(fields[0], 60) * _count(fields[1], 24))


def _count(expr: str, size: int) -> int:
    """How many values a cron field takes in 0..size-1."""
    total = 0
    for part in expr.split(","):
        base, _, step = part.partition("/")
        lo, hi = (0, size - 1) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        hi = size - 1 if step and base != "*" and "-" not in base else hi
        total += len(range(lo, hi + 1, int(step or 1)))
    return total


class Pricing:
    """The estimate of one plan: rates, config and what the plan says about warehouses."""

    def __init__(self, plan: list[dict], cfg: CostConfig, rates: dict[str, Rate] | None = None) -> None:
        self.plan, self.cfg, self.rates = plan, cfg, rates or load_rates()
        self.used: list[str] = []
        self.retention = {  # bucket → days a landed file stays (the longest expiration of its lifecycle)
            r["inputs"].get("bucket"): max(
                (int((rule.get("expiration") or {}).get("days") or 0) for rule in r["inputs"].get("rules") or []),
                default=0,
            )
            for r in plan
            if r["type"].endswith("bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        }

    def rate(self, key: str) -> float:
        if key not in self.rates:
            raise EstimateError(f"no rate {key} in {RATES_FILE.name}")
        self.used.append(key)
        return self.rates[key].value

    def credits(self, n: float) -> float:
        return n * self.cfg.credit_price

    def schedule_share(self, warehouse: str, auto_suspend: float) -> float:
        """Share of the month the warehouse's started, ungated, scheduled tasks and enabled alerts keep it awake:
        each run bills max(60 s, cost.runSeconds) and then idles `autoSuspend` seconds before it suspends."""
        share = 0.0
        for r in self.plan:
            i, alert = r["inputs"], r["type"] == ALERT
            on = i.get("enabled") if alert else r["type"] == TASK and i.get("started")
            if not on or i.get("warehouse") != warehouse or i.get("when"):
                continue
            per_day = runs_per_day(i.get("alertSchedule") if alert else i.get("schedule"))
            if per_day:
                period = 86_400 / per_day
                share += min(period, max(60, self.cfg.run_seconds) + auto_suspend) / period
        return share


Pricer = Callable[[Pricing, dict], tuple[float, float, str]]


def _warehouse(p: Pricing, r: dict) -> tuple[float, float, str]:
    i = r["inputs"]
    size = i.get("warehouseSize") or "XSMALL"  # Snowflake's default size
    per_hour = p.rate(f"warehouse.{size}") * int(i.get("maxClusterCount") or 1)
    suspend = float(i.get("autoSuspend") or 600)  # Snowflake's default auto-suspend
    scheduled = p.schedule_share(str(i.get("name")), suspend)
    share = min(1.0, p.cfg.warehouse_active_share + scheduled)
    note = (
        f"{size} {per_hour:g} cr/h; runs {share:.0%} ({p.cfg.warehouse_active_share:.0%} + schedules {scheduled:.0%})"
    )
    return p.credits(HOURS * per_hour * share), p.credits(HOURS * per_hour), note


def _compute_pool(p: Pricing, r: dict) -> tuple[float, float, str]:
    i = r["inputs"]
    if not i.get("instanceFamily"):
        raise EstimateError("no instanceFamily")
    per_node = p.rate(f"computePool.{i['instanceFamily']}")
    low = int(i.get("minNodes") or 1)
    high = int(i.get("maxNodes") or low)
    note = f"{i['instanceFamily']} {per_node:g} cr/node-h x {low}..{high} nodes"
    return p.credits(HOURS * per_node * low), p.credits(HOURS * per_node * high), note


def _postgres(p: Pricing, r: dict) -> tuple[float, float, str]:
    i = r["inputs"]
    family = i.get("computeFamily")
    if not family:
        raise EstimateError("no computeFamily")
    copies = 2 if str(i.get("highAvailability")).lower() == "true" else 1  # an HA standby is a second instance
    if family in p.cfg.postgres_credits_per_hour:
        per_hour, how = p.cfg.postgres_credits_per_hour[family], "config"
    else:
        per_hour = p.rate(f"postgres.{family}")
        how = p.rates[f"postgres.{family}"].status
    storage = float(i.get("storageSizeGb") or 0) * copies * p.rate("postgres.storage")
    usd = p.credits(HOURS * per_hour * copies) + storage
    note = f"{family} {per_hour:g} cr/h ({how}) x {copies}, {i.get('storageSizeGb')} GB"
    return usd, usd, note


def _task(p: Pricing, r: dict) -> tuple[float, float, str]:
    i = r["inputs"]
    if i.get("warehouse"):
        return 0.0, 0.0, f"runs on {i['warehouse']}: charged there"
    if not i.get("started"):
        return 0.0, 0.0, "serverless, not started"
    size = i.get("userTaskManagedInitialWarehouseSize") or "MEDIUM"  # Snowflake's initial serverless size
    runs = 30.4 * (runs_per_day(i.get("schedule")) or 0)
    hours = runs * max(60, p.cfg.run_seconds) / 3600
    usd = p.credits(hours * p.rate(f"warehouse.{size}") * p.rate("serverlessTask.multiplier"))
    return (0.0 if i.get("when") else usd), usd, f"serverless {size}, {runs:.0f} runs"


def _pipe(p: Pricing, r: dict) -> tuple[float, float, str]:
    usd = p.credits(p.cfg.usage.landing_gb * p.rate("snowpipe.perGb"))
    return usd, usd, f"{p.cfg.usage.landing_gb:g} GB/month"


def _bucket(p: Pricing, r: dict) -> tuple[float, float, str]:
    u = p.cfg.usage
    days = p.retention.get(r["inputs"].get("bucket")) or 365  # no expiry: a year of files, say
    stored = u.landing_gb * days / 30.4
    usd = stored * p.rate("s3.storage") + u.landing_files / 1000 * (p.rate("s3.put") + p.rate("s3.get"))
    return usd, usd, f"{stored:.1f} GB stored ({days} days), {u.landing_files} files"


def _dynamodb(p: Pricing, r: dict) -> tuple[float, float, str]:
    if r["inputs"].get("billingMode") != "PAY_PER_REQUEST":
        raise EstimateError("only on-demand (PAY_PER_REQUEST) capacity is rated")
    u = p.cfg.usage
    usd = u.dynamodb_writes / 1e6 * p.rate("dynamodb.write") + u.dynamodb_reads / 1e6 * p.rate("dynamodb.read")
    return usd, usd, f"{u.dynamodb_writes:,} writes, {u.dynamodb_reads:,} reads; storage not counted"


def _topic(p: Pricing, r: dict) -> tuple[float, float, str]:
    usd = p.cfg.usage.alerts / 1e6 * p.rate("sns.publish")
    return usd, usd, f"{p.cfg.usage.alerts} publishes"


def _subscription(p: Pricing, r: dict) -> tuple[float, float, str]:
    if r["inputs"].get("protocol") != "email":
        return 0.0, 0.0, "delivery to AWS services: no charge"
    usd = p.cfg.usage.alerts / 1e5 * p.rate("sns.email")
    return usd, usd, f"{p.cfg.usage.alerts} e-mails"


def _aws_budget(p: Pricing, r: dict) -> tuple[float, float, str]:
    return 0.0, 30.4 * p.rate("budgets.budget"), "free if among the account's first two budgets"


def _kms_key(p: Pricing, r: dict) -> tuple[float, float, str]:
    return p.rate("kms.key"), p.rate("kms.key"), "the key; its requests are within the free tier"


def _secret(p: Pricing, r: dict) -> tuple[float, float, str]:
    usd = p.rate("secretsmanager.secret") + p.cfg.usage.secret_calls / 1e4 * p.rate("secretsmanager.calls")
    return usd, usd, f"{p.cfg.usage.secret_calls} calls"


PRICERS: dict[str, Pricer] = {
    WAREHOUSE: _warehouse,
    f"{_P}computePool:ComputePool": _compute_pool,
    f"{_P}postgresInstance:PostgresInstance": _postgres,
    **dict.fromkeys((TASK, ALERT), _task),  # an alert names its warehouse: charged there
    f"{_P}pipe:Pipe": _pipe,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:dynamodb/table:Table": _dynamodb,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:budgets/budget:Budget": _aws_budget,
    "aws:kms/key:Key": _kms_key,
}


def monitor_record(name: str, mon: ResourceMonitorConfig) -> dict:
    """A resource monitor another stack declares (the account stack's), as a plan record of its own."""
    limits = {"creditQuota": mon.credit_quota, "frequency": mon.frequency, "suspendTrigger": mon.suspend_at}
    inputs = {"name": name, **limits, "suspendImmediateTrigger": mon.suspend_immediate_at}
    return {"type": MONITOR, "name": "foundation-monitor", "urn": f"urn:pulumi:account::{name}", "inputs": inputs}


def _monitor_lines(plan: list[dict], lines: list[Line], cfg: CostConfig) -> list[Line]:
    """Per resource monitor, the (negative) amount its suspend-immediate level cuts from the warehouses
    attached to it (set on the warehouse, by an `ALTER WAREHOUSE … SET RESOURCE_MONITOR`, or by calling
    the account stack's procedure for it)."""
    attached = {
        str(r["inputs"].get("name")): r["inputs"].get("resourceMonitor") for r in plan if r["type"] == WAREHOUSE
    }
    for r in plan:
        if r["type"] == EXECUTE and (m := _ATTACH.search(str(r["inputs"].get("execute", "")))):
            attached[m.group(1)] = m.group(2)
        elif r["type"] == EXECUTE and (m := _ATTACH_CALL.search(str(r["inputs"].get("execute", "")))):
            attached[m.group(2)] = m.group(1)
    by_urn = {ln.urn: ln for ln in lines}
    wh_line = {str(r["inputs"].get("name")): by_urn[r["urn"]] for r in plan if r["type"] == WAREHOUSE}
    out = []
    for r in plan:
        i = r["inputs"]
        per_month = MONITOR_PERIODS.get(str(i.get("frequency") or "MONTHLY"))
        if r["type"] != MONITOR or not i.get("creditQuota") or per_month is None:
            continue
        level = float(i.get("suspendImmediateTrigger") or i.get("suspendTrigger") or 0)
        if not level:
            continue
        cap = cfg.credit_price * float(i["creditQuota"]) * per_month * level / 100
        covered = [wh_line[w] for w, mon in attached.items() if mon == i.get("name") and w in wh_line]
        low, high = (sum(getattr(ln, k) for ln in covered) for k in ("min", "max"))
        note = f"caps {len(covered)} warehouses at {cap / cfg.credit_price:g} credits ({level:g}% of the quota)"
        if low > cap:
            note += f"; expected use {low / cfg.credit_price:g} credits exceeds it: they would be suspended"
        cut = (-max(0.0, low - cap), -max(0.0, high - cap))
        out.append(Line(capability(r["urn"], r["name"]), r["type"], r["name"], r["urn"], *cut, note))
    return out


def estimate(
    plan: list[dict], cfg: CostConfig, rates: dict[str, Rate] | None = None, monitors: Iterable[dict] = ()
) -> list[Line]:
    """One line per billable resource of `plan` (and per capping resource monitor, `monitors` being the
    ones another stack declares: `monitor_record`). A resource that cannot be priced gets a 0 line with
    its `error`; a type the model does not know raises."""
    declared = {r["inputs"].get("name") for r in plan if r["type"] == MONITOR}
    plan = [*plan, *(m for m in monitors if m["inputs"]["name"] not in declared)]
    p = Pricing(plan, cfg, rates)
    lines = []
    for r in plan:
        if r["type"] not in PRICERS:
            if not is_free(r["type"]):
                raise EstimateError(f"{r['type']} ({r['name']}): no price and not in FREE_TYPES")
            continue
        start = len(p.used)
        line = Line(capability(r["urn"], r["name"]), r["type"], r["name"], r["urn"], 0.0, 0.0)
        try:
            line.min, line.max, line.note = PRICERS[r["type"]](p, r)
        except EstimateError as e:
            line.error = line.note = f"not estimated: {e}"
        line.rates = sorted(set(p.used[start:]))
        lines.append(line)
    return lines + _monitor_lines(plan, lines, cfg)


def totals(lines: list[Line]) -> dict[str, dict[str, float]]:
    """Per capability (sorted) and "total": min and max, rounded to cents."""
    out: dict[str, dict[str, float]] = {}
    for ln in lines:
        for key in (ln.capability, "total"):
            t = out.setdefault(key, {"min": 0.0, "max": 0.0})
            t["min"] += ln.min
            t["max"] += ln.max
    order = sorted(k for k in out if k != "total") + (["total"] if out else [])
    return {k: {m: round(out[k][m], 2) for m in ("min", "max")} for k in order}
