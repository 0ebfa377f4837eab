"""Every IAM policy document of an offline plan, linted by parliament (Duo Labs), and parliament's table of
which resource types an action takes, so no check of ours hand-writes that table.

A second, independent reading of the policies: our own tests assert what the program means to grant,
parliament knows what AWS actually authorises (an action granted on an ARN it never takes grants
nothing; a bucket policy a role may rewrite is every object permission it was denied).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.config.reader import SECRET_MARK
from infra.mocks import UNKNOWN_MARK

with warnings.catch_warnings():  # parliament 1.6.4 imports pkg_resources and leaves its data files open
    warnings.simplefilter("ignore")
    import parliament

# Input keys that hold a policy document, and what kind of document each is.
TRUST_KEYS = ("assumeRolePolicy",)
# Documents attached to an identity (a role's inline policy, a managed policy, a boundary); every other
# `policy` input (bucket, topic, queue policies) is a resource policy and names its principals.
IDENTITY_TYPES = ("aws:iam/rolePolicy:", "aws:iam/policy:", "aws:iam/userPolicy:", "aws:iam/groupPolicy:")
_MARKS = (UNKNOWN_MARK, SECRET_MARK)
_ACTION_IN_DETAIL = re.compile(r"(?:for action|but does allow) ([\w-]+:[\w*]+)")


def _listed(value: Any) -> list:
    """An IAM element that may be one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Document:
    """One policy document of a plan: `name` is `<resource name>.<input path>`; `text` is None when the
    plan does not know the document (an Output the mocks leave unknown or secret), and `why` says so."""

    name: str
    kind: str  # identity | resource | trust
    text: str | None
    why: str = ""


@dataclass(frozen=True)
class Finding:
    """A parliament finding about one action of one document (`action` is `*` when it names none)."""

    policy: str
    issue: str
    action: str
    detail: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.policy, self.issue, self.action)


@dataclass(frozen=True)
class ResourceType:
    """A resource type an action takes (`required`: the action needs it) and its ARN format."""

    name: str
    arn: str
    required: bool


def action_resource_types(action: str) -> tuple[ResourceType, ...]:
    """The resource types `action` (e.g. `sns:Unsubscribe`) takes, from the IAM definition parliament
    ships. Empty: the action has no resource-level permissions, so only `"Resource": "*"` grants it."""
    service, _, name = action.lower().partition(":")
    for svc in (s for s in parliament.iam_definition if s["prefix"] == service):  # iam is listed twice
        priv = next((p for p in svc["privileges"] if p["privilege"].lower() == name), None)
        if priv is not None:
            arns = {r["resource"]: r["arn"] for r in svc["resources"]}
            types = [t["resource_type"] for t in priv["resource_types"] if t["resource_type"]]
            return tuple(ResourceType(t.rstrip("*"), arns.get(t.rstrip("*"), ""), t.endswith("*")) for t in types)
    raise ValueError(f"{action}: not an action in parliament's IAM definition")


def documents(plan: list[dict]) -> list[Document]:
    """Every policy document of the plan's AWS resources: trust policies, identity policies (inline,
    managed, boundaries) and resource policies, wherever in the inputs they sit."""
    found = []
    for r in plan:
        if r["type"].startswith("aws:"):
            found += [d for path, value in _policy_inputs(r["inputs"], "") if (d := _document(r, path, value))]
    return found


