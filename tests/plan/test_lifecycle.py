"""The lifecycle check (infra/lifecycle.py): each rule sees a fault planted in a copy of a real plan, and the
real plans of every stack (dev, prod, the account stack and a review stack) pass it."""

from __future__ import annotations

import copy
import json
import re
import sys

import pytest

from infra import lifecycle, lifecycle_deploy, lifecycle_privileges, lifecycle_rules, lifecycle_teardown
from infra.config.reader import read_stack_file
from tests import background
from tests.conftest import ROOT, one

README = ROOT / "README.md"
RUNBOOK_START, RUNBOOK_END = "<!-- lifecycle-runbook:prod -->", "<!-- /lifecycle-runbook:prod -->"


def networks(stack: str) -> tuple[list[str], list[str] | None]:
    return lifecycle.network_inputs(read_stack_file(stack)[0])


def lines(findings: list[lifecycle.Finding], stack: str = "dev") -> str:
    return lifecycle.render(stack, findings)


@pytest.fixture
def dev(plans) -> list[dict]:
    return copy.deepcopy(plans["dev"])


def planted(plan: list[dict], name: str, like: str, **changes) -> dict:
    """A copy of the record `like`, renamed `name` (its URN too), with `changes`, added to `plan`."""
    r = copy.deepcopy(one(plan, like))
    r.update(name=name, urn=r["urn"].rsplit("::", 1)[0] + "::" + name, **changes)
    plan.append(r)
    return r


# ------------------------------------------------------------------------ 1 undeclared dependency
def test_a_grant_naming_a_table_without_depending_on_it_is_found(dev) -> None:
    table = one(dev, "recommendations-stores")
    name = '"{database}"."{schema}"."{name}"'.format(**table["inputs"])
    grant = planted(dev, "planted-grant", "api-owner-models", dependencies=[], parent=None)
    grant["inputs"]["onSchemaObject"] = {"objectName": name, "objectType": "TABLE"}
    found = lines(lifecycle.undeclared_dependencies(dev))
    assert "create planted-grant: undeclared-dependency: names RDP_DEV_RETAIL.BRONZE.STORES" in found
    grant["dependencies"] = [table["urn"]]
    assert "names RDP_DEV_RETAIL.BRONZE.STORES" not in lines(lifecycle.undeclared_dependencies(dev))


def test_depending_on_the_component_or_having_a_parent_that_does_counts(dev) -> None:
    table = one(dev, "recommendations-stores")
    sql = f"SELECT * FROM {table['inputs']['database']}.{table['inputs']['schema']}.{table['inputs']['name']}"
    view = planted(dev, "planted-view", "analytics-order-lines", dependencies=[table["parent"]])
    view["inputs"] = {**view["inputs"], "query": sql, "name": "PLANTED"}
    assert "planted-view" not in lines(lifecycle.undeclared_dependencies(dev))
    component = planted(dev, "planted-component", "recommendations", dependencies=[table["urn"]])
    view.update(dependencies=[], parent=component["urn"])
    assert "planted-view" not in lines(lifecycle.undeclared_dependencies(dev))
    component["dependencies"] = []
    assert "create planted-view: undeclared-dependency" in lines(lifecycle.undeclared_dependencies(dev))


# ------------------------------------------------------------------ 2 provider needs the program
def test_a_provider_reading_an_untracked_file_is_found_unless_a_declared_step_writes_it(dev) -> None:
    source = next(r for r in dev if r["type"] == "random:index/randomPassword:RandomPassword")
    provider = planted(dev, "planted-provider", "serving-provider")
    provider["inputs"] = {"host": "localhost", "sslrootcert": "certs/root.pem", "password": "[secret]"}
    provider["propertyDependencies"] = {"password": [source["urn"]]}
    found = lines(lifecycle.provider_needs_program(dev, tracked=[]))
    assert "refresh planted-provider: provider-needs-program: input sslrootcert is the file certs/root.pem" in found
    # an output of another resource is kept in state with the provider's inputs: refresh and destroy have it
    assert "input password" not in found
    clean = lines(lifecycle.provider_needs_program(dev, tracked=["certs/root.pem"]))
    assert "input sslrootcert is the file certs/root.pem" not in clean
    # the real provider's CA is written from the stack's outputs before refresh and destroy (write-ca)
    assert one(dev, "serving-provider")["inputs"]["sslrootcert"].startswith(".tls/")
    assert "serving-provider" not in lines(lifecycle.provider_needs_program(dev, tracked=[]))


