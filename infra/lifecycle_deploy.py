"""The first deploy of an environment from an empty account, as ordered steps generated from the plans: what
an administrator does once (the account stack, CI's own identities), the registry token, `pulumi up`, the
post-deploy steps and the smoke test. README "First deploy from an empty account" holds dev's, as generated
(tests/plan/test_lifecycle.py fails when that copy is stale).

Why generated: the order is what the lifecycle check proves (who may create what, what must exist first),
and a hand-written list drifts from the plan.
"""

from __future__ import annotations

from infra.isolation import ENVIRONMENT_COMPONENTS
from infra.lifecycle_graph import Plan
from infra.lifecycle_privileges import ci_identities

# What the account stack makes for an environment, named in the first step.
ACCOUNT_MADE = ("AccountRole", "ServiceUser", "ResourceMonitor")
# Post-deploy steps per capability present in the plan (by a resource it declares), in the order they run;
# prod takes no synthetic data: its sources are real uploads and the loads' `--first-fill` of an empty stack.
POST_DEPLOY = (
    ("landing-bucket", "python -m scripts.ingestion upload --stack {stack}", "customer files to the landing bucket"),
    (
        "dbt-schema-dbt-silver",
        "python -m scripts.ingestion dbt --stack {stack}",
        "the dbt layer as the transformer user with the DBT role (SNOWFLAKE_TRANSFORMER_KEY_PATH): the silver "
        "model, the customers' snapshot, the gold view and their tests",
    ),
    ("analytics-facts", "python -m scripts.analytics all --stack {stack}", "the shop's history, its task graph"),
    ("cdc-change-log", "python -m scripts.cdc all --stack {stack}", "order changes and the incremental tables"),
    (
        "recommendations-customer-360",
        "python -m scripts.recommendations all --stack {stack}",
        "base tables, CUSTOMER_360 and the features, then the models: the API's services load the ranking model "
        "within 30 s of `train` writing it",
    ),
    ("postgres-instance", "python -m scripts.serving all --stack {stack}", "Postgres serving tables and DynamoDB"),
)


def first_deploy(stack: str, plan: Plan, account: Plan) -> str:
    """Numbered steps, each a command and why, in the order a first deploy of `stack` runs them."""
    names = {r["name"] for r in plan}
    hosted = any(r["type"] in ENVIRONMENT_COMPONENTS and r["name"] == stack for r in account)
    steps: list[tuple[str, str]] = []
    if hosted:
        made = sorted(
            r["inputs"]["name"]
            for r in account
            if r.get("parent", "").endswith(f"::{stack}") and r["type"].split(":")[-1] in ACCOUNT_MADE
        )
        steps.append(("pulumi up --stack account", f"as the account administrator: makes {', '.join(made)}"))
    ci = sorted(ci_identities(plan))
    if ci:
        targets = " ".join(f"--target '{u}'" for u in ci)
        steps.append(
            (
                f"pulumi up --stack {stack} {targets} --target-dependencies",
                "with an administrator's AWS credentials, once the account has GitHub's OIDC provider: CI's own "
                "roles and boundary (its deploy role may read them, never create or change them)",
            )
        )
    if any(r["type"].startswith("docker:") for r in plan):
        steps.append(
            (
                f"python -m scripts.api registry-token --stack {stack}",
                "the image push's token (SNOWFLAKE_REGISTRY_KEY): makes the registry user first on a first deploy",
            )
        )
    steps.append(
        (f"pulumi up --stack {stack}", "everything else, as the deploy user and its admin role (CI: deploy.yml)")
    )
    synthetic = stack != "prod"
    for marker, command, why in POST_DEPLOY:
        if marker in names and (synthetic or "upload" in command or "serving" in command):
            files = "" if synthetic or "upload" not in command else " <your files>"  # prod refuses synthetic ones
            steps.append((command.format(stack=stack) + files, why))
    if "api-orchestrator" in names:
        steps.append(
            (
                f"python -m scripts.api call --stack {stack} --customer-id <a customer with orders>",
                "the smoke test: /health and one /recommend on the deployed endpoint (RDP_API_TOKEN)",
            )
        )
    return "\n".join(f"{n}. `{cmd}`: {why}." for n, (cmd, why) in enumerate(steps, 1)) + "\n"
