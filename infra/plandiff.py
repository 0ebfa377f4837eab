"""The offline plan diff: what `pulumi up` would do to a stack, read from two offline plans.

`diff_plans(old, new)` compares two plans as `python -m infra.plan --format json` prints them and
classifies every resource as create, update, replace, delete or unchanged:

- resources are matched by URN, or by a declared alias: a resource whose URN disappears but whose
  old URN the new plan answers to (an alias spec, or an alias inherited from its parent, as the
  engine resolves them) is the same resource, so it is an update, never a delete and a create;
- an update lists the changed input keys with old → new values; secrets stay masked;
- a replace is a change of type (an old and a new resource with the same name under the same parent
  but another type), a change of an input in `REPLACE_ON` for its type, a change of provider, or the
  replacement of a resource named in its `replaceWith`;
- a delete or a replace of a protected resource is marked: `pulumi up` refuses it.

There is no provider schema offline, so `REPLACE_ON` is this project's table of the inputs that force
a replacement, for every resource type the program declares (a test fails when a type is missing).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from infra.config.reader import SECRET_MARK
from infra.cost_report import cost_rows, monthly_cell, monthly_tag

ACTIONS = ("create", "update", "replace", "delete")
MARKER = "<!-- offline-plan-diff -->"  # how the preview workflow finds its own PR comment
_SECRETISH = re.compile(r"(password|passwd|secret|private.?key|token|credential)", re.I)
_SCHEMA_OBJECT = ("database", "schema")  # a schema-level object moved to another schema is a new object
_BUCKET_PART = ("bucket", "expectedBucketOwner")
_GRANT_TARGET = ("accountRoleName", "onAccount", "onAccountObject", "onSchema", "onSchemaObject")
_INTEGRATION = ("name", "type", "direction", "notificationProvider")
_PG_GRANT = ("database", "role", "schema", "objectType", "privileges", "withGrantOption")
_RANDOM = tuple(
    "length special upper lower numeric keepers overrideSpecial minLower minUpper minNumeric minSpecial".split()
)

# Inputs whose change replaces the resource (Pulumi input names). Sources: the ForceNew fields of the Terraform
# providers pulumi-snowflake, pulumi-aws and pulumi-postgresql bridge, the notes in pulumi-snowflake's docs ("a change
# on these fields means recreation of the resource": views and streams are re-created by CREATE OR REPLACE although the
# engine shows an update), pulumi-random (every input), pulumi-command (`triggers`) and infra/serving/credential.py's
# own diff. An empty entry means every input is changed in place (renames included: ALTER … RENAME TO).
_ROUTINE = (*_SCHEMA_OBJECT, "arguments", "returnType")  # functions and procedures
REPLACE_ON: dict[str, tuple[str, ...]] = {
    "snowflake:index/accountRole:AccountRole": (),
    "snowflake:index/alert:Alert": (*_SCHEMA_OBJECT, "name"),
    "snowflake:index/computePool:ComputePool": ("instanceFamily", "forApplication"),
    "snowflake:index/database:Database": (),
    "snowflake:index/dynamicTable:DynamicTable": (*_SCHEMA_OBJECT, "name", "query", "refreshMode", "initialize"),
    "snowflake:index/execute:Execute": ("execute",),
    "snowflake:index/externalAccessIntegration:ExternalAccessIntegration": ("name",),
    "snowflake:index/fileFormatCsv:FileFormatCsv": _SCHEMA_OBJECT,
    "snowflake:index/functionPython:FunctionPython": _ROUTINE,
    "snowflake:index/grantAccountRole:GrantAccountRole": ("roleName", "parentRoleName", "userName"),
    "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole": _GRANT_TARGET,
    "snowflake:index/imageRepository:ImageRepository": (*_SCHEMA_OBJECT, "encryption"),
    "snowflake:index/networkPolicy:NetworkPolicy": (),
    "snowflake:index/networkRule:NetworkRule": (*_SCHEMA_OBJECT, "type", "mode"),
    "snowflake:index/notificationIntegration:NotificationIntegration": _INTEGRATION,
    "snowflake:index/pipe:Pipe": (*_SCHEMA_OBJECT, "name", "copyStatement", "autoIngest"),
    "snowflake:index/postgresInstance:PostgresInstance": (),
    "snowflake:index/procedurePython:ProcedurePython": _ROUTINE,
    "snowflake:index/procedureSql:ProcedureSql": _ROUTINE,
    "snowflake:index/resourceMonitor:ResourceMonitor": (),
    "snowflake:index/schema:Schema": ("database",),
    "snowflake:index/secretWithGenericString:SecretWithGenericString": _SCHEMA_OBJECT,
    "snowflake:index/sequence:Sequence": _SCHEMA_OBJECT,
    "snowflake:index/service:Service": (*_SCHEMA_OBJECT, "computePool"),
    "snowflake:index/serviceUser:ServiceUser": (),
    "snowflake:index/stageExternalS3:StageExternalS3": _SCHEMA_OBJECT,
    "snowflake:index/stageInternal:StageInternal": _SCHEMA_OBJECT,
    "snowflake:index/storageIntegrationAws:StorageIntegrationAws": ("name", "storageProvider"),
    "snowflake:index/streamOnTable:StreamOnTable": (
        *_SCHEMA_OBJECT,
        "table",
        "appendOnly",
        "showInitialRows",
        "at",
        "before",
    ),
    "snowflake:index/streamlit:Streamlit": _SCHEMA_OBJECT,
    "snowflake:index/table:Table": _SCHEMA_OBJECT,
    "snowflake:index/tag:Tag": _SCHEMA_OBJECT,
    "snowflake:index/tagAssociation:TagAssociation": ("objectType", "tagId"),
    "snowflake:index/task:Task": _SCHEMA_OBJECT,
    "snowflake:index/view:View": (*_SCHEMA_OBJECT, "statement"),
    "snowflake:index/warehouse:Warehouse": (),
    "aws:dynamodb/table:Table": ("name", "hashKey", "rangeKey", "localSecondaryIndexes"),
    "aws:iam/policy:Policy": ("name", "namePrefix", "path"),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", "objectLockEnabled"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _BUCKET_PART,
    "aws:s3/bucketNotification:BucketNotification": ("bucket",),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("bucket",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _BUCKET_PART,
    "aws:s3/bucketVersioning:BucketVersioning": _BUCKET_PART,
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretId",),
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),
    "aws:sns/topicPolicy:TopicPolicy": ("arn",),
    "aws:sns/topicSubscription:TopicSubscription": ("topic", "protocol", "endpoint"),
    "postgresql:index/defaultPrivileges:DefaultPrivileges": (*_PG_GRANT, "owner"),
    "postgresql:index/grant:Grant": (*_PG_GRANT, "objects", "columns"),
    "postgresql:index/grantRole:GrantRole": ("role", "grantRole", "withAdminOption"),
    "postgresql:index/role:Role": (),
    "postgresql:index/schema:Schema": ("database",),
    "random:index/randomPassword:RandomPassword": _RANDOM,
    "command:local:Command": ("triggers",),
    "docker:index/image:Image": (),  # rebuilt and pushed in place
    "pulumi-python:dynamic:Resource": ("instance", "role", "rotation"),  # the Postgres admin credential
}


def forcing_inputs(typ: str) -> tuple[str, ...]:
    return REPLACE_ON.get(typ, ())


def make_urn(own_urn: str, parent_urn: str | None, typ: str, name: str) -> str:
    """A URN as the offline plan forms it: stack and project, the parent's type, `$`, type, name."""
    stack, project = own_urn.split("::")[:2]
    qualified = f"{parent_urn.split('::')[2].split('$')[-1]}${typ}" if parent_urn else typ
    return f"{stack}::{project}::{qualified}::{name}"


