"""The account stack's budgets: per environment a Snowflake budget (limit from that environment's stack file,
tracking what carries its tag, which the environment stack sets on its database and compute pool) and an AWS
budget over its `stack` tag notifying the budget topic; a wrong config names its key, a budget for a stack the
account does not host is refused, and tearing the account stack down removes them."""

from __future__ import annotations

import copy
import json

import pytest
from pulumi_policy import PolicyResource, StackValidationArgs

from infra import lifecycle
from infra.account.catalog import budget_findings
from infra.account.config import check_hosted
from infra.config.cost import CostConfig
from infra.config.reader import ConfigError, account_config, parse_account_config
from infra.config.reader import stack_config as env_config
from infra.policy.cost_rules import account_budgets
from tests.account.test_plan import _values
from tests.conftest import by_type, one
from tests.policy.harness import opts

# Hand-computed from the stack files: (monthlyBudget - awsMonthlyBudget) / creditPrice - the monitor's monthly
# creditQuota, rounded down. dev: (400 - 20) / 3 - 50 = 76.67; prod: (3500 - 100) / 3 - 500 = 633.33.
EXPECTED = {"dev": (76, 20.0), "prod": (633, 100.0)}
TAG = '"RDP_ACCOUNT_ADMIN"."BUDGETS"."RDP_{}_COST_SCOPE"'


def test_the_hand_computation_reads_the_stack_files():
    for stack, inputs in {"dev": (400, 20, 3.0, 50), "prod": (3500, 100, 3.0, 500)}.items():
        env = env_config(stack)
        assert (env.cost.monthly_budget, env.cost.aws_monthly_budget, env.cost.credit_price) == inputs[:3]
        assert (env.resource_monitor.credit_quota, env.resource_monitor.frequency) == (inputs[3], "MONTHLY")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_environment_has_a_snowflake_budget_at_its_limit_tracking_its_tag(account_plan, stack):
    n, credits = stack.upper(), EXPECTED[stack][0]
    create = one(account_plan, f"{stack}-budget-snowflake")["inputs"]
    budget = f'"RDP_ACCOUNT_ADMIN"."BUDGETS"."RDP_{n}_BUDGET"'
    assert f"CREATE SNOWFLAKE.CORE.BUDGET IF NOT EXISTS {budget}()" in create["execute"]
    assert f"DROP SNOWFLAKE.CORE.BUDGET IF EXISTS {budget}" in create["revert"]  # destroy removes it
    settings = one(account_plan, f"{stack}-budget-snowflake-settings")
    sql = settings["inputs"]["execute"]
    assert f"{budget}!SET_SPENDING_LIMIT({credits});" in sql
    assert f"SYSTEM$REFERENCE('TAG', '{TAG.format(n)}', 'SESSION', 'APPLYBUDGET'), '{stack}'" in sql
    assert f"{budget}!SET_EMAIL_NOTIFICATIONS('{', '.join(account_config('account').alert_emails)}')" in sql
    # a budget made again (replaced) gets its settings again: they name the budget resource they were set on
    assert f"{stack}-budget-snowflake" in sql and create_urn(account_plan, stack) in settings["dependencies"]
    tag = one(account_plan, f"{stack}-budget-scope")["inputs"]
    assert tag["allowedValues"] == [stack] and TAG.format(n).endswith(f'"{tag["name"]}"')


