"""AWS mirrors it: no role or user of dev may act on prod's resources, nor prod's on dev's, in the
account they share. infra/aws_reach.py evaluates every identity's policies (within its boundary) with
moto's IAM evaluator against every ARN the other stack's plan declares; the planted faults prove it
finds a reach, honours a boundary and reads conditions conservatively."""

from __future__ import annotations

import copy
import json

import pytest

from infra import arns
from infra.aws_reach import declared_arns, reach
from infra.config.reader import read_stack_file
from tests.conftest import one

ACCT = arns.ACCOUNT_ID
PROD_BUCKET = f"arn:aws:s3:::rdp-prod-landing-{ACCT}"
PROD_TABLE = f"arn:aws:dynamodb:us-east-1:{ACCT}:table/rdp-prod-product-recommendations"
PROD_TOPIC = f"arn:aws:sns:us-east-1:{ACCT}:rdp-prod-ingest-errors"
DEV_BOUNDARY = f"arn:aws:iam::{ACCT}:policy/ci/rdp-dev-ci-boundary"
ROLE = "rdp-dev-planted"


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _with_role(plans: dict, *statements: dict, boundary: str | None = None) -> dict[str, list[dict]]:
    """The plans with one more dev role, `rdp-dev-planted`, whose inline policy holds `statements`."""
    planted = copy.deepcopy(plans)
    urn = f"urn:pulumi:dev::retail-data-platform::aws:iam/role:Role::{ROLE}"
    role = {"name": ROLE, "assumeRolePolicy": _doc()} | ({"permissionsBoundary": boundary} if boundary else {})
    planted["dev"] += [
        {"type": "aws:iam/role:Role", "name": "planted", "urn": urn, "inputs": role},
        {
            "type": "aws:iam/rolePolicy:RolePolicy",
            "name": "planted-policy",
            "urn": f"{urn}-policy",
            "inputs": {"role": ROLE, "policy": _doc(*statements)},
        },
    ]
    return planted


def _planted(found: list[str]) -> list[str]:
    return [f for f in found if f.startswith(f"dev role {ROLE} ")]


