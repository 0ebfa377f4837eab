"""Service roles hold exactly the DDL their run-time steps use: computed from the plans (what each
service user and functional role reaches through its roles) and from the steps' statements (what they
would create against a deployed stack), with each check proven by a fault planted into a clean world."""

from __future__ import annotations

import copy
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.foundation.access import FUNCTIONAL_ROLES, RUNTIME_DDL, SERVICE_DUTY_ROLES
from infra.foundation.catalog import SCHEMAS
from tests import background
from tests.conftest import ROOT
from tests.foundation import plan_privileges as pp
from tests.foundation import service_ddl as sd
from tests.foundation.service_ddl import Use

# What a run-time step issues that is deliberately not granted, and why (each must still be found). None:
# analytics' loads, which once wrote BRONZE with write_pandas (a temporary stage created in BRONZE), PUT
# to the declared load stage as LOADER and COPY from it.
WAIVED: dict[tuple[str, str], str] = {}
# Which duties write each schema: the service duties whose functional role holds its read/write role.
WRITERS = {
    schema: [d for d, fr in SERVICE_DUTY_ROLES.items() if schema in FUNCTIONAL_ROLES[fr]["write"]] for schema in SCHEMAS
}


@pytest.fixture(scope="module")
def uses() -> dict[str, list[Use]]:
    return sd.runtime_uses()


# ------------------------------------------------------------------------------ the run-time steps
def test_every_module_that_issues_sql_is_placed():
    assert sd.unplaced_sql_modules() == []


def test_only_the_registry_calls_of_train_and_dbt_issue_ddl(uses):
    """No temporary stage either: the bulk loads PUT to declared stages (write_pandas would create one).
    The DDL is snowflake-ml's, in the caller's-rights procedure `train` CALLs as TRANSFORMER, and dbt's,
    whose tables and views are its purpose."""
    found = {d: sorted({(u.privilege, u.where.split(":")[0]) for u in us}) for d, us in uses.items()}
    registry = "sql/recommendations/ml_registry.py"
    dbt = "sql/ingestion/dbt/"  # dbt build as the DBT role, only in its own schemas (tests/ingestion/test_dbt_plan.py)
    assert found == {
        "loader": [],
        "transformer": [
            ("CREATE MODEL", registry),
            ("CREATE TABLE", dbt + "models/silver/silver_customer.sql"),
            ("CREATE TABLE", dbt + "snapshots/customer_history.yml"),
            ("CREATE TAG", registry),
            ("CREATE VIEW", dbt + "models/gold/customer_insights.sql"),
            ("CREATE VIEW", registry),
        ],
        "app": [],
        "registry": [],
    }


@pytest.mark.parametrize(
    ("planted", "privileges"),
    [
        ('desc=v.get("desc", ""), refresh_freq="1 day")', ["CREATE DYNAMIC TABLE"]),
        ('desc=v.get("desc", ""), refresh_freq=None)', []),
    ],
)
def test_a_feature_view_with_a_refresh_schedule_is_a_dynamic_table_the_role_may_not_create(
    plans, tmp_path, planted, privileges
):
    """A scheduled feature view would be a dynamic table: found, and refused as not granted."""
    rel = "sql/recommendations/ml_registry.py"
    text = (ROOT / rel).read_text()
    changed = text.replace('desc=v.get("desc", ""))', planted, 1)
    assert changed != text
    shared = {r: (ROOT / r).read_text() for r in sd.SHARED_MODULES}
    uses = sd.runtime_uses(_tree(tmp_path, {**shared, rel: changed}), {"transformer": (rel,)})
    got = sorted({u.privilege for u in uses["transformer"]} - {"CREATE MODEL", "CREATE TAG", "CREATE VIEW"})
    assert got == privileges
    problems = pp.ungranted_uses(plans["prod"], uses, WAIVED)
    assert [p.split(" at ")[0] for p in problems] == [f"transformer issues {p}" for p in privileges]


