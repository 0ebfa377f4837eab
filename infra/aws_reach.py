"""Can one stack's AWS identities act on another stack's resources? Every IAM role and user a stack's
plan declares, evaluated against every ARN any other stack's plan declares, for every action IAM defines
on that ARN.

Why: dev and prod share one AWS account, so the only fence between them is what the policies say, and
a prefix that is one character too short, or an action granted on `*`, opens it. Reading policies by eye
(or with wildcard matching of our own) is how such a hole gets through review, so the policies are
evaluated by a real evaluator, moto's (`moto.iam.access_control.IAMPolicy.is_action_permitted`), against
the ARNs AWS would give the other stack's resources (infra/arns.py, the table the mocks answer from).

What is evaluated, for each ordered pair of stacks A ≠ B:
- A's principals: each aws:iam/role:Role (and User) with its identity documents: inline policies
  (RolePolicy, `inlinePolicies`), and the managed policies attached to it (RolePolicyAttachment,
  `managedPolicyArns`) that some plan declares; its permissions boundary, when a plan declares it.
  Allowed = an identity document allows and none denies, and the boundary (if any) allows.
- B's resource policies (bucket, topic, queue, secret, table policies) grant too when a statement names
  the principal's ARN (then still held to its boundary), `*` or one of its sessions; their denies deny.
- B's ARNs: every resource's, plus `<bucket>/*` and `<bucket>/<prefix>*` for each key prefix B uses.
- Actions: from parliament's copy of IAM's service reference: for an ARN, every action that takes its
  resource type (the most specific ARN format that matches it), and every action of its service that
  takes no resource type: IAM grants those on `*` only, so a `*` grant reaches B's resources too (SNS,
  for one, authorises its subscription actions on the subscription's topic ARN).

How moto 5.2.5 evaluates, and what this module does about it:
- Condition: with no request context (none is passed here) every condition counts as met: moto checks
  only StringEquals and only keys it is given; other operators are ignored. An Allow with a Condition
  therefore counts as allowed, which is conservative (some request can meet it). A Deny with a
  Condition would count as an unconditional deny and could hide a grant, so such statements are dropped
  before evaluation: a conditional Deny never counts as denying. (With a context, moto answers DENIED
  for an Allow whose StringEquals fails; another reason never to pass one.)
- NotResource: moto reads a statement without Resource as a trust statement and answers PERMITTED,
  even for a Deny. An Allow with NotResource thus allows everywhere (conservative); a Deny with
  NotResource is dropped. NotAction is evaluated as IAM does.
- Matching: moto turns `*` into `.*` and hands the rest to `re` unescaped, case-sensitively. Documents
  are normalised first: actions lower-cased (IAM's are case-insensitive), regex characters escaped, `?`
  as one character, policy variables (`${aws:username}`) read as `*` in Allows.
- Principal: moto ignores most Principal forms; resource-policy statements are kept only when they name
  the principal, and are then evaluated without their Principal. Group memberships are not followed.
What cannot be read (a document unknown under the mocks, an attached policy no plan declares, a resource
type infra/arns.py does not know) is reported as a finding, never skipped.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from infra import arns
from infra.arns import ACCOUNT_ID
from infra.config.reader import read_stack_file

with warnings.catch_warnings():  # parliament 1.6.4 imports pkg_resources and leaves its data files open
    warnings.simplefilter("ignore")
    import parliament

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
# The marks infra/mocks.py and infra/config/reader.py put where the plan does not know a value.
_MARK = re.compile(r"\[(unknown|secret)\]")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# Principal type → (word, its inline policy type, its attachment type, the input naming the principal).
_PRINCIPALS = {
    "aws:iam/role:Role": ("role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:", "role"),
    "aws:iam/user:User": ("user", "aws:iam/userPolicy:UserPolicy", "aws:iam/userPolicyAttachment:", "user"),
}
# Resource-policy type → the ARN of the resource it guards, from its inputs.
_GUARDS: dict[str, Callable[[dict], str]] = {
    "aws:s3/bucketPolicy:BucketPolicy": lambda i: arns.bucket(i["bucket"]),
    "aws:sns/topicPolicy:TopicPolicy": lambda i: i["arn"],
    "aws:sqs/queuePolicy:QueuePolicy": lambda i: _queue_arn(i["queueUrl"]),
    "aws:secretsmanager/secretPolicy:SecretPolicy": lambda i: i["secretArn"],
    "aws:dynamodb/resourcePolicy:ResourcePolicy": lambda i: i["resourceArn"],
}


@dataclass(frozen=True)
class Principal:
    """An identity of stack `stack`: its identity documents, its boundary (None: none known) and what
    about it cannot be evaluated."""

    stack: str
    kind: str
    name: str
    arn: str
    identity: tuple[str, ...]
    boundary: str | None
    unreadable: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.stack} {self.kind} {self.name}"


def stack_region(stack: str) -> str:
    """The region the stack's plan is made for (`aws:region`, as infra.plan hands it to the mocks)."""
    return read_stack_file(stack)[0].get("aws:region", "us-east-1")


