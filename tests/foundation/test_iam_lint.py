"""Every IAM policy document of dev, prod and a review stack passes parliament (Duo Labs' IAM linter,
community auditors on), an independent reading of what AWS would authorise: findings the platform keeps
are listed with a reason in iam_lint_allow.yaml, and anything else, or a listed entry gone stale, fails."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from infra.iam import ARN_PATTERNS, READ_ACTIONS, WRITE_ACTIONS
from infra.iam_lint import Document, Finding, ResourceType, action_resource_types, documents, lint, lint_plan
from tests.conftest import ACCOUNT, STACKS

ALLOW_FILE = Path(__file__).with_name("iam_lint_allow.yaml")
KINDS = {"trust", "identity", "resource"}


def allow_list() -> dict[tuple[str, str, str], str]:
    """(policy, issue, action) → reason, from the allow-list file; every entry must give its reason."""
    allowed = {}
    for entry in yaml.safe_load(ALLOW_FILE.read_text()):
        assert str(entry.get("reason", "")).strip(), f"allow-list entry without a reason: {entry}"
        for policy in entry["policies"]:
            for action in entry["actions"]:
                allowed[(policy, entry["issue"], action)] = entry["reason"]
    return allowed


@pytest.fixture(scope="module")
def stack_plans(all_plans, review_stack_plan) -> dict[str, list[dict]]:
    return {**all_plans, "review": review_stack_plan}


@pytest.fixture(scope="module")
def linted(stack_plans) -> dict[str, tuple[list[Finding], list[Document]]]:
    return {stack: lint_plan(plan) for stack, plan in stack_plans.items()}


def _report(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.policy}: {f.issue} {f.action}: {f.detail[:200]}" for f in findings)


def test_every_policy_document_of_every_stack_is_linted(stack_plans, linted):
    assert set(stack_plans) == {*STACKS, ACCOUNT, "review"}
    for stack, plan in stack_plans.items():
        docs = documents(plan)
        unlinted = linted[stack][1]
        assert not unlinted, f"{stack}: " + "; ".join(f"{d.name} {d.why}" for d in unlinted)
        assert {d.kind for d in docs} == KINDS if stack != ACCOUNT else docs, stack
    account = {d.name for d in documents(stack_plans[ACCOUNT])}
    assert {"review-aws-review-policy.policy", "review-aws-boundary.policy"} <= account  # the review identity
    names = {d.name for d in documents(stack_plans["dev"])}
    for expected in ("ci-aws-deploy-policy.policy", "ci-aws-boundary.policy", "landing-tls-only.policy"):
        assert expected in names  # an inline policy, a permissions boundary, a bucket policy
    assert {"alerts-topic-policy.policy", "ci-aws-deploy.assumeRolePolicy", "ingestion-s3-read.policy"} <= names


@pytest.mark.parametrize("stack", [*STACKS, ACCOUNT, "review"])
def test_no_finding_outside_the_allow_list(linted, stack):
    allowed = allow_list()
    unexpected = [f for f in linted[stack][0] if f.key not in allowed]
    assert not unexpected, f"parliament findings on {stack} not in {ALLOW_FILE.name}:\n{_report(unexpected)}"


def test_every_allow_list_entry_still_matches_a_finding(linted):
    seen = {f.key for findings, _ in linted.values() for f in findings}
    stale = sorted(set(allow_list()) - seen)
    assert not stale, f"{ALLOW_FILE.name} entries that match no finding any more: {stale}"


def test_a_planted_mismatched_action_is_reported(plans):
    """sns:ListTopics (the account's topic list) granted on one topic ARN authorises nothing: the check
    must say so."""
    plan = copy.deepcopy(plans["dev"])
    policy = next(r for r in plan if r["name"] == "ci-aws-deploy-policy")
    doc = json.loads(policy["inputs"]["policy"])
    topic = "arn:aws:sns:us-east-1:123456789012:rdp-dev-ingest-errors"
    doc["Statement"].append({"Effect": "Allow", "Action": "sns:ListTopics", "Resource": topic})
    policy["inputs"]["policy"] = json.dumps(doc)
    unexpected = [f.key for f in lint_plan(plan)[0] if f.key not in allow_list()]
    assert unexpected == [("ci-aws-deploy-policy.policy", "RESOURCE_MISMATCH", "sns:ListTopics")]


def test_a_document_unknown_under_the_mocks_is_reported_not_skipped():
    plan = [
        {"type": "aws:iam/rolePolicy:RolePolicy", "name": "late", "inputs": {"policy": "[unknown]", "role": "r"}},
        {"type": "aws:iam/role:Role", "name": "r", "inputs": {"name": "r", "assumeRolePolicy": "[secret]"}},
    ]
    findings, unlinted = lint_plan(plan)
    assert not findings
    assert [(d.name, d.why) for d in unlinted] == [
        ("late.policy", "holds [unknown] under the mocks"),
        ("r.assumeRolePolicy", "holds [secret] under the mocks"),
    ]
    with pytest.raises(ValueError, match=r"late\.policy: cannot be linted"):
        lint(unlinted[0])


def test_the_resource_types_an_action_takes_come_from_parliaments_iam_definition():
    assert action_resource_types("sns:Unsubscribe") == ()  # no resource type in IAM's service reference
    assert action_resource_types("sns:GetSubscriptionAttributes") == ()
    assert action_resource_types("s3:GetObject") == (
        ResourceType("object", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", required=True),
    )
    assert [t.name for t in action_resource_types("sns:Subscribe")] == ["topic"]
    assert [t.name for t in action_resource_types("iam:createrole")] == ["role"]
    with pytest.raises(ValueError, match="sns:Unsubscribes: not an action"):
        action_resource_types("sns:Unsubscribes")


def test_ci_grants_are_on_the_resource_types_their_actions_take():
    """A CI action granted on the stack's ARNs takes a resource type; the SNS subscription actions take
    none in IAM's reference but are authorised on the topic, so they too name the stack's topics."""
    assert ARN_PATTERNS["sns-subscription"] == ARN_PATTERNS["sns"]
    for table in (READ_ACTIONS, WRITE_ACTIONS):
        for service, actions in table.items():
            assert "*" not in ARN_PATTERNS[service], service
            for action in (a for a in actions if "*" not in a):
                assert bool(action_resource_types(action)) == (service != "sns-subscription"), (service, action)