def test_a_name_the_program_gives_a_resource_is_no_output(dev) -> None:
    """The API owner's provider logs in with the role's name: an input of the role, known without running."""
    assert "api-owner-provider" not in lines(lifecycle.provider_needs_program(dev, tracked=[]))
    provider = one(dev, "api-owner-provider")
    assert provider["propertyDependencies"]["role"] == [one(dev, "api-owner-role")["urn"]]


# ---------------------------------------------------------------------------- 3 missing privilege
def test_a_create_without_the_account_privilege_is_found(dev, account_plan) -> None:
    account = copy.deepcopy(account_plan)
    grant = one(account, "dev-admin-account")
    grant["inputs"]["privileges"].remove("CREATE POSTGRES INSTANCE")
    found = lines(lifecycle_privileges.snowflake_privileges("dev", dev, account))
    assert (
        "create postgres-instance: missing-privilege: RDP_DEV_ADMIN lacks CREATE POSTGRES INSTANCE on ACCOUNT" in found
    )
    assert lifecycle_privileges.snowflake_privileges("dev", dev, account_plan) == []


def test_a_privilege_granted_after_the_resource_that_needs_it_does_not_count(dev, account_plan) -> None:
    provider = one(dev, "api-owner-provider")
    provider["dependencies"] = [u for u in provider["dependencies"] if not u.endswith("::api-owner-schema")]
    for svc in ("api-ranker", "api-orchestrator"):
        r = one(dev, svc)
        r["dependencies"] = [u for u in r["dependencies"] if not u.endswith("::api-owner-schema")]
    found = lines(lifecycle_privileges.snowflake_privileges("dev", dev, account_plan))
    assert "create api-ranker: missing-privilege: RDP_DEV_API_OWNER lacks CREATE SERVICE on SCHEMA" in found


def test_a_scheduled_job_whose_owner_lacks_what_it_runs_with_is_found(dev, account_plan) -> None:
    """The serving refresh's task runs EXECUTE JOB SERVICE as its owner: the pool, the integration, the image
    repository and the secrets it names must be the owner's (or granted to it), else every run fails."""
    task = one(dev, "serving-refresh-task")
    assert [n for n in lifecycle_privileges.job_needs(task) if n[0] == "READ"] == [
        ("READ", ("SCHEMA OBJECT", "RDP_DEV_RETAIL.ML_REGISTRY.RETAIL_IMAGES"), False),
        ("READ", ("SCHEMA OBJECT", "RDP_DEV_RETAIL.BRONZE.PG_LOADER_PASSWORD"), False),
        ("READ", ("SCHEMA OBJECT", "RDP_DEV_RETAIL.BRONZE.PG_ROOT_CA"), False),
    ]
    statement = task["inputs"]["sqlStatement"]
    task["inputs"]["sqlStatement"] = statement.replace('"RDP_DEV_POOL"', '"OTHER_POOL"').replace(
        "BRONZE.PG_LOADER_PASSWORD", "BRONZE.SOMEONE_ELSES"
    )
    found = lines(lifecycle_privileges.snowflake_privileges("dev", dev, account_plan))
    assert (
        "create serving-refresh-task: missing-privilege: RDP_DEV_ADMIN lacks READ on SCHEMA OBJECT "
        "RDP_DEV_RETAIL.BRONZE.SOMEONE_ELSES, USAGE on COMPUTE POOL OTHER_POOL when it runs" in found
    )