def test_the_scanner_sees_the_loaders_steps(plans, tmp_path):
    """The modules whose steps run as LOADER are scanned for it; write_pandas put back into one is found,
    and refused as a CREATE STAGE the loader does not hold."""
    assert {"scripts/analytics/loads.py", "scripts/recommendations/loads.py"} <= set(sd.RUNTIME_MODULES["loader"])
    loads = (ROOT / "scripts/analytics/loads.py").read_text()
    planted = loads.replace('cur.execute(q["put"])', "write_pandas(cur.connection, table.to_pandas(), key)")
    assert planted != loads
    shared = {rel: (ROOT / rel).read_text() for rel in sd.SHARED_MODULES}
    root = _tree(tmp_path, {**shared, "scripts/analytics/loads.py": planted})
    uses = sd.runtime_uses(root, {"loader": ("scripts/analytics/loads.py",)})
    assert [(u.privilege, u.where.split(":")[0]) for u in uses["loader"]] == [
        ("CREATE STAGE", "scripts/analytics/loads.py")
    ]
    problems = pp.ungranted_uses(plans["prod"], uses, WAIVED)
    assert problems and problems[0].startswith("loader issues CREATE STAGE at scripts/analytics/loads.py:"), problems


def test_runtime_ddl_covers_every_schema_with_a_step_per_privilege():
    assert set(RUNTIME_DDL) == set(SCHEMAS)
    for schema, ddl in RUNTIME_DDL.items():
        assert all(p.startswith("CREATE ") and step.strip() for p, step in ddl.items()), schema


def test_each_declared_privilege_is_issued_by_a_step_of_a_duty_writing_the_schema(uses):
    assert pp.unused_declarations(RUNTIME_DDL, uses, WRITERS) == []


# ------------------------------------------------------------------------------------ the plans
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_service_user_or_functional_role_reaches_ddl_its_steps_do_not_use(plans, uses, stack):
    assert pp.unused_ddl(plans[stack], uses, SERVICE_DUTY_ROLES, FUNCTIONAL_ROLES, stack) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_service_user_may_create_a_stage_pipe_task_routine_or_integration(plans, stack):
    assert pp.undeclared_exfiltration(plans[stack], RUNTIME_DDL) == []
    for user in pp.service_users(plans[stack]).values():
        assert [h for h in pp.held_ddl(plans[stack], f"user:{user}") if h.privilege in sd.EXFILTRATION] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_read_write_access_role_holds_what_runtime_ddl_declares(plans, stack):
    assert pp.undeclared_in_plan(plans[stack], RUNTIME_DDL, stack) == []


def test_what_the_steps_issue_is_granted_or_waived_with_a_reason(plans, uses):
    assert pp.ungranted_uses(plans["prod"], uses, WAIVED) == []


def test_the_service_roles_keep_their_table_dml(plans):
    """Only DDL went: the writers' future-table DML stays on every read/write access role."""
    grants = pp.by_role(plans["prod"])
    for schema in SCHEMAS:
        dml = [g for g in grants[f"RDP_PROD_AR_{schema}_RW"] if "future" in g.get("onSchemaObject", {})]
        assert [g["privileges"] for g in dml] == [["INSERT", "UPDATE", "DELETE", "TRUNCATE"]], schema


# --------------------------------------------------------------------------------- the scanner
def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def test_the_scanner_reads_strings_sql_files_infra_helpers_and_library_calls(tmp_path):
    root = _tree(
        tmp_path,
        {
            "sql/x/one.sql": "-- CREATE TASK in a comment is not a statement\nCREATE TEMPORARY TABLE t AS SELECT 1\n",
            "sql/x/sync/a.sql": "SELECT 1\n",
            "sql/x/sync/b.sql": "create or replace secure view v as select 1\n",
            "infra/x/catalog.py": """
                def helper(db):
                    return inner(db)

                def inner(db):
                    return f"CREATE PIPE {db}.p AS COPY INTO t FROM @s"

                def unused(db):
                    return "CREATE PROCEDURE p()"
            """,
            "scripts/x/loads.py": '''
                """Docstring: CREATE FUNCTION is prose here."""
                from infra.x import catalog
                from snowflake.connector.pandas_tools import write_pandas

                def step(cur, conn, df, name):
                    cur.execute(render_sql("x/one.sql"))
                    cur.execute(read_sql(f"x/sync/{name}.sql"))
                    cur.execute(catalog.helper("DB"))
                    write_pandas(conn, df, "T", auto_create_table=True)

                def prepare_local(cur):
                    cur.execute("CREATE STAGE local_only")
            ''',
        },
    )
    found = sorted((u.privilege, u.where.split(":")[0]) for u in sd.Scanner(root).module("scripts/x/loads.py"))
    assert found == [
        ("CREATE FILE FORMAT", "scripts/x/loads.py"),
        ("CREATE PIPE", "infra/x/catalog.py"),
        ("CREATE STAGE", "scripts/x/loads.py"),
        ("CREATE STAGE", "scripts/x/loads.py"),
        ("CREATE TABLE", "scripts/x/loads.py"),
        ("CREATE TABLE", "sql/x/one.sql"),
        ("CREATE VIEW", "sql/x/sync/b.sql"),
    ]
    skipped = sd.Scanner(root).module("scripts/x/loads.py", skip=("prepare_local",))
    assert [u.privilege for u in skipped].count("CREATE STAGE") == 1  # only write_pandas's


@pytest.mark.parametrize(
    ("sql", "privilege"),
    [
        ("CREATE OR REPLACE TEMPORARY STAGE s", "CREATE STAGE"),
        ("create scoped temporary stage s", "CREATE STAGE"),
        ("CREATE TRANSIENT TABLE IF NOT EXISTS t (a INT)", "CREATE TABLE"),
        ("CREATE DYNAMIC TABLE d TARGET_LAG = '1 hour'", "CREATE DYNAMIC TABLE"),
        ("CREATE SECURE EXTERNAL FUNCTION f()", "CREATE FUNCTION"),
        ("CREATE STORAGE INTEGRATION i", "CREATE INTEGRATION"),
        ("CREATE FILE FORMAT f TYPE = CSV", "CREATE FILE FORMAT"),
    ],
)
def test_a_create_statement_needs_its_schema_privilege(sql, privilege):
    assert [u.privilege for u in sd.sql_uses(sql, "x")] == [privilege]


# ------------------------------------------------------------------------------------ planted faults
@dataclass
class World:
    """The prod plan, the declared DDL, the steps' uses and the waivers, as the checks see them."""

    plan: list[dict]
    declared: dict[str, dict[str, str]]
    uses: dict[str, list[Use]]
    waived: dict[tuple[str, str], str] = field(default_factory=lambda: dict(WAIVED))

    def problems(self) -> list[str]:
        return [
            *pp.unused_ddl(self.plan, self.uses, SERVICE_DUTY_ROLES, FUNCTIONAL_ROLES, "prod"),
            *pp.undeclared_exfiltration(self.plan, self.declared),
            *pp.undeclared_in_plan(self.plan, self.declared, "prod"),
            *pp.unused_declarations(self.declared, self.uses, WRITERS),
            *pp.ungranted_uses(self.plan, self.uses, self.waived),
        ]


@pytest.fixture
def world(plans, uses) -> World:
    return World(copy.deepcopy(plans["prod"]), copy.deepcopy(RUNTIME_DDL), copy.deepcopy(uses))


def _grant(role: str, privileges: list[str], **on: object) -> dict:
    name = f"planted-{role.lower()}-{privileges[0].lower().replace(' ', '-')}"
    inputs = {"accountRoleName": role, "privileges": privileges, **on}
    return {"type": f"snowflake:index/{sd.GRANT}", "name": name, "urn": name, "inputs": inputs}


def _inherit(role: str, **grantee: str) -> dict:
    name = f"planted-{role.lower()}-to-{next(iter(grantee.values())).lower()}"
    return {"type": f"snowflake:index/{sd.INHERIT}", "name": name, "urn": name, "inputs": {"roleName": role, **grantee}}


def _on_schema(schema: str) -> dict:
    return {"onSchema": {"schemaName": f'"RDP_PROD_RETAIL"."{schema}"'}}


def _create_task_in_transformers_data(w: World) -> None:
    w.declared["STREAMS_TASKS"]["CREATE TASK"] = "the transformer's step (none issues it)"


