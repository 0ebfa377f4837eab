"""DynamoDB `product_recommendations`: one item per user keyed by `user_id` (Number), what the
website reads and the API falls back to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Naming
from infra.providers import Providers
from infra.serving.config import DynamoDbConfig


@dataclass(kw_only=True)
class RecommendationsTableArgs:
    naming: Naming
    providers: Providers
    config: DynamoDbConfig
    protect: bool


class RecommendationsTable(pulumi.ComponentResource):
    """One item per user, keyed by user_id (Number); on-demand, encrypted, PITR where configured."""

    table: aws.dynamodb.Table

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
        self.register_outputs({"name": self.table.name, "arn": self.table.arn})
