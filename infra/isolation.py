"""Who can reach what in Snowflake, computed from the plans of every stack: one stack's credentials never
touch another stack's objects, no grant is declared twice, and tearing one stack down leaves the others whole.

The model reads only what the plans record (no list kept by hand):
- **objects**: every named Snowflake resource, keyed `(kind, NAME)` with schema objects as `DB.SCHEMA.NAME`;
  each is owned by the role its provider logs in with (ownership: every privilege, and for a role or a
  user, whatever it holds, since its owner may grant it or set its key);
- **holdings**: `GrantAccountRole` (role to role, role to user) and the role each provider logs in with,
  plus Snowflake's built-in hierarchy (ACCOUNTADMIN holds SYSADMIN and SECURITYADMIN, SECURITYADMIN holds
  USERADMIN; MANAGE GRANTS, which ACCOUNTADMIN and SECURITYADMIN have, reaches every object);
- **privileges**: `GrantPrivilegesToAccountRole` on an object, on all or future objects of a schema or
  database, or on the account.

Principals are attributed to a stack: the users a stack declares and the users its providers log in as.
The account stack (applied by a human account administrator) declares each environment's admin role and
deploy user inside a component named after that environment; those count as the environment's. Per-PR
review stacks (`pr-<n>`) all belong to the review identity, which deploys them. The account stack's own
login is the one trusted principal and is not checked against anyone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

Plan = list[dict]
Key = tuple[str, str]
ACCOUNT_STACK = "account"
# Component types of the account stack whose children belong to an environment (named by the component).
ENVIRONMENT_COMPONENTS = ("retail:account:EnvironmentAccess", "retail:account:ReviewIdentity")
REVIEW = "review"
REVIEW_STACK = re.compile(r"^pr-\d+$")  # what review-stack.yml names them
BUILTIN_HOLDS = {"ACCOUNTADMIN": {"SYSADMIN", "SECURITYADMIN"}, "SECURITYADMIN": {"USERADMIN"}}
MANAGE_GRANTS = {"ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN"}
BUILTIN_ROLES = {"ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "ORGADMIN", "PUBLIC"}
EVERYTHING: Key = ("ANY", "*")
_ACCOUNT_KINDS = {
    "database": "DATABASE",
    "warehouse": "WAREHOUSE",
    "accountRole": "ROLE",
    "serviceUser": "USER",
    "user": "USER",
    "legacyServiceUser": "USER",
    "networkPolicy": "NETWORK POLICY",
    "computePool": "COMPUTE POOL",
    "resourceMonitor": "RESOURCE MONITOR",
    "postgresInstance": "POSTGRES INSTANCE",
}


def _name(*parts: object) -> str:
    return ".".join(str(p).replace('"', "").upper() for p in parts)


# What an `Execute` creates, for the objects the provider has no resource for (infra/serving/export.py).
EXECUTE = "snowflake:index/execute:Execute"
_EXECUTE_CREATES = re.compile(r"^\s*CREATE\s+(SECURITY INTEGRATION|SECRET)\s+(\S+)", re.I)


def execute_creates(record: dict) -> tuple[str, str] | None:
    """(kind, name) of the object an `Execute`'s statement creates (SECURITY INTEGRATION, SECRET), or None."""
    found = _EXECUTE_CREATES.match(str(record["inputs"].get("execute") or "")) if record["type"] == EXECUTE else None
    return (found.group(1).upper(), found.group(2)) if found else None


def object_key(record: dict) -> Key | None:
    """The object a Snowflake resource record declares, or None (grants, providers, other executes)."""
    typ, inputs = record["type"], record["inputs"]
    if created := execute_creates(record):
        kind, name = created
        return ("INTEGRATION", _name(name)) if kind.endswith("INTEGRATION") else ("SCHEMA OBJECT", _name(name))
    if not typ.startswith("snowflake:") or "name" not in inputs:
        return None
    short = typ.split("/")[-1].split(":")[0]
    if "Integration" in typ.split(":")[-1]:
        return ("INTEGRATION", _name(inputs["name"]))
    if short == "schema":
        return ("SCHEMA", _name(inputs["database"], inputs["name"]))
    if "database" in inputs and "schema" in inputs:
        return ("SCHEMA OBJECT", _name(inputs["database"], inputs["schema"], inputs["name"]))
    return (_ACCOUNT_KINDS.get(short, short.upper()), _name(inputs["name"]))


def _account_object(ref: Mapping) -> Key:
    kind = str(ref["objectType"]).upper()
    return ("INTEGRATION" if kind.endswith("INTEGRATION") else kind, _name(ref["objectName"]))


