"""Who may read the platform's metadata, from the plan's grants (infra/isolation.py's model): the monitor's
queries as the TRANSFORMER service user, the dashboard's Operations tab as the app's owner role. A task,
dynamic table or pipe the reader holds no privilege on is left out of the metadata without an error, so
only the plan can tell; each check is proven by a planted missing grant.

Snowflake's usage notes: TASK_HISTORY shows a task to its owner or a role with MONITOR or OPERATE on it
(and USAGE on its database and schema); DYNAMIC_TABLE_REFRESH_HISTORY needs MONITOR on the dynamic table;
SYSTEM$PIPE_STATUS answers the pipe's owner or a role with MONITOR on it; SHOW STREAMS lists the streams
the role holds a privilege on."""

from __future__ import annotations

import re

import pytest

from infra import monitoring
from infra.isolation import Key, Model, build, covers, grant_targets, object_key
from infra.lifecycle_privileges import SCHEMA_KINDS


def object_kind(record: dict) -> str:
    """The kind Snowflake's grants name a declared object by: `dynamicTable` → DYNAMIC TABLE."""
    short = record["type"].split("/")[-1].split(":")[0]
    return SCHEMA_KINDS.get(short) or re.sub(r"(?<!^)(?=[A-Z])", " ", short).upper()


ANY = frozenset({"*"})
# declared type → (the monitor query that reads it, what in its SQL reads it, the privileges that show it)
READS: dict[str, tuple[str, str, frozenset[str]]] = {
    "snowflake:index/task:Task": ("analytics.stack_tasks", "TASK_HISTORY", frozenset({"MONITOR", "OPERATE"})),
    "snowflake:index/dynamicTable:DynamicTable": (
        "cdc.stack_dynamic_tables",
        "DYNAMIC_TABLE_REFRESH_HISTORY",
        frozenset({"MONITOR"}),
    ),
    # each feed's pipe by its own query (ingestion/monitor.sql filled once per feed)
    "snowflake:index/pipe:Pipe": ("{scope}.stack_pipe", "SYSTEM$PIPE_STATUS", frozenset({"MONITOR"})),
    "snowflake:index/streamOnTable:StreamOnTable": ("analytics.stack_streams", "SHOW STREAMS", ANY),
}


def holdings(m: Model, plan: list[dict], principal: str) -> set[tuple[str, Key, str | None]]:
    """(privilege, on what, of which object kind; None: any) a user or role holds: its roles' grants
    (a grant on all or future objects of a schema is on that kind only), and OWNERSHIP of what they own."""
    roles = {principal, *m.roles_of(principal)}
    held: set[tuple[str, Key, str | None]] = set()
    for r in plan:
        i = r["inputs"]
        if not r["type"].endswith("GrantPrivilegesToAccountRole") or str(i["accountRoleName"]).upper() not in roles:
            continue
        on = i.get("onSchemaObject") or {}
        bulk = on.get("all") or on.get("future") or {}
        kind = on.get("objectType") or (str(bulk["objectTypePlural"])[:-1] if bulk else None)
        held |= {(p, t, kind) for t in grant_targets(i) for p in i.get("privileges") or ["ALL"]}
    for objects in m.objects.values():
        held |= {("OWNERSHIP", key, None) for key, owner in objects.items() if owner in roles}
    return held


def _has(held: set[tuple[str, Key, str | None]], wanted: frozenset[str], target: Key, kind: str = "") -> bool:
    ok = {"OWNERSHIP", "ALL", "ALL PRIVILEGES"} | set(wanted)
    return any((p in ok or wanted is ANY) and covers(on, target) and k in (None, kind) for p, on, k in held)


def unreadable(plan: list[dict], principal: str, m: Model | None = None) -> list[str]:
    """Each declared object a monitor query reads that `principal` would not be shown, and why."""
    m = m or build({"stack": plan})
    held = holdings(m, plan, principal)
    found = []
    for r in plan:
        if r["type"] not in READS or (key := object_key(r)) is None:
            continue
        query, _, wanted = READS[r["type"]]
        db, schema, name = key[1].split(".")
        query = query.format(scope=next((f["scope"] for f in monitoring.feeds() if f["pipe"] == name), "?"))
        missing = (
            []
            if _has(held, wanted, key, object_kind(r))
            else ["/".join(sorted(wanted)) if wanted is not ANY else "any"]
        )
        missing += [
            f"USAGE on {k} {n}"
            for k, n in (("DATABASE", db), ("SCHEMA", f"{db}.{schema}"))
            if not _has(held, frozenset({"USAGE"}), (k, n))
        ]
        if missing:
            found.append(f"{principal} cannot see {key[1]} in {query}: lacks {', '.join(missing)}")
    return found


