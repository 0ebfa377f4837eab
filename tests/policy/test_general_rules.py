"""Protection, names, secrets and the prod stack's environment, each with passing and failing cases.
Prod-ness comes from the stack name: `prod-eu` is prod (it has no stack file), `preprod` is not."""

from __future__ import annotations

import pytest
from pulumi_policy import Secret, StackValidationArgs

from infra.cdc.catalog import CATALOG as CDC
from infra.dashboard.catalog import CATALOG as DASHBOARD
from infra.policy.common import is_prod_stack
from infra.policy.general import EXEMPT_STAGES
from tests.policy.harness import DEV, PROD, check, rargs, res

PROD_EU = "urn:pulumi:prod-eu::retail-data-platform::"
PREPROD = "urn:pulumi:preprod::retail-data-platform::"
DB = "snowflake:index/database:Database"
STAGE = "snowflake:index/stageInternal:StageInternal"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
SF = "pulumi:providers:snowflake"


def stage(name: str, schema: str) -> dict:
    return {"database": "RDP_PROD_RETAIL", "schema": schema, "name": name}


CASES = [
    # protection of stateful resources, required by the stack's name
    ("prod-stateful-protected", rargs(DB, {}, PROD, protect=True), []),
    ("prod-stateful-protected", rargs(DB, {}, PROD), ["not protected in a prod stack"]),
    ("prod-stateful-protected", rargs("aws:s3/bucketV2:BucketV2", {}, PROD, protect=None), ["not protected"]),
    ("prod-stateful-protected", rargs(DB, {}, DEV), []),
    ("prod-stateful-protected", rargs(DB, {}, PROD_EU), ["not protected"]),
    ("prod-stateful-protected", rargs(DB, {}, PREPROD), []),
    ("prod-stateful-protected", rargs("snowflake:index/streamOnTable:StreamOnTable", {}, PROD), ["not protected"]),
    ("prod-stateful-protected", rargs("snowflake:index/sequence:Sequence", {}, PROD), ["not protected"]),
    ("prod-stateful-protected", rargs(STAGE, stage("MODEL_STAGE", "ML_REGISTRY"), PROD), ["not protected"]),
    ("prod-stateful-protected", rargs(STAGE, stage("DASHBOARD_STAGE", "GOLD"), PROD), []),
    ("prod-stateful-protected", rargs(STAGE, stage("ORDER_CHANGES_STAGE", "BRONZE"), PROD), []),
    (
        "prod-stateful-protected",
        rargs("snowflake:index/dynamicTable:DynamicTable", {}, PROD),
        ["DynamicTable r: stateful resource is not protected in a prod stack"],
    ),
    ("prod-stateful-protected", rargs("snowflake:index/dynamicTable:DynamicTable", {}, PROD, protect=True), []),
    ("prod-stateful-protected", rargs("snowflake:index/stageExternalS3:StageExternalS3", {}, PROD), []),
    ("prod-stateful-protected", rargs("snowflake:index/view:View", {}, PROD), []),
    # names
    ("physical-name-prefix", rargs(DB, {"name": "RDP_DEV_RETAIL"}), []),
    ("physical-name-prefix", rargs(DB, {"name": "RETAIL"}), ["lacks prefix RDP_DEV_"]),
    ("physical-name-prefix", rargs(DB, {"name": "RDP_PROD_RETAIL"}), ["lacks prefix RDP_DEV_"]),
    # a non-prod stack may host the review identity; prod may not
    ("physical-name-prefix", rargs("snowflake:index/accountRole:AccountRole", {"name": "RDP_REVIEW_ADMIN"}), []),
    (
        "physical-name-prefix",
        rargs("snowflake:index/accountRole:AccountRole", {"name": "RDP_REVIEW_ADMIN"}, PROD),
        ["lacks prefix RDP_PROD_"],
    ),
    ("physical-name-prefix", rargs("snowflake:index/warehouse:Warehouse", {}), ["no physical name set"]),
    (
        "physical-name-prefix",
        rargs("snowflake:index/pipe:Pipe", {"database": "RDP_DEV_RETAIL", "schema": "BRONZE", "name": "P"}),
        [],
    ),
    (
        "physical-name-prefix",
        rargs("snowflake:index/pipe:Pipe", {"database": "OTHER", "schema": "B", "name": "P"}),
        ["database OTHER lacks"],
    ),
    ("physical-name-prefix", rargs("aws:s3/bucketV2:BucketV2", {"bucket": "rdp-dev-landing-1"}), []),
    ("physical-name-prefix", rargs("aws:s3/bucketV2:BucketV2", {"bucket": "landing"}), ["lacks prefix rdp-dev-"]),
    ("physical-name-prefix", rargs("aws:sns/topic:Topic", {}), ["AWS would invent"]),
    # known-secret inputs must be secret (engine-reported secrets arrive masked, or as pulumi_policy.Secret)
    ("secret-inputs-are-secrets", rargs(SF, {"privateKey": "[secret]", "role": "SYSADMIN"}), []),
    ("secret-inputs-are-secrets", rargs(SF, {"privateKey": Secret(PEM)}), []),
    ("secret-inputs-are-secrets", rargs(SF, {"role": "SYSADMIN"}), []),
    ("secret-inputs-are-secrets", rargs(SF, {"privateKey": PEM}), ["input privateKey holds a secret in plain text"]),
    (
        "secret-inputs-are-secrets",
        rargs("postgresql:index/role:Role", {"name": "app", "password": "hunter2"}),
        ["input password holds a secret"],
    ),
    (
        "secret-inputs-are-secrets",
        rargs("docker:index/image:Image", {"registry": {"username": "u", "password": "p4ss"}}),
        ["input registry.password holds a secret"],
    ),
    (
        "secret-inputs-are-secrets",
        rargs("docker:index/image:Image", {"registry": {"username": "u", "password": "[secret]"}}),
        [],
    ),
    # secret material pasted into inputs the engine does not report as secret
    ("no-secret-literals", rargs(SF, {"privateKey": "[secret]"}), []),
    ("no-secret-literals", rargs("aws:iam/role:Role", {"name": "rdp-dev-x", "maxSessionDuration": 3600}), []),
    ("no-secret-literals", rargs(SF, {"privateKey": PEM}), ["privateKey contains a PEM private key"]),
    (
        "no-secret-literals",
        rargs("snowflake:index/service:Service", {"spec": {"env": ["postgresql://app:hunter2@db:5432/x"]}}),
        ["spec.env[0] contains a password inside a connection URI"],
    ),
    # a prod-named stack must be configured as prod
    ("prod-stack-environment", StackValidationArgs([res(DB, {}, "db", PROD)], {}), []),
    ("prod-stack-environment", StackValidationArgs([res(DB, {}, "db", DEV)], {}), []),
    ("prod-stack-environment", StackValidationArgs([res(DB, {}, "db", PREPROD)], {}), []),
    (
        "prod-stack-environment",
        StackValidationArgs([res(DB, {}, "db", PROD_EU)], {}),
        ["stack prod-eu: prod stack with an unreadable config"],
    ),
]


@pytest.mark.parametrize(("name", "args", "violations"), CASES)
def test_rule(name, args, violations):
    check(name, args, violations)


@pytest.mark.parametrize(
    ("stack", "prod"),
    [("prod", True), ("production", True), ("prod-eu", True), ("preprod", False), ("dev", False), ("pr-12", False)],
)
def test_prod_is_decided_by_the_stack_name(stack, prod):
    assert is_prod_stack(stack) is prod


def test_exempt_stages_are_the_catalogs_stages():
    """The exemptions name real objects: a renamed stage loses its exemption, it cannot dangle."""
    assert set(EXEMPT_STAGES) == {
        (DASHBOARD.schema("stage"), DASHBOARD.name("stage")),
        (CDC.schema("stage"), CDC.name("stage")),
    }