def test_a_resource_running_before_its_login_role_is_granted_is_found(dev, account_plan) -> None:
    grant = one(dev, "api-owner-to-deployer")
    for r in dev:
        r["dependencies"] = [u for u in r["dependencies"] if u != grant["urn"]]
    found = lines(lifecycle_privileges.snowflake_privileges("dev", dev, account_plan))
    assert (
        "create api-ranker: missing-privilege: runs as RDP_DEV_DEPLOYER with role RDP_DEV_API_OWNER, granted by "
        in found
    )


def test_a_role_grant_by_a_role_that_does_not_own_the_role_is_found(dev, account_plan) -> None:
    like = next(r["name"] for r in dev if r["type"].endswith("grantAccountRole:GrantAccountRole"))
    planted(dev, "planted-role-grant", like, provider=one(dev, "api-owner-provider")["urn"])
    found = lines(lifecycle_privileges.snowflake_privileges("dev", dev, account_plan))
    assert re.search(r"create planted-role-grant: missing-privilege: RDP_DEV_API_OWNER lacks OWNERSHIP on ROLE", found)


def test_the_deploy_role_lacking_a_read_action_is_found_by_the_evaluator(dev) -> None:
    policy = one(dev, "ci-aws-deploy-policy")
    doc = json.loads(policy["inputs"]["policy"])
    for st in doc["Statement"]:
        if isinstance(st["Action"], list) and "dynamodb:DescribeTable" in st["Action"]:
            st["Action"].remove("dynamodb:DescribeTable")
    policy["inputs"]["policy"] = json.dumps(doc)
    found = lines(lifecycle_privileges.aws_privileges("dev", dev))
    assert "refresh dynamodb-table: missing-privilege: rdp-dev-ci-deploy may not dynamodb:DescribeTable on" in found


def test_the_deploy_role_reads_its_own_ci_roles_and_without_that_cannot_refresh(dev) -> None:
    """Read ARNs `role/rdp-<stack>-*` alone leave out `role/ci/…` and `policy/ci/…`: refresh would fail."""
    assert "missing-privilege" not in lines(lifecycle_privileges.aws_privileges("dev", dev))
    policy = one(dev, "ci-aws-deploy-policy")
    doc = json.loads(policy["inputs"]["policy"])
    ci = [st for st in doc["Statement"] if "/ci/" in json.dumps(st.get("Resource")) and st["Effect"] == "Allow"]
    assert ci  # the reads of its own CI roles and boundary
    doc["Statement"] = [st for st in doc["Statement"] if st not in ci]
    policy["inputs"]["policy"] = json.dumps(doc)
    found = lines(lifecycle_privileges.aws_privileges("dev", dev))
    assert "refresh ci-aws-deploy: missing-privilege: rdp-dev-ci-deploy may not iam:GetRole" in found
    assert "refresh ci-aws-boundary: missing-privilege: rdp-dev-ci-deploy may not iam:GetPolicy" in found


# ---------------------------------------------------------------- 4 needed before it is made
def test_a_service_loading_a_file_no_resource_puts_before_it_is_found(dev) -> None:
    service = planted(dev, "planted-service", "api-ranker")
    assert "planted-service" not in lines(lifecycle_rules.runtime_artifacts(dev))  # it waits for the model
    text = service["inputs"]["fromSpecification"]["text"]
    service["inputs"]["fromSpecification"]["text"] = text.replace("RANKER_MODEL_CHECK_SECONDS", "X_UNUSED")
    found = lines(lifecycle_rules.runtime_artifacts(dev))
    assert "create planted-service: needed-before-made: the model the service loads at start-up, " in found
    stage = one(dev, "recommendations-model-stage")["inputs"]
    upload = planted(dev, "planted-upload", "dashboard-publish", dependencies=[])
    upload["inputs"] = {
        "create": f"snow stage copy ranking_model.json @{stage['database']}.{stage['schema']}.{stage['name']}"
    }
    for r in dev:
        if r["name"] == "planted-service":
            r["dependencies"] = [*r["dependencies"], upload["urn"]]
    assert "planted-service" not in lines(lifecycle_rules.runtime_artifacts(dev))


