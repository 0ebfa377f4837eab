"""The account stack's names and privileges, with no Pulumi import: the environment stacks read the
names of their admin role, deploy user and monitor procedure from here."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.naming import Naming, quote

if TYPE_CHECKING:
    from infra.config.cost import CostConfig
    from infra.foundation.config import ResourceMonitorConfig

ACCOUNT_STACK = "account"
# The account's own database: the monitor procedures and the deployers' network rules live here.
ADMIN_SCHEMAS = {
    "MONITORS": "one procedure per environment that attaches its resource monitor",
    "NETWORK": "the network rules of each deploy user's network policy (CI runner ranges)",
    "BUDGETS": "one budget per environment and the tag that says what it tracks",
}
MONITOR_SCHEMA, NETWORK_SCHEMA, BUDGET_SCHEMA = "MONITORS", "NETWORK", "BUDGETS"
# A monitor's quota per month, by its frequency (as the cost model counts it).
MONITOR_PERIODS = {"MONTHLY": 1.0, "DAILY": 30.4, "WEEKLY": 4.35, "YEARLY": 1 / 12}
# AWS Budgets notify at these levels of the month's limit: (percent, ACTUAL or FORECASTED spend).
AWS_BUDGET_THRESHOLDS = ((80.0, "ACTUAL"), (100.0, "FORECASTED"))
# The cost-allocation tag every AWS resource of a stack carries (infra/providers.py default tags).
AWS_STACK_TAG = "stack"
# What an environment's admin role may create or run in the account. Everything else it owns, it made.
ENVIRONMENT_PRIVILEGES = [
    "CREATE DATABASE",
    "CREATE WAREHOUSE",
    "CREATE ROLE",
    "CREATE USER",
    "CREATE INTEGRATION",
    "CREATE COMPUTE POOL",
    "CREATE NETWORK POLICY",
    "CREATE POSTGRES INSTANCE",
    "EXECUTE TASK",  # the stack's tasks are owned by its admin role and run with it
    "EXECUTE ALERT",  # so are its operations alerts (infra/operations)
]
# Held with the grant option: the API's owner role gets it from the admin role.
GRANTABLE_PRIVILEGES = ["BIND SERVICE ENDPOINT"]
# Review stacks run no task or alert (their config refuses enabled ones) and have no Postgres instance, compute pool
# or services (stacks/platform.py `_serving`): their identity may create nothing else.
REVIEW_PRIVILEGES = [
    p
    for p in ENVIRONMENT_PRIVILEGES
    if p not in ("EXECUTE TASK", "EXECUTE ALERT", "CREATE POSTGRES INSTANCE", "CREATE COMPUTE POOL")
]
# A leaked service key cannot unload data to a URL or a stage of its own making: every stage and COPY
# goes through an integration, and integrations are the environments' admin roles' to create.
# SNOWFLAKE database roles each admin role holds: ALERT_VIEWER lets its alerts call
# SNOWFLAKE.ALERT.LAST_SUCCESSFUL_SCHEDULED_TIME() (and SCHEDULED_TIME()).
SNOWFLAKE_DATABASE_ROLES = ["ALERT_VIEWER"]
ACCOUNT_PARAMETERS = {
    "PREVENT_UNLOAD_TO_INLINE_URL": "true",
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION": "true",
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION": "true",
}


def account_naming(prefix: str) -> Naming:
    return Naming(prefix, ACCOUNT_STACK)


def admin_database(prefix: str) -> str:
    """`RDP_ACCOUNT_ADMIN`: the account stack's own database."""
    return account_naming(prefix).sf("ADMIN")


def admin_role(naming: Naming) -> str:
    """`RDP_DEV_ADMIN`: the environment's admin role, owner of everything the environment stack creates."""
    return naming.sf("ADMIN")


def deploy_user(naming: Naming) -> str:
    return naming.sf("DEPLOYER")


def monitor_name(naming: Naming) -> str:
    return naming.sf("MONITOR")


def budget_name(naming: Naming) -> str:
    """`RDP_DEV_BUDGET`: the environment's Snowflake budget, in the account database's BUDGETS schema."""
    return naming.sf("BUDGET")


def budget_tag(prefix: str, naming: Naming) -> str:
    """The quoted tag whose value `<stack>` puts an object of the environment under its Snowflake budget: the
    environment stack sets it on its databases and compute pool (it may apply this tag and no other)."""
    return quote(admin_database(prefix), BUDGET_SCHEMA, naming.sf("COST_SCOPE"))


def snowflake_budget_credits(cost: CostConfig, monitor: ResourceMonitorConfig) -> int:
    """Credits a month the environment's Snowflake budget allows: the stack's monthly budget less its AWS part,
    in credits, less what its resource monitor already lets the warehouses use (a whole number, as Snowflake
    takes it). The three limits together are `cost.monthlyBudget`."""
    if cost.monthly_budget is None or cost.aws_monthly_budget is None:
        raise ValueError("cost.monthlyBudget and cost.awsMonthlyBudget are required: they set the stack's budgets")
    warehouses = monitor.credit_quota * MONITOR_PERIODS[monitor.frequency]
    credits = math.floor((cost.monthly_budget - cost.aws_monthly_budget) / cost.credit_price - warehouses)
    if credits < 1:
        raise ValueError(
            f"cost.monthlyBudget less cost.awsMonthlyBudget is {cost.monthly_budget - cost.aws_monthly_budget:g} USD, "
            f"no more than resourceMonitor.creditQuota's {warehouses:g} credits at cost.creditPrice: "
            "nothing is left for the Snowflake budget (compute pools, serverless tasks, Snowpipe)"
        )
    return credits