def create_urn(plan: list[dict], stack: str) -> str:
    return one(plan, f"{stack}-budget-snowflake")["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_admin_role_may_apply_its_own_budget_tag_and_no_other(account_plan, stack):
    applies = [
        g["inputs"]
        for g in by_type(account_plan, "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if "APPLY" in g["inputs"]["privileges"]
    ]
    mine = [g["onSchemaObject"]["objectName"] for g in applies if g["accountRoleName"] == f"RDP_{stack.upper()}_ADMIN"]
    assert mine == [TAG.format(stack.upper())]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_environment_stack_puts_its_database_and_pool_under_its_budget(plans, stack):
    scopes = {r["inputs"]["objectType"]: r["inputs"] for r in by_type(plans[stack], "tagAssociation:TagAssociation")}
    assert set(scopes) == {"DATABASE", "COMPUTE POOL"}
    for s in scopes.values():
        assert s["tagId"] == TAG.format(stack.upper()) and s["tagValue"] == stack
    assert scopes["DATABASE"]["objectIdentifiers"] == [f'"RDP_{stack.upper()}_RETAIL"']
    assert scopes["COMPUTE POOL"]["objectIdentifiers"] == [f'"RDP_{stack.upper()}_POOL"']


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_environment_has_an_aws_budget_over_its_stack_tag_notifying_the_topic(account_plan, stack):
    budget = one(account_plan, f"{stack}-budget-aws")["inputs"]
    assert (budget["budgetType"], budget["timeUnit"], budget["limitUnit"]) == ("COST", "MONTHLY", "USD")
    assert budget["limitAmount"] == f"{EXPECTED[stack][1]:.2f}"
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:stack${stack}"]}]
    topic = one(account_plan, "budget-alerts-topic")
    arn = one(account_plan, "budget-alerts-topic-policy")["inputs"]["arn"]
    levels = {(n["threshold"], n["notificationType"]) for n in budget["notifications"]}
    assert levels == {(80, "ACTUAL"), (100, "FORECASTED")}
    for n in budget["notifications"]:
        assert n["comparisonOperator"] == "GREATER_THAN" and n["thresholdType"] == "PERCENTAGE"
        assert n["subscriberSnsTopicArns"] == [arn]
        assert n["subscriberEmailAddresses"] == account_config("account").alert_emails
    assert topic["urn"] in one(account_plan, f"{stack}-budget-aws")["dependencies"]


def test_only_aws_budgets_of_this_account_may_publish_to_the_encrypted_topic(account_plan):
    topic = one(account_plan, "budget-alerts-topic")["inputs"]
    key = one(account_plan, "budget-alerts-key")["inputs"]
    assert topic["kmsMasterKeyId"].startswith("arn:aws:kms:")  # a key of its own: AWS Budgets cannot use aws/sns
    (statement,) = json.loads(one(account_plan, "budget-alerts-topic-policy")["inputs"]["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    key_statements = json.loads(key["policy"])["Statement"]
    assert not [s for s in key_statements if "kms:*" in json.dumps(s["Action"]) or "kms:Encrypt" in s["Action"]]
    subscriptions = [r["inputs"] for r in by_type(account_plan, "topicSubscription:TopicSubscription")]
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(account_config("account").alert_emails)


def test_the_committed_budgets_match_the_stack_files_and_a_changed_limit_is_found(account_plan):
    assert budget_findings(account_plan, EXPECTED) == []
    assert budget_findings(account_plan, {**EXPECTED, "dev": (77, 20.0)}) == [
        "dev: Snowflake budgets [76.0], expected one of 77 from Pulumi.dev.yaml"
    ]


def _policy_resources(plan: list[dict]) -> list[PolicyResource]:
    return [PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], opts(), None, None, [], {}) for r in plan]


def _account_budgets(plan: list[dict]) -> list[str]:
    found: list[str] = []
    account_budgets(StackValidationArgs(_policy_resources(plan), {}), lambda msg, urn=None: found.append(msg))
    return found


def test_a_planted_budget_for_a_stack_the_account_does_not_host_is_refused(account_plan):
    assert _account_budgets(account_plan) == []
    plan = copy.deepcopy(account_plan)
    for name in ("dev-budget-aws", "dev-budget-snowflake-settings"):
        staged = copy.deepcopy(one(plan, name))
        text = json.dumps(staged).replace("dev", "staging").replace("RDP_DEV", "RDP_STAGING")
        plan.append(json.loads(text))
    found = _account_budgets(plan)
    refused = "the account does not host staging (not in its `environments`)"
    assert [f.split("; fix:")[0] for f in found] == [
        f"stack account: the AWS budget for staging: {refused}",
        f"stack account: the Snowflake budget for staging: {refused}",
    ]
    # and a second budget for a hosted stack is refused too: one per environment
    plan.append(copy.deepcopy(one(account_plan, "dev-budget-aws")))
    assert "stack account: dev: AWS budgets [20.0, 20.0], expected one of 20 from Pulumi.dev.yaml" in [
        f.split("; fix:")[0] for f in _account_budgets(plan)
    ]


def test_a_budget_config_error_names_its_key():
    with pytest.raises(ValueError, match=r"awsMonthlyBudget 400 must be below monthlyBudget 400"):
        CostConfig.model_validate({"monthlyBudget": 400, "awsMonthlyBudget": 400})
    with pytest.raises(ConfigError, match=r"alertEmails: .*not e-mail addresses: oncall"):
        parse_account_config(_values(alertEmails=["oncall"]), "account")
    dev = env_config("dev")
    small = dev.model_copy(update={"cost": dev.cost.model_copy(update={"monthly_budget": 170.0})})
    with pytest.raises(ValueError, match=r"environments\.dev: Pulumi\.dev\.yaml: cost\.monthlyBudget less cost\.aws"):
        check_hosted(account_config("account"), {"dev": small})
    unset = dev.model_copy(update={"cost": dev.cost.model_copy(update={"aws_monthly_budget": None})})
    with pytest.raises(ValueError, match=r"environments\.dev: .*cost\.monthlyBudget and cost\.awsMonthlyBudget"):
        check_hosted(account_config("account"), {"dev": unset})


def test_tearing_the_account_stack_down_removes_the_budgets_cleanly(account_plan, plans):
    assert lifecycle.check("account", account_plan) == []
    # and the environments that tag their objects still deploy and tear down with the account stack's grants
    assert lifecycle.check("dev", plans["dev"], account_plan, *_networks("dev")) == []


def _networks(stack: str) -> tuple[list[str], list[str] | None]:
    from tests.plan.test_lifecycle import networks

    return networks(stack)


def test_the_account_stack_is_priced_too(account_plan):
    from infra import cost

    lines = {ln.name: ln for ln in cost.estimate(account_plan, CostConfig())}
    assert (lines["budget-alerts-key"].min, lines["budget-alerts-key"].max) == (1.0, 1.0)
    # the payer account's first two budgets are free; any more cost $0.02 a day each
    assert (lines["dev-budget-aws"].min, round(lines["dev-budget-aws"].max, 2)) == (0.0, 0.61)