def test_an_image_pushed_as_a_user_the_same_up_creates_is_found(dev) -> None:
    user = next(
        r for r in dev if r["type"].endswith("serviceUser:ServiceUser") and "REGISTRY" not in r["inputs"]["name"]
    )
    user = user["inputs"]["name"]
    image = planted(dev, "planted-image", "api-ranker-image")
    image["inputs"]["registry"] = {"server": "x", "username": user}
    found = lines(lifecycle_rules.runtime_artifacts(dev))
    assert f"create planted-image: needed-before-made: pushes with a registry token of {user}" in found


# ------------------------------------------------------------------------------ 5 network paths
def test_ci_runners_outside_the_postgres_ingress_are_found(dev) -> None:
    assert "CI's runners" not in lines(lifecycle_rules.network_paths(dev, ["10.20.0.0/16"], ["10.1.0.0/16"]))
    one(dev, "postgres-ingress-rule")["inputs"]["valueLists"] = ["192.168.0.0/24"]
    found = lines(lifecycle_rules.network_paths(dev, ["10.20.0.0/16"], ["192.168.0.0/28"]))
    assert "create postgres-instance: network-path: CI's runners (10.20.0.0/16, ci.runnerCidrs) are not in" in found
    found = lines(lifecycle_rules.network_paths(dev, [], ["10.1.0.0/16"]))
    assert "create postgres-instance: network-path: the container services' egress (10.1.0.0/16)" in found
    assert "egress range is not in the plan" in lines(lifecycle_rules.network_paths(dev, [], None))


def test_a_service_without_an_egress_rule_or_an_allowed_secret_is_found(dev) -> None:
    eai = one(dev, "postgres-external-access")["inputs"]
    assert "connects to" not in lines(lifecycle_rules.network_paths(dev, [], []))
    eai["allowedNetworkRules"] = []
    eai["allowedAuthenticationSecrets"] = {"secrets": []}
    found = lines(lifecycle_rules.network_paths(dev, [], []))
    assert re.search(r"create api-orchestrator: network-path: connects to \S+\.snowflake\.app:5432, which no", found)
    assert "create api-orchestrator: network-path: mounts secret RDP_DEV_RETAIL.BRONZE.PG_APP_PASSWORD" in found


# --------------------------------------------------------------------------- 6 destroy blockers
def test_protection_and_guards_make_the_runbook(dev) -> None:
    assert lifecycle_teardown.destroy_blockers(dev) == []
    one(dev, "api-pool")["protect"] = True
    one(dev, "dynamodb-table")["inputs"]["deletionProtectionEnabled"] = True
    one(dev, "landing-bucket")["inputs"]["forceDestroy"] = False
    found = lines(lifecycle_teardown.destroy_blockers(dev))
    assert "destroy api-pool: destroy-blocker: protected" in found
    assert (
        "destroy dynamodb-table: destroy-blocker: DynamoDB deletion protection on rdp-dev-product-recommendations"
        in found
    )
    assert "destroy landing-bucket: destroy-blocker: bucket rdp-dev-landing-123456789012 without forceDestroy" in found
    book = lifecycle_teardown.runbook("dev", dev)
    assert "`pulumi destroy --stack dev --exclude-protected`" in book and "`api-pool`" in book
    assert "DeletionProtectionEnabled=False" in book and "pulumi stack output dynamodbTable --stack dev" in book
    assert "object_versions.delete()" in book and "pulumi stack output landingBucket --stack dev" in book
    order = ["write-ca --stack dev", "--exclude-protected", "state unprotect", "`pulumi destroy --stack dev`"]
    assert [book.index(s) for s in order] == sorted(book.index(s) for s in order)


