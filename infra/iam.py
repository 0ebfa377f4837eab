"""IAM policy documents: who may assume a role (Snowflake's IAM user, GitHub Actions) and what it may do."""

from __future__ import annotations

import json


def _trust(principal: dict, action: str, equals: dict) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Condition": {"StringEquals": equals}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def snowflake_trust_policy(principal: str, external_id: str) -> str:
    """Only Snowflake's IAM user, and only with the integration's external id, may assume the role."""
    return _trust({"AWS": principal}, "sts:AssumeRole", {"sts:ExternalId": external_id})


def github_trust_policy(provider_arn: str, repository: str, environment: str) -> str:
    """Only GitHub Actions jobs of `repository` that run in the GitHub environment `environment` may
    assume the role (the OIDC token's audience and subject are pinned; no wildcard)."""
    host = provider_arn.split("oidc-provider/", 1)[1]
    return _trust(
        {"Federated": provider_arn},
        "sts:AssumeRoleWithWebIdentity",
        {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": f"repo:{repository}:environment:{environment}"},
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)
