"""The teardown of a stack from its plan: what stops `pulumi destroy`, and the ordered runbook around it.

Why: protection, DynamoDB deletion protection and a non-empty bucket are deliberate in prod, so they are
not findings; but the steps that lift them, in the right order and with the exact commands, are knowledge
no plan shows. README "Tearing down prod" holds prod's runbook as `runbook` generates it.
"""

from __future__ import annotations

from infra.isolation import ACCOUNT_STACK
from infra.lifecycle import provider_needs_program
from infra.lifecycle_graph import Finding, Plan


def destroy_blockers(plan: Plan) -> list[Finding]:
    """Rule 6: what stops `pulumi destroy` (or the cloud's delete) until someone lifts it on purpose."""
    found = [Finding("destroy", r["name"], "destroy-blocker", "protected (protect=True)") for r in plan if r["protect"]]
    versioned = {
        r["inputs"].get("bucket")
        for r in plan
        if r["type"].startswith("aws:s3/bucketVersioning")
        and (r["inputs"].get("versioningConfiguration") or {}).get("status") == "Enabled"
    }
    for r in plan:
        i = r["inputs"]
        if r["type"] == "aws:dynamodb/table:Table" and i.get("deletionProtectionEnabled"):
            found.append(
                Finding("destroy", r["name"], "destroy-blocker", f"DynamoDB deletion protection on {i['name']}")
            )
        if r["type"].startswith("aws:s3/bucket:") and not i.get("forceDestroy"):
            kind = "versioned bucket" if i.get("bucket") in versioned else "bucket"
            why = f"{kind} {i.get('bucket')} without forceDestroy: S3 deletes it only empty"
            found.append(Finding("destroy", r["name"], "destroy-blocker", why))
    return found


def runbook(stack: str, plan: Plan) -> str:
    """The ordered steps that tear the stack down, from its plan (README "Tearing down prod" holds prod's)."""
    blockers = destroy_blockers(plan)
    files = sorted({f.resource for f in provider_needs_program(plan) if "which no clean checkout has" in f.reason})
    run = " --run-program" if files else ""
    protected = sorted(f.resource for f in blockers if f.reason.startswith("protected"))
    by_name = {r["name"]: r for r in plan}
    steps = []
    if files:
        steps.append(
            f"Destroy with `--run-program`: {', '.join(files)} reads a file the program writes, which a clean "
            "checkout lacks (refresh likewise: `pulumi refresh --run-program`)."
        )
    if protected:
        steps += [
            "Export what you keep first: the protected resources hold the environment's data and go with it.",
            f"`pulumi destroy --stack {stack} --exclude-protected{run}`: everything but the protected resources "
            "and what they depend on, in reverse dependency order.",
        ]
    steps += [_lift(f, by_name[f.resource]["inputs"]) for f in blockers if not f.reason.startswith("protected")]
    if protected:
        steps.append(f"`pulumi state unprotect --stack {stack} --all`: lifts protect from {len(protected)} resources.")
    ci = any(r["type"] == "aws:iam/role:Role" and "/ci/" in str(r["inputs"].get("path")) for r in plan)
    who = " with an administrator's credentials" if ci else ""
    rest = "the rest" if protected else "everything"
    rest += ", CI's own roles included (its deploy role neither reads nor removes them)" if ci else ""
    steps.append(f"`pulumi destroy --stack {stack}{run}`{who}: {rest}, in reverse dependency order.")
    if stack == ACCOUNT_STACK:
        steps.append(f"`pulumi stack rm {stack}`, after every environment it hosts is torn down.")
    else:
        steps.append(
            f"`pulumi stack rm {stack}`; then drop `{stack}` from the account stack's `environments` and "
            "`pulumi up --stack account`."
        )
    lines = [f"{n}. {s}" for n, s in enumerate(steps, 1)]
    if protected:
        lines += ["", f"Protected in {stack}: " + ", ".join(f"`{p}`" for p in protected) + "."]
    return "\n".join(lines) + "\n"


def _lift(blocker: Finding, inputs: dict) -> str:
    """The command that lifts a cloud-side guard before the final destroy."""
    if blocker.reason.startswith("DynamoDB"):
        return f"`aws dynamodb update-table --table-name {inputs['name']} --no-deletion-protection-enabled`"
    bucket = inputs["bucket"]
    return (
        f"""`python -c "import boto3; boto3.resource('s3').Bucket('{bucket}').object_versions.delete()"`"""
        " (every object version: the bucket is deleted only empty)"
    )
