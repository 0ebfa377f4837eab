"""The leftover check's offline half: from a review stack's plan, the account-level names it must look for
after `pulumi destroy` (infra/leftovers.py, `python -m infra.plan --stack pr-<n> --leftovers`). Every
physical name the plan holds is found by a listing under the stack's prefix, and each way the check could
miss one (an unknown kind, a name off the prefix, an object in a database the stack does not own) is a
finding."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from infra import leftovers
from infra.naming import Naming
from tests import background
from tests.conftest import ROOT

STACK = "pr-12"
NAMING = Naming("RDP", STACK)


@pytest.fixture(scope="module")
def review(review_stack_plan) -> list[dict]:
    return review_stack_plan


def _names(cov: leftovers.Coverage) -> set[str]:
    return {n for names in cov.expected.values() for n in names}


def test_every_physical_name_of_a_review_stack_is_found_by_a_listing(review):
    cov = leftovers.coverage(review, NAMING)
    assert cov.findings == []
    own = {
        name
        for r in review
        if (name := leftovers.physical_name(r)) and not isinstance(r["inputs"].get("database"), str)
    }
    assert own and own <= _names(cov)  # a bucket's settings name the bucket: found with it
    assert all(n.startswith(("RDP_PR_12_", "rdp-pr-12-")) for n in _names(cov))
    by_kind = {listing.kind: names for listing, names in cov.expected.items()}
    assert by_kind["DATABASES"] == ["RDP_PR_12_RETAIL"]
    assert "RDP_PR_12_SVC_LOADER" in by_kind["USERS"] and "RDP_PR_12_LOADER" in by_kind["ROLES"]
    assert by_kind["INTEGRATIONS"] == ["RDP_PR_12_INGEST_ERRORS", "RDP_PR_12_LANDING_S3"]
    assert by_kind["dynamodb tables"] == ["rdp-pr-12-product-recommendations"]
    assert by_kind["s3 buckets"][0].startswith("rdp-pr-12-landing-")
    assert set(by_kind["iam roles"]) == {
        "rdp-pr-12-snowflake-s3",
        "rdp-pr-12-snowflake-sns",
        "rdp-pr-12-website-reader",
    }
    # every object inside the database goes with it: the plan's tables, stages, tasks are not listed
    assert not any("SHOP_ORDERS" in n for n in _names(cov))


def test_a_kind_no_listing_finds_is_a_finding(review):
    planted = [*copy.deepcopy(review), {"type": "aws:kinesis/stream:Stream", "name": "clicks", "inputs": {}}]
    planted[-1]["inputs"]["name"] = "rdp-pr-12-clicks"
    assert leftovers.coverage(planted, NAMING).findings == [
        "clicks (aws:kinesis/stream:Stream): no listing finds this kind; add it to infra/leftovers.py"
    ]


def test_a_name_off_the_stacks_prefix_is_a_finding(review):
    planted = copy.deepcopy(review)
    role = next(r for r in planted if r["name"] == "access-fr-loader")
    role["inputs"]["name"] = "RDP_DEV_LOADER"
    bucket = next(r for r in planted if r["type"] == "aws:s3/bucket:Bucket")
    bucket["inputs"]["bucket"] = "landing-123456789012"
    assert leftovers.coverage(planted, NAMING).findings == [
        "access-fr-loader: RDP_DEV_LOADER does not start with RDP_PR_12_",
        "landing-bucket: landing-123456789012 does not start with rdp-pr-12-",
    ]


def test_an_object_in_a_database_the_stack_does_not_declare_is_a_finding(review):
    planted = copy.deepcopy(review)
    table = next(r for r in planted if r["name"] == "analytics-orders")
    table["inputs"]["database"] = "SHARED_SCRATCH"
    assert leftovers.coverage(planted, NAMING).findings == [
        "analytics-orders: in database SHARED_SCRATCH, which this stack does not declare"
    ]


def test_the_prefix_is_exact_where_sql_like_is_not():
    # SHOW … LIKE 'RDP_PR_7_%' also matches PR 70's objects (`_` is any one character)
    seven = Naming("RDP", "pr-7")
    assert leftovers.ours("RDP_PR_7_RETAIL", "snowflake", seven)
    assert leftovers.ours("rdp_pr_7_retail", "snowflake", seven)  # Snowflake folds unquoted names
    assert not leftovers.ours("RDP_PR_70_RETAIL", "snowflake", seven)
    assert not leftovers.ours("RDPXPR_7_RETAIL", "snowflake", seven)
    assert leftovers.ours("rdp-pr-7-landing-1", "aws", seven)
    assert not leftovers.ours("rdp-pr-70-landing-1", "aws", seven)


def test_the_command_plans_a_review_stack_from_devs_config(review):
    out = background.result(LEFTOVERS)
    assert out.returncode == 0, out.stderr
    assert not Path(ROOT, f"Pulumi.{STACK}.yaml").exists()
    assert "nothing named RDP_PR_12_* (Snowflake) or rdp-pr-12-* (AWS)" in out.stdout
    # the same names as the plan made the way the workflow makes the stack's config
    expected = leftovers.coverage(review, NAMING)
    assert leftovers.render(STACK, NAMING, expected) == out.stdout
    assert "every name is covered" in out.stdout


LEFTOVERS = background.command(
    "review-leftovers",
    [sys.executable, "-m", "infra.plan", "--stack", STACK, "--leftovers"],
    test_the_command_plans_a_review_stack_from_devs_config,
)


def _allowed(doc: dict) -> dict[str, set[str]]:
    """Action → the resources an identity policy allows it on (Allow statements without a condition)."""
    allowed: dict[str, set[str]] = {}
    for s in doc["Statement"]:
        if s["Effect"] != "Allow" or "Condition" in s:
            continue
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
        for a in actions:
            allowed.setdefault(a, set()).update(resources)
    return allowed


def test_the_review_role_may_read_back_each_name_and_list_nothing_account_wide(account_plan):
    """The AWS half reads each planned name with a read the review role holds on `rdp-pr-*` only; the run
    policy adds the loads' object puts into review buckets and nothing account-wide."""
    import fnmatch
    import json

    deploy = _allowed(
        json.loads(next(r for r in account_plan if r["name"] == "review-aws-review-policy")["inputs"]["policy"])
    )
    for listing in leftovers.AWS.values():
        granted = {r for a, rs in deploy.items() if fnmatch.fnmatch(listing.action, a) for r in rs}
        assert granted and all(":rdp-pr-" in r or "/rdp-pr-" in r for r in granted), (listing.kind, granted)
    run = _allowed(
        json.loads(next(r for r in account_plan if r["name"] == "review-aws-review-run")["inputs"]["policy"])
    )
    assert run == {"s3:PutObject": {"arn:aws:s3:::rdp-pr-*/*"}}
