"""Fine-grained assertions on the offline plans of dev and prod: names, roles, privileges, protection."""

from __future__ import annotations

import json

import pytest

from infra.foundation.access import FUNCTIONAL_ROLES, SERVICE_DUTY_ROLES
from infra.foundation.catalog import SCHEMAS
from infra.ingestion.dbt_catalog import SCHEMAS as DBT_SCHEMAS
from tests.conftest import by_type, one

NAME_KEYS = ("name", "bucket")


def physical_names(plan: list[dict]) -> set[str]:
    """Every physical name a plan would create, schema-level ones fully qualified."""
    names = set()
    # Postgres objects live inside the stack's own instance, so they are qualified by its host.
    pg_host = {r["urn"]: r["inputs"].get("host") for r in plan if r["type"] == "pulumi:providers:postgresql"}
    for r in plan:
        if r["type"].startswith(("pulumi:", "retail:")):
            continue
        inp = r["inputs"]
        for key in NAME_KEYS:
            if key in inp and isinstance(inp[key], str):
                parts = [inp.get("database"), inp.get("schema"), inp[key]]
                if r["type"].startswith("postgresql:"):
                    parts.insert(0, pg_host[r["provider"]])
                names.add(".".join(p for p in parts if p))
    return names


def test_dev_and_prod_share_no_physical_name(plans):
    dev, prod = physical_names(plans["dev"]), physical_names(plans["prod"])
    assert len(dev) > 20 and len(prod) > 20
    assert dev.isdisjoint(prod), sorted(dev & prod)


def test_every_component_child_has_a_parent(plans):
    for r in plans["prod"]:
        assert r["parent"], f"{r['type']} {r['name']} has no parent"
        if r["type"].startswith("retail:"):
            continue
        assert "::retail:" in r["urn"], f"{r['name']} is not under a component"


def test_layer_schemas_and_warehouses(plans):
    prod = plans["prod"]
    sf_schemas = [r for r in by_type(prod, "/schema:Schema") if r["type"].startswith("snowflake:")]
    # the layers' schemas are the foundation's; the dbt layer declares its own two beside them
    foundation = {r["inputs"]["name"] for r in sf_schemas if r["name"].startswith("foundation-")}
    assert foundation == set(SCHEMAS)
    assert {r["inputs"]["name"] for r in sf_schemas} == set(SCHEMAS) | set(DBT_SCHEMAS)
    assert all(r["inputs"]["database"] == "RDP_PROD_RETAIL" for r in sf_schemas)
    whs = {r["inputs"]["name"]: r["inputs"] for r in by_type(prod, "/warehouse:Warehouse")}
    assert whs["RDP_PROD_TRANSFORM_WH"]["warehouseSize"] == "MEDIUM"
    assert all(w["autoResume"] == "true" and w["autoSuspend"] <= 600 for w in whs.values())
    dev_whs = {r["inputs"]["name"]: r["inputs"] for r in by_type(plans["dev"], "/warehouse:Warehouse")}
    assert dev_whs["RDP_DEV_TRANSFORM_WH"]["warehouseSize"] == "XSMALL"


def test_each_warehouse_is_attached_through_the_account_stacks_procedure(plans):
    prod = plans["prod"]
    assert not by_type(prod, "/resourceMonitor:ResourceMonitor")  # the account stack's (tests/account)
    for purpose in ("load", "transform", "serve"):
        att = one(prod, f"foundation-wh-{purpose}-attach")
        wh = one(prod, f"foundation-wh-{purpose}")
        assert att["inputs"]["execute"] == (
            f"""CALL "RDP_ACCOUNT_ADMIN"."MONITORS"."ATTACH_RDP_PROD_MONITOR"('{wh["inputs"]["name"]}')"""
        )
        assert wh["urn"] in att["dependencies"]
        assert att["provider"].endswith("snowflake-sysadmin") and wh["provider"].endswith("snowflake-sysadmin")


