"""The cost model's output: `python -m infra.plan --stack <S> --cost` (a table per capability, or JSON),
and the monthly change of each resource and stack that `--diff` shows (infra/plandiff.py renders it).

A diff prices both plans, each with the `cost` config of its own tree, so a changed credit price or
budget is part of the change too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from infra import cost
from infra.account.catalog import monitor_name
from infra.config.base import PROJECT
from infra.config.cost import CostConfig
from infra.foundation.config import ResourceMonitorConfig
from infra.naming import Naming


def money(value: float, sign: bool = False) -> str:
    """`$1,234.56`; with sign, `+$1.00` / `-$1.00` (and `$0.00` for no change)."""
    text = f"${abs(value):,.2f}"
    if sign and round(value, 2) != 0:
        return ("+" if value > 0 else "-") + text
    return ("-" if round(value, 2) < 0 else "") + text


def span(r: dict | None, sign: bool = False) -> str:
    """A {"min", "max"} range as `$a..$b` (one figure when both ends agree)."""
    if r is None:
        return ""
    low, high = money(r["min"], sign), money(r["max"], sign)
    return low if low == high else f"{low}..{high}"


@dataclass(frozen=True)
class Pricing:
    """What prices a stack beyond its plan: its `cost` config, and the monitor the account stack declares
    for it (from the same stack file)."""

    cost: CostConfig
    monitors: tuple[dict, ...] = ()


def config_in(tree: Path, stack: str) -> Pricing:
    """The `cost` config and monitor of `tree`'s Pulumi.<stack>.yaml; the defaults when it has none (or an
    invalid one: the plan of that tree reports the config error itself)."""
    path = tree / f"Pulumi.{stack}.yaml"
    doc = ((yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}).get("config") or {}
    try:
        cfg = CostConfig.model_validate(doc.get(f"{PROJECT}:cost") or {})
    except ValidationError:
        cfg = CostConfig()
    try:
        monitor = ResourceMonitorConfig.model_validate(doc.get(f"{PROJECT}:resourceMonitor"))
        naming = Naming(doc.get(f"{PROJECT}:prefix", "RDP"), stack)
    except (ValidationError, ValueError):
        return Pricing(cfg)
    return Pricing(cfg, (cost.monitor_record(monitor_name(naming), monitor),))


def _get(line: cost.Line | None, key: str) -> float:
    return getattr(line, key) if line else 0.0


def _range(lines: list[cost.Line]) -> dict[str, float]:
    return {"min": round(sum(ln.min for ln in lines), 2), "max": round(sum(ln.max for ln in lines), 2)}


def annotate(result: dict, old: list[dict], new: list[dict], old_cfg: Pricing, new_cfg: Pricing) -> None:
    """Adds to a plandiff result each change's `monthly` change ({"min", "max"} in USD, None for a
    resource without a price) and the stack's `cost`: old, new, change, and what changed on resources
    the diff does not list (a monitor's cap, a warehouse whose schedules moved)."""
    before = {ln.urn: ln for ln in cost.estimate(old, old_cfg.cost, monitors=old_cfg.monitors)}
    after = {ln.urn: ln for ln in cost.estimate(new, new_cfg.cost, monitors=new_cfg.monitors)}
    listed = 0.0, 0.0
    for c in result["changes"]:
        o = before.get(c["previousUrn"] or c["urn"]) if c["action"] != "create" else None
        n = after.get(c["urn"]) if c["action"] != "delete" else None
        if o is None and n is None:
            c["monthly"] = None
            continue
        d = tuple(round(_get(n, k) - _get(o, k), 2) for k in ("min", "max"))
        c["monthly"] = {"min": d[0], "max": d[1]}
        listed = listed[0] + d[0], listed[1] + d[1]
    was, now = _range(list(before.values())), _range(list(after.values()))
    change = {k: round(now[k] - was[k], 2) for k in ("min", "max")}
    elsewhere = {k: round(change[k] - v, 2) for k, v in zip(("min", "max"), listed, strict=True)}
    budget = new_cfg.cost.monthly_budget
    result["cost"] = {"old": was, "new": now, "change": change, "elsewhere": elsewhere, "budget": budget}


def cost_line(result: dict) -> str | None:
    """`monthly: $a..$b → $c..$d (+x..+y)` for a stack's diff, None when it was not priced."""
    c = result.get("cost")
    if not c:
        return None
    text = f"monthly: {span(c['old'])} → {span(c['new'])} ({span(c['change'], sign=True)})"
    if any(c["elsewhere"].values()):
        text += f", of which {span(c['elsewhere'], sign=True)} on resources not listed (caps, schedules)"
    if c["budget"] is not None and c["new"]["max"] > c["budget"]:
        text += f"; over the budget of {money(c['budget'])}"
    return text


def monthly_tag(c: dict) -> str:
    """A diff line's `[monthly +$a..+$b]`, empty for a resource without a price."""
    return f"[monthly {span(c['monthly'], sign=True)}]" if c.get("monthly") else ""


def monthly_cell(c: dict) -> str:
    """The PR comment's monthly change cell (`$` escaped: GitHub reads `$…$` as math)."""
    return span(c.get("monthly"), sign=True).replace("$", "\\$")


def cost_rows(result: dict, markdown: bool = False) -> list[str]:
    """The stack's cost line under its changes (text) or under its heading (markdown)."""
    line = cost_line(result)
    if line is None:
        return []
    return [line.replace("$", "\\$"), ""] if markdown else [f"   {line}"]


def render_text(stack: str, lines: list[cost.Line], cfg: CostConfig) -> str:
    """The estimate of one stack: its priced lines by capability, a subtotal each, the total and budget."""
    out = [f"== {stack}: monthly estimate in USD ({cost.HOURS} h, {money(cfg.credit_price)} a credit)"]
    out.append(f"{'capability':<16} {'resource':<30} {'type':<18} {'min':>11} {'max':>11}  note")
    by_cap = cost.totals(lines)
    for cap, t in by_cap.items():
        if cap == "total":
            continue
        for ln in sorted((x for x in lines if x.capability == cap and (x.max or x.min or x.error)), key=_key):
            typ = ln.type.split(":")[-1]
            out.append(f"{cap:<16} {ln.name:<30} {typ:<18} {money(ln.min):>11} {money(ln.max):>11}  {ln.note}")
        elsewhere = sum(1 for x in lines if x.capability == cap and not (x.max or x.min or x.error))
        note = f"+ {elsewhere} charged to a warehouse or pool, or free" if elsewhere else ""
        out.append(
            f"{cap:<16} {'(subtotal)':<30} {'':<18} {money(t['min']):>11} {money(t['max']):>11}  {note}".rstrip()
        )
    total = by_cap.get("total", {"min": 0.0, "max": 0.0})
    out.append(
        f"{'total':<16} {'':<30} {'':<18} {money(total['min']):>11} {money(total['max']):>11}  {_budget(total, cfg)}"
    )
    out.append(_rates_footer(lines))
    return "\n".join(out)


def _key(ln: cost.Line) -> tuple:
    return (-ln.max, ln.name)


def _budget(total: dict[str, float], cfg: CostConfig) -> str:
    if cfg.monthly_budget is None:
        return "no cost.monthlyBudget"
    verdict = "within" if total["max"] <= cfg.monthly_budget else "OVER"
    return f"{verdict} the budget of {money(cfg.monthly_budget)}"


def _rates_footer(lines: list[cost.Line]) -> str:
    rates = cost.load_rates()
    used = sorted({k for ln in lines for k in ln.rates})
    flagged = [f"{k} ({rates[k].status})" for k in used if rates[k].status != "published"]
    return f"rates: infra/cost_rates.yaml; not published figures: {', '.join(flagged) or 'none'}"


def render_json(stack: str, lines: list[cost.Line], cfg: CostConfig) -> str:
    items = [vars(ln) for ln in lines]
    doc = {"stack": stack, "currency": "USD", "creditPrice": cfg.credit_price, "budget": cfg.monthly_budget}
    return json.dumps(doc | {"totals": cost.totals(lines), "lines": items}, indent=1, sort_keys=True)
