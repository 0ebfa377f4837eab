"""What is enforced after deploy, per environment: a Snowflake budget for the credits its resource monitor
cannot stop (compute pools, serverless tasks, dynamic-table refreshes, Snowpipe: the objects that carry the
environment's tag, and what a tagged database contains) and an AWS budget for its AWS resources (the ones
tagged `stack=<stack>`), both mailing the account's alert addresses; the AWS ones through one SNS topic.

Snowflake has no budget resource in the provider: the budget is created and dropped by SQL (sql/account/),
its settings applied by a second statement that is re-run whenever the budget is created again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.account.catalog import (
    AWS_BUDGET_THRESHOLDS,
    AWS_STACK_TAG,
    BUDGET_SCHEMA,
    admin_database,
    budget_name,
    budget_tag,
)
from infra.grants import RoleGrants, quote_output
from infra.iam import policy
from infra.naming import Naming, quote
from infra.providers import Providers
from infra.sqlfiles import render_sql


@dataclass(kw_only=True)
class BudgetAlertsArgs:
    naming: Naming  # the account stack's
    providers: Providers
    emails: list[str]


class BudgetAlerts(pulumi.ComponentResource):
    """The topic AWS Budgets publishes to (encrypted with a key of its own: a service can publish to a topic
    under a customer managed key only), open to budgets.amazonaws.com for this account alone, and its e-mails."""

    topic: aws.sns.Topic

    def __init__(self, name: str, args: BudgetAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:BudgetAlerts", name, None, opts)
        on_aws, account = args.providers.on("aws", self), args.providers.aws_account_id
        key = aws.kms.Key(
            f"{name}-key",
            description="encrypts the budget alerts topic; AWS Budgets may use it to publish",
            enable_key_rotation=True,
            policy=account.apply(_key_policy),
            opts=on_aws,
        )
        self.topic = aws.sns.Topic(
            f"{name}-topic", name=args.naming.aws("budgets"), kms_master_key_id=key.arn, opts=on_aws
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account).apply(lambda a: _topic_policy(*a)),
            opts=on_aws,
        )
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=self.topic.arn, protocol="email", endpoint=email, opts=on_aws
            )
        self.register_outputs({"topic": self.topic.arn})


# What the account's IAM principals may do to the key: what Pulumi reads, changes and schedules for deletion
# (and what AWS's lock-out check wants the creator to keep: PutKeyPolicy). Nothing in the account decrypts.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
]


def _key_policy(account: str) -> str:
    """The account administers the key (a key policy's `*` is the key itself); AWS Budgets may encrypt what it
    publishes to the topic."""
    return policy(
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "BudgetsPublishEncrypted",
            "Effect": "Allow",
            "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    )


def _topic_policy(topic_arn: str, account: str) -> str:
    return policy(
        {
            "Sid": "BudgetsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


@dataclass(kw_only=True)
class EnvironmentBudgetArgs:
    prefix: str
    naming: Naming  # the environment's
    providers: Providers  # the account stack's
    database: pulumi.Output[str]  # the account's own database and its BUDGETS schema
    schema: snowflake.Schema
    role: snowflake.AccountRole  # the environment's admin role: it tags its own objects
    credits: int  # the Snowflake budget's monthly limit (catalog.snowflake_budget_credits)
    aws_usd: float  # the AWS budget's monthly limit
    emails: list[str]
    topic: aws.sns.Topic


class EnvironmentBudget(pulumi.ComponentResource):
    """One environment's Snowflake budget with the tag that scopes it, and its AWS budget."""

    tag: snowflake.Tag

    def __init__(self, name: str, args: EnvironmentBudgetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:EnvironmentBudget", name, None, opts)
        n, prov = args.naming, args.providers
        as_admin = prov.on("accountadmin", self)
        # only the environment's own value: its admin role cannot put its objects under another budget
        self.tag = snowflake.Tag(
            f"{name}-scope",
            database=args.database,
            schema=args.schema.name,
            name=budget_tag(args.prefix, n).rsplit(".", 1)[1].strip('"'),
            allowed_values=[n.stack],
            comment=f"'{n.stack}': the object counts against {budget_name(n)}",
            opts=as_admin,
        )
        g = RoleGrants(name, prov.on("securityadmin", self))
        g.grant(
            "schema", args.role, ["USAGE"], on_schema={"schema_name": quote_output(args.database, args.schema.name)}
        )
        g.on_object("scope-apply", args.role, ["APPLY"], "TAG", self.tag)
        budget = quote(admin_database(args.prefix), BUDGET_SCHEMA, budget_name(n))
        created = snowflake.Execute(
            f"{name}-snowflake",
            execute=render_sql("account/budget_create.sql", budget=budget, stack=n.stack),
            revert=render_sql("account/budget_drop.sql", budget=budget),
            # its revert drops the budget: the old one goes before a new one is made
            opts=pulumi.ResourceOptions.merge(
                as_admin, pulumi.ResourceOptions(depends_on=[args.schema], delete_before_replace=True)
            ),
        )
        settings = {
            "budget": budget,
            "credits": str(args.credits),
            "tag": budget_tag(args.prefix, n),
            "value": n.stack,
            "emails": ", ".join(args.emails),
        }
        snowflake.Execute(
            f"{name}-snowflake-settings",
            execute=created.id.apply(lambda i: render_sql("account/budget_settings.sql", budget_id=i, **settings)),
            revert="SELECT 1",  # dropping the budget drops its settings
            opts=pulumi.ResourceOptions.merge(as_admin, pulumi.ResourceOptions(depends_on=[created, self.tag])),
        )
        self.aws = aws_budget(f"{name}-aws", n, args.aws_usd, args.emails, args.topic, prov.on("aws", self))
        self.register_outputs({"tag": self.tag.fully_qualified_name, "aws": self.aws.name})


def aws_budget(
    name: str, n: Naming, usd: float, emails: list[str], topic: aws.sns.Topic, opts: pulumi.ResourceOptions
) -> aws.budgets.Budget:
    """A monthly cost budget over the resources tagged `stack=<stack>` (a cost allocation tag once activated
    in Billing), notifying the topic and the addresses at each of AWS_BUDGET_THRESHOLDS."""
    return aws.budgets.Budget(
        name,
        name=n.aws("budget"),
        budget_type="COST",
        time_unit="MONTHLY",
        limit_amount=f"{usd:.2f}",
        limit_unit="USD",
        cost_filters=[{"name": "TagKeyValue", "values": [f"user:{AWS_STACK_TAG}${n.stack}"]}],
        notifications=[
            {
                "comparison_operator": "GREATER_THAN",
                "threshold": percent,
                "threshold_type": "PERCENTAGE",
                "notification_type": kind,
                "subscriber_email_addresses": emails,
                "subscriber_sns_topic_arns": [topic.arn],
            }
            for percent, kind in AWS_BUDGET_THRESHOLDS
        ],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[topic])),
    )
