"""Who CI runs as: a read-only preview identity and a deploy role per environment, and the login the
providers use in each case (the review identity is the account stack's: tests/account)."""

from __future__ import annotations

import json
import sys

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from infra.arns import ACCOUNT_ID, arn
from infra.config.reader import ConfigError, parse_config
from infra.grants import PREVIEW_READS
from infra.iam import BOUNDED_IAM_ACTIONS, READ_ACTIONS, WRITE_ACTIONS
from infra.iam_lint import action_resource_types
from infra.naming import Naming
from infra.providers import ROLES, login_for
from tests import background
from tests.conftest import by_type, one
from tests.foundation.test_config import _nested, raw

WRITES = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "OWNERSHIP", "OPERATE", "MODIFY"}


def _grants_to(plan: list[dict], role: str) -> list[dict]:
    grants = by_type(plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
    return [g["inputs"] for g in grants if g["inputs"]["accountRoleName"] == role]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_role_can_look_but_not_touch(plans, stack):
    grants = _grants_to(plans[stack], f"RDP_{stack.upper()}_PREVIEWER")
    for g in grants:
        assert g["privileges"] in (["USAGE"], ["MONITOR"], ["REFERENCES"]), g
        assert not set(g["privileges"]) & WRITES and "onAccount" not in g, g
    kinds = sorted(g["onAccountObject"]["objectType"] for g in grants if "onAccountObject" in g)
    assert kinds == ["DATABASE", "WAREHOUSE", "WAREHOUSE", "WAREHOUSE"]
    # on every schema: USAGE, and PREVIEW_READS on what exists and what will (tests/foundation/test_metadata_reads.py
    # derives from the plan that this shows every object a refresh reads)
    schemas = {g["onSchema"]["schemaName"] for g in grants if "onSchema" in g}
    declared = {
        f'"{r["inputs"]["database"]}"."{r["inputs"]["name"]}"'
        for r in by_type(plans[stack], "/schema:Schema")
        if r["type"].startswith("snowflake:")
    }
    assert schemas == declared and len(schemas) == 8  # the foundation's six and the dbt layer's two
    assert all(g["privileges"] == ["USAGE"] for g in grants if "onSchema" in g)
    bulk = {
        (scope, on[scope]["inSchema"], on[scope]["objectTypePlural"], g["privileges"][0])
        for g in grants
        if (on := g.get("onSchemaObject"))
        for scope in on
    }
    assert bulk == {
        (scope, schema, plural, privilege)
        for scope in ("all", "future")
        for schema in schemas
        for plural, privilege in PREVIEW_READS.items()
    }
    user = one(plans[stack], "ci-preview-user")["inputs"]
    assert user["name"] == f"RDP_{stack.upper()}_PREVIEW" and user["defaultSecondaryRolesOption"] == "NONE"
    assert user["networkPolicy"] == f"RDP_{stack.upper()}_CI_POLICY"


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _reaches_only(st: dict, prefix: str) -> bool:
    """Every Resource names the stack's `prefix`, or is `*` for actions that take no resource type at all
    (IAM's service reference, as parliament ships it), which no narrower Resource would grant."""
    arns = _listed(st["Resource"])
    if "*" not in arns:
        return all(prefix in arn for arn in arns)
    return arns == ["*"] and all(not action_resource_types(a) for a in _listed(st["Action"]))


def _role_policy(plan: list[dict], key: str) -> tuple[dict, list[dict]]:
    role = one(plan, f"ci-aws-{key}")["inputs"]
    doc = json.loads(one(plan, f"ci-aws-{key}-policy")["inputs"]["policy"])
    return json.loads(role["assumeRolePolicy"])["Statement"][0], doc["Statement"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_aws_roles_trust_one_environment_and_reach_only_the_stacks_names(plans, stack):
    plan = plans[stack]
    for key, environment in (("preview", f"preview-{stack}"), ("deploy", stack)):
        trust, statements = _role_policy(plan, key)
        cond = trust["Condition"]["StringEquals"]
        assert (
            cond["token.actions.githubusercontent.com:sub"]
            == f"repo:acme/retail-data-platform:environment:{environment}"
        )
        assert trust["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
        allowed = [st for st in statements if st["Effect"] == "Allow"]
        for st in allowed:
            assert _reaches_only(st, f"rdp-{stack}-"), st
        actions = {a for st in allowed for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
        secrets = [st["Resource"] for st in allowed if st["Action"] == "secretsmanager:GetSecretValue"]
        if key == "preview":
            assert actions == {a for acts in READ_ACTIONS.values() for a in acts} and not secrets
            assert not actions & {a for acts in WRITE_ACTIONS.values() for a in acts}
        else:  # the deploy role reads back only the loads' connection secrets it writes
            assert secrets == [f"arn:aws:secretsmanager:*:123456789012:secret:rdp-{stack}-postgres-*"]
    # the CI roles live under /ci/, outside role/rdp-<stack>-*: the deploy role cannot rewrite itself
    assert {one(plan, f"ci-aws-{k}")["inputs"]["path"] for k in ("preview", "deploy")} == {"/ci/"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ci_can_create_roles_only_inside_the_stacks_boundary(plans, stack):
    """Without the boundary a deploy (or a PR's review) identity that may create roles could mint an
    administrator; with it, no role it creates or edits can do more than the stack's own roles."""
    plan = plans[stack]
    boundary = one(plan, "ci-aws-boundary")["inputs"]
    assert boundary["path"] == "/ci/" and boundary["name"] == f"rdp-{stack}-ci-boundary"
    boundary_actions = {
        a
        for st in json.loads(boundary["policy"])["Statement"]
        for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    }
    assert boundary_actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "sns:Publish",
        "dynamodb:GetItem",
        "dynamodb:Query",  # the website's reads
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:DescribeTable",
    }
    arn = f"arn:aws:iam::123456789012:policy/ci/rdp-{stack}-ci-boundary"
    _, statements = _role_policy(plan, "deploy")
    bounded = [st for st in statements if st["Action"] == BOUNDED_IAM_ACTIONS]
    assert bounded and bounded[0]["Condition"] == {"ArnEquals": {"iam:PermissionsBoundary": arn}}
    assert {"Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"} in statements
    unbounded = {
        a
        for st in statements
        if "Condition" not in st and st["Effect"] == "Allow"
        for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    }
    assert not unbounded & set(BOUNDED_IAM_ACTIONS)
    # and every role the stack creates carries it
    for role in by_type(plan, "aws:iam/role:Role"):
        if role["inputs"].get("path") != "/ci/":
            assert role["inputs"]["permissionsBoundary"] == arn, role["name"]


def test_the_login_per_identity():
    n = Naming("RDP", "prod")
    deploy = login_for(n, "RDP", "prod", "RDP_PROD_DEPLOYER", env={})
    assert deploy.user == "RDP_PROD_DEPLOYER" and not deploy.preview
    assert deploy.roles == dict.fromkeys(ROLES, "RDP_PROD_ADMIN")  # its own admin role, no built-in one
    preview = login_for(n, "RDP", "prod", "RDP_PROD_DEPLOYER", env={"RDP_IDENTITY": "preview"})
    assert preview.user == "RDP_PROD_PREVIEW" and set(preview.roles.values()) == {"RDP_PROD_PREVIEWER"}
    review = login_for(Naming("RDP", "pr-12"), "RDP", "review", "RDP_REVIEW_DEPLOYER", env={})
    assert review.user == "RDP_REVIEW_DEPLOYER" and set(review.roles.values()) == {"RDP_REVIEW_ADMIN"}
    with pytest.raises(ValueError, match="RDP_IDENTITY='admin': expected 'deploy' or 'preview'"):
        login_for(n, "RDP", "prod", "RDP_PROD_DEPLOYER", env={"RDP_IDENTITY": "admin"})


def test_a_preview_plan_logs_every_provider_in_read_only():
    out = background.result(PREVIEW)
    out.check_returncode()
    providers = [r["inputs"] for r in json.loads(out.stdout) if r["type"] == "pulumi:providers:snowflake"]
    assert len(providers) == 4
    assert {(p["user"], p["role"]) for p in providers} == {("RDP_PROD_PREVIEW", "RDP_PROD_PREVIEWER")}


PREVIEW = background.command(
    "prod-preview",
    [sys.executable, "-m", "infra.plan", "--stack", "prod", "--format", "json"],
    test_a_preview_plan_logs_every_provider_in_read_only,
    env={"RDP_IDENTITY": "preview"},
)


def _review_config() -> dict:
    values = raw("dev")
    values["environment"] = "review"
    sf = json.loads(values["snowflake"])
    values["snowflake"] = json.dumps({**sf, "deployUser": "RDP_REVIEW_DEPLOYER"})
    return values


def test_a_review_stack_deploys_as_the_review_identity_with_no_task_running():
    assert parse_config(_review_config(), "pr-12").environment == "review"
    values = _review_config()
    values["snowflake"] = json.dumps({**json.loads(values["snowflake"]), "deployUser": "RDP_DEV_DEPLOYER"})
    with pytest.raises(ConfigError, match="must be the review identity RDP_REVIEW_DEPLOYER"):
        parse_config(values, "pr-12")
    values = _review_config()
    values["cdc"] = json.dumps({**json.loads(values["cdc"]), "taskEnabled": True})
    with pytest.raises(ConfigError, match=r"cdc\.taskEnabled must be false in a review stack"):
        parse_config(values, "pr-12")


def test_the_review_identity_keys_moved_to_the_account_stack():
    values = _nested("dev", "ci", ["reviewStacks"], True)
    with pytest.raises(ConfigError, match=r"reviewStacks: the review identity moved to the account stack"):
        parse_config(values, "dev")


# What `pulumi refresh` calls to read back a role (with its inline policy) and a managed policy, and what
# would let a CI role change one: evaluated by moto's IAM evaluator, as tests/foundation/test_aws_isolation.py does.
REFRESH_READS = {
    "aws:iam/role:Role": ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetRolePolicy"],
    "aws:iam/policy:Policy": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
}
SELF_EDITS = {
    "aws:iam/role:Role": [
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:UpdateRole",
        "iam:DeleteRole",
        "iam:TagRole",
    ],
    "aws:iam/policy:Policy": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"],
}


def _ci_iam_arns(plan: list[dict]) -> dict[str, str]:
    """ARN → type of the roles and policies under /ci/ the stack declares (its CI roles and boundary)."""
    return {
        arn(r["type"], r["name"], r["inputs"], ACCOUNT_ID, "us-east-1"): r["type"]
        for r in plan
        if r["type"] in REFRESH_READS and r["inputs"].get("path") == "/ci/"
    }


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_the_deploy_role_reads_back_its_own_ci_roles_and_boundary_but_cannot_change_them(plans, stack, other):
    def verdict(doc: str, action: str, target: str) -> PermissionResult:
        return IAMPolicy(doc).is_action_permitted(action, target)

    own, theirs = _ci_iam_arns(plans[stack]), _ci_iam_arns(plans[other])
    assert sorted(own.values()) == ["aws:iam/policy:Policy", "aws:iam/role:Role", "aws:iam/role:Role"]
    for key in ("deploy", "preview"):
        doc = one(plans[stack], f"ci-aws-{key}-policy")["inputs"]["policy"]
        for target, typ in own.items():
            for action in REFRESH_READS[typ]:
                assert verdict(doc, action, target) is PermissionResult.PERMITTED, (key, action, target)
            for action in SELF_EDITS[typ]:
                assert verdict(doc, action, target) is not PermissionResult.PERMITTED, (key, action, target)
        for target, typ in theirs.items():  # and nothing of the other environment's
            for action in REFRESH_READS[typ] + SELF_EDITS[typ]:
                assert verdict(doc, action, target) is not PermissionResult.PERMITTED, (key, action, target)
