"""One stack's credentials never touch another stack, computed from the plans of every stack (infra/isolation.py):
the committed plans pass, and each planted fault is found."""

from __future__ import annotations

import copy

import pytest

from infra import isolation
from tests.conftest import by_type, one

GRANT_ROLE = "snowflake:index/grantAccountRole:GrantAccountRole"


@pytest.fixture(scope="module")
def review(review_stack_plan) -> list[dict]:
    return review_stack_plan


def planted(all_plans: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return copy.deepcopy(all_plans)


def _role_grant(stack: str, name: str, inputs: dict, like: dict) -> dict:
    """A GrantAccountRole record in `stack`'s plan, managed by the same provider as `like`."""
    return {
        "type": GRANT_ROLE,
        "name": name,
        "urn": f"urn:pulumi:{stack}::retail-data-platform::{GRANT_ROLE}::{name}",
        "parent": None,
        "inputs": inputs,
        "dependencies": [],
        "protect": False,
        "provider": like["provider"],
    }


def test_the_committed_plans_and_a_review_stack_are_isolated(all_plans, review):
    assert isolation.check({**all_plans, "pr-12": review}) == []
    m = isolation.build({**all_plans, "pr-12": review})
    # what the check looked at: every stack's users, the account stack's attributed to their environments
    assert {"RDP_DEV_DEPLOYER", "RDP_DEV_SVC_LOADER", "RDP_DEV_PREVIEW"} <= m.users["dev"]
    assert {"RDP_PROD_DEPLOYER", "RDP_PROD_SVC_APP"} <= m.users["prod"]
    # review stacks are the review identity's: its deploy user and what it creates in them
    assert {"RDP_REVIEW_DEPLOYER", "RDP_PR_12_SVC_LOADER"} <= m.users["review"]
    assert m.users["account"] == {"PLATFORM_ADMIN"}
    # dev's deploy user reaches all of dev through its admin role, and nothing of prod
    reached = m.reach("RDP_DEV_DEPLOYER")
    assert ("OWNERSHIP", ("DATABASE", "RDP_DEV_RETAIL")) in reached
    assert not [k for _, k in reached if "RDP_PROD" in k[1]]


def test_destroying_dev_revokes_and_drops_nothing_prod_or_the_account_relies_on(all_plans):
    m = isolation.build(all_plans)
    assert isolation.destroy_impact(m, "dev") == []
    assert len(m.declared["dev"]) > 100 and len(m.grants["dev"]) > 100  # it did simulate something


def test_a_grant_declared_by_two_stacks_is_found_and_destroying_one_would_revoke_it(all_plans):
    plans = planted(all_plans)
    plans["prod"].append(copy.deepcopy(one(plans["dev"], "access-ar-bronze-r-db")))
    found = isolation.check(plans)
    assert "grant ('RDP_DEV_AR_BRONZE_R', 'USAGE', ('DATABASE', 'RDP_DEV_RETAIL')) is declared by dev, prod" in found
    assert any(f.startswith("destroying dev revokes ('RDP_DEV_AR_BRONZE_R'") and "prod declares" in f for f in found)


def test_a_cross_stack_role_grant_is_found(all_plans):
    """dev grants prod's TRANSFORMER role to dev's: every dev user holding dev's TRANSFORMER reaches prod."""
    plans = planted(all_plans)
    like = one(plans["dev"], "access-fr-transformer-to-admin")
    grant = {"roleName": "RDP_PROD_TRANSFORMER", "parentRoleName": "RDP_DEV_TRANSFORMER"}
    plans["dev"].append(_role_grant("dev", "planted", grant, like))
    found = isolation.check(plans)
    assert any(f.startswith("dev's RDP_DEV_SVC_TRANSFORMER reaches prod's ") for f in found), found
    assert any(f.startswith("dev's RDP_DEV_DEPLOYER reaches prod's ") for f in found)


def test_a_role_granted_to_another_stacks_user_is_found(all_plans):
    plans = planted(all_plans)
    like = one(plans["prod"], "access-fr-loader-to-admin")
    plans["prod"].append(
        _role_grant("prod", "planted", {"roleName": "RDP_PROD_LOADER", "userName": "RDP_DEV_SVC_APP"}, like)
    )
    found = isolation.check(plans)
    assert any(f.startswith("dev's RDP_DEV_SVC_APP reaches prod's ") for f in found), found


def test_an_environment_logging_in_with_a_built_in_role_is_found(all_plans):
    """How the stacks were before the account stack: the deploy user with SYSADMIN reaches the other stack."""
    plans = planted(all_plans)
    for r in plans["dev"]:
        if r["type"] == "pulumi:providers:snowflake" and r["name"] == "snowflake-sysadmin":
            r["inputs"]["role"] = "SYSADMIN"
    plans["prod"] = [
        {**r, "inputs": {**r["inputs"], "role": "SYSADMIN"}} if r["name"] == "snowflake-sysadmin" else r
        for r in plans["prod"]
    ]
    found = isolation.check(plans)
    assert "dev's RDP_DEV_DEPLOYER holds built-in SYSADMIN" in found
    assert any(
        f.startswith("dev's RDP_DEV_DEPLOYER reaches prod's ") and "DATABASE RDP_PROD_RETAIL" in f for f in found
    )


def test_a_grant_to_a_built_in_role_is_found(all_plans):
    plans = planted(all_plans)
    like = one(plans["dev"], "access-fr-loader-to-admin")
    plans["dev"].append(
        _role_grant("dev", "planted", {"roleName": "RDP_DEV_LOADER", "parentRoleName": "SYSADMIN"}, like)
    )
    assert "dev grants ROLE on ('ROLE', 'RDP_DEV_LOADER') to built-in SYSADMIN" in isolation.check(plans)


def test_a_stack_using_another_stacks_object_is_found_by_the_destroy_simulation(all_plans):
    """prod's loader would run on dev's warehouse: destroying dev would break prod."""
    plans = planted(all_plans)
    grant = copy.deepcopy(one(plans["prod"], "access-fr-loader-wh"))
    grant["inputs"]["onAccountObject"]["objectName"] = "RDP_DEV_LOAD_WH"
    grant["name"] = "planted"
    plans["prod"].append(grant)
    found = isolation.destroy_impact(isolation.build(plans), "dev")
    assert found == ["destroying dev drops WAREHOUSE RDP_DEV_LOAD_WH, which prod uses"]


def test_ownership_reaches_what_the_owned_user_holds(all_plans):
    """Owning another stack's user is holding its roles (its owner may set its key)."""
    plans = planted(all_plans)
    user = copy.deepcopy(one(plans["prod"], "access-service-user"))
    user["inputs"]["name"] = "RDP_PROD_SVC_LOADER"
    dev_provider = one(plans["dev"], "access-service-user")["provider"]
    user.update(provider=dev_provider, urn=user["urn"].replace("prod", "dev"))
    plans["dev"].append(user)
    found = isolation.check(plans)
    assert "object ('USER', 'RDP_PROD_SVC_LOADER') is declared by dev, prod" in found
    assert any(f.startswith("dev's RDP_DEV_DEPLOYER reaches prod's ") for f in found)


def test_the_grant_targets_and_what_they_cover():
    on_schema = {"onSchemaObject": {"future": {"objectTypePlural": "TABLES", "inSchema": '"DB"."S"'}}}
    (target,) = isolation.grant_targets(on_schema)
    assert target == ("SCHEMA CONTENTS", "DB.S")
    assert isolation.covers(target, ("SCHEMA OBJECT", "DB.S.T"))
    assert not isolation.covers(target, ("SCHEMA OBJECT", "DB.S2.T")) and not isolation.covers(
        target, ("SCHEMA", "DB.S")
    )
    (db,) = isolation.grant_targets({"onSchema": {"allSchemasInDatabase": "DB"}})
    assert isolation.covers(db, ("SCHEMA", "DB.S")) and not isolation.covers(db, ("SCHEMA", "DB2.S"))
    assert isolation.grant_targets({"onAccount": True}) == [("ACCOUNT", "")]
    assert by_type([], "x") == []
