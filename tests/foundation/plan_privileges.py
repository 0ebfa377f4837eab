"""The plan's side of "a service role holds exactly the DDL its run-time steps use": what the plan lets
each service user and functional role create or touch, through every role it inherits, and the
privileges the steps' statements need on the objects they name (service_ddl.py reads the code's side).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from infra.analytics.catalog import CATALOG
from infra.analytics.tasks import TASKS
from tests.foundation.service_ddl import EXFILTRATION, GRANT, INHERIT, WHOLE, Use


# ------------------------------------------------------------------------------------ the plan's side
@dataclass(frozen=True)
class Held:
    """A CREATE privilege a principal reaches: on what, through which role and grant."""

    privilege: str
    on: str  # a schema's quoted name, a database's, or "account"
    role: str
    grant: str


def _inherited(plan: list[dict]) -> dict[str, set[str]]:
    """Grantee (a role, or `user:<name>`) → the roles granted to it directly."""
    edges: dict[str, set[str]] = defaultdict(set)
    for r in plan:
        if r["type"].endswith(INHERIT):
            i = r["inputs"]
            grantee = i.get("parentRoleName") or "user:" + i.get("userName", "")
            edges[grantee].add(i["roleName"])
    return edges


def roles_of(plan: list[dict], principal: str) -> set[str]:
    """Every role whose privileges `principal` (a role, or `user:<name>`) has: its own and inherited ones."""
    edges, seen, todo = _inherited(plan), set(), [principal]
    while todo:
        for role in edges.get(todo.pop(), ()):
            if role not in seen:
                seen.add(role)
                todo.append(role)
    return seen | ({principal} if not principal.startswith("user:") else set())


def _on(inputs: dict) -> str | None:
    """What a grant's CREATE privileges apply to; None for one schema object (no CREATE there)."""
    if "onSchema" in inputs:
        s = inputs["onSchema"]
        return s.get("schemaName") or "all schemas in " + s.get(
            "allSchemasInDatabase", s.get("futureSchemasInDatabase")
        )
    if "onAccountObject" in inputs:
        return inputs["onAccountObject"]["objectName"]
    return "account" if inputs.get("onAccount") else None


def held_ddl(plan: list[dict], principal: str) -> list[Held]:
    """The CREATE (or whole-schema) privileges `principal` reaches."""
    roles = roles_of(plan, principal)
    return [
        Held(p, on, r["inputs"]["accountRoleName"], r["name"])
        for r in plan
        if r["type"].endswith(GRANT) and r["inputs"]["accountRoleName"] in roles
        for p in r["inputs"].get("privileges", [])
        if (p.startswith("CREATE ") or p in WHOLE) and (on := _on(r["inputs"])) is not None
    ]


def schema_of(on: str) -> str | None:
    """`"RDP_PROD_RETAIL"."SILVER"` → SILVER."""
    parts = on.split(".")
    return parts[1].strip('"') if len(parts) == 2 else None


# ------------------------------------------------------------------------------------------- checks
def service_users(plan: list[dict]) -> dict[str, str]:
    """Duty → the name of its service user (the access component's users, RDP_<STACK>_SVC_<DUTY>)."""
    return {
        r["inputs"]["name"].rsplit("_SVC_", 1)[1].lower(): r["inputs"]["name"]
        for r in plan
        if r["type"].endswith("serviceUser:ServiceUser") and "_SVC_" in r["inputs"].get("name", "")
    }


def unused_ddl(
    plan: list[dict],
    uses: Mapping[str, list[Use]],
    duty_roles: Mapping[str, str],
    functional_roles: Iterable[str],
    stack: str,
) -> list[str]:
    """Every CREATE privilege a service user or functional role reaches is one its run-time steps use:
    a service user's own, a functional role's those of the duties holding it (none: no DDL at all). By
    kind, as a step's target schema is often a runtime value; undeclared_exfiltration is per schema."""
    needed = {d: {u.privilege for u in us} for d, us in uses.items()}
    problems = []
    principals = {f"user:{u}": [d] for d, u in service_users(plan).items()}
    for fr in functional_roles:
        principals[f"RDP_{stack.upper()}_{fr}"] = [d for d, role in duty_roles.items() if role == fr]
    for principal, duties in principals.items():
        for h in held_ddl(plan, principal):
            if not any(h.privilege in needed.get(d, ()) for d in duties):
                who = ", ".join(duties) or "no service duty"
                problems.append(
                    f"{principal} reaches {h.privilege} on {h.on} (through {h.role}, grant {h.grant}), "
                    f"which no run-time step of {who} issues"
                )
    return problems


