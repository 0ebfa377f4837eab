"""The ingestion of a stack: the landing bucket and the feeds (customers, sales, inventory) reading it."""

from __future__ import annotations

from typing import Any

from infra.ingestion.component import Ingestion, IngestionArgs
from infra.ingestion.landing import LandingBucket, LandingBucketArgs


# `b` is stacks/platform.py's Base, `shared` what every pipeline is given (platform imports this module).
def ingestion(b: Any, shared: dict[str, Any]) -> tuple[LandingBucket, Ingestion]:
    """The landing bucket (versioned in prod) and the feeds' objects, the pipes' role bounded like every
    IAM role of the stack."""
    cfg = b.config
    landing = LandingBucket(
        "landing",
        LandingBucketArgs(
            naming=cfg.naming,
            providers=b.providers,
            protect=cfg.protect,
            config=cfg.ingestion,
            versioning=cfg.environment == "prod",
            force_destroy=cfg.force_destroy_bucket,
        ),
    )
    feeds = Ingestion(
        "ingestion",
        IngestionArgs(
            **shared,
            config=cfg.ingestion,
            bucket_name=landing.bucket.bucket,
            bucket_arn=landing.bucket.arn,
            loader_role=b.roles["LOADER"],
            permissions_boundary=b.boundary,
        ),
        opts=b.after_foundation,
    )
    return landing, feeds