def reach(plans: dict[str, list[dict]], regions: dict[str, str] | None = None) -> list[str]:
    """Every way an identity of one stack may act on a resource of another, one readable line each
    (`dev role rdp-dev-ci-deploy may sns:Unsubscribe on arn:...`); empty when the stacks are isolated."""
    regions = regions or {s: stack_region(s) for s in plans}
    managed = {arn: text for s, plan in plans.items() for arn, text in _managed_policies(plan, regions[s]).items()}
    found: set[str] = set()
    for a, plan_a in plans.items():
        principals = _principals(plan_a, a, managed, regions[a])
        for b, plan_b in plans.items():
            if a == b:
                continue
            targets, problems = declared_arns(plan_b, b, regions[b])
            guards = _resource_policies(plan_b)
            found.update(problems)
            unknown = [arn for arn, docs in guards.items() if not all(_readable(d) for d in docs)]
            found.update(f"{b} plan: a policy on {arn} is unknown under the mocks" for arn in unknown)
            for p in principals:
                found.update(f"{p}: {why}" for why in p.unreadable)
                found.update(_reach_of(p, targets, guards))
    return sorted(found)


# ----------------------------------------------------------------------------------- principals of A
def _managed_policies(plan: list[dict], region: str) -> dict[str, str]:
    """ARN → document of every managed policy (boundaries included) the plan declares."""
    return {
        str(arns.arn(r["type"], r["name"], r["inputs"], ACCOUNT_ID, region)): r["inputs"].get("policy", "")
        for r in plan
        if r["type"] == "aws:iam/policy:Policy"
    }


def _principals(plan: list[dict], stack: str, managed: dict[str, str], region: str) -> list[Principal]:
    """Every role and user of the plan with the documents that say what it may do."""
    found = []
    for r in (r for r in plan if r["type"] in _PRINCIPALS):
        kind, inline_type, attach_type, key = _PRINCIPALS[r["type"]]
        inputs = r["inputs"]
        name = inputs.get("name") or r["name"]
        mine = [x for x in plan if x["inputs"].get(key) in (name, r["urn"])]  # by name, id or reference
        docs = [x["inputs"].get("policy") for x in mine if x["type"] == inline_type]
        docs += [p.get("policy") for p in inputs.get("inlinePolicies") or []]
        attached = [x["inputs"].get("policyArn") for x in mine if x["type"].startswith(attach_type)]
        attached += inputs.get("managedPolicyArns") or []
        unknown = [arn for arn in attached if arn not in managed]
        why = [f"attaches {arn}, which no plan declares: what it grants is unknown" for arn in unknown]
        docs += [managed[arn] for arn in attached if arn in managed]
        why += [f"a policy document of it is unknown under the mocks: {str(d)[:60]}" for d in docs if not _readable(d)]
        boundary = managed.get(inputs.get("permissionsBoundary") or "")
        if boundary is not None and not _readable(boundary):
            why.append(f"its boundary {inputs['permissionsBoundary']} is unknown under the mocks")
            boundary = None
        arn = str(arns.arn(r["type"], r["name"], inputs, ACCOUNT_ID, region))
        readable = tuple(d for d in docs if _readable(d))
        found.append(Principal(stack, kind, name, arn, readable, boundary, tuple(why)))
    return found


def _readable(doc: Any) -> bool:
    """A document this check can evaluate: JSON with statements, nothing in it unknown under the mocks."""
    if not isinstance(doc, str) or _MARK.search(doc):
        return False
    try:
        return "Statement" in json.loads(doc)
    except (json.JSONDecodeError, TypeError):
        return False


# --------------------------------------------------------------------------------------- ARNs of B
def declared_arns(plan: list[dict], stack: str, region: str) -> tuple[list[str], list[str]]:
    """Every ARN the plan declares (object ARNs under its buckets included), and what it cannot name."""
    found, problems = [], []
    for r in (r for r in plan if r["type"].startswith("aws:")):
        try:
            arn = arns.arn(r["type"], r["name"], r["inputs"], ACCOUNT_ID, region)
        except arns.UnknownTypeError as e:
            problems.append(f"{stack} plan: {r['name']}: {e}")
            continue
        if arn is None:
            continue
        if _MARK.search(arn):
            problems.append(f"{stack} plan: {r['name']}: its ARN is unknown under the mocks ({arn})")
            continue
        found.append(arn)
        if r["type"] in arns.BUCKET_TYPES:
            prefixes = ["", *arns.object_prefixes(plan, arn.split(":::", 1)[1])]
            found += [f"{arn}/{prefix}*" for prefix in prefixes]
    return sorted(set(found)), problems


