"""Moving a deployed stack to its own admin role (infra/handover.py): from a plan as it was deployed before
the account stack (built-in roles, its own monitor, the review identity) to the committed one."""

from __future__ import annotations

import copy

import pytest

from infra import handover
from infra.policy.general import STATEFUL_TYPES
from tests.conftest import one

BUILTIN = {
    "snowflake-sysadmin": "SYSADMIN",
    "snowflake-securityadmin": "SECURITYADMIN",
    "snowflake-accountadmin": "ACCOUNTADMIN",
}


def _record(plan: list[dict], like: str, typ: str, name: str, inputs: dict, provider: str) -> dict:
    base = one(plan, like)
    providers = {r["name"]: r["urn"] for r in plan if r["type"] == "pulumi:providers:snowflake"}
    urn = base["urn"].rsplit("::", 2)[0] + f"::{typ}::{name}"
    return {
        **copy.deepcopy(base),
        "type": typ,
        "name": name,
        "urn": urn,
        "inputs": inputs,
        "provider": providers[provider],
    }


@pytest.fixture(scope="module")
def deployed(plans) -> list[dict]:
    """dev as deployed before: providers with built-in roles, its own monitor attached as ACCOUNTADMIN, EXECUTE
    TASK granted to SYSADMIN, and the review identity's role."""
    old = copy.deepcopy(plans["dev"])
    for r in old:
        if r["type"] == "pulumi:providers:snowflake" and r["name"] in BUILTIN:
            r["inputs"]["role"] = BUILTIN[r["name"]]
    mon = "snowflake:index/resourceMonitor:ResourceMonitor"
    old.append(
        _record(
            old, "foundation-wh-load", mon, "foundation-monitor", {"name": "RDP_DEV_MONITOR"}, "snowflake-accountadmin"
        )
    )
    attach = {"execute": 'ALTER WAREHOUSE "RDP_DEV_LOAD_WH" SET RESOURCE_MONITOR = "RDP_DEV_MONITOR"'}
    old.append(
        _record(
            old,
            "foundation-wh-load",
            "snowflake:index/execute:Execute",
            "foundation-wh-load-monitor",
            attach,
            "snowflake-accountadmin",
        )
    )
    grant = {"accountRoleName": "SYSADMIN", "privileges": ["EXECUTE TASK"], "onAccount": True}
    grants = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
    old.append(
        _record(old, "foundation-wh-load", grants, "foundation-sysadmin-execute-task", grant, "snowflake-securityadmin")
    )
    role = {"name": "RDP_REVIEW_ADMIN"}
    old.append(
        _record(
            old,
            "ci-preview-role",
            "snowflake:index/accountRole:AccountRole",
            "ci-review-role",
            role,
            "snowflake-securityadmin",
        )
    )
    return old


def test_what_moved_or_only_an_account_admin_may_undo_is_forgotten_not_dropped_by_the_stack(
    plans, account_plan, deployed
):
    steps = handover.released(deployed, plans["dev"], account_plan, "dev")
    names = sorted(u.rsplit("::", 1)[1] for u in steps.forget)
    assert names == [
        "ci-review-role",
        "foundation-monitor",
        "foundation-sysadmin-execute-task",
        "foundation-wh-load-monitor",
    ]
    # what moved is removed for the account stack to make it; the hand-made deploy user too
    assert steps.drop == [
        'DROP RESOURCE MONITOR IF EXISTS "RDP_DEV_MONITOR";',
        'DROP ROLE IF EXISTS "RDP_REVIEW_ADMIN";',
        'DROP USER IF EXISTS "RDP_DEV_DEPLOYER";',
    ]
    assert steps.revoke == ['REVOKE EXECUTE TASK ON ACCOUNT FROM ROLE "SYSADMIN";']
    forgotten = {u.split("::")[-2].split("$")[-1] for u in steps.forget}
    assert not forgotten & STATEFUL_TYPES  # nothing holding data leaves Pulumi's care


def test_every_object_a_built_in_role_made_is_handed_to_the_admin_role_with_its_grants(plans, deployed):
    sql = handover.ownership_sql(deployed, plans["dev"], "RDP_DEV_ADMIN")
    assert all(s.endswith('TO ROLE "RDP_DEV_ADMIN" COPY CURRENT GRANTS;') for s in sql)
    assert 'GRANT OWNERSHIP ON DATABASE "RDP_DEV_RETAIL" TO ROLE "RDP_DEV_ADMIN" COPY CURRENT GRANTS;' in sql
    assert any(s.startswith('GRANT OWNERSHIP ON TABLE "RDP_DEV_RETAIL"."SILVER"."CUSTOMER" ') for s in sql)
    assert any(
        s.startswith('GRANT OWNERSHIP ON ALL PROCEDURES IN SCHEMA "RDP_DEV_RETAIL"."STREAMS_TASKS" ') for s in sql
    )
    assert any(s.startswith('GRANT OWNERSHIP ON WAREHOUSE "RDP_DEV_LOAD_WH" ') for s in sql)
    assert not any("RDP_REVIEW_ADMIN" in s or "RDP_DEV_MONITOR" in s for s in sql)  # moved: not handed over
    assert not any("SERVICE " in s for s in sql)  # the services are the API owner role's already
    # every table the stack declares is in it: nothing is left to a built-in role
    tables = {r["inputs"]["name"] for r in plans["dev"] if r["type"] == "snowflake:index/table:Table"}
    assert all(any(f'."{t}" TO ROLE' in s for s in sql) for t in tables)


def test_the_printed_procedure_runs_in_order(plans, account_plan, deployed):
    text = handover.handover(deployed, plans["dev"], account_plan, "dev", "RDP_DEV_ADMIN")
    order = [
        "pulumi state delete",
        "DROP ROLE",
        "pulumi up --stack account",
        "GRANT OWNERSHIP",
        "REVOKE",
        "pulumi up --refresh --stack dev",
    ]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert "DROP DATABASE" not in text and "DROP TABLE" not in text


def test_a_stack_deployed_already_under_its_own_role_needs_nothing(plans, account_plan):
    steps = handover.released(plans["dev"], plans["dev"], account_plan, "dev")
    assert steps.forget == [] and steps.revoke == []
    assert handover.ownership_sql(plans["dev"], plans["dev"], "RDP_DEV_ADMIN") == []
    text = handover.handover(plans["dev"], plans["dev"], account_plan, "dev", "RDP_DEV_ADMIN")
    assert text == "# nothing to do: dev already deploys with its own roles at that commit\n"  # no DROP USER
