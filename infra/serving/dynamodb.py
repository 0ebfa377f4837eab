"""DynamoDB `product_recommendations`: one item per user keyed by `user_id` (Number), what the
website reads and the API falls back to, and the role the website reads it with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.iam import policy
from infra.naming import Naming
from infra.providers import Providers
from infra.serving.config import DynamoDbConfig

# All the website does: read one user's item, or query by key. No Scan (a scan reads every user's
# recommendations), no write, no DescribeTable.
READER_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"]


@dataclass(kw_only=True)
class RecommendationsTableArgs:
    naming: Naming
    providers: Providers
    config: DynamoDbConfig
    protect: bool
    permissions_boundary: pulumi.Input[str] | None = None  # the most the reader role may do (infra/iam.py)


def reader_policy(table_arn: str, indexes: Sequence[str] = ()) -> str:
    """GetItem and Query on the table and on its indexes (Query on an index is authorised on the
    index's ARN), nothing else."""
    resources = [table_arn, *(f"{table_arn}/index/{i}" for i in indexes)]
    return policy({"Effect": "Allow", "Action": READER_ACTIONS, "Resource": resources})


def reader_trust_policy(principals: Sequence[str], account: str, external_id: str) -> str:
    """The website's identities may assume the reader role (none configured: the stack's account), and
    only by naming `external_id` (the role's own name), so no other principal that happens to be trusted
    can be tricked into reading for someone else (the confused deputy)."""
    who = list(principals) or [f"arn:aws:iam::{account}:root"]
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": who},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


class RecommendationsTable(pulumi.ComponentResource):
    """One item per user, keyed by user_id (Number); on-demand, encrypted, PITR where configured; and the
    website's reader role, which may GetItem/Query it and nothing else."""

    table: aws.dynamodb.Table
    reader_role: aws.iam.Role

    def __init__(self, name: str, args: RecommendationsTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:serving:RecommendationsTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.naming.aws("product-recommendations"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="user_id",
            attributes=[{"name": "user_id", "type": "N"}],
            server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": args.config.point_in_time_recovery},
            deletion_protection_enabled=args.config.deletion_protection,
            tags={"purpose": "product_recommendations"},
            opts=args.providers.on("aws", self, protect=args.protect),
        )
        self._reader(name, args)
        self.register_outputs({"name": self.table.name, "arn": self.table.arn, "reader_role": self.reader_role.arn})

    def _reader(self, name: str, args: RecommendationsTableArgs) -> None:
        """The website's role: read-only on this table (the table declares no index), within the
        stack's permissions boundary, assumable by `dynamodb.readerPrincipals`."""
        principals, role_name = args.config.reader_principals, args.naming.aws("website-reader")
        self.reader_role = aws.iam.Role(
            f"{name}-reader-role",
            name=role_name,
            description="the website reads product recommendations: GetItem/Query on the table only",
            assume_role_policy=args.providers.aws_account_id.apply(
                lambda a: reader_trust_policy(principals, a, role_name)
            ),
            permissions_boundary=args.permissions_boundary,
            opts=args.providers.on("aws", self),
        )
        self.reader_policy = aws.iam.RolePolicy(
            f"{name}-reader-read",
            role=self.reader_role.id,
            policy=self.table.arn.apply(reader_policy),
            opts=args.providers.on("aws", self),
        )

    def outputs(self) -> dict[str, pulumi.Output]:
        """The stack outputs: the table the loads export to, the role the website reads it with."""
        return {"dynamodbTable": self.table.name, "dynamodbReaderRoleArn": self.reader_role.arn}