def reachable_urns(plan: list[dict]) -> dict[str, set[str]]:
    """Each resource's URN → every URN it answers to: its own, its aliases', and those inherited from
    its parent's aliases (children are reached under each URN their parent is)."""
    by_urn = {r["urn"]: r for r in plan}
    memo: dict[str, set[str]] = {}

    def urns(r: dict) -> set[str]:
        if r["urn"] not in memo:
            memo[r["urn"]] = {r["urn"]}  # guards against a parent cycle
            parents = urns(by_urn[r["parent"]]) if r["parent"] in by_urn else {r["parent"]}
            out, variants = {r["urn"]}, {(r["type"], r["name"], p) for p in parents}
            for alias in r.get("aliases", []):
                if "urn" in alias:
                    out.add(alias["urn"])
                    continue
                spec = alias.get("spec", {})
                typ, name = spec.get("type") or r["type"], spec.get("name") or r["name"]
                owners = {None} if spec.get("noParent") else ({spec["parentUrn"]} if spec.get("parentUrn") else parents)
                variants |= {(typ, name, p) for p in owners}
            memo[r["urn"]] = out | {make_urn(r["urn"], p, t, n) for t, n, p in variants}
        return memo[r["urn"]]

    return {r["urn"]: urns(r) for r in plan}