def undeclared_exfiltration(plan: list[dict], declared: Mapping[str, Mapping[str, str]]) -> list[str]:
    """A stage, pipe, task, routine or integration a service user could create must be declared for its
    schema in RUNTIME_DDL with the step that uses it; on the account or the database, never."""
    problems = []
    for duty, user in service_users(plan).items():
        for h in held_ddl(plan, f"user:{user}"):
            if h.privilege in EXFILTRATION or h.privilege in WHOLE:
                schema = schema_of(h.on)
                if schema is None or h.privilege not in declared.get(schema, {}):
                    problems.append(
                        f"{user} ({duty}) may {h.privilege} on {h.on} (through {h.role}, grant {h.grant}), "
                        f"which RUNTIME_DDL does not declare for {schema or 'any schema'}"
                    )
    return problems


def undeclared_in_plan(plan: list[dict], declared: Mapping[str, Mapping[str, str]], stack: str) -> list[str]:
    """Each read/write access role holds on its schema exactly what RUNTIME_DDL declares for it."""
    problems = []
    for schema, ddl in declared.items():
        role = f"RDP_{stack.upper()}_AR_{schema}_RW"
        got = sorted(h.privilege for h in held_ddl(plan, role) if schema_of(h.on) == schema)
        if got != sorted(ddl):
            problems.append(f"{role} holds {got} on {schema}, RUNTIME_DDL declares {sorted(ddl)}")
    return problems


def unused_declarations(
    declared: Mapping[str, Mapping[str, str]], uses: Mapping[str, list[Use]], writers: Mapping[str, list[str]]
) -> list[str]:
    """Each privilege RUNTIME_DDL keeps for a schema is issued by a run-time step of a duty writing it."""
    problems = []
    for schema, ddl in declared.items():
        duties = writers.get(schema, [])
        for priv, step in ddl.items():
            if not any(u.privilege == priv for d in duties for u in uses.get(d, ())):
                problems.append(
                    f"RUNTIME_DDL[{schema!r}] keeps {priv} for {step!r}, but no run-time step of "
                    f"{', '.join(duties) or 'a duty writing it'} issues {priv}"
                )
    return problems


def ungranted_uses(plan: list[dict], uses: Mapping[str, list[Use]], waived: Mapping[tuple[str, str], str]) -> list[str]:
    """Each DDL a duty's steps issue is one its service user holds, or is waived with a reason; a waiver
    that no longer matches an ungranted use is stale."""
    users = service_users(plan)
    problems, unmet = [], set()
    for duty, us in uses.items():
        held = {h.privilege for h in held_ddl(plan, f"user:{users[duty]}")} if duty in users else set()
        for u in us:
            if u.privilege not in held:
                unmet.add((duty, u.privilege))
                if (duty, u.privilege) not in waived:
                    problems.append(f"{duty} issues {u.privilege} at {u.where}, which {users.get(duty)} does not hold")
    problems += [f"stale waiver {k}: {reason}" for k, reason in waived.items() if k not in unmet]
    return problems


