"""Moving a deployed environment stack to its own admin role, computed from two plans: the one deployed
(objects owned by SYSADMIN, SECURITYADMIN and ACCOUNTADMIN) and the working tree's (owned by
`RDP_<STACK>_ADMIN`). `python -m infra.plan --stack dev --handover <git-ref of the deployed commit>`.

It prints what the account administrator runs once, in order, after the account stack's first `up` and
before the environment's next one:
1. `pulumi state delete` of what the environment no longer declares and must not drop: what moved to
   the account stack (the monitor, the review identity), and what its admin role could not undo (SQL
   only ACCOUNTADMIN may run, grants on the account);
2. SQL, as ACCOUNTADMIN: `GRANT OWNERSHIP … COPY CURRENT GRANTS` to the admin role of every object a
   built-in role made that the environment still declares (nothing is dropped or recreated, so nothing
   holding data is lost), then the REVOKEs of the account grants step 1 released and nobody declares.
The environment's next `pulumi up --refresh` then finds its objects as the new program declares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.isolation import BUILTIN_ROLES, build, grant_targets, object_key, stack_of
from infra.naming import quote

# Schema objects by resource type: what GRANT OWNERSHIP calls them (procedures and functions are handed
# over per schema, `ALL … IN SCHEMA`, which needs no argument signature).
SCHEMA_KINDS = {
    "table": "TABLE",
    "dynamicTable": "DYNAMIC TABLE",
    "view": "VIEW",
    "stageInternal": "STAGE",
    "stageExternalS3": "STAGE",
    "fileFormatCsv": "FILE FORMAT",
    "pipe": "PIPE",
    "streamOnTable": "STREAM",
    "task": "TASK",
    "sequence": "SEQUENCE",
    "secretWithGenericString": "SECRET",
    "networkRule": "NETWORK RULE",
    "imageRepository": "IMAGE REPOSITORY",
    "streamlit": "STREAMLIT",
    "procedureSql": "PROCEDURES",
    "functionPython": "FUNCTIONS",
}


def _short(typ: str) -> str:
    return typ.split("/")[-1].split(":")[0]


def _roles(plan: list[dict]) -> dict[str, str]:
    return {
        r["urn"]: str(r["inputs"].get("role", "")).upper() for r in plan if r["type"] == "pulumi:providers:snowflake"
    }


def _identifier(name: str) -> str:
    return quote(*name.split("."))


def ownership_sql(old: list[dict], new: list[dict], admin: str) -> list[str]:
    """GRANT OWNERSHIP to `admin` of every object the deployed plan made with a built-in role and the new
    plan still declares."""
    roles, out, per_schema = _roles(old), [], set()
    kept = {object_key(r) for r in new} - {None}
    for r in old:
        key = object_key(r)
        if roles.get(r.get("provider") or "") not in BUILTIN_ROLES or key not in kept:
            continue
        kind, name = key
        if kind == "SCHEMA OBJECT":
            kind = SCHEMA_KINDS.get(_short(r["type"]), "")
            if kind in ("PROCEDURES", "FUNCTIONS"):
                per_schema.add((kind, name.rsplit(".", 1)[0]))
                continue
        if kind:
            out.append(f"GRANT OWNERSHIP ON {kind} {_identifier(name)} TO ROLE {quote(admin)} COPY CURRENT GRANTS;")
    out += [
        f"GRANT OWNERSHIP ON ALL {kind} IN SCHEMA {_identifier(schema)} TO ROLE {quote(admin)} COPY CURRENT GRANTS;"
        for kind, schema in sorted(per_schema)
    ]
    return out


def _needs_account_admin(r: dict, roles: dict[str, str]) -> bool:
    """What the admin role could not delete: made as ACCOUNTADMIN, a monitor, or a grant on the account."""
    role = roles.get(r.get("provider") or "")
    return role == "ACCOUNTADMIN" or _short(r["type"]) == "resourceMonitor" or bool(r["inputs"].get("onAccount"))


def _identity(r: dict) -> tuple | None:
    """What makes a resource the same object in another stack: its Snowflake object, or its AWS type and name."""
    if (key := object_key(r)) is not None:
        return key
    name = r["inputs"].get("name") or r["inputs"].get("role")  # an inline policy: its role's
    return (r["type"], name) if r["type"].startswith("aws:") and name else None


@dataclass
class Steps:
    """What a handover does, as computed from the plans."""

    forget: list[str] = field(default_factory=list)  # URNs to `pulumi state delete` in the environment
    drop: list[str] = field(default_factory=list)  # commands removing what moved, for the account stack to make
    revoke: list[str] = field(default_factory=list)  # account grants nobody declares any more


def released(old: list[dict], new: list[dict], account: list[dict], stack: str) -> Steps:
    """What the deployed plan has and the new one does not, and that the environment must not drop itself:
    what moved to the account stack, and what only the account administrator may undo."""
    roles, steps = _roles(old), Steps()
    reachable = {u for r in new for u in (r["urn"], *_alias_urns(r))}
    theirs = {_identity(r) for r in account} - {None}
    their_grants = build({"account": account}).grants["account"]
    for r in old:
        if r["type"].startswith(("pulumi:", "retail:")) or r["urn"] in reachable:
            continue
        grants = build({"old": [r]}).grants["old"]
        moved = _identity(r) in theirs or bool(grants and grants <= their_grants)
        if not moved and not _needs_account_admin(r, roles):
            continue  # the admin role drops or revokes it in the next `up`
        steps.forget.append(r["urn"])
        if moved:
            steps.drop += _drop(r)
        elif (i := r["inputs"]).get("onAccount") and (privileges := i.get("privileges")):
            assert grant_targets(i) == [("ACCOUNT", "")]
            role = quote(str(i["accountRoleName"]))
            steps.revoke.append(f"REVOKE {', '.join(privileges)} ON ACCOUNT FROM ROLE {role};")
    steps.drop += _hand_made_users(old, account, stack)
    return steps


def _hand_made_users(old: list[dict], account: list[dict], stack: str) -> list[str]:
    """The environment's deploy user, made by hand before the account stack declared it: dropped so the
    account stack makes it (with the same public key, from Pulumi.account.yaml)."""
    by_urn, known = {r["urn"]: r for r in account}, {object_key(r) for r in old}
    return [
        f"DROP USER IF EXISTS {quote(key[1])};"
        for r in account
        if (key := object_key(r)) and key[0] == "USER" and key not in known and stack_of(r, by_urn, "account") == stack
    ]


def _drop(r: dict) -> list[str]:
    """Removing a moved object (none holds data): its grants go with a dropped role or user."""
    key, name = object_key(r), r["inputs"].get("name")
    if key is not None and key[0] in ("ROLE", "USER", "RESOURCE MONITOR", "NETWORK POLICY"):
        return [f"DROP {key[0]} IF EXISTS {quote(key[1])};"]
    if r["type"] == "aws:iam/role:Role":
        inline = f"$(aws iam list-role-policies --role-name {name} --query 'PolicyNames[0]' --output text)"
        return [
            f'aws iam delete-role-policy --role-name {name} --policy-name "{inline}"',
            f"aws iam delete-role --role-name {name}",
        ]
    if r["type"] == "aws:iam/policy:Policy":  # after the roles: a boundary still attached cannot go
        arn = f"arn:aws:iam::$AWS_ACCOUNT_ID:policy{r['inputs'].get('path', '/')}{name}"
        return [f"aws iam delete-policy --policy-arn {arn}  # last: no role may still carry it"]
    return []


def _alias_urns(r: dict) -> list[str]:
    return [a["urn"] for a in r.get("aliases", []) if isinstance(a, dict) and "urn" in a]


def handover(old: list[dict], new: list[dict], account: list[dict], stack: str, admin: str) -> str:
    """The whole procedure as text, in the order it runs (nothing, for a stack that already deploys with its
    own role)."""
    if not set(_roles(old).values()) & BUILTIN_ROLES:
        return f"# nothing to do: {stack} already deploys with its own roles at that commit\n"
    steps = released(old, new, account, stack)
    sql = [s for s in steps.drop if not s.startswith("aws ")]
    lines = [
        f"# 1. the {stack} stack forgets what moved to the account stack or only an account admin may undo",
        *[f"pulumi state delete --stack {stack} --yes '{u}'" for u in steps.forget],
        "",
        "# 2. remove what moved (none of it holds data), so the account stack's first `up` makes it",
        *sorted((s for s in steps.drop if s.startswith("aws ")), key=lambda s: "delete-policy " in s),
        *(["snowsql -r ACCOUNTADMIN <<'SQL'", *sql, "SQL"] if sql else []),
        "",
        "# 3. once steps 1-2 are done for every environment it hosts: the account stack (admin roles, monitors,",
        "#    deploy users with their keys from Pulumi.account.yaml, account parameters, the review identity)",
        "pulumi up --stack account",
        "",
        f"# 4. hand {stack}'s objects to {admin} (nothing is dropped or recreated), revoke the released grants",
        "snowsql -r ACCOUNTADMIN <<'SQL'",
        *ownership_sql(old, new, admin),
        *steps.revoke,
        "SQL",
        "",
        f"# 5. {stack}, deployed by its own deploy user and admin role from now on",
        f"pulumi up --refresh --stack {stack}",
    ]
    return "\n".join(lines) + "\n"