def _resource_policies(plan: list[dict]) -> dict[str, list[str]]:
    """ARN of a guarded resource → the resource policies the plan puts on it."""
    guards: dict[str, list[str]] = {}
    for r in (r for r in plan if r["type"] in _GUARDS):
        guards.setdefault(_GUARDS[r["type"]](r["inputs"]), []).append(r["inputs"].get("policy", ""))
    return guards


def _queue_arn(url: str) -> str:
    """`https://sqs.<region>.amazonaws.com/<account>/<name>` → the queue's ARN."""
    m = re.fullmatch(r"https://sqs\.([^.]+)\.amazonaws\.com/(\d+)/(.+)", url)
    return f"arn:aws:sqs:{m[1]}:{m[2]}:{m[3]}" if m else url


def _guarded_by(arn: str) -> str:
    """The resource whose policy guards `arn`: an object's bucket, a subscription's topic, else itself."""
    if arn.startswith("arn:aws:s3:::"):
        return arn.split("/", 1)[0]
    if arn.startswith("arn:aws:sns:"):
        return ":".join(arn.split(":")[:6])
    return arn


# ----------------------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class _Service:
    formats: tuple[tuple[str, re.Pattern, int], ...]  # resource type, ARN regex, literal characters
    actions: dict[str, frozenset[str]]  # action → resource types it takes (empty: `*` only)


@cache
def _services() -> dict[str, _Service]:
    """parliament's IAM definition by service prefix (IAM is listed twice; both are merged)."""
    formats: dict[str, dict[str, str]] = {}
    actions: dict[str, dict[str, set[str]]] = {}
    for svc in parliament.iam_definition:
        formats.setdefault(svc["prefix"], {}).update({r["resource"]: r["arn"] for r in svc["resources"]})
        acts = actions.setdefault(svc["prefix"], {})
        for p in svc["privileges"]:
            types = {t["resource_type"].rstrip("*") for t in p["resource_types"] if t["resource_type"]}
            acts.setdefault(f"{svc['prefix']}:{p['privilege']}", set()).update(types)
    return {
        prefix: _Service(
            tuple((t, *_format_regex(f)) for t, f in formats[prefix].items()),
            {a: frozenset(ts) for a, ts in actions[prefix].items()},
        )
        for prefix in formats
    }


def _format_regex(fmt: str) -> tuple[re.Pattern, int]:
    """An ARN format of IAM's reference as a regex (a variable is one or more characters but `:`; region
    and account may be empty), and how many literal characters it has (the more, the more specific)."""
    parts = _VARIABLE.split(fmt)
    variable = {"Region": "[^:]*", "Account": "[^:]*"}
    rx = "".join(re.escape(p) if i % 2 == 0 else variable.get(p, "[^:]+") for i, p in enumerate(parts))
    return re.compile(rx + "$"), sum(len(p) for p in parts[::2])


@cache
def actions_on(arn: str) -> tuple[str, ...]:
    """Every action IAM defines on the resource `arn`: those taking its resource type, and those of its
    service that take none (and so are granted by `*`, on every resource of the service)."""
    service = _services().get(arn.split(":")[2])
    if service is None:
        return ()
    matches = [(n, t) for t, rx, n in service.formats if rx.match(arn)]
    best = max((n for n, _ in matches), default=0)
    types = {t for n, t in matches if n == best}
    return tuple(sorted(a for a, ts in service.actions.items() if ts & types or not ts))


# -------------------------------------------------------------------------------------- evaluation
def _glob(pattern: str, allow: bool) -> str:
    """An IAM pattern as moto's matcher needs it to mean what IAM means: regex characters escaped, `*`
    left for moto to widen, `?` one character; a policy variable matches anything in an Allow."""
    if allow:
        pattern = _VARIABLE.sub("*", pattern)
    return re.escape(pattern).replace(r"\*", "*").replace(r"\?", ".")


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _normalised(statement: dict) -> dict | None:
    """A statement as moto evaluates it correctly; None for a Deny moto would over-apply (a Condition
    moto counts as met, a NotResource it ignores): dropping it can only make the check stricter."""
    allow = statement.get("Effect") == "Allow"
    if not allow and ("Condition" in statement or "NotResource" in statement):
        return None
    out = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal", "Sid")}
    for key in ("Action", "NotAction", "Resource"):
        if key in out:
            out[key] = [_glob(v.lower() if "Action" in key else v, allow) for v in _listed(out[key])]
    return out


