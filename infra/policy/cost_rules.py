"""The budget as policy: a plan whose maximum monthly estimate (infra/cost.py, the model `python -m
infra.plan --cost` prints) exceeds its stack's `cost.monthlyBudget` is refused, with the breakdown by
capability, so a change that raises the ceiling past the budget is a reviewed config change."""

from __future__ import annotations

import re
from typing import Any

from infra.account.catalog import budget_findings, snowflake_budget_credits
from infra.config.reader import ConfigError, account_config, stack_config
from infra.cost import EstimateError, estimate, totals
from infra.cost_report import money
from infra.policy.common import Report, policy_for, stack_of


def _as_plan(resources: list[Any]) -> dict[str, list[dict]]:
    """The pack's resources per stack, in the shape of the offline plan the cost model reads."""
    by_stack: dict[str, list[dict]] = {}
    for r in resources:
        row = {"type": r.resource_type, "name": r.name, "urn": r.urn, "inputs": dict(r.props or {})}
        by_stack.setdefault(stack_of(r.urn), []).append(row)
    return by_stack


ACCOUNT_STACK = re.compile(r"^account(-[a-z0-9-]{1,20})?$")


def account_budgets(args: Any, report: Report) -> None:
    """Stack rule, the account stack: per environment it hosts one Snowflake and one AWS budget, at the limits
    that environment's stack file gives (`cost`, `resourceMonitor`), and no budget for a stack it does not host."""
    for stack, plan in sorted(_as_plan(args.resources).items()):
        if not ACCOUNT_STACK.match(stack):
            continue
        try:
            envs = {s: stack_config(s) for s in account_config(stack).environments}
            expected = {
                s: (snowflake_budget_credits(e.cost, e.resource_monitor), float(e.cost.aws_monthly_budget or 0))
                for s, e in envs.items()
            }
        except (ConfigError, ValueError) as e:
            report(f"stack {stack}: the budgets cannot be checked: {e}")
            continue
        for finding in budget_findings(plan, expected):
            report(f"stack {stack}: {finding}; fix: budgets come from the hosted stacks' files, not by hand")


def monthly_budget(args: Any, report: Report) -> None:
    """Stack rule, every stack with `cost.monthlyBudget`: the maximum monthly estimate stays within it.
    A billable resource the model cannot price from its inputs is refused too: the estimate would be short."""
    for stack, plan in sorted(_as_plan(args.resources).items()):
        pol = policy_for(stack)
        try:
            lines = estimate(plan, pol.cost, monitors=pol.monitors)
        except EstimateError as e:
            report(f"stack {stack}: {e}; fix: rate the type in infra/cost_rates.yaml or list it as free")
            continue
        for ln in lines:
            if ln.error:
                report(f"{ln.type.split(':')[-1]} {ln.name}: {ln.error}; fix: set the input", ln.urn)
        budget = pol.cost.monthly_budget
        by_cap = totals(lines)
        if budget is None or not by_cap or by_cap["total"]["max"] <= budget:
            continue
        parts = ", ".join(f"{cap} {money(t['max'])}" for cap, t in by_cap.items() if cap != "total" and t["max"])
        report(
            f"stack {stack}: maximum monthly estimate {money(by_cap['total']['max'])} exceeds cost.monthlyBudget "
            f"{money(budget)} ({parts}); fix: lower the caps (sizes, nodes) or raise the budget in Pulumi.{stack}.yaml"
        )