def test_prod_protects_database_and_schemas_dev_does_not(plans):
    for stack, expected in (("prod", True), ("dev", False)):
        for r in by_type(plans[stack], "/database:Database") + by_type(plans[stack], "/schema:Schema"):
            assert r["protect"] is expected, (stack, r["name"])


def test_roles_and_grants_are_managed_by_securityadmin(plans):
    for r in plans["prod"]:
        if r["type"].startswith(
            ("snowflake:index/accountRole", "snowflake:index/grant", "snowflake:index/serviceUser")
        ):
            assert r["provider"].endswith("snowflake-securityadmin"), r["name"]
        if r["type"].startswith("snowflake:") and r["type"].endswith(
            ("/database:Database", "/schema:Schema", "/warehouse:Warehouse")
        ):
            assert r["provider"].endswith("snowflake-sysadmin"), r["name"]


def _inherits(plan: list[dict]) -> set[tuple[str, str]]:
    return {
        (r["inputs"]["roleName"], r["inputs"].get("parentRoleName") or "user:" + r["inputs"].get("userName", ""))
        for r in by_type(plan, "/grantAccountRole:GrantAccountRole")
    }


def test_functional_roles_get_exactly_their_access_roles(plans):
    edges = _inherits(plans["prod"])
    for fr, spec in FUNCTIONAL_ROLES.items():
        role = f"RDP_PROD_{fr}"
        got = {child for child, parent in edges if parent == role}
        want = {f"RDP_PROD_AR_{s}_R" for s in spec["read"]} | {f"RDP_PROD_AR_{s}_RW" for s in spec["write"]}
        assert got == want, fr
        assert (role, "RDP_PROD_ADMIN") in edges  # rolled up to the stack's own admin role
    assert ("RDP_PROD_AR_BRONZE_R", "RDP_PROD_AR_BRONZE_RW") in edges
    # the loader cannot write silver, the analyst cannot write anything
    assert ("RDP_PROD_AR_SILVER_RW", "RDP_PROD_LOADER") not in edges
    assert not any(p == "RDP_PROD_ANALYST" and c.endswith("_RW") for c, p in edges)