def by_role(plan: list[dict]) -> dict[str, list[dict]]:
    """Account role → the inputs of the privilege grants made to it directly."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in plan:
        if r["type"].endswith(GRANT):
            out[r["inputs"]["accountRoleName"]].append(r["inputs"])
    return out


# ------------------------------------------------------------------ the privileges the steps' statements need
# What a statement of a post-deploy step needs on the objects it names: DML on the tables it writes, READ
# and WRITE on the stage it PUTs to (READ to COPY from it or GET a file, WRITE to PURGE it), USAGE on the functions it
# calls, OPERATE on the tasks and dynamic tables it runs. Reads are not checked here (SELECT comes with the
# schema access roles).
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_QNAME = rf"({_IDENT}\.{_IDENT}\.{_IDENT})"
STATEMENT_NEEDS: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = (
    (re.compile(rf"\bINSERT\s+(?:OVERWRITE\s+)?INTO\s+{_QNAME}", re.I), ("INSERT",)),
    (re.compile(rf"\bCOPY\s+INTO\s+{_QNAME}", re.I), ("INSERT",)),
    (re.compile(rf"\bDELETE\s+FROM\s+{_QNAME}", re.I), ("DELETE",)),
    (re.compile(rf"\bUPDATE\s+{_QNAME}\s+SET\b", re.I), ("UPDATE",)),
    (re.compile(rf"\bMERGE\s+INTO\s+{_QNAME}", re.I), ("INSERT", "UPDATE")),
    (re.compile(rf"\bPUT\s+'[^']*'\s+@{_QNAME}", re.I), ("READ", "WRITE")),
    (re.compile(rf"\bFROM\s+@{_QNAME}", re.I), ("READ",)),
    (re.compile(rf"\bGET\s+@{_QNAME}", re.I), ("READ",)),
    (re.compile(rf"\bEXECUTE\s+TASK\s+{_QNAME}", re.I), ("OPERATE",)),
    (re.compile(rf"\bCALL\s+{_QNAME}", re.I), ("USAGE",)),
    (re.compile(rf"\bALTER\s+DYNAMIC\s+TABLE\s+{_QNAME}\s+REFRESH\b", re.I), ("OPERATE",)),
)
PURGE = re.compile(rf"\bFROM\s+@{_QNAME}.*\bPURGE\s*=\s*TRUE\b", re.I | re.S)
# plan resource type → the object type a grant names, and its plural in all/future grants
KINDS = {
    "table:Table": ("TABLE", "TABLES"),
    "dynamicTable:DynamicTable": ("DYNAMIC TABLE", "DYNAMIC TABLES"),
    "view:View": ("VIEW", "VIEWS"),
    "stageInternal:StageInternal": ("STAGE", "STAGES"),
    "functionPython:FunctionPython": ("FUNCTION", "FUNCTIONS"),
    "procedureSql:ProcedureSql": ("PROCEDURE", "PROCEDURES"),
    "procedurePython:ProcedurePython": ("PROCEDURE", "PROCEDURES"),
    "task:Task": ("TASK", "TASKS"),
    "sequence:Sequence": ("SEQUENCE", "SEQUENCES"),
}


@dataclass(frozen=True)
class Statement:
    """A statement a step sent, and the session it sent it on (service user and role)."""

    step: str
    user: str
    role: str
    sql: str


def qualified(name: str) -> tuple[str, ...]:
    """`"DB"."S".t(NUMBER)` → ("DB", "S", "T"): quoted parts as written, unquoted ones upper-cased."""
    parts = re.findall(r'"([^"]+)"|([^".(]+)', name.split("(", 1)[0])
    return tuple(q or u.strip().upper() for q, u in parts if q or u.strip())


def declared_objects(plan: list[dict]) -> dict[tuple[str, ...], tuple[str, str, str]]:
    """(database, schema, name) → (object type, plural, URN) of every schema object the plan declares."""
    out = {}
    for r in plan:
        kind = KINDS.get(r["type"].split("/", 1)[-1])
        i = r["inputs"]
        if kind and {"database", "schema", "name"} <= i.keys():
            out[(i["database"], i["schema"], i["name"])] = (*kind, r["urn"])
    return out


def after(plan: list[dict], urn: str) -> set[str]:
    """Every URN that `urn` depends on, directly or through others: what exists before it is created."""
    deps = {r["urn"]: r.get("dependencies", []) for r in plan}
    seen, todo = set(), [urn]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def statement_needs(sql: str, objects: Mapping[tuple[str, ...], tuple[str, ...]]) -> list[tuple[tuple, str]]:
    """(object, privilege) pairs a statement needs; an object it writes that the plan does not declare is
    ((…), "UNDECLARED")."""
    needs = [(qualified(m.group(1)), p) for rx, privs in STATEMENT_NEEDS for m in rx.finditer(sql) for p in privs]
    needs += [(qualified(m.group(1)), "WRITE") for m in PURGE.finditer(sql)]
    for obj, (kind, *_) in objects.items():
        if kind == "FUNCTION" and re.search(rf'(?<![\w"]){_fq_pattern(obj)}\s*\(', sql, re.I):
            needs.append((obj, "USAGE"))
    return [(o, p) if o in objects else (o, "UNDECLARED") for o, p in dict.fromkeys(needs)]


def _fq_pattern(obj: tuple[str, ...]) -> str:
    return r"\.".join(rf'(?:"{re.escape(p)}"|{re.escape(p)}\b)' for p in obj)


def object_privileges(plan: list[dict], role: str, obj: tuple[str, ...], declared: tuple[str, ...]) -> set[str]:
    """What `role` holds on one declared object through every role it inherits: grants on the object
    itself, a future grant of its kind in its schema only if the object is created after it (Snowflake
    applies future grants at creation; made beside the object, it may come too late), an all-grant only
    if made after the object (ALL and OWNERSHIP hold everything)."""
    _, plural, urn = declared
    roles, held, before = roles_of(plan, role), set(), after(plan, urn)
    for r in plan:
        i = r["inputs"]
        if not r["type"].endswith(GRANT) or i.get("accountRoleName") not in roles or "onSchemaObject" not in i:
            continue
        on = i["onSchemaObject"]
        scope = "future" if "future" in on else "all" if "all" in on else None
        ordered = r["urn"] in before if scope == "future" else urn in after(plan, r["urn"])
        in_schema = (
            scope and on[scope].get("objectTypePlural") == plural and qualified(on[scope]["inSchema"]) == obj[:2]
        )
        if (on.get("objectName") and qualified(on["objectName"]) == obj) or (in_schema and ordered):
            held |= set(i.get("privileges", []))
    return held


def unheld_needs(plan: list[dict], statements: Iterable[Statement]) -> list[str]:
    """Each statement's session role is granted to its user and holds what the statement needs."""
    objects, problems = declared_objects(plan), []
    for s in statements:
        if s.role not in roles_of(plan, f"user:{s.user}"):
            problems.append(f"{s.step}: {s.user} runs as {s.role}, which the plan does not grant it")
        for obj, priv in statement_needs(s.sql, objects):
            name = ".".join(obj)
            if priv == "UNDECLARED":
                problems.append(f"{s.step}: names {name}, which the plan does not declare")
            elif not ({priv, *WHOLE} & object_privileges(plan, s.role, obj, objects[obj])):
                problems.append(f"{s.step} as {s.role} ({s.user}) needs {priv} on {name}, which it does not hold")
    return list(dict.fromkeys(problems))