def reach_index(plan: list[dict]) -> dict[str, str]:
    """Every URN the plan answers to → the URN of the resource that answers (the first one)."""
    index: dict[str, str] = {}
    for owner, urns in reachable_urns(plan).items():
        for u in urns:
            index.setdefault(u, owner)
    return index


def mask(value: Any, key: str = "") -> Any:
    """Secret values stay `[secret]`, including any value under a key that looks like a secret."""
    if key and _SECRETISH.search(key) and value not in (None, "", [], {}):
        return SECRET_MARK
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    return value


def _entry(action: str, r: dict, **extra: Any) -> dict:
    base = {"action": action, "urn": r["urn"], "type": r["type"], "name": r["name"], "protect": r["protect"]}
    return base | {"keys": [], "diff": {}, "forced": [], "reason": None, "previousUrn": None} | extra


def _compare(old: dict, new: dict, urn_map: dict[str, str]) -> dict | None:
    """The change from one matched resource to the other, or None when nothing changes."""
    oi, ni = old["inputs"], new["inputs"]
    keys = sorted(k for k in oi.keys() | ni.keys() if oi.get(k) != ni.get(k))
    diff = {k: {"old": mask(oi.get(k), k), "new": mask(ni.get(k), k)} for k in keys}
    if old["protect"] != new["protect"]:
        keys.append("(protect)")
        diff["(protect)"] = {"old": old["protect"], "new": new["protect"]}
    forced = [k for k in keys if k in forcing_inputs(new["type"])]
    provider_moved = urn_map.get(old["provider"], old["provider"]) != new["provider"]
    previous = old["urn"] if old["urn"] != new["urn"] else None
    if not keys and not provider_moved and not previous:
        return None
    reason = f"forced by {', '.join(forced)}" if forced else ("provider changed" if provider_moved else None)
    return _entry(
        "replace" if reason else "update",
        new,
        protect=old["protect"] or new["protect"],
        keys=keys,
        diff=diff,
        forced=forced,
        reason=reason,
        previousUrn=previous,
    )


def _unaliased(gone: list[dict], added: list[dict], urn_map: dict[str, str]) -> list[tuple[dict, dict]]:
    """Old and new resources of the same name under the same parent whose URN changed without an
    alias: another type, or a parent that is itself such a pair. Pulumi creates the new one and
    deletes the old: a replacement. Pairs are moved from `gone`/`added` into `urn_map`."""
    pairs, grown = [], True
    while grown:
        grown = False
        slots: dict[tuple, list[dict]] = {}
        for n in added:
            slots.setdefault((n["name"], n["parent"]), []).append(n)
        for o in list(gone):
            found = slots.get((o["name"], urn_map.get(o["parent"], o["parent"])), [])
            if len(found) == 1:
                n = found.pop()
                pairs.append((o, n))
                gone.remove(o)
                added.remove(n)
                urn_map[o["urn"]] = n["urn"]
                grown = True
    return pairs


