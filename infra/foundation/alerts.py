"""Error alerts: Snowflake's pipe and task errors reach people by e-mail through SNS.

The notification integration is given the publishing role's ARN as a string built from its name,
so it does not depend on the role; the role's trust policy then uses the IAM user and external id
the integration reports. That breaks the cycle Snowflake's handshake would otherwise create.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.iam import policy, snowflake_trust_policy
from infra.naming import Naming
from infra.providers import Providers


@dataclass(kw_only=True)
class ErrorAlertsArgs:
    naming: Naming
    providers: Providers
    emails: list[str]
    permissions_boundary: pulumi.Input[str] | None = None  # the most the role may do (infra/iam.py)


class ErrorAlerts(pulumi.ComponentResource):
    """SNS topic, its policy, the role Snowflake assumes, the outbound notification integration."""

    topic: aws.sns.Topic
    integration: snowflake.NotificationIntegration

    def __init__(self, name: str, args: ErrorAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:alerts:ErrorAlerts", name, None, opts)
        n, prov = args.naming, args.providers
        on_aws = prov.on("aws", self)
        self.topic = aws.sns.Topic(
            f"{name}-topic", name=n.aws("ingest-errors"), kms_master_key_id="alias/aws/sns", opts=on_aws
        )
        role_name = n.aws("snowflake-sns")
        role_arn = pulumi.Output.concat("arn:aws:iam::", prov.aws_account_id, ":role/", role_name)
        self.integration = snowflake.NotificationIntegration(
            f"{name}-integration",
            name=n.sf("INGEST_ERRORS"),
            enabled=True,
            direction="OUTBOUND",
            type="QUEUE",
            notification_provider="AWS_SNS",
            aws_sns_topic_arn=self.topic.arn,
            aws_sns_role_arn=role_arn,
            comment="pipe and task error notifications",
            opts=prov.on("accountadmin", self),
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description="assumed by Snowflake to publish pipe and task errors",
            assume_role_policy=pulumi.Output.all(
                self.integration.aws_sns_iam_user_arn, self.integration.aws_sns_external_id
            ).apply(lambda a: snowflake_trust_policy(a[0], a[1])),
            permissions_boundary=args.permissions_boundary,
            opts=on_aws,
        )
        aws.iam.RolePolicy(
            f"{name}-publish",
            role=self.role.id,
            policy=self.topic.arn.apply(
                lambda arn: policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": arn})
            ),
            opts=on_aws,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, self.integration.aws_sns_iam_user_arn, role_arn).apply(
                lambda a: _topic_policy(*a)
            ),
            opts=on_aws,
        )
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=self.topic.arn, protocol="email", endpoint=email, opts=on_aws
            )
        # what pipes and tasks reference: the integration's name (the stack's admin role owns both sides)
        self.error_integration: pulumi.Output[str] = self.integration.name
        self.register_outputs({"topic_arn": self.topic.arn, "integration": self.integration.name})


def _topic_policy(topic_arn: str, snowflake_user: str, role_arn: str) -> str:
    return policy(
        {
            "Sid": "SnowflakePublishesErrors",
            "Effect": "Allow",
            "Principal": {"AWS": sorted([snowflake_user, role_arn])},
            "Action": "sns:Publish",
            "Resource": topic_arn,
        }
    )