def test_the_readme_holds_the_prod_runbook_as_generated(plans) -> None:
    text = README.read_text()
    assert RUNBOOK_START in text and RUNBOOK_END in text, "README: the Tearing down prod markers are missing"
    inside = text.split(RUNBOOK_START, 1)[1].split(RUNBOOK_END, 1)[0]
    expected = lifecycle_teardown.runbook("prod", plans["prod"])
    assert inside.strip() == expected.strip(), f"README 'Tearing down prod' is stale; put there:\n{expected}"


# ------------------------------------------------------------------------------- the real plans
def real_findings(all_plans) -> dict[tuple, str]:
    found = {}
    for stack, plan in all_plans.items():
        for f in lifecycle.check(stack, plan, all_plans["account"], *networks(stack)):
            found[(stack, f.phase, f.resource, f.rule)] = f.line(stack)
    return found


def test_the_real_plans_pass(all_plans, review_stack_plan) -> None:
    assert real_findings(all_plans) == {}
    review = review_stack_plan
    assert lifecycle.check("pr-12", review, all_plans["account"], *networks("dev")) == []


def test_the_command_prints_the_findings_and_the_runbook(monkeypatch, capsys, all_plans) -> None:
    import typer

    from infra import plan as cli

    out = background.result(LIFECYCLE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "lifecycle dev: 0 findings; tearing it down:" in out.stdout
    assert ".venv/bin/python -m scripts.serving write-ca --stack dev" in out.stdout
    # a planted fault: the command names it and fails
    planted = copy.deepcopy(all_plans["dev"])
    one(planted, "api-owner-inventory")["dependencies"] = []
    monkeypatch.setattr(cli, "run_plan", lambda s: planted if s == "dev" else all_plans[s])
    with pytest.raises(typer.Exit):
        cli.lifecycle_command("dev")
    assert "lifecycle dev: create api-owner-inventory: undeclared-dependency: " in capsys.readouterr().out


LIFECYCLE = background.command(
    "dev-lifecycle",
    [sys.executable, "-m", "infra.plan", "--stack", "dev", "--lifecycle"],
    test_the_command_prints_the_findings_and_the_runbook,
)


def test_the_readme_holds_dev_s_first_deploy_as_generated(plans, account_plan) -> None:
    start, end = "<!-- lifecycle-first-deploy:dev -->", "<!-- /lifecycle-first-deploy:dev -->"
    text = README.read_text()
    inside = text.split(start, 1)[1].split(end, 1)[0]
    expected = lifecycle_deploy.first_deploy("dev", plans["dev"], account_plan)
    assert inside.strip() == expected.strip(), (
        f"README 'First deploy from an empty account' is stale; put there:\n{expected}"
    )


def test_the_first_deploy_runs_what_only_an_administrator_may_do_first(plans, account_plan) -> None:
    steps = lifecycle_deploy.first_deploy("prod", plans["prod"], account_plan)
    order = ["pulumi up --stack account", "--target-dependencies", "registry-token", "`pulumi up --stack prod`", "call"]
    assert [steps.index(s) for s in order] == sorted(steps.index(s) for s in order)
    assert (
        "scripts.analytics all" not in steps and "upload --stack prod <your files>" in steps
    )  # prod: no synthetic data
    # CI's identities are exactly the /ci/ resources the deploy role may not create
    targets = re.findall(r"--target '([^']+)'", steps)
    assert targets and all("CiIdentities" in t for t in targets)
    review = lifecycle_deploy.first_deploy(
        "pr-12", [r for r in plans["dev"] if "CiIdentities" not in r["urn"]], account_plan
    )
    assert "--stack account" not in review and "--target" not in review  # not hosted: made by the review identity