def _allow(action: str | list[str], resource: str | list[str], **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# ------------------------------------------------------------------------------------- the real plans
def test_no_identity_of_dev_reaches_prod_nor_of_prod_dev(plans):
    assert reach(plans) == []


def test_the_account_stacks_review_role_reaches_neither_environment(all_plans):
    assert reach(all_plans) == []
    assert any(r["name"] == "review-aws-review" for r in all_plans["account"])  # it was looked at


def test_every_arn_of_prod_is_named_as_aws_names_it(plans):
    """The targets are what AWS would call prod's resources, objects under its bucket included."""
    targets, problems = declared_arns(plans["prod"], "prod", "us-east-1")
    assert not problems
    topic = one(plans["prod"], "alerts-email-0")["inputs"]["topic"]
    assert topic == PROD_TOPIC
    subscriptions = [t for t in targets if t.startswith(f"{PROD_TOPIC}:")]
    assert len(subscriptions) == len(json.loads(read_stack_file("prod")[0]["retail-data-platform:alertEmails"]))
    expected = {
        PROD_BUCKET,
        f"{PROD_BUCKET}/*",
        f"{PROD_BUCKET}/landing/customer/*",  # the stage's and the integration's location
        f"{PROD_BUCKET}/rejected/*",  # a lifecycle rule's prefix
        PROD_TOPIC,
        PROD_TABLE,
        f"arn:aws:iam::{ACCT}:role/ci/rdp-prod-ci-deploy",  # the path is part of a role's ARN
        f"arn:aws:iam::{ACCT}:role/rdp-prod-snowflake-s3",
        f"arn:aws:iam::{ACCT}:policy/ci/rdp-prod-ci-boundary",
    }
    assert expected <= set(targets)
    secrets = [t for t in targets if ":secretsmanager:" in t]
    assert [s.rsplit("-", 1)[0] for s in secrets] == [
        f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:rdp-prod-postgres-bi",
        f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:rdp-prod-postgres-loader",
    ]
    assert all(len(s.rsplit("-", 1)[1]) == 6 for s in secrets)  # AWS's six-character suffix


# ------------------------------------------------------------------------------------ planted faults
def test_a_dev_role_with_s3_on_every_rdp_bucket_reaches_prods_bucket_and_objects(plans):
    found = _planted(reach(_with_role(plans, _allow("s3:*", "arn:aws:s3:::rdp-*"))))
    assert f"dev role {ROLE} may s3:DeleteBucket on {PROD_BUCKET}" in found
    assert f"dev role {ROLE} may s3:PutBucketPolicy on {PROD_BUCKET}" in found
    # IAM's `*` spans `/`: a grant on the buckets `rdp-*` names every object in them too
    assert f"dev role {ROLE} may s3:GetObject on {PROD_BUCKET}/landing/customer/*" in found
    assert f"dev role {ROLE} may s3:DeleteObject on {PROD_BUCKET}/*" in found


def test_a_dev_role_that_may_delete_any_table_reaches_prods(plans):
    found = _planted(reach(_with_role(plans, _allow("dynamodb:DeleteTable", "*"))))
    assert found == [f"dev role {ROLE} may dynamodb:DeleteTable on {PROD_TABLE}"]


def test_a_boundary_that_does_not_allow_it_stops_the_reach(plans):
    """Identity allows, dev's boundary (landing reads, topic publishes) does not: no reach."""
    assert _planted(reach(_with_role(plans, _allow("dynamodb:DeleteTable", "*"), boundary=DEV_BOUNDARY))) == []
    # the same role under a boundary that allows it does reach: the boundary is what stopped it
    wide = copy.deepcopy(plans)
    boundary = one(wide["dev"], "ci-aws-boundary")["inputs"]
    boundary["policy"] = _doc(_allow("dynamodb:*", "*"))
    found = _planted(reach(_with_role(wide, _allow("dynamodb:DeleteTable", "*"), boundary=DEV_BOUNDARY)))
    assert found == [f"dev role {ROLE} may dynamodb:DeleteTable on {PROD_TABLE}"]


def test_the_sns_subscription_actions_on_every_resource_reach_prods_alerts(plans):
    """The grant the CI roles had: SNS's subscription actions on `*` (IAM's reference lists no resource
    type for them) let dev read and cancel prod's alert subscriptions."""
    found = _planted(reach(_with_role(plans, _allow(["sns:GetSubscriptionAttributes", "sns:Unsubscribe"], "*"))))
    subscriptions = sorted({f.rsplit(" ", 1)[1] for f in found if f.count(":") > PROD_TOPIC.count(":") + 1})
    assert len(subscriptions) == 2 and all(s.startswith(f"{PROD_TOPIC}:") for s in subscriptions)
    for s in subscriptions:
        assert f"dev role {ROLE} may sns:Unsubscribe on {s}" in found
    # granted on dev's topics only, as infra/iam.py now grants them, they reach nothing of prod's
    scoped = _allow(["sns:GetSubscriptionAttributes", "sns:Unsubscribe"], f"arn:aws:sns:*:{ACCT}:rdp-dev-*")
    assert _planted(reach(_with_role(plans, scoped))) == []


@pytest.mark.parametrize(
    ("statements", "reaches"),
    [
        # moto counts every condition as met: an Allow with one is (conservatively) an allow...
        ([_allow("dynamodb:DeleteTable", "*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})], True),
        # ...but a Deny with one is not counted as denying: some request escapes it
        (
            [
                _allow("dynamodb:DeleteTable", "*"),
                {
                    "Effect": "Deny",
                    "Action": "dynamodb:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
            True,
        ),
        # an unconditional Deny denies
        ([_allow("dynamodb:DeleteTable", "*"), {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}], False),
        # IAM's actions are case-insensitive (moto's matching is not, unless normalised)
        ([_allow("DynamoDB:deletetable", PROD_TABLE)], True),
        # `.` is a character, not a regex wildcard: rdp.prod names no prod table
        (
            [
                _allow(
                    "dynamodb:DeleteTable", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/rdp.prod.product.recommendations"
                )
            ],
            False,
        ),
    ],
    ids=["allow-with-condition", "deny-with-condition", "unconditional-deny", "action-case", "dot-in-arn"],
)
def test_conditions_denies_and_patterns_are_read_as_iam_reads_them(plans, statements, reaches):
    found = _planted(reach(_with_role(plans, *statements)))
    assert found == ([f"dev role {ROLE} may dynamodb:DeleteTable on {PROD_TABLE}"] if reaches else [])


def test_a_prod_resource_policy_naming_a_dev_role_is_a_reach(plans):
    planted = copy.deepcopy(plans)
    topic_policy = one(planted["prod"], "alerts-topic-policy")["inputs"]
    doc = json.loads(topic_policy["policy"])
    doc["Statement"][0]["Principal"]["AWS"].append(f"arn:aws:iam::{ACCT}:role/ci/rdp-dev-ci-deploy")
    topic_policy["policy"] = json.dumps(doc)
    assert reach(planted) == [
        f"dev role rdp-dev-ci-deploy may sns:Publish on {PROD_TOPIC} (granted by the resource's own policy)"
    ]


def test_what_cannot_be_evaluated_is_reported_not_skipped(plans):
    planted = _with_role(plans, _allow("sns:Publish", f"arn:aws:sns:*:{ACCT}:rdp-dev-*"))
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    planted["dev"].append(
        {
            "type": "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "name": "planted-admin",
            "urn": "urn:planted-admin",
            "inputs": {"role": ROLE, "policyArn": admin},
        }
    )
    planted["prod"].append({"type": "aws:kinesis/stream:Stream", "name": "events", "urn": "urn:s", "inputs": {}})
    one(planted["prod"], "alerts-topic-policy")["inputs"]["policy"] = "[unknown]"
    found = reach(planted)
    assert f"prod plan: a policy on {PROD_TOPIC} is unknown under the mocks" in found
    assert f"dev role {ROLE}: attaches {admin}, which no plan declares: what it grants is unknown" in found
    assert "prod plan: events: aws:kinesis/stream:Stream: infra/arns.py does not know the ARN AWS gives it" in found
