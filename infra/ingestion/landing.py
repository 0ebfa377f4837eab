"""The S3 landing bucket: encrypted, private, TLS-only, with lifecycle rules per prefix (each feed's, the
rejected files')."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.ingestion.catalog import FEEDS, REJECTED_PREFIX
from infra.ingestion.config import IngestionConfig
from infra.naming import Naming
from infra.providers import Providers


@dataclass(kw_only=True)
class LandingBucketArgs:
    naming: Naming
    providers: Providers
    config: IngestionConfig
    versioning: bool
    force_destroy: bool
    protect: bool


class LandingBucket(pulumi.ComponentResource):
    """Where upstream systems drop CSV files for Snowpipe."""

    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: LandingBucketArgs, opts: pulumi.ResourceOptions | None = None):
        # Released as retail:landing:LandingBucket; the alias keeps deployed buckets in place.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="retail:landing:LandingBucket")])
        )
        super().__init__("retail:ingestion:LandingBucket", name, None, opts)
        cfg, n = args.config, args.naming
        child = args.providers.on("aws", self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.providers.aws_account_id.apply(lambda account: n.bucket("landing", account)),
            force_destroy=args.force_destroy,
            opts=args.providers.on("aws", self, protect=args.protect),
        )
        bucket_id = self.bucket.id
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket_id,
            rules=[
                {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}
            ],
            opts=child,
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(_tls_only_policy),
            opts=args.providers.on("aws", self, depends_on=[public_block]),
        )
        if args.versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning", bucket=bucket_id, versioning_configuration={"status": "Enabled"}, opts=child
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[
                {
                    # the customer feed's rule keeps the id it was released with
                    "id": "expire-processed-landing-files" if key == "customer" else f"expire-processed-{key}-files",
                    "status": "Enabled",
                    "filter": {"prefix": cfg.feed(key).landing_prefix},
                    "expiration": {"days": cfg.processed_expiry_days},
                    "noncurrent_version_expiration": {"noncurrent_days": cfg.processed_expiry_days},
                }
                for key in FEEDS
            ]
            + [
                {
                    "id": "expire-rejected-files",
                    "status": "Enabled",
                    "filter": {"prefix": REJECTED_PREFIX},
                    "expiration": {"days": cfg.rejected_expiry_days},
                    "noncurrent_version_expiration": {"noncurrent_days": cfg.rejected_expiry_days},
                },
                {
                    "id": "abort-incomplete-multipart",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
                },
            ],
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})


def _tls_only_policy(arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )
