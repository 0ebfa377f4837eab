"""Who may read the platform's metadata, from the plan's grants (infra/isolation.py's model): the monitor's
queries as the TRANSFORMER service user, the dashboard's Operations tab as the app's owner role. A task,
dynamic table or pipe the reader holds no privilege on is left out of the metadata without an error, so
only the plan can tell; each check is proven by a planted missing grant.

Snowflake's usage notes: TASK_HISTORY shows a task to its owner or a role with MONITOR or OPERATE on it
(and USAGE on its database and schema); DYNAMIC_TABLE_REFRESH_HISTORY needs MONITOR on the dynamic table;
SYSTEM$PIPE_STATUS answers the pipe's owner or a role with MONITOR on it; SHOW STREAMS lists the streams
the role holds a privilege on."""

from __future__ import annotations

import pytest

from infra import monitoring
from infra.isolation import Key, Model, build, covers, object_key

ANY = frozenset({"*"})
# declared type → (the monitor query that reads it, what in its SQL reads it, the privileges that show it)
READS: dict[str, tuple[str, str, frozenset[str]]] = {
    "snowflake:index/task:Task": ("analytics.stack_tasks", "TASK_HISTORY", frozenset({"MONITOR", "OPERATE"})),
    "snowflake:index/dynamicTable:DynamicTable": (
        "cdc.stack_dynamic_tables",
        "DYNAMIC_TABLE_REFRESH_HISTORY",
        frozenset({"MONITOR"}),
    ),
    "snowflake:index/pipe:Pipe": ("ingestion.stack_pipe", "SYSTEM$PIPE_STATUS", frozenset({"MONITOR"})),
    "snowflake:index/streamOnTable:StreamOnTable": ("analytics.stack_streams", "SHOW STREAMS", ANY),
}


def holdings(m: Model, principal: str) -> set[tuple[str, Key]]:
    """(privilege, on what) a user or role holds: its roles' grants, and OWNERSHIP of what they own."""
    roles = {principal, *m.roles_of(principal)}
    held = {p for r in roles for p in m.privileges.get(r, ())}
    for objects in m.objects.values():
        held |= {("OWNERSHIP", key) for key, owner in objects.items() if owner in roles}
    return held


def _has(held: set[tuple[str, Key]], wanted: frozenset[str], target: Key) -> bool:
    ok = {"OWNERSHIP", "ALL", "ALL PRIVILEGES"} | set(wanted)
    return any((p in ok or wanted is ANY) and covers(on, target) for p, on in held)


def unreadable(plan: list[dict], principal: str, m: Model | None = None) -> list[str]:
    """Each declared object a monitor query reads that `principal` would not be shown, and why."""
    m = m or build({"stack": plan})
    held = holdings(m, principal)
    found = []
    for r in plan:
        if r["type"] not in READS or (key := object_key(r)) is None:
            continue
        query, _, wanted = READS[r["type"]]
        db, schema, _ = key[1].split(".")
        missing = [] if _has(held, wanted, key) else ["/".join(sorted(wanted)) if wanted is not ANY else "any"]
        missing += [f"USAGE on {k} {n}" for k, n in (("DATABASE", db), ("SCHEMA", f"{db}.{schema}"))
                    if not _has(held, frozenset({"USAGE"}), (k, n))]  # fmt: skip
        if missing:
            found.append(f"{principal} cannot see {key[1]} in {query}: lacks {', '.join(missing)}")
    return found


def _user(stack: str, duty: str) -> str:
    return f"RDP_{stack.upper()}_SVC_{duty.upper()}"


def test_each_read_is_the_monitor_querys_own():
    q = monitoring.queries("RDP_DEV_RETAIL")
    for query, text, _ in READS.values():
        assert text in q[query], (query, text)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_monitor_as_transformer_sees_every_task_dynamic_table_pipe_and_stream(plans, stack):
    plan = plans[stack]
    assert sum(r["type"] in READS for r in plan) >= 20  # the model finds what it checks
    assert unreadable(plan, _user(stack, "transformer")) == []


def test_a_planted_missing_monitor_grant_is_reported(plans):
    pipe_grant = next(
        r for r in plans["dev"] if r["name"] == "ingestion-transformer-pipe"
    )  # MONITOR on the pipe for TRANSFORMER
    plan = [r for r in plans["dev"] if r is not pipe_grant]
    assert unreadable(plan, _user("dev", "transformer")) == [
        "RDP_DEV_SVC_TRANSFORMER cannot see RDP_DEV_RETAIL.BRONZE.WORK_CUSTOMER_SRC_TO_SL_PIPE in "
        "ingestion.stack_pipe: lacks MONITOR"
    ]
    # the loader's MONITOR on the same pipe does not count for the transformer
    assert any(r["name"] == "ingestion-loader-pipe" for r in plan)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_dashboard_runs_as_its_owner_which_owns_every_object_the_tab_reads(plans, stack):
    plan = plans[stack]
    m = build({"stack": plan})
    app = next(r for r in plan if r["type"] == "snowflake:index/streamlit:Streamlit")
    owner = m.objects["stack"][object_key(app)]
    assert owner == f"RDP_{stack.upper()}_ADMIN"
    assert unreadable(plan, owner) == []
    # planted: a task another role owns, with no grant on it (the functional roles roll up to the owner, so
    # their MONITOR counts for the app too): invisible to the app
    task = next(r for r in plan if r["type"] == "snowflake:index/task:Task")
    name = object_key(task)[1]
    bare = [
        r
        for r in plan
        if name not in str((r["inputs"].get("onSchemaObject") or {}).get("objectName", "")).replace('"', "")
    ]
    m = build({"stack": bare})
    m.objects["stack"][object_key(task)] = f"RDP_{stack.upper()}_SOMEONE_ELSE"
    assert unreadable(bare, owner, m) == [f"{owner} cannot see {name} in analytics.stack_tasks: lacks MONITOR/OPERATE"]


# ------------------------------------------------------------------------------- drift: the AWS preview role
def preview_cannot_refresh(plan: list[dict], stack: str) -> list[str]:
    """Each declared AWS resource whose refresh (`pulumi preview --refresh`, drift.yml) the stack's preview
    role may not read, by the actions lifecycle_privileges.AWS_ACTIONS lists for that phase."""
    from infra import aws_reach
    from infra.lifecycle_privileges import AWS_ACTIONS, _arn  # the ARN AWS authorises each action on

    region = next(r["inputs"]["region"] for r in plan if r["type"] == "pulumi:providers:aws")
    name = f"rdp-{stack}-ci-preview"
    principal = next(p for p in aws_reach.principals_of(plan, stack, region) if p.name == name)
    found = []
    for r in (r for r in plan if r["type"].startswith("aws:")):
        actions = AWS_ACTIONS.get(r["type"], {}).get("refresh")
        arn = _arn(r, plan, region) if actions else None
        if not actions or not arn:
            found.append(f"{r['name']}: no refresh actions or ARN known for {r['type']}")
            continue
        missing = [a for a in actions if not aws_reach.permits(principal, a, arn, plan)]
        if missing:
            found.append(f"{r['name']}: {name} may not {', '.join(missing)} on {arn}")
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_role_can_refresh_every_declared_aws_resource(plans, stack):
    # The one read it is refused on purpose: a secret's value (the preview identity never reads secrets);
    # refreshing the Postgres secret's version needs it, so drift of that value is not detectable by preview.
    found = [f for f in preview_cannot_refresh(plans[stack], stack) if "GetSecretValue" not in f]
    assert found == []


def test_a_read_the_preview_role_lacks_is_reported(plans):
    plan = [dict(r, inputs=dict(r["inputs"])) for r in plans["dev"]]
    policy = next(r for r in plan if r["name"] == "ci-aws-preview-policy")
    policy["inputs"]["policy"] = policy["inputs"]["policy"].replace('"dynamodb:DescribeTable", ', "")
    found = [f for f in preview_cannot_refresh(plan, "dev") if "GetSecretValue" not in f]
    assert len(found) == 1 and "rdp-dev-ci-preview may not dynamodb:DescribeTable on arn:aws:dynamodb:" in found[0]