def _create_stage_to_transformer(w: World) -> None:
    w.plan.append(_grant("RDP_PROD_TRANSFORMER", ["CREATE STAGE"], **_on_schema("SILVER")))


def _create_pipe_to_a_read_role(w: World) -> None:
    w.plan.append(_grant("RDP_PROD_AR_GOLD_R", ["CREATE PIPE"], **_on_schema("GOLD")))


def _integration_role_to_the_loader_user(w: World) -> None:
    w.plan.append(_grant("RDP_PROD_PLANTED", ["CREATE INTEGRATION"], onAccount=True))
    w.plan.append(_inherit("RDP_PROD_PLANTED", parentRoleName="RDP_PROD_CDC_WRITER"))


def _analyst_creates_tables(w: World) -> None:
    w.plan.append(_grant("RDP_PROD_ANALYST", ["CREATE TABLE"], **_on_schema("SILVER")))


def _schema_ownership_to_the_app(w: World) -> None:
    w.plan.append(_grant("RDP_PROD_APP_SERVICE", ["OWNERSHIP"], **_on_schema("GOLD")))


def _a_step_creates_a_temporary_table(w: World) -> None:
    w.uses["loader"].append(Use("CREATE TABLE", "scripts/analytics/loads.py:1"))  # the transformer's dbt may


def _a_stale_waiver(w: World) -> None:
    w.waived[("loader", "CREATE STAGE")] = "the loader once used write_pandas"


@dataclass(frozen=True)
class Fault:
    name: str
    plant: Callable[[World], None]
    says: str


FAULTS = [
    Fault("create-task-in-transformers-data", _create_task_in_transformers_data, "keeps CREATE TASK"),
    Fault("create-stage-granted-to-transformer", _create_stage_to_transformer, "may CREATE STAGE"),
    Fault("create-pipe-on-a-read-role", _create_pipe_to_a_read_role, "RDP_PROD_SVC_APP reaches CREATE PIPE"),
    Fault("integration-role-to-the-loader", _integration_role_to_the_loader_user, "may CREATE INTEGRATION on account"),
    Fault("analyst-creates-tables", _analyst_creates_tables, "RDP_PROD_ANALYST reaches CREATE TABLE"),
    Fault("schema-ownership-to-the-app", _schema_ownership_to_the_app, "may OWNERSHIP"),
    Fault("a-step-creates-a-temporary-table", _a_step_creates_a_temporary_table, "issues CREATE TABLE at"),
    Fault("a-stale-waiver", _a_stale_waiver, "stale waiver ('loader', 'CREATE STAGE')"),
]


def test_the_clean_world_has_no_problem(world):
    assert world.problems() == []


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_each_planted_fault_is_reported(world, fault):
    fault.plant(world)
    problems = world.problems()
    assert any(fault.says in p for p in problems), problems


PLANTED_PLAN = """
import json
from infra.foundation import access
access.RUNTIME_DDL["STREAMS_TASKS"]["CREATE TASK"] = "planted"
from infra.plan import run_plan
print("PLAN=" + json.dumps(run_plan("prod"), default=str))
"""


def test_create_task_in_transformers_data_reaches_the_plan_and_is_refused(uses):
    """The fault planted in access.py itself: the program grants it, and the checks refuse the plan."""
    done = background.result(PLANTED)
    done.check_returncode()
    plan = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("PLAN=")).removeprefix("PLAN="))
    grant = next(r["inputs"] for r in plan if r["name"] == "access-ar-streams-tasks-rw-schema")
    assert grant["privileges"] == ["CREATE TASK"]
    unused = pp.unused_ddl(plan, uses, SERVICE_DUTY_ROLES, FUNCTIONAL_ROLES, "prod")
    assert any(p.startswith("user:RDP_PROD_SVC_TRANSFORMER reaches CREATE TASK") for p in unused), unused
    declared = {**RUNTIME_DDL, "STREAMS_TASKS": {"CREATE TASK": "planted"}}
    assert pp.unused_declarations(declared, uses, WRITERS) != []


PLANTED = background.command(
    "prod-planted-create-task",
    [sys.executable, "-c", PLANTED_PLAN],
    test_create_task_in_transformers_data_reaches_the_plan_and_is_refused,
)