def grant_targets(inputs: Mapping) -> list[Key]:
    """What a `GrantPrivilegesToAccountRole` is on: an object, every object of a schema or database, the account."""
    if inputs.get("onAccount"):
        return [("ACCOUNT", "")]
    if ref := inputs.get("onAccountObject"):
        return [_account_object(ref)]
    if on := inputs.get("onSchema"):
        if "schemaName" in on:
            return [("SCHEMA", _name(on["schemaName"]))]
        db = on.get("allSchemasInDatabase") or on.get("futureSchemasInDatabase")
        return [("DATABASE CONTENTS", _name(db))]
    on = inputs.get("onSchemaObject") or {}
    if "objectName" in on:
        return [("SCHEMA OBJECT", _name(on["objectName"]))]
    bulk = on.get("all") or on.get("future") or {}
    if "inSchema" in bulk:
        return [("SCHEMA CONTENTS", _name(bulk["inSchema"]))]
    return [("DATABASE CONTENTS", _name(bulk.get("inDatabase", "")))]


def covers(reached: Key, target: Key) -> bool:
    """Whether a privilege on `reached` is a privilege on `target` (or on what `target` contains)."""
    if reached == EVERYTHING or reached == target:
        return True
    kind, name = reached
    t_kind, t_name = target
    if kind == "DATABASE CONTENTS" and t_kind in ("SCHEMA", "SCHEMA OBJECT"):
        return t_name.startswith(name + ".")
    if kind == "SCHEMA CONTENTS" and t_kind == "SCHEMA OBJECT":
        return t_name.rsplit(".", 1)[0] == name
    return False


@dataclass
class Model:
    """Every stack's objects, grants and logins, joined in one account-wide graph."""

    objects: dict[str, dict[Key, str]] = field(default_factory=lambda: defaultdict(dict))  # stack → key → owner
    users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # stack → principals
    holds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # grantee → roles
    privileges: dict[str, set[tuple[str, Key]]] = field(default_factory=lambda: defaultdict(set))
    # by the plan that declares them (the account stack's own included): what a destroy removes
    grants: dict[str, set[tuple]] = field(default_factory=lambda: defaultdict(set))  # plan → grants
    declared: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))  # plan → objects
    references: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # plan → names used

    def roles_of(self, grantee: str) -> set[str]:
        """Every role a user or role holds, through the hierarchy and through what its roles own."""
        seen: set[str] = set()
        todo = [*self.holds.get(grantee, ())]
        while todo:
            role = todo.pop()
            if role in seen:
                continue
            seen.add(role)
            todo += [*self.holds.get(role, ()), *BUILTIN_HOLDS.get(role, ())]
            for objects in self.objects.values():
                for (kind, name), owner in objects.items():
                    if owner == role and kind in ("ROLE", "USER"):
                        todo += [name] if kind == "ROLE" else [*self.holds.get(name, ())]
        return seen

    def reach(self, grantee: str) -> set[tuple[str, Key]]:
        """(privilege, object) pairs a principal can use or grant itself."""
        roles = self.roles_of(grantee)
        if roles & MANAGE_GRANTS or any(("MANAGE GRANTS", ("ACCOUNT", "")) in self.privileges[r] for r in roles):
            return {("ALL", EVERYTHING)}
        found = {p for r in roles for p in self.privileges.get(r, ())}
        for objects in self.objects.values():
            for key, owner in objects.items():
                if owner in roles:
                    found.add(("OWNERSHIP", key))
                    if key[0] in ("DATABASE", "SCHEMA"):
                        found.add(("OWNERSHIP", (f"{key[0]} CONTENTS", key[1])))
        return found


def stack_of(record: dict, by_urn: Mapping[str, dict], stack: str) -> str:
    """The stack a record belongs to: its own (the review identity's for a review stack), or for the account
    stack the environment it was declared for."""
    if REVIEW_STACK.match(stack):
        return REVIEW
    if stack != ACCOUNT_STACK:
        return stack
    parent = record.get("parent")
    while parent in by_urn:
        p = by_urn[parent]
        if p["type"] in ENVIRONMENT_COMPONENTS:
            return p["name"]
        parent = p.get("parent")
    return ACCOUNT_STACK


def build(plans: Mapping[str, Plan]) -> Model:
    """The model of every stack's plan (`{"dev": [...], "prod": [...], "account": [...]}`)."""
    m = Model()
    for stack, plan in plans.items():
        by_urn = {r["urn"]: r for r in plan}
        logins = {r["urn"]: r["inputs"] for r in plan if r["type"] == "pulumi:providers:snowflake"}
        for r in plan:
            _add(m, r, stack, stack_of(r, by_urn, stack), _login_role(r, logins))
        for urn, login in logins.items():
            if "user" in login and "role" in login:
                user = _name(login["user"])
                m.holds[user].add(_name(login["role"]))
                m.users[stack_of(by_urn[urn], by_urn, stack)].add(user)
    return m


