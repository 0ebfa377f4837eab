"""Rule 3 of the lifecycle check: every operation's identity holds its privilege when the operation runs.

Why: the mocks accept any statement from anyone; Snowflake refuses a CREATE without the CREATE privilege
and a GRANT without ownership or MANAGE GRANTS, and AWS refuses the deploy role an action its policy
leaves out (the refresh of a resource it may create but not read is the classic).

Snowflake: the privilege model of infra/isolation.py (roles held, objects owned by the role whose
provider created them, grants) over the stack's plan and the account stack's (which grants each
environment's admin role its account privileges). A privilege granted by the stack's own plan counts
for a resource only if the resource waits for that grant, and so does a login role the plan grants its
user. Drops and alters run with the provider that created the object, whose role owns it (OWNERSHIP);
a revoke needs what its grant needed. AWS: moto's evaluator (infra/aws_reach.py) for
the stack's deploy role over every managed resource's ARN and the actions each operation needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from infra import arns, aws_reach
from infra.arns import ACCOUNT_ID
from infra.isolation import (
    ACCOUNT_STACK,
    EVERYTHING,
    Key,
    Model,
    build,
    execute_creates,
    grant_targets,
    object_key,
)
from infra.lifecycle_graph import Finding, Graph, Plan

TASK = "snowflake:index/task:Task"

ACCOUNT: Key = ("ACCOUNT", "")
# What the built-in roles hold on the account (ACCOUNTADMIN holds everything).
BUILTIN_ACCOUNT = {
    "SYSADMIN": {"CREATE DATABASE", "CREATE WAREHOUSE"},
    "SECURITYADMIN": {"MANAGE GRANTS", "CREATE ROLE", "CREATE USER", "CREATE NETWORK POLICY"},
    "USERADMIN": {"CREATE ROLE", "CREATE USER"},
}
ACCOUNT_KINDS = {"DATABASE", "WAREHOUSE", "ROLE", "USER", "INTEGRATION", "COMPUTE POOL", "NETWORK POLICY"}
ACCOUNT_KINDS |= {"POSTGRES INSTANCE", "RESOURCE MONITOR"}
# Provider resource name → the object kind Snowflake's CREATE names (the rest: the name in capitals).
SCHEMA_KINDS = {
    "stageInternal": "STAGE",
    "stageExternalS3": "STAGE",
    "streamOnTable": "STREAM",
    "procedureSql": "PROCEDURE",
    "procedurePython": "PROCEDURE",
    "functionPython": "FUNCTION",
    "fileFormatCsv": "FILE FORMAT",
    "secretWithGenericString": "SECRET",
}
# A task whose statement runs a job service (the serving refresh): what its owner must hold when it runs.
_JOB_POOL = re.compile(r"EXECUTE JOB SERVICE\s+IN COMPUTE POOL\s+(\S+)", re.I)
_JOB_INTEGRATIONS = re.compile(r"^\s*EXTERNAL_ACCESS_INTEGRATIONS\s*=\s*\(([^)]*)\)", re.I | re.M)
_JOB_WAREHOUSE = re.compile(r"^\s*QUERY_WAREHOUSE\s*=\s*(\S+)", re.I | re.M)
_SPEC_IMAGE = re.compile(r"^\s*image:\s*/([^/\s]+)/([^/\s]+)/([^/\s]+)/", re.M)
_SPEC_SECRET = re.compile(r"^\s*objectName:\s*(\S+)", re.M)
_API_AUTH = re.compile(r"^\s*API_AUTHENTICATION\s*=\s*'?([A-Za-z0-9_\"]+)'?", re.I | re.M)
_CALLS = re.compile(r"^\s*CALL\s+([^\s(]+)\s*\(", re.I)
DEPLOY_ROLE = "ci-aws-deploy"  # the logical name of a stack's AWS deploy role (infra/foundation/identity.py)
_WORDS = re.compile(r"(?<!^)(?=[A-Z])")
# the integration an alert's action sends its notification through (sql/operations/notify.sql)
_NOTIFIES = re.compile(r"SNOWFLAKE\.NOTIFICATION\.INTEGRATION\('([A-Za-z0-9_]+)'\)")


# ------------------------------------------------------------------------------------- Snowflake
class Holdings:
    """What one login role may do before one resource: account grants, grants the resource waits for,
    what its roles own."""

    def __init__(self, m: Model, role: str, grants: list[tuple], waits: Iterable[str]) -> None:
        self.roles = {role} | m.roles_of(role)
        waited = set(waits)
        self.all = "ACCOUNTADMIN" in self.roles
        self.held = {(p, ACCOUNT, True) for r in self.roles for p in BUILTIN_ACCOUNT.get(r, ())}
        self.held |= {(p, t, g) for grantee, p, t, g, urn in grants if grantee in self.roles and urn in waited | {None}}
        self.owned = {k for objects in m.objects.values() for k, owner in objects.items() if owner in self.roles}

    def owns(self, target: Key) -> bool:
        kind, name = target
        container = {"SCHEMA CONTENTS": "SCHEMA", "DATABASE CONTENTS": "DATABASE"}.get(kind)
        return self.all or target in self.owned or (container is not None and (container, name) in self.owned)

    def has(self, privilege: str, target: Key, grantable: bool = False) -> bool:
        if self.all or self.owns(target) or (grantable and self.has("MANAGE GRANTS", ACCOUNT)):
            return True
        return any(
            p in (privilege, "ALL PRIVILEGES", "ALL") and t in (target, EVERYTHING) and (g or not grantable)
            for p, t, g in self.held
        )


def _grants(plans: dict[str, Plan], stack: str) -> list[tuple]:
    """(grantee, privilege, target, with grant option, URN of the grant in the stack's plan or None)."""
    found = []
    for name, plan in plans.items():
        for r in (r for r in plan if r["type"].endswith("GrantPrivilegesToAccountRole")):
            i = r["inputs"]
            grantee, option = str(i["accountRoleName"]).replace('"', "").upper(), bool(i.get("withGrantOption"))
            for t in grant_targets(i):
                for p in i.get("privileges") or ["ALL PRIVILEGES"]:
                    found.append((grantee, p, t, option, r["urn"] if name == stack else None))
    return found


def _kind(record: dict) -> str:
    if created := execute_creates(record):
        return created[0]
    short = record["type"].split("/")[-1].split(":")[0]
    return SCHEMA_KINDS.get(short) or _WORDS.sub(" ", short).upper()


def needs(record: dict) -> list[tuple[str, Key, bool]]:
    """(privilege, on what, whether it must be grantable) that creating `record` takes."""
    i, key = record["inputs"], object_key(record)
    out: list[tuple[str, Key, bool]] = []
    if record["type"].endswith("GrantPrivilegesToAccountRole"):
        out += [(p, t, True) for t in grant_targets(i) for p in i.get("privileges") or ["ALL PRIVILEGES"]]
    elif record["type"].endswith("grantAccountRole:GrantAccountRole"):
        out.append(("OWNERSHIP", ("ROLE", str(i["roleName"]).replace('"', "").upper()), True))
    if key is None:
        return out
    kind, name = key
    if kind in ACCOUNT_KINDS:
        out.append((f"CREATE {kind}", ACCOUNT, False))
    elif kind == "SCHEMA":
        out.append(("CREATE SCHEMA", ("DATABASE", name.split(".")[0]), False))
    elif kind == "SCHEMA OBJECT":
        db, schema, _ = name.split(".")
        out += [("USAGE", ("DATABASE", db), False), (f"CREATE {_kind(record)}", ("SCHEMA", f"{db}.{schema}"), False)]
    if i.get("started"):
        out.append(("EXECUTE TASK", ACCOUNT, False))
    if record["type"].endswith("/alert:Alert") and i.get("enabled"):  # resuming an alert
        out.append(("EXECUTE ALERT", ACCOUNT, False))
    out += [("USAGE", ("INTEGRATION", n.upper()), False) for n in _NOTIFIES.findall(str(i.get("action") or ""))]
    if "public: true" in str((i.get("fromSpecification") or {}).get("text", "")):
        out.append(("BIND SERVICE ENDPOINT", ACCOUNT, False))
    for ref, kind_of in (("warehouse", "WAREHOUSE"), ("computePool", "COMPUTE POOL")):
        if i.get(ref):
            out.append(("USAGE", (kind_of, str(i[ref]).replace('"', "").upper()), False))
    out += [("USAGE", ("INTEGRATION", str(n).upper()), False) for n in i.get("externalAccessIntegrations") or []]
    # a procedure's SECRETS clause, and a secret or integration naming the integration it authenticates with
    out += [("READ", ("SCHEMA OBJECT", _clean(str(x["secretId"]))), False) for x in i.get("secrets") or []]
    out += [("USAGE", ("INTEGRATION", _clean(n)), False) for n in _API_AUTH.findall(str(i.get("execute") or ""))]
    # a task's CALL runs as the task's owner, who must be able to call the procedure
    out += [("USAGE", ("SCHEMA OBJECT", _clean(p)), False) for p in _CALLS.findall(str(i.get("sqlStatement") or ""))]
    return out + job_needs(record)


def _clean(name: str) -> str:
    return name.replace('"', "").upper()


def job_needs(record: dict) -> list[tuple[str, Key, bool]]:
    """What a task's `EXECUTE JOB SERVICE` takes of the task's owner each run (the job runs as it): USAGE on
    the pool, the integrations and the query warehouse; CREATE SERVICE in the task's schema, where the job
    is created; READ on the image repository of each image and on each secret the spec mounts."""
    i = record["inputs"]
    text = str(i.get("sqlStatement") or "") if record["type"] == TASK else ""
    pool = _JOB_POOL.search(text)
    if not pool:
        return []
    out = [
        ("USAGE", ("COMPUTE POOL", _clean(pool.group(1))), False),
        ("CREATE SERVICE", ("SCHEMA", _clean(f"{i['database']}.{i['schema']}")), False),
    ]
    for found in _JOB_INTEGRATIONS.findall(text):
        out += [("USAGE", ("INTEGRATION", _clean(n.strip())), False) for n in found.split(",") if n.strip()]
    out += [("USAGE", ("WAREHOUSE", _clean(w)), False) for w in _JOB_WAREHOUSE.findall(text)]
    out += [("READ", ("SCHEMA OBJECT", _clean(".".join(m))), False) for m in _SPEC_IMAGE.findall(text)]
    return out + [("READ", ("SCHEMA OBJECT", _clean(name)), False) for name in _SPEC_SECRET.findall(text)]


def snowflake_privileges(stack: str, plan: Plan, account: Plan) -> list[Finding]:
    """Each Snowflake resource's creation by its provider's login role, and each provider's login itself."""
    plans = {stack: plan} if stack == ACCOUNT_STACK or not account else {stack: plan, ACCOUNT_STACK: account}
    m, grants, graph = build(plans), _grants(plans, stack), Graph(plan)
    logins = {r["urn"]: r for r in plan if r["type"] == "pulumi:providers:snowflake"}
    findings = []
    for p in logins.values():
        user, role = (str(p["inputs"].get(k, "")).upper() for k in ("user", "role"))
        if user and role and role not in m.roles_of(user):
            why = f"logs in as {user} with role {role}, which {user} is not granted"
            findings.append(Finding("create", p["name"], "missing-privilege", why))
    for r in (r for r in plan if r.get("provider") in logins):
        login = logins[r["provider"]]["inputs"]
        role = str(login.get("role", "")).upper()
        findings += _login_in_time(r, str(login.get("user", "")).upper(), role, plan, graph)
        held = Holdings(m, role, grants, graph.waits_for(r["urn"]))
        missing = [f"{p} on {t[0]} {t[1]}".rstrip() for p, t, g in needs(r) if not held.has(p, t, g)]
        if missing:
            why = f"{role} lacks {', '.join(sorted(set(missing)))} when it runs"
            findings.append(Finding("create", r["name"], "missing-privilege", why))
    return findings


def _login_in_time(r: dict, user: str, role: str, plan: Plan, graph: Graph) -> list[Finding]:
    """A login role that the stack itself grants its user: the resource must wait for that grant, or it may
    run before the user holds the role (and at destroy, after the grant is revoked)."""
    given = [
        g
        for g in plan
        if g["type"].endswith("grantAccountRole:GrantAccountRole")
        and str(g["inputs"].get("userName", "")).upper() == user
        and str(g["inputs"].get("roleName", "")).upper() == role
    ]
    if not given or any(g["urn"] in graph.waits_for(r["urn"]) for g in given):
        return []
    why = f"runs as {user} with role {role}, granted by {given[0]['name']}, which it does not wait for"
    return [Finding("create", r["name"], "missing-privilege", why)]


# ------------------------------------------------------------------------------------------- AWS
_BUCKET_SETTING = {  # a bucket setting: (put, get); removing one is a put too (S3 has no own delete action)
    "bucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy"),
    "bucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "bucketServerSideEncryptionConfiguration": ("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    "bucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "bucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "bucketNotification": ("s3:PutBucketNotification", "s3:GetBucketNotification"),
}
# Per AWS type, the actions each phase calls (the provider reads back after create and on refresh; a second
# `up` with no change calls none, and with --refresh the refresh phase's).
AWS_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "aws:s3/bucket:Bucket": {
        "create": ("s3:CreateBucket", "s3:PutBucketTagging"),
        "refresh": ("s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketPolicy"),
        "destroy": ("s3:DeleteBucket", "s3:ListBucketVersions"),
    },
    "aws:sns/topic:Topic": {
        "create": ("sns:CreateTopic", "sns:TagResource", "sns:SetTopicAttributes"),
        "refresh": ("sns:GetTopicAttributes", "sns:ListTagsForResource"),
        "destroy": ("sns:DeleteTopic",),
    },
    "aws:sns/topicPolicy:TopicPolicy": {
        "create": ("sns:SetTopicAttributes",),
        "refresh": ("sns:GetTopicAttributes",),
        "destroy": ("sns:SetTopicAttributes",),
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        "create": ("sns:Subscribe",),
        "refresh": ("sns:GetSubscriptionAttributes",),
        "destroy": ("sns:Unsubscribe",),
    },
    "aws:dynamodb/table:Table": {
        "create": ("dynamodb:CreateTable", "dynamodb:TagResource", "dynamodb:UpdateContinuousBackups"),
        "refresh": ("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ListTagsOfResource"),
        "destroy": ("dynamodb:DeleteTable",),
    },
    "aws:iam/role:Role": {
        "create": ("iam:CreateRole", "iam:TagRole"),
        "refresh": ("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"),
        "destroy": ("iam:DeleteRole", "iam:ListRolePolicies", "iam:ListInstanceProfilesForRole"),
    },
    "aws:iam/rolePolicy:RolePolicy": {
        "create": ("iam:PutRolePolicy",),
        "refresh": ("iam:GetRolePolicy",),
        "destroy": ("iam:DeleteRolePolicy",),
    },
    "aws:iam/policy:Policy": {
        "create": ("iam:CreatePolicy",),
        "refresh": ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"),
        "destroy": ("iam:DeletePolicy", "iam:ListPolicyVersions"),
    },
    "aws:secretsmanager/secret:Secret": {
        "create": ("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
        "refresh": ("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
        "destroy": ("secretsmanager:DeleteSecret",),
    },
    "aws:secretsmanager/secretVersion:SecretVersion": {
        "create": ("secretsmanager:PutSecretValue",),
        "refresh": ("secretsmanager:GetSecretValue",),
    },
} | {
    f"aws:s3/{k}:{k[0].upper()}{k[1:]}": {"create": (put,), "refresh": (get,), "destroy": (put,)}
    for k, (put, get) in _BUCKET_SETTING.items()
}


def _arn(r: dict, plan: Plan, region: str) -> str | None:
    """The ARN AWS authorises the resource's operations on (a setting's: its owner's)."""
    i = r["inputs"]
    if r["type"].startswith("aws:s3/"):
        return arns.bucket(i["bucket"])
    if r["type"] == "aws:iam/rolePolicy:RolePolicy":
        role = next(
            (x for x in plan if x["type"] == "aws:iam/role:Role" and i["role"] in (x["inputs"].get("name"), x["urn"])),
            None,
        )
        return arns.arn(role["type"], role["name"], role["inputs"], ACCOUNT_ID, region) if role else None
    if r["type"] == "aws:sns/topicPolicy:TopicPolicy":
        return i.get("arn")
    if r["type"] == "aws:sns/topicSubscription:TopicSubscription":
        return i.get("topic")  # SNS authorises a subscription's actions on its topic
    if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion":
        secret = next((x for x in plan if i.get("secretId") in (x["inputs"].get("name"), x["urn"])), None)
        return _arn(secret, plan, region) if secret else i.get("secretId")
    return arns.arn(r["type"], r["name"], i, ACCOUNT_ID, region)


def aws_privileges(stack: str, plan: Plan) -> list[Finding]:
    """The stack's deploy role, evaluated by moto's IAM evaluator on each operation of every AWS resource."""
    region = next((r["inputs"].get("region") for r in plan if r["type"] == "pulumi:providers:aws"), None)
    deploy = next((r for r in plan if r["name"] == DEPLOY_ROLE and r["type"] == "aws:iam/role:Role"), None)
    if deploy is None or not region:
        return []
    name = deploy["inputs"].get("name") or deploy["name"]
    principal = next((p for p in aws_reach.principals_of(plan, stack, region) if p.name == name), None)
    if principal is None:
        return []
    findings = [Finding("create", deploy["name"], "missing-privilege", why) for why in principal.unreadable]
    graph = Graph(plan)
    own = [deploy["urn"], *(x["urn"] for x in plan if x["inputs"].get("role") in (name, deploy["urn"]))]
    # what the role itself is made of, and CI's other identities (IAM path /ci/, which the deploy role may
    # read but never write, so it cannot widen itself): created, changed and at last removed with an
    # administrator's credentials (README "Security model")
    bootstrap = set(own) | {u for o in own for u in graph.waits_for(o)} | ci_identities(plan)
    for r in (r for r in plan if r["type"].startswith("aws:")):
        table = AWS_ACTIONS.get(r["type"])
        arn = _arn(r, plan, region) if table is not None else None
        if table is None or not arn:
            why = f"no action table or ARN for {r['type']}: teach infra/lifecycle_privileges.py AWS_ACTIONS"
            findings.append(Finding("create", r["name"], "missing-privilege", why))
            continue
        for phase, actions in table.items():
            if phase in ("create", "destroy") and r["urn"] in bootstrap:
                continue
            missing = [a for a in actions if not aws_reach.permits(principal, a, arn, plan)]
            if missing:
                why = f"{name} may not {', '.join(missing)} on {arn}"
                findings.append(Finding(phase, r["name"], "missing-privilege", why))
    return findings


def ci_identities(plan: Plan) -> set[str]:
    """URNs of CI's identities: IAM roles and policies under /ci/, and the inline policies of those roles."""
    ci = {r["urn"]: r for r in plan if r["type"].startswith("aws:iam/") and r["inputs"].get("path") == "/ci/"}
    names = {r["inputs"].get("name") for r in ci.values()} | set(ci)
    inline = {
        r["urn"] for r in plan if r["type"] == "aws:iam/rolePolicy:RolePolicy" and r["inputs"].get("role") in names
    }
    return set(ci) | inline