def _policy_inputs(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every input that is, or may be, a policy document: any string under a key naming
    a policy, and any value shaped like one, so a new place for a document is linted, not missed."""
    if isinstance(value, dict):
        if "Statement" in value:
            yield path, value
            return
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if "polic" in k.lower() and isinstance(v, str):
                yield sub, v
            else:
                yield from _policy_inputs(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _policy_inputs(v, f"{path}[{i}]")
    elif isinstance(value, str) and value.lstrip().startswith("{") and '"Statement"' in value:
        yield path, value


def _document(resource: dict, path: str, value: Any) -> Document | None:
    """The document at `path`; None for what is no document (a policy's ARN or name)."""
    name = f"{resource['name']}.{path}"
    text = value if isinstance(value, str) else json.dumps(value)
    if any(mark in text for mark in _MARKS):
        return Document(name, "", None, f"holds {' or '.join(m for m in _MARKS if m in text)} under the mocks")
    if not text.lstrip().startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return Document(name, "", text)  # parliament reports MALFORMED_JSON
    if path.split(".")[-1] in TRUST_KEYS and isinstance(doc, dict) and "Statement" in doc:
        return Document(name, "trust", _trust_as_resource(doc, resource["inputs"].get("name")))
    identity = resource["type"].startswith(IDENTITY_TYPES)
    return Document(name, "identity" if identity else "resource", text)


def _trust_as_resource(doc: dict, role: Any) -> str:
    """A trust policy as parliament can read it: parliament 1.6.4 has no trust-policy mode and wants a
    Resource in every statement, so the statements name the role they guard (any account)."""
    arn = f"arn:aws:iam::*:role/{role}" if isinstance(role, str) and role not in _MARKS else "*"
    statements = [s if "Resource" in s else {**s, "Resource": arn} for s in _listed(doc["Statement"])]
    return json.dumps({**doc, "Statement": statements})


def lint(document: Document) -> list[Finding]:
    """parliament's findings on one document, community auditors included, one per action concerned."""
    if document.text is None:
        raise ValueError(f"{document.name}: cannot be linted, it {document.why}")
    text, statements = _one_statement_a_line(document.text)
    result = parliament.analyze_policy_string(text, document.name, include_community_auditors=True)
    found = []
    for f in result.findings:
        detail = json.dumps(f.detail, default=str) if not isinstance(f.detail, str) else f.detail
        found += [Finding(document.name, f.issue, a, detail) for a in _actions(f, statements)]
    return sorted(set(found), key=lambda f: (f.key, f.detail))


def _one_statement_a_line(text: str) -> tuple[str, list[dict]]:
    """The document re-serialised with statement i on line i + 2, so a finding's line names its statement
    (and the statement's actions) even when parliament's detail does not."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text, []  # parliament reports MALFORMED_JSON itself
    if not isinstance(doc, dict) or "Statement" not in doc:
        return text, []
    statements = _listed(doc["Statement"])
    head = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in doc.items() if k != "Statement"]
    body = '"Statement": [\n' + ",\n".join(json.dumps(s) for s in statements) + "\n]"
    return "{" + ", ".join([*head, body]) + "}", statements


def _actions(finding: Any, statements: list[dict]) -> list[str]:
    """The actions a parliament finding is about: its detail's or location's, else its statement's."""
    detail, location = finding.detail, finding.location or {}
    if isinstance(detail, list):
        named = [d["action"] for d in detail if isinstance(d, dict) and "action" in d]
    elif location.get("actions"):
        named = list(_listed(location["actions"]))
    else:
        named = _ACTION_IN_DETAIL.findall(str(detail))
    if not named:
        line = location.get("line", location.get("lineno"))
        statement = statements[line - 2] if isinstance(line, int) and 2 <= line < len(statements) + 2 else {}
        named = list(_listed(statement.get("Action", statement.get("NotAction", []))))
    return sorted({_canonical(a) for a in named}) or ["*"]


def _canonical(action: str) -> str:
    """`s3:putbucketpolicy` → `s3:PutBucketPolicy`, as the IAM definition spells it; wildcards as written."""
    if "*" in action:
        return action
    try:
        expanded = parliament.expand_action(action, raise_exceptions=False)
    except ValueError:
        return action
    spelled = {f"{e['service']}:{e['action']}" for e in expanded}  # iam is listed twice
    return spelled.pop() if len(spelled) == 1 else action


def lint_plan(plan: list[dict]) -> tuple[list[Finding], list[Document]]:
    """All findings on the plan's documents, and the documents that could not be linted (never dropped)."""
    docs = documents(plan)
    findings = [f for d in docs if d.text is not None for f in lint(d)]
    return findings, [d for d in docs if d.text is None]