AWS_BUDGET_TYPE, EXECUTE_TYPE = "aws:budgets/budget:Budget", "snowflake:index/execute:Execute"
_LIMIT = re.compile(r"!SET_SPENDING_LIMIT\((\d+)\)")
_TRACKS = re.compile(r"'APPLYBUDGET'\), '([^']+)'\)")


def budget_findings(plan: list[dict], expected: dict[str, tuple[int, float]]) -> list[str]:
    """The account stack's budgets read back from its plan: per hosted environment (`expected`: stack →
    Snowflake credits, AWS USD, from its stack file) exactly one Snowflake and one AWS budget at those limits;
    a budget for a stack the account does not host is refused (its limits would come from no stack file)."""
    seen: dict[str, dict[str, list[float]]] = {}
    for r in plan:
        i = r["inputs"]
        if r["type"] == AWS_BUDGET_TYPE:
            for stack in {v.rsplit("$", 1)[-1] for f in i.get("costFilters") or [] for v in f.get("values") or []}:
                seen.setdefault(stack, {}).setdefault("AWS", []).append(float(i.get("limitAmount") or 0))
        elif r["type"] == EXECUTE_TYPE and (limit := _LIMIT.search(str(i.get("execute")))):
            stack = m.group(1) if (m := _TRACKS.search(str(i.get("execute")))) else "(no tag)"
            seen.setdefault(stack, {}).setdefault("Snowflake", []).append(float(limit.group(1)))
    findings = [
        f"the {kind} budget for {stack}: the account does not host {stack} (not in its `environments`)"
        for stack, kinds in sorted(seen.items())
        if stack not in expected
        for kind in kinds
    ]
    for stack, (credits, usd) in sorted(expected.items()):
        for kind, want in (("Snowflake", float(credits)), ("AWS", usd)):
            got = seen.get(stack, {}).get(kind, [])
            if got != [want]:
                findings.append(f"{stack}: {kind} budgets {got}, expected one of {want:g} from Pulumi.{stack}.yaml")
    return findings


def attach_procedure(prefix: str, naming: Naming) -> str:
    """The quoted procedure that attaches `naming`'s environment's monitor to one of its warehouses."""
    return quote(admin_database(prefix), MONITOR_SCHEMA, f"ATTACH_{naming.sf_prefix}_MONITOR")


@dataclass(frozen=True, kw_only=True)
class GithubEnvironment:
    """A GitHub deployment environment of the repository: the protections the security model relies on,
    and the names of the secrets and variables its jobs may read (their values are set by hand)."""

    reviewers: bool  # a required reviewer approves every job that uses it
    main_only: bool  # only runs from `main` may use it
    secrets: tuple[str, ...]
    variables: tuple[str, ...]


# The repository-level variables every workflow may read (no secret in them).
REPOSITORY_VARIABLES = ("PULUMI_ORG", "PULUMI_DEPLOY_TEAM", "PULUMI_PREVIEW_TEAM", "PULUMI_REVIEW_TEAM")
REVIEW_ENVIRONMENT = "review"


def github_environments(stacks: list[str], prod: str = "prod") -> dict[str, GithubEnvironment]:
    """Per environment stack a deploy environment (main only; prod reviewed) and a preview environment
    (any branch: it previews PR code; prod's reviewed, as its token may decrypt prod's state), and the one
    review environment (PR code with an identity that may create integrations: always reviewed)."""
    found: dict[str, GithubEnvironment] = {}
    for stack in stacks:
        found[stack] = GithubEnvironment(
            reviewers=stack == prod,
            main_only=True,
            secrets=("SNOWFLAKE_DEPLOY_KEY", "SNOWFLAKE_REGISTRY_KEY"),
            variables=("AWS_DEPLOY_ROLE_ARN",),
        )
        found[f"preview-{stack}"] = GithubEnvironment(
            reviewers=stack == prod,
            main_only=False,
            secrets=("SNOWFLAKE_PREVIEW_KEY",),
            variables=("AWS_PREVIEW_ROLE_ARN",),
        )
    found[REVIEW_ENVIRONMENT] = GithubEnvironment(
        reviewers=True, main_only=False, secrets=("SNOWFLAKE_REVIEW_KEY",), variables=("AWS_REVIEW_ROLE_ARN",)
    )
    return found


def github_environments_table(stacks: list[str]) -> str:
    """The README's table of the repository's environments, from the same rules the account stack declares."""
    rows = ["| environment | required reviewers | runs from | secrets | variables |", "|---|---|---|---|---|"]
    for env, r in github_environments(stacks).items():
        who = "yes (not the run's author)" if r.reviewers else "no"
        rows.append(
            f"| `{env}` | {who} | {'`main` only' if r.main_only else 'any branch'} | "
            f"{', '.join(f'`{s}`' for s in r.secrets)} | {', '.join(f'`{v}`' for v in r.variables)} |"
        )
    return "\n".join(rows)