def _propagate_replace_with(changes: list[dict], new: list[dict]) -> int:
    """A resource is replaced whenever one named in its `replaceWith` is (engine semantics).
    Returns how many otherwise unchanged resources this replaces."""
    by_urn = {c["urn"]: c for c in changes}
    replaced = {c["urn"] for c in changes if c["action"] == "replace"}
    pulled_in, grown = 0, True
    while grown:
        grown = False
        for r in new:
            hits = [u for u in r.get("replaceWith", []) if u in replaced]
            if not hits or r["urn"] in replaced:
                continue
            if r["urn"] not in by_urn:
                by_urn[r["urn"]] = _entry("update", r)
                changes.append(by_urn[r["urn"]])
                pulled_in += 1
            by_urn[r["urn"]].update(action="replace", reason=f"replaceWith {hits[0].rsplit('::', 1)[-1]}")
            replaced.add(r["urn"])
            grown = True
    return pulled_in


def _match(old: list[dict], new: list[dict]) -> dict[str, str]:
    """Old URN → new URN, by URN or by a declared alias."""
    new_urns = {r["urn"] for r in new}
    reach = reach_index(new)
    urn_map: dict[str, str] = {}
    taken: set[str] = set()
    for o in old:
        target = o["urn"] if o["urn"] in new_urns else reach.get(o["urn"])
        if target and target not in taken:
            urn_map[o["urn"]] = target
            taken.add(target)
    return urn_map


def diff_plans(old: list[dict], new: list[dict]) -> dict:
    """{"changes": [...], "unchanged": n}: one entry per created, updated, replaced or deleted resource."""
    old_by, new_by = {r["urn"]: r for r in old}, {r["urn"]: r for r in new}
    urn_map = _match(old, new)
    gone = [o for o in old if o["urn"] not in urn_map]
    added = [n for n in new if n["urn"] not in set(urn_map.values())]
    changes, unchanged = [], 0
    for old_urn, new_urn in urn_map.items():
        c = _compare(old_by[old_urn], new_by[new_urn], urn_map)
        unchanged += c is None
        changes += [c] if c else []
    for o, n in _unaliased(gone, added, urn_map):
        c = _compare(o, n, urn_map) or _entry("update", n)
        moved = f"type {o['type']} → {n['type']}" if o["type"] != n["type"] else "new URN without an alias"
        c.update(action="replace", reason=moved, protect=o["protect"] or n["protect"])
        changes.append(c)
    changes += [_entry("create", n) for n in added] + [_entry("delete", o) for o in gone]
    unchanged -= _propagate_replace_with(changes, new)
    order = {"replace": 0, "delete": 1, "create": 2, "update": 3}
    changes.sort(key=lambda c: (order[c["action"]], c["type"], c["name"]))
    return {"changes": changes, "unchanged": unchanged}


def counts(result: dict) -> dict[str, int]:
    out = {a: sum(1 for c in result["changes"] if c["action"] == a) for a in ACTIONS}
    return out | {"unchanged": result["unchanged"]}


def summary_line(stack: str, result: dict) -> str:
    n = counts(result)
    return f"{stack}: " + ", ".join(f"{n[a]} to {a}" for a in ACTIONS) + f", {n['unchanged']} unchanged"