class Recording:
    """A connection and its cursor in one, on a deployed stack as one service user and role: it keeps
    every statement and answers each query with a zero (empty tables, nothing to fetch), a procedure's
    CALL with an empty JSON object, the analytics tasks' history with runs that succeeded."""

    def __init__(self, log: list[Statement], step: Callable[[], str], user: str, role: str) -> None:
        self.log, self.step, self.user, self.role = log, step, user, role
        self.description = [("N",)]
        self.last = ""

    def cursor(self) -> Recording:
        return self

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: object = None) -> Recording:
        self.log.append(Statement(self.step(), self.user, self.role, sql))
        self.last = sql
        return self

    def executemany(self, sql: str, rows: object) -> Recording:
        return self.execute(sql)

    def fetchone(self) -> tuple[int | str]:
        return ("{}",) if self.last.lstrip().upper().startswith("CALL ") else (0,)

    def fetchall(self) -> list:
        if "TASK_HISTORY" in self.last:  # the analytics step waits on its graphs: every task's run ended
            return [(CATALOG.name(k), "SUCCEEDED", "") for k in TASKS]
        return []

    def commit(self) -> None:
        return None

    def close(self) -> None:
        return None


def stack_outputs_of(plan: list[dict]) -> dict:
    """What `pulumi stack output` of a deployed stack holds for the steps' sessions, from its plan."""
    by_name = {r["name"]: r["inputs"] for r in plan}
    roles = {r["inputs"]["name"] for r in plan if r["type"].endswith("accountRole:AccountRole")}
    database = next(r["inputs"]["name"] for r in plan if r["type"].endswith("database:Database"))
    return {
        "database": database,
        "serviceUsers": service_users(plan),
        "functionalRoles": {n.split("_", 2)[2]: n for n in roles if n.count("_") >= 2},
        "warehouses": {k: by_name[f"foundation-wh-{k}"]["name"] for k in ("load", "transform", "serve")},
        "postgresLoaderSecret": "arn:planned",
        "dynamodbTable": "planned",
    }
