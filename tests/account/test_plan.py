"""The account stack's plan: per environment an admin role with exactly the account privileges it needs,
its monitor and the procedure that attaches it, its deploy user; the account parameters; the review
identity. And its config: every environment it hosts lives in its account."""

from __future__ import annotations

import json

import pytest

from infra.account.catalog import ACCOUNT_PARAMETERS, ENVIRONMENT_PRIVILEGES, REVIEW_PRIVILEGES
from infra.account.config import check_hosted
from infra.config.reader import ConfigError, account_config, own_keys, parse_account_config, read_stack_file
from infra.config.reader import stack_config as env_config
from tests.conftest import by_type, one

GRANTS = "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"


def _grants_to(plan: list[dict], role: str) -> list[dict]:
    return [r["inputs"] for r in by_type(plan, GRANTS) if r["inputs"]["accountRoleName"] == role]


def _provider_roles(plan: list[dict]) -> dict[str, str]:
    return {r["urn"]: r["inputs"]["role"] for r in plan if r["type"] == "pulumi:providers:snowflake"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_environment_gets_an_admin_role_with_exactly_its_account_privileges(account_plan, stack):
    admin = f"RDP_{stack.upper()}_ADMIN"
    grants = _grants_to(account_plan, admin)
    on_account = [g for g in grants if g.get("onAccount")]
    assert sorted(p for g in on_account if not g.get("withGrantOption") for p in g["privileges"]) == sorted(
        ENVIRONMENT_PRIVILEGES
    )
    assert [g["privileges"] for g in on_account if g.get("withGrantOption")] == [["BIND SERVICE ENDPOINT"]]
    assert "MANAGE GRANTS" not in json.dumps(grants)  # no power over objects it did not create
    # beyond the account: USAGE on its own monitor procedure (and the database and schemas holding it) and APPLY
    # on its own budget tag, only
    others = sorted(
        (g["privileges"], json.dumps(g.get("onAccountObject") or g.get("onSchema") or g.get("onSchemaObject")))
        for g in grants
        if not g.get("onAccount")
    )
    assert [p for p, _ in others] == [["APPLY"]] + [["USAGE"]] * 4
    assert any(f"ATTACH_RDP_{stack.upper()}_MONITOR" in on for _, on in others)
    assert f"RDP_{stack.upper()}_COST_SCOPE" in others[0][1] and '"TAG"' in others[0][1]
    roll_up = one(account_plan, f"{stack}-admin-to-sysadmin")["inputs"]
    assert roll_up == {"roleName": admin, "parentRoleName": "SYSADMIN"}  # the account's admins keep sight of it


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_deploy_user_logs_in_only_from_the_runners_with_its_admin_role(account_plan, stack):
    env = env_config(stack)
    user = one(account_plan, f"{stack}-deployer")["inputs"]
    assert user["name"] == env.snowflake.deploy_user == f"RDP_{stack.upper()}_DEPLOYER"
    assert user["defaultRole"] == f"RDP_{stack.upper()}_ADMIN" and user["defaultSecondaryRolesOption"] == "NONE"
    assert user["rsaPublicKey"] == account_config("account").environments[stack].public_key
    rule = one(account_plan, f"{stack}-deployer-ingress")["inputs"]
    assert rule["valueLists"] == env.ci.runner_cidrs and rule["mode"] == "INGRESS"
    assert user["networkPolicy"] == one(account_plan, f"{stack}-deployer-policy")["inputs"]["name"]
    assert one(account_plan, f"{stack}-admin-to-deployer")["inputs"] == {
        "roleName": f"RDP_{stack.upper()}_ADMIN",
        "userName": user["name"],
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_monitor_comes_from_the_environments_config_and_only_its_warehouses_can_be_attached(account_plan, stack):
    env, n = env_config(stack), stack.upper()
    mon = one(account_plan, f"{stack}-monitor")
    assert mon["inputs"]["name"] == f"RDP_{n}_MONITOR"
    assert mon["inputs"]["creditQuota"] == env.resource_monitor.credit_quota
    assert mon["inputs"]["suspendImmediateTrigger"] == env.resource_monitor.suspend_immediate_at
    proc = one(account_plan, f"{stack}-attach-monitor")
    body = proc["inputs"]["procedureDefinition"]
    assert proc["inputs"]["executeAs"] == "OWNER" and proc["inputs"]["name"] == f"ATTACH_RDP_{n}_MONITOR"
    assert f"IN ('RDP_{n}_LOAD_WH', 'RDP_{n}_TRANSFORM_WH', 'RDP_{n}_SERVE_WH')" in body
    assert f"SET RESOURCE_MONITOR = RDP_{n}_MONITOR" in body and "RAISE not_ours" in body
    # only the account administrator may assign a monitor: the procedure and the monitor are ACCOUNTADMIN's
    roles = _provider_roles(account_plan)
    assert roles[proc["provider"]] == roles[mon["provider"]] == "ACCOUNTADMIN"


def test_the_account_parameters_stop_unloads_to_urls_and_stages_without_an_integration(account_plan):
    params = {
        r["inputs"]["key"]: r["inputs"]["value"] for r in by_type(account_plan, "accountParameter:AccountParameter")
    }
    assert params == ACCOUNT_PARAMETERS
    assert params["PREVENT_UNLOAD_TO_INLINE_URL"] == "true"
    assert params["REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION"] == "true"


def test_the_review_identity_may_create_but_is_granted_nothing_of_an_environment(account_plan):
    grants = _grants_to(account_plan, "RDP_REVIEW_ADMIN")
    assert all(g["onAccount"] is True for g in grants)
    assert sorted(p for g in grants for p in g["privileges"]) == sorted(REVIEW_PRIVILEGES)
    # no task, running alert, Postgres instance, compute pool or service in a review stack: none of their privileges
    assert not {
        "EXECUTE TASK",
        "EXECUTE ALERT",
        "CREATE POSTGRES INSTANCE",
        "CREATE COMPUTE POOL",
        "BIND SERVICE ENDPOINT",
    } & set(REVIEW_PRIVILEGES)
    assert one(account_plan, "review-deployer")["inputs"]["name"] == "RDP_REVIEW_DEPLOYER"
    role = one(account_plan, "review-aws-review")["inputs"]
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"].endswith(":environment:review")
    statements = json.loads(one(account_plan, "review-aws-review-policy")["inputs"]["policy"])["Statement"]
    arns = [
        a
        for st in statements
        if st["Effect"] == "Allow"
        for a in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
    ]
    assert all("rdp-pr-" in a or a == "*" for a in arns)
    assert one(account_plan, "review-aws-boundary")["inputs"]["name"] == "rdp-review-ci-boundary"


def test_only_the_account_stack_logs_in_with_built_in_roles(all_plans):
    builtin = {"SYSADMIN", "SECURITYADMIN", "ACCOUNTADMIN", "USERADMIN", "ORGADMIN"}
    for stack, plan in all_plans.items():
        roles = set(_provider_roles(plan).values())
        assert (roles <= builtin) if stack == "account" else not roles & builtin, (stack, roles)


def _values(**changes: object) -> dict:
    values, secret = read_stack_file("account")
    own, _ = own_keys(values, set(secret))
    for key, value in changes.items():
        own[key] = json.dumps(value)
    return own


def test_the_account_config_is_checked_naming_its_keys():
    assert parse_account_config(_values(), "account").environments.keys() == {"dev", "prod"}
    key = json.loads(_values()["environments"])["dev"]["publicKey"]
    with pytest.raises(ConfigError, match=r"environments: .*prod\.publicKey is the same key as dev\.publicKey"):
        parse_account_config(_values(environments={"dev": {"publicKey": key}, "prod": {"publicKey": key}}), "account")
    with pytest.raises(ConfigError, match=r"environments\.dev\.publicKey: .*RSA public key"):
        parse_account_config(_values(environments={"dev": {"publicKey": "nope"}}), "account")
    with pytest.raises(ConfigError, match=r"snowflake\.adminUser"):
        parse_account_config(_values(snowflake={"organization": "O", "account": "A"}), "account")
    with pytest.raises(ConfigError, match="is the account stack"):
        from infra.config.reader import parse_config

        parse_config(_values(), "account")


def test_an_environment_in_another_account_is_refused_naming_both_keys():
    cfg = account_config("account")
    prod = env_config("prod")
    moved = prod.model_copy(update={"snowflake": prod.snowflake.model_copy(update={"account": "RETAIL_PROD"})})
    with pytest.raises(
        ValueError, match=r"environments\.prod: Pulumi\.prod\.yaml's snowflake\.account is RETAILORG\.RETAIL_PROD"
    ):
        check_hosted(cfg, {"prod": moved})
    # one account per environment: an account stack of its own lists only that environment
    own = cfg.model_copy(update={"snowflake": cfg.snowflake.model_copy(update={"account": "RETAIL_PROD"})})
    check_hosted(own, {"prod": moved})


CREATES = {
    "DATABASE": "CREATE DATABASE",
    "WAREHOUSE": "CREATE WAREHOUSE",
    "ROLE": "CREATE ROLE",
    "USER": "CREATE USER",
    "INTEGRATION": "CREATE INTEGRATION",
    "NETWORK POLICY": "CREATE NETWORK POLICY",
    "COMPUTE POOL": "CREATE COMPUTE POOL",
    "POSTGRES INSTANCE": "CREATE POSTGRES INSTANCE",
}


def _account_privileges_used(plan: list[dict]) -> set[str]:
    """The account privileges a plan's deployment needs: CREATE per account-level object it makes, EXECUTE
    TASK for a started task, EXECUTE ALERT for an enabled alert, BIND SERVICE ENDPOINT to hand on to the API's
    owner role."""
    from infra.isolation import object_key

    kinds = {key[0] for r in plan if (key := object_key(r))}
    used = {CREATES[k] for k in kinds if k in CREATES}
    if any(r["type"].endswith("/task:Task") and r["inputs"].get("started") for r in plan):
        used.add("EXECUTE TASK")
    if any(r["type"].endswith("/alert:Alert") and r["inputs"].get("enabled") for r in plan):
        used.add("EXECUTE ALERT")
    return used


def test_the_admin_roles_hold_exactly_the_account_privileges_the_environments_use(plans):
    used = _account_privileges_used(plans["dev"]) | _account_privileges_used(plans["prod"])
    assert used == set(ENVIRONMENT_PRIVILEGES)  # nothing missing for a first `up`, nothing unused


def test_a_review_stack_has_no_postgres_pool_or_services_and_its_identity_may_create_what_it_makes(
    review_stack_plan,
):
    plan = review_stack_plan
    types = {r["type"].split(":")[-1] for r in plan}
    assert not types & {"PostgresInstance", "ComputePool", "Service", "Image", "ExternalAccessIntegration"}
    assert "Table" in types and any(r["type"] == "aws:dynamodb/table:Table" for r in plan)
    assert _account_privileges_used(plan) <= set(REVIEW_PRIVILEGES)
