"""IAM policy documents shared by the components that let Snowflake into AWS."""

from __future__ import annotations

import json


def snowflake_trust_policy(principal: str, external_id: str) -> str:
    """Only Snowflake's IAM user, and only with the integration's external id, may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
                }
            ],
        },
        sort_keys=True,
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)
