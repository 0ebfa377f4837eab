"""The dbt layer in the plans: the DBT role creates exactly what the project's materializations need, in
the project's own schemas only, reads nothing but its two sources, and is held by the transformer service
user alone; each check is shown to catch a planted fault."""

from __future__ import annotations

import copy

import pytest

from infra.ingestion.dbt_catalog import SCHEMAS, identity
from infra.naming import Naming
from tests.foundation import plan_privileges as pp
from tests.foundation import service_ddl as sd

GRANT = f"snowflake:index/{sd.GRANT}"


def _dbt_role(stack: str) -> str:
    return identity(Naming("rdp", stack)).role


def dbt_problems(plan: list[dict], stack: str, creates: list[tuple[str, str, str]]) -> list[str]:
    """What the DBT role holds beyond, or short of, what the dbt project needs."""
    role, db = _dbt_role(stack), Naming("rdp", stack).database
    problems = []
    held = sorted({(pp.schema_of(h.on) or h.on, h.privilege) for h in pp.held_ddl(plan, role)})
    needed = sorted({(schema, p) for schema, p, _ in creates})
    if held != needed:
        problems.append(f"{role} may create {held}, the dbt project needs {needed}")
    outside = [s for s, _ in held if s not in SCHEMAS]
    problems += [f"{role} may create in {s}, which is not one of dbt's own schemas" for s in outside]
    reads = sorted(
        r["inputs"]["onSchemaObject"].get("objectName") or str(r["inputs"]["onSchemaObject"])
        for r in plan
        if r["type"] == GRANT and r["inputs"]["accountRoleName"] == role and "onSchemaObject" in r["inputs"]
    )
    sources = [f'"{db}"."BRONZE"."WORK_CUSTOMER_COPY"', f'"{db}"."SILVER"."CUSTOMER"']
    if reads != sources:
        problems.append(f"{role} reads {reads}, its sources are {sources}")
    if inherited := pp.roles_of(plan, role) - {role}:
        problems.append(f"{role} inherits {sorted(inherited)}")
    holders = sorted(
        r["inputs"].get("userName") or r["inputs"].get("parentRoleName")
        for r in plan
        if r["type"].endswith(sd.INHERIT) and r["inputs"]["roleName"] == role
    )
    expected = sorted([f"RDP_{stack.upper()}_ADMIN", identity(Naming("rdp", stack)).user])
    if holders != expected:
        problems.append(f"{role} is held by {holders}, expected {expected}")
    return problems


@pytest.fixture(scope="module")
def creates() -> list[tuple[str, str, str]]:
    return sd.dbt_creates(sd.ROOT, "sql/ingestion/dbt")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_dbt_role_holds_exactly_what_the_project_builds(plans, creates, stack):
    assert sorted({(s, p) for s, p, _ in creates}) == [("DBT_GOLD", "CREATE VIEW"), ("DBT_SILVER", "CREATE TABLE")]
    assert dbt_problems(plans[stack], stack, creates) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_dbt_schemas_are_declared_managed_and_protected_in_prod(plans, stack):
    schemas = {
        r["inputs"]["name"]: r
        for r in plans[stack]
        if r["type"].endswith("schema:Schema") and r["inputs"]["name"] in SCHEMAS
    }
    assert set(schemas) == set(SCHEMAS)
    assert all(r["inputs"]["withManagedAccess"] == "true" for r in schemas.values())
    assert all(bool(r.get("protect")) == (stack == "prod") for r in schemas.values()), schemas


def _planted_create_in_silver(plan: list[dict]) -> None:
    on = {"onSchema": {"schemaName": '"RDP_PROD_RETAIL"."SILVER"'}}
    inputs = {"accountRoleName": "RDP_PROD_DBT", "privileges": ["CREATE TABLE"], **on}
    plan.append({"type": GRANT, "name": "planted", "urn": "planted", "inputs": inputs})


def _planted_read_of_all_bronze(plan: list[dict]) -> None:
    on = {"onSchemaObject": {"all": {"objectTypePlural": "TABLES", "inSchema": '"RDP_PROD_RETAIL"."BRONZE"'}}}
    inputs = {"accountRoleName": "RDP_PROD_DBT", "privileges": ["SELECT"], **on}
    plan.append({"type": GRANT, "name": "planted-read", "urn": "planted-read", "inputs": inputs})


def _planted_loader_to_dbt(plan: list[dict]) -> None:
    inputs = {"roleName": "RDP_PROD_LOADER", "parentRoleName": "RDP_PROD_DBT"}
    plan.append({"type": f"snowflake:index/{sd.INHERIT}", "name": "planted-inherit", "urn": "p", "inputs": inputs})


@pytest.mark.parametrize(
    ("plant", "says"),
    [
        (_planted_create_in_silver, "may create in SILVER"),
        (_planted_read_of_all_bronze, "RDP_PROD_DBT reads"),
        (_planted_loader_to_dbt, "'RDP_PROD_LOADER']"),  # with the access roles LOADER inherits
    ],
)
def test_a_planted_privilege_is_reported(plans, creates, plant, says):
    plan = copy.deepcopy(plans["prod"])
    plant(plan)
    problems = dbt_problems(plan, "prod", creates)
    assert any(says in p for p in problems), problems


def test_a_model_that_needs_more_than_the_role_holds_is_reported(plans, creates, tmp_path):
    """A gold model turned into a table needs CREATE TABLE in DBT_GOLD, which the role does not hold."""
    project = tmp_path / "sql/ingestion/dbt"
    for f in (sd.ROOT / "sql/ingestion/dbt").rglob("*"):
        if f.is_file():
            (project / f.relative_to(sd.ROOT / "sql/ingestion/dbt")).parent.mkdir(parents=True, exist_ok=True)
            (project / f.relative_to(sd.ROOT / "sql/ingestion/dbt")).write_text(f.read_text())
    gold = project / "models/gold/customer_insights.sql"
    gold.write_text(gold.read_text().replace("config(alias=", "config(materialized='table', alias="))
    planted = sd.dbt_creates(tmp_path, "sql/ingestion/dbt")
    assert ("DBT_GOLD", "CREATE TABLE") in {(s, p) for s, p, _ in planted}
    problems = dbt_problems(plans["prod"], "prod", planted)
    assert any("the dbt project needs" in p for p in problems), problems