def _grants(plan: list[dict], role: str) -> list[dict]:
    return [
        r["inputs"]
        for r in by_type(plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if r["inputs"]["accountRoleName"] == role
    ]


def test_which_role_gets_which_privilege(plans):
    prod = plans["prod"]
    read = _grants(prod, "RDP_PROD_AR_GOLD_R")
    assert {
        "accountRoleName": "RDP_PROD_AR_GOLD_R",
        "privileges": ["USAGE"],
        "onSchema": {"schemaName": '"RDP_PROD_RETAIL"."GOLD"'},
    } in read
    assert {
        "accountRoleName": "RDP_PROD_AR_GOLD_R",
        "privileges": ["USAGE"],
        "onAccountObject": {"objectName": "RDP_PROD_RETAIL", "objectType": "DATABASE"},
    } in read
    futures = [g for g in read if "future" in g.get("onSchemaObject", {})]
    assert {g["onSchemaObject"]["future"]["objectTypePlural"] for g in futures} == {
        "TABLES",
        "VIEWS",
        "DYNAMIC TABLES",
        "STREAMS",
    }
    assert all(g["privileges"] == ["SELECT"] for g in futures)
    write = _grants(prod, "RDP_PROD_AR_BRONZE_RW")
    # the writers' DML on future tables, and no DDL: the pipe, its stage and tables are declared
    assert [g["privileges"] for g in write] == [["INSERT", "UPDATE", "DELETE", "TRUNCATE"]]
    assert not any("CREATE PIPE" in g["privileges"] for g in _grants(prod, "RDP_PROD_AR_GOLD_R"))
    wh = [g for g in _grants(prod, "RDP_PROD_LOADER") if "onAccountObject" in g]
    assert wh == [
        {
            "accountRoleName": "RDP_PROD_LOADER",
            "privileges": ["USAGE", "OPERATE"],
            "onAccountObject": {"objectName": "RDP_PROD_LOAD_WH", "objectType": "WAREHOUSE"},
        }
    ]


def test_future_grants_only_at_schema_level(plans):
    for stack in plans:
        for r in by_type(plans[stack], "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"):
            obj = r["inputs"].get("onSchemaObject", {})
            for kind in ("future", "all"):
                if kind in obj:
                    assert "inSchema" in obj[kind] and "inDatabase" not in obj[kind], r["name"]


def test_a_service_user_per_duty_with_only_its_role_and_a_network_policy(plans):
    prod = plans["prod"]
    users = {
        u["inputs"]["name"]: u["inputs"]
        for u in by_type(prod, "/serviceUser:ServiceUser")
        if u["name"].startswith("access-")
    }
    assert set(users) == {f"RDP_PROD_SVC_{d}" for d in ("LOADER", "TRANSFORMER", "APP", "REGISTRY")}
    keys = {u["rsaPublicKey"] for u in users.values()}
    assert len(keys) == 4 and all(len(k) > 300 for k in keys)  # a key of its own per duty
    assert all("password" not in u for u in users.values())
    assert {u["defaultSecondaryRolesOption"] for u in users.values()} == {"NONE"}
    assert {u["networkPolicy"] for u in users.values()} == {
        f"RDP_PROD_SVC_{d}_POLICY" for d in ("LOADER", "TRANSFORMER", "APP", "REGISTRY")
    }
    edges = _inherits(prod)
    held = {u: {c for c, p in edges if p == f"user:{u}"} for u in users}
    assert held == {
        "RDP_PROD_SVC_LOADER": {"RDP_PROD_LOADER", "RDP_PROD_CDC_WRITER"},  # the change generator writes too
        "RDP_PROD_SVC_TRANSFORMER": {"RDP_PROD_TRANSFORMER", "RDP_PROD_DBT"},  # dbt's own duty role (its schemas)
        "RDP_PROD_SVC_APP": {"RDP_PROD_APP_SERVICE"},
        "RDP_PROD_SVC_REGISTRY": {"RDP_PROD_IMAGE_PUSHER"},
    }
    assert set(SERVICE_DUTY_ROLES.values()) <= set(FUNCTIONAL_ROLES)


def test_service_user_network_rules_come_from_the_config(plans):
    for stack in ("dev", "prod"):
        rules = {r["inputs"]["name"]: r["inputs"] for r in by_type(plans[stack], "/networkRule:NetworkRule")}
        loader = rules[f"RDP_{stack.upper()}_SVC_LOADER_INGRESS"]
        assert loader["type"] == "IPV4" and loader["mode"] == "INGRESS"
        assert loader["valueLists"] and all(not v.endswith("/0") for v in loader["valueLists"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_providers_use_key_pair_auth_per_role(plans, stack):
    provs = {r["name"]: r["inputs"] for r in plans[stack] if r["type"] == "pulumi:providers:snowflake"}
    # the stack's own admin role (no built-in one), and the API's owner role for its services
    assert {p["role"] for p in provs.values()} == {f"RDP_{stack.upper()}_ADMIN", f"RDP_{stack.upper()}_API_OWNER"}
    assert all(p["authenticator"] == "SNOWFLAKE_JWT" for p in provs.values())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tasks_run_as_the_stacks_admin_role_which_the_account_stack_lets_execute_tasks(plans, account_plan, stack):
    plan, admin = plans[stack], f"RDP_{stack.upper()}_ADMIN"
    roles = {r["urn"]: r["inputs"]["role"] for r in plan if r["type"] == "pulumi:providers:snowflake"}
    tasks = by_type(plan, "task:Task")
    assert tasks and {roles[t["provider"]] for t in tasks} == {admin}
    execute = [
        r["inputs"]
        for r in by_type(account_plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if r["inputs"]["accountRoleName"] == admin and "EXECUTE TASK" in r["inputs"]["privileges"]
    ]
    assert len(execute) == 1 and execute[0]["onAccount"] is True
    # the stack's admin role owns the integration and what names it: no grant to another role is needed
    assert not [r for r in plan if "SYSADMIN" in json.dumps(r["inputs"])]