@cache
def _policy(text: str, principal: str = "", sessions: str = "", named: bool = True) -> IAMPolicy:
    """moto's policy for a document. For a resource policy (`principal` given), only the statements
    naming that principal: by its ARN (`named`), or by `*` or one of its sessions (not `named`)."""
    statements = []
    for st in _listed(json.loads(text)["Statement"]):
        if principal:
            who = st.get("Principal", st.get("NotPrincipal"))
            aws = _listed(who.get("AWS", [])) if isinstance(who, dict) else _listed(who)
            if "NotPrincipal" in st:  # everyone but those listed: conservatively the principal, for an Allow
                hit = not named and st.get("Effect") == "Allow" and principal not in aws
            elif named:
                hit = principal in aws
            else:
                hit = "*" in aws or any(str(a).startswith(sessions) for a in aws)
            if not hit:
                continue
        if (kept := _normalised(st)) is not None:
            statements.append(kept)
    return IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": statements}))


def _verdict(policies: Iterable[IAMPolicy], action: str, arn: str) -> PermissionResult:
    """IAM's combination: any deny wins, else any allow, else neutral (an implicit deny)."""
    result = NEUTRAL
    for policy in policies:
        answer = policy.is_action_permitted(action, arn)
        if answer is DENIED:
            return DENIED
        result = PERMITTED if answer is PERMITTED else result
    return result


def _services_of(p: Principal) -> set[str]:
    """The service prefixes the principal's identity Allows can touch (`*`: any), to prune the search."""
    found = set()
    for st in (s for d in p.identity for s in _listed(json.loads(d)["Statement"]) if s.get("Effect") == "Allow"):
        for pattern in ["*"] if "NotAction" in st else _listed(st.get("Action", [])):
            service = pattern.split(":", 1)[0].lower() if ":" in pattern else "*"
            found.add("*" if "*" in service or "?" in service else service)
    return found


def _reach_of(p: Principal, targets: list[str], guards: dict[str, list[str]]) -> Iterator[str]:
    """The lines of every (action, ARN) of the other stack the principal may act on."""
    identity = [_policy(d) for d in p.identity]
    boundary = [_policy(p.boundary)] if p.boundary is not None else []
    # a role's sessions: arn:aws:sts::<account>:assumed-role/<name>/<session> (a user has none)
    sessions = f"arn:aws:sts::{p.arn.split(':')[4]}:assumed-role/{p.name}/" if p.kind == "role" else "\0"
    services = _services_of(p)
    for arn in targets:
        docs = [d for d in guards.get(_guarded_by(arn), []) if _readable(d)]
        named = [_policy(d, p.arn, sessions, True) for d in docs]
        anyone = [_policy(d, p.arn, sessions, False) for d in docs]
        if not docs and "*" not in services and arn.split(":")[2] not in services:
            continue
        for action in actions_on(arn):
            low = action.lower()
            mine, by_name, by_any = (_verdict(x, low, arn) for x in (identity, named, anyone))
            if DENIED in (mine, by_name, by_any):
                continue
            bounded = PERMITTED in (mine, by_name) and (not boundary or _verdict(boundary, low, arn) is PERMITTED)
            if bounded or by_any is PERMITTED:
                via = "" if mine is PERMITTED else " (granted by the resource's own policy)"
                yield f"{p} may {action} on {arn}{via}"


# ------------------------------------------------------------------------------ one stack's own
def principals_of(plan: list[dict], stack: str, region: str) -> list[Principal]:
    """Every role and user one plan declares, with the documents it declares for them."""
    return _principals(plan, stack, _managed_policies(plan, region), region)


def permits(p: Principal, action: str, arn: str, plan: list[dict]) -> bool:
    """Whether IAM lets `p` do `action` on `arn` of its own account: its identity documents within its
    boundary, or a resource policy of `plan` naming it; no explicit deny (infra/lifecycle_privileges.py)."""
    low = action.lower()
    docs = [d for d in _resource_policies(plan).get(_guarded_by(arn), []) if _readable(d)]
    mine = _verdict([_policy(d) for d in p.identity], low, arn)
    by_name = _verdict([_policy(d, p.arn, "\0", True) for d in docs], low, arn)
    if DENIED in (mine, by_name):
        return False
    bounded = p.boundary is None or _verdict([_policy(p.boundary)], low, arn) is PERMITTED
    return PERMITTED in (mine, by_name) and bounded