def _user(stack: str, duty: str) -> str:
    return f"RDP_{stack.upper()}_SVC_{duty.upper()}"


def test_each_read_is_the_monitor_querys_own():
    q = monitoring.queries("RDP_DEV_RETAIL")
    for query, text, _ in READS.values():
        for f in monitoring.feeds() if "{scope}" in query else [{"scope": ""}]:
            assert text in q[query.format(scope=f["scope"])], (query, text)


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
        "ingestion:customer.stack_pipe: lacks MONITOR"
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


# -------------------------------------------------------------------------- drift: the Snowflake preview role
# What a refresh must see of each declared kind (SHOW and DESCRIBE list what the role holds a privilege on).
PREVIEW_SEES = (
    "database",
    "schema",
    "warehouse",
    "table",
    "view",
    "dynamicTable",
    "task",
    "pipe",
    "alert",
    "fileFormatCsv",
    "functionPython",
)
# Declared kinds the preview role is left unable to see, and why (infra/foundation/identity.PREVIEW_READS).
PREVIEW_BLIND = {
    "procedureSql": "USAGE would let it call the owner's-rights procedures, which write",
    "procedurePython": "USAGE would let it call the owner's-rights DynamoDB export, which writes, and the registry's",
    "tag": "APPLY, a tag's one privilege short of OWNERSHIP, would let it tag objects (the feature store's tags)",
    "streamlit": "USAGE would open the owner's-rights app",
    "stageInternal": "READ downloads the stage's files",
    "stageExternalS3": "USAGE reads the bucket through the integration",
    "streamOnTable": "SELECT reads change rows",
    "sequence": "USAGE takes values",
    "secretWithGenericString": "USAGE reads the secret",
    "networkRule": "only its owner sees it",
    "service": "in the api capability: MONITOR on it is not granted yet",
    "imageRepository": "READ pulls the images",
    "computePool": "in the api capability: MONITOR on it is not granted yet",
    "postgresInstance": "account object of the serving capability: not granted yet",
    "notificationIntegration": "integrations: USAGE would let it use them",
    "storageIntegrationAws": "integrations: USAGE would let it use them",
    "externalAccessIntegration": "integrations: USAGE would let it use them",
    "serviceUser": "users: only MANAGE GRANTS or ownership shows them",
    "accountRole": "roles: SHOW ROLES lists every role; their grants need MANAGE GRANTS",
    "networkPolicy": "only its owner sees it",
}
PREVIEW_MAY_HOLD = {"USAGE", "MONITOR", "REFERENCES"}  # none writes, reads a row or runs as the owner


def preview_cannot_see(plan: list[dict], stack: str) -> list[str]:
    """Each declared object of a kind the preview role must see that it holds no privilege on."""
    m = build({"stack": plan})
    held = holdings(m, plan, f"RDP_{stack.upper()}_PREVIEW")
    found = []
    for r in plan:
        kind = r["type"].split("/")[-1].split(":")[0] if r["type"].startswith("snowflake:index/") else None
        if kind not in PREVIEW_SEES or (key := object_key(r)) is None:
            continue
        if not _has(held, ANY, key, object_kind(r)):
            found.append(f"the preview role cannot see {kind} {key[1]}")
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_role_sees_every_declared_object_it_may_and_holds_no_write(plans, stack):
    plan = plans[stack]
    kinds = {r["type"].split("/")[-1].split(":")[0] for r in plan if r["type"].startswith("snowflake:index/")}
    objects = {k for k in kinds if not k.startswith(("grant", "execute", "tagAssociation"))}  # settings, not objects
    assert objects <= set(PREVIEW_SEES) | set(PREVIEW_BLIND), objects - set(PREVIEW_SEES) - set(PREVIEW_BLIND)
    assert preview_cannot_see(plan, stack) == []
    m = build({"stack": plan})
    privileges = {p for p, _, _ in holdings(m, plan, f"RDP_{stack.upper()}_PREVIEW")}
    assert privileges <= PREVIEW_MAY_HOLD, privileges - PREVIEW_MAY_HOLD


def test_a_missing_preview_read_is_reported(plans):
    plan = [r for r in plans["dev"] if r["name"] not in ("ci-preview-gold-all-views", "ci-preview-gold-future-views")]
    found = preview_cannot_see(plan, "dev")
    assert found and all(f.startswith("the preview role cannot see view RDP_DEV_RETAIL.GOLD.") for f in found)