def _login_role(record: dict, logins: Mapping[str, dict]) -> str:
    provider = record.get("provider") or ""
    for urn, login in logins.items():
        if provider == urn or provider.startswith(urn + "::"):
            return _name(login.get("role", "?"))
    return "?"


def _add(m: Model, r: dict, plan: str, stack: str, owner: str) -> None:
    """One record into the model: `plan` declares it, `stack` is whose it is."""
    typ, inputs = r["type"], r["inputs"]
    m.references[plan].update(_name(v) for v in strings(inputs))
    if typ.endswith("grantAccountRole:GrantAccountRole"):
        grantee = _name(inputs.get("parentRoleName") or inputs.get("userName"))
        m.holds[grantee].add(_name(inputs["roleName"]))
        m.grants[plan].add((grantee, "ROLE", ("ROLE", _name(inputs["roleName"]))))
        return
    if typ.endswith("grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"):
        grantee = _name(inputs["accountRoleName"])
        for target in grant_targets(inputs):
            for privilege in inputs.get("privileges") or ["ALL PRIVILEGES"]:
                m.privileges[grantee].add((privilege, target))
                m.grants[plan].add((grantee, privilege, target))
        return
    if (key := object_key(r)) is not None:
        m.objects[stack][key] = owner
        m.declared[plan].add(key)
        if key[0] == "USER":
            m.users[stack].add(key[1])


def strings(value: object) -> Iterator[str]:
    """Every string leaf of a (nested) input, as recorded."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def cross_stack_reach(m: Model) -> list[str]:
    """For every pair of stacks A ≠ B: what a principal of A can do to an object B declares."""
    findings = []
    for a, principals in sorted(m.users.items()):
        if a == ACCOUNT_STACK:
            continue
        for user in sorted(principals):
            reached = m.reach(user)
            for b, objects in sorted(m.objects.items()):
                if b in (a, ACCOUNT_STACK):
                    continue
                hits = sorted({k for k in objects for _, r in reached if covers(r, k)})
                if hits:
                    shown = ", ".join(f"{kind} {name}" for kind, name in hits[:3])
                    more = f" and {len(hits) - 3} more" if len(hits) > 3 else ""
                    findings.append(f"{a}'s {user} reaches {b}'s {shown}{more}")
    return findings


def shared_grants(m: Model) -> list[str]:
    """Grants (grantee, privilege, object) and objects that two stacks both declare."""
    findings = []
    for kind, per_stack in (("grant", m.grants), ("object", m.declared)):
        where: dict[object, list[str]] = defaultdict(list)
        for stack, items in per_stack.items():
            for item in items:
                where[item].append(stack)
        findings += [f"{kind} {item} is declared by {', '.join(sorted(s))}" for item, s in where.items() if len(s) > 1]
    return sorted(findings)


def builtin_grants(m: Model) -> list[str]:
    """Environment stacks grant nothing to Snowflake's built-in roles and log in with none of them."""
    findings = []
    for stack, grants in sorted(m.grants.items()):
        if stack == ACCOUNT_STACK:
            continue
        findings += [f"{stack} grants {p} on {t} to built-in {g}" for (g, p, t) in grants if g in BUILTIN_ROLES]
    for stack, users in sorted(m.users.items()):
        if stack == ACCOUNT_STACK:
            continue
        for user in sorted(users):
            if builtin := m.roles_of(user) & BUILTIN_ROLES - {"PUBLIC"}:
                findings.append(f"{stack}'s {user} holds built-in {', '.join(sorted(builtin))}")
    return findings


def destroy_impact(m: Model, plan: str) -> list[str]:
    """`pulumi destroy` of one stack, simulated: what it drops or revokes that another stack declares or uses."""
    dropped, revoked = m.declared.get(plan, set()), m.grants.get(plan, set())
    findings = []
    for other in sorted((set(m.declared) | set(m.grants)) - {plan}):
        findings += [f"destroying {plan} revokes {g}, which {other} declares" for g in revoked & m.grants[other]]
        findings += [f"destroying {plan} drops {k}, which {other} declares" for k in dropped & m.declared[other]]
        used = m.references.get(other, set())
        findings += [
            f"destroying {plan} drops {kind} {name}, which {other} uses" for kind, name in dropped if name in used
        ]
    return sorted(findings)


def check(plans: Mapping[str, Plan]) -> list[str]:
    """Every finding of every check over the plans; empty when the stacks are isolated."""
    m = build(plans)
    findings = cross_stack_reach(m) + shared_grants(m) + builtin_grants(m)
    for stack in plans:
        if stack != ACCOUNT_STACK:
            findings += destroy_impact(m, stack)
    return findings
