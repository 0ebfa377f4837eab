"""The teardown of a stack from its plan: what stops `pulumi destroy`, and the ordered runbook around it.

Why: protection, DynamoDB deletion protection and a non-empty bucket are deliberate in prod, so they are
not findings; but the steps that lift them, in the right order and with the exact commands, are knowledge
no plan shows. README "Tearing down prod" holds prod's runbook as `runbook` generates it.
"""

from __future__ import annotations

from infra.isolation import ACCOUNT_STACK
from infra.lifecycle import written_files
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


# The stack output that names each guarded resource (its physical name is the account's, not the plan's).
OUTPUT_OF = {"landing-bucket": "landingBucket", "dynamodb-table": "dynamodbTable"}
_DDB = "import boto3,sys; boto3.client('dynamodb').update_table(TableName=sys.argv[1], DeletionProtectionEnabled=False)"
_S3 = "import boto3,sys; boto3.resource('s3').Bucket(sys.argv[1]).object_versions.delete()"


def runbook(stack: str, plan: Plan) -> str:
    """The ordered steps that tear the stack down, from its plan, and then the commands alone as one block
    (README "Tearing down prod" holds prod's; tests run its AWS lines under moto)."""
    blockers = destroy_blockers(plan)
    files = written_files(plan)
    protected = sorted(f.resource for f in blockers if f.reason.startswith("protected"))
    steps: list[tuple[str, str]] = []
    for writer in sorted(set(files.values())):
        readers = ", ".join(sorted(p for p, w in files.items() if w == writer))
        why = f"{readers} reads a file the program writes (the Postgres root CA); destroy runs no program"
        steps.append((writer.format(stack=stack), why))
    if protected:
        steps.append(("", "export what you keep first: the protected resources hold the environment's data"))
        steps.append(
            (
                f"pulumi destroy --stack {stack} --exclude-protected",
                "everything but the protected resources and what they depend on",
            )
        )
        steps.append(
            (f"pulumi state unprotect --stack {stack} --all --yes", f"lifts protect from {len(protected)} resources")
        )
    steps += [
        _lift(stack, f, r)
        for f in blockers
        if not f.reason.startswith("protected")
        for r in plan
        if r["name"] == f.resource
    ]
    steps += _postgres_side(stack, plan)
    ci = any(r["type"] == "aws:iam/role:Role" and "/ci/" in str(r["inputs"].get("path")) for r in plan)
    who = (
        ", with an administrator's credentials: CI's own roles go too (its deploy role cannot remove them)"
        if ci
        else ""
    )
    steps.append(
        (
            f"pulumi destroy --stack {stack}",
            f"{'the rest' if protected else 'everything'}, in reverse dependency order{who}",
        )
    )
    rm = (
        "after every environment it hosts is torn down"
        if stack == ACCOUNT_STACK
        else (f"then drop `{stack}` from the account stack's `environments` and `pulumi up --stack account`")
    )
    steps.append((f"pulumi stack rm {stack}", rm))
    lines = [
        f"{n}. " + (f"`{cmd}`: {why}." if cmd else why[0].upper() + why[1:] + ".")
        for n, (cmd, why) in enumerate(steps, 1)
    ]
    if protected:
        lines += ["", f"Protected in {stack}: " + ", ".join(f"`{p}`" for p in protected) + "."]
    lines += ["", "```bash", *(cmd for cmd, _ in steps if cmd), "```"]
    return "\n".join(lines) + "\n"


def _postgres_side(stack: str, plan: Plan) -> list[tuple[str, str]]:
    """A protected Postgres-side resource (the serving schema, which is never dropped with CASCADE) leaves the
    state with everything on its provider: it all goes with the instance."""
    providers = {r["urn"]: r for r in plan if r["type"] == "pulumi:providers:postgresql"}
    held = {
        str(r.get("provider") or "").split("::id")[0]
        for r in plan
        if r["protect"] and r["type"].startswith("postgresql:")
    }
    return [
        (
            f"pulumi state delete --stack {stack} --yes --target-dependents '{urn}'",
            "the Postgres-side resources go with the instance",
        )
        for urn in sorted(held & set(providers))
    ]


def _lift(stack: str, blocker: Finding, r: dict) -> tuple[str, str]:
    """The command that lifts a cloud-side guard before the final destroy, naming the resource by its output."""
    output = f'"$(pulumi stack output {OUTPUT_OF.get(r["name"], r["name"])} --stack {stack})"'
    if blocker.reason.startswith("DynamoDB"):
        return (f'.venv/bin/python -c "{_DDB}" {output}', "turns off the table's deletion protection")
    return (f'.venv/bin/python -c "{_S3}" {output}', "deletes every object version: S3 deletes a bucket only empty")