def _text(value: Any) -> str:
    if value == SECRET_MARK:
        return SECRET_MARK
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def shorten_pair(old: Any, new: Any, width: int = 60) -> tuple[str, str]:
    """Both values as short text; long ones are cut around their first difference."""
    a, b = _text(old), _text(new)
    if len(a) <= width and len(b) <= width:
        return a, b
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, min(i - width // 3, max(len(a), len(b)) - width))

    def cut(s: str) -> str:
        part = s[start : start + width]
        return ("…" if start else "") + part + ("…" if start + width < len(s) else "")

    return cut(a), cut(b)


def flag(c: dict) -> str:
    """`!! protected` on a delete or replace of a protected resource (`pulumi up` refuses it)."""
    if not c["protect"]:
        return ""
    return "!! protected" if c["action"] in ("replace", "delete") else "[protect]"


def _note(c: dict) -> str:
    notes = [c["reason"]] if c["reason"] else []
    if c["previousUrn"] and c["action"] == "update":
        old = c["previousUrn"].split("::")
        notes.append(f"aliased from {old[2].split('$')[-1]} {old[3]}")
    return "; ".join(notes)


SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def render_text(results: dict[str, dict], base: str, max_keys: int = 12) -> str:
    lines = []
    for stack, result in results.items():
        lines.append(f"== {stack}: working tree against {base}")
        if not result["changes"]:
            lines.append("   no changes")
        for c in result["changes"]:
            head = f"{SIGNS[c['action']]:>2} {c['action']:<8} {c['type']}  {c['name']}"
            extra = "  ".join(x for x in (flag(c), f"({_note(c)})" if _note(c) else "", monthly_tag(c)) if x)
            lines.append(f"{head}  {extra}".rstrip())
            for key in c["keys"][:max_keys]:
                old, new = shorten_pair(c["diff"][key]["old"], c["diff"][key]["new"])
                lines.append(f"       {key}: {old} → {new}")
            if len(c["keys"]) > max_keys:
                lines.append(f"       … and {len(c['keys']) - max_keys} more")
        lines += cost_rows(result)
        lines.append("")
    lines += [summary_line(stack, result) for stack, result in results.items()]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def _md_row(c: dict) -> str:
    action = {"create": "➕ create", "update": "✏️ update", "replace": "🔁 **replace**", "delete": "🗑️ **delete**"}
    what = action[c["action"]] + (" ‼️ **protected**" if flag(c) == "!! protected" else "")
    details = [_cell(_note(c))] if _note(c) else []
    for key in c["keys"][:8]:
        old, new = shorten_pair(c["diff"][key]["old"], c["diff"][key]["new"], width=48)
        forced = " (forces replacement)" if key in c["forced"] else ""
        details.append(f"<code>{_cell(key)}</code>{forced}: <code>{_cell(old)}</code> → <code>{_cell(new)}</code>")
    if len(c["keys"]) > 8:
        details.append(f"… and {len(c['keys']) - 8} more")
    name, typ, money = _cell(c["name"]), _cell(c["type"]), monthly_cell(c)
    return f"| {what} | <code>{name}</code> | <code>{typ}</code> | {money} | {'<br>'.join(details)} |"


def render_markdown(results: dict[str, dict], base: str, budget: int = 60000) -> str:
    """A PR comment (starts with `MARKER`): one table per stack, then the summary lines. Rows past
    the budget (GitHub takes 65536 characters) are counted, not shown."""
    out = [MARKER, f"## Offline plan diff against <code>{_cell(base)}</code>", ""]
    out.append("Computed under Pulumi's mocks, without credentials: inputs as the program declares them.")
    share = budget // max(1, len(results))
    for stack, result in results.items():
        out += ["", f"### {summary_line(stack, result)}", "", *cost_rows(result, markdown=True)]
        if not result["changes"]:
            out.append("No changes.")
            continue
        rows = ["| action | resource | type | monthly change | changes |", "|---|---|---|---|---|"]
        for n, c in enumerate(result["changes"]):
            row = _md_row(c)
            if sum(map(len, rows)) + len(row) > share:
                rows.append(f"\n… and {len(result['changes']) - n} more (`python -m infra.plan --diff` lists all).")
                break
            rows.append(row)
        out += rows
    out += ["", *(f"**{summary_line(s, r)}**  " for s, r in results.items())]
    return "\n".join(out)


def render_json(results: dict[str, dict], base: str) -> str:
    stacks = {s: {"summary": counts(r), "changes": r["changes"], "cost": r.get("cost")} for s, r in results.items()}
    return json.dumps({"base": base, "stacks": stacks}, indent=1, sort_keys=True, ensure_ascii=False)
