"""The scheduled refresh in the offline plans: dev and prod declare the task with their config's schedule,
its statement names the stack's own pool, image, integration and secrets and the task waits for each;
a review stack (no pool, no Postgres) declares none of it, and its config refuses to enable it."""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import ValidationError

from infra.config.reader import stack_config
from infra.config.stack import StackConfig
from infra.images import context_digest, context_files
from infra.serving.catalog import REFRESH_CONTEXT, REFRESH_DOCKERFILE
from infra.serving.refresh import job_statement
from tests.conftest import ROOT, STACKS, one

TASK = "serving-refresh-task"


def task(plan: list[dict]) -> dict:
    return one(plan, TASK)


def urn(plan: list[dict], name: str) -> str:
    return one(plan, name)["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_task_runs_on_the_configured_schedule_as_the_owner_role(plans, stack):
    cfg = stack_config(stack).serving_refresh
    t = task(plans[stack])
    i = t["inputs"]
    assert (i["database"], i["schema"], i["name"]) == (
        f"RDP_{stack.upper()}_RETAIL",
        "STREAMS_TASKS",
        "REFRESH_SERVING",
    )
    assert i["schedule"] == {"usingCron": f"{cfg.schedule} {cfg.timezone}"}
    assert i["started"] is cfg.enabled
    assert i["warehouse"] == f"RDP_{stack.upper()}_TRANSFORM_WH"
    assert i["userTaskTimeoutMs"] == cfg.timeout_minutes * 60_000
    assert i["errorIntegration"] == f"RDP_{stack.upper()}_INGEST_ERRORS"
    assert t["provider"].endswith("::snowflake-sysadmin")  # the provider whose role is the stack's admin role
    assert (stack, cfg.enabled) in {("dev", False), ("prod", True)}


@pytest.mark.parametrize("stack", STACKS)
def test_the_job_names_the_stacks_own_pool_image_integration_and_secrets(plans, stack):
    s, other = stack.upper(), "PROD" if stack == "dev" else "DEV"
    text = task(plans[stack])["inputs"]["sqlStatement"]
    assert text.startswith(f'EXECUTE JOB SERVICE\n  IN COMPUTE POOL "RDP_{s}_POOL"\n  FROM SPECIFICATION $$\n')
    assert f'QUERY_WAREHOUSE = "RDP_{s}_TRANSFORM_WH"' in text
    assert f'EXTERNAL_ACCESS_INTEGRATIONS = ("RDP_{s}_REFRESH_ACCESS_INTEGRATION")' in text
    spec = yaml.safe_load(text.split("$$")[1])["spec"]["containers"][0]
    image = one(plans[stack], "serving-refresh-image")["inputs"]["imageName"]
    tag = image.rsplit(":", 1)[1]
    assert tag == f"{stack_config(stack).api.image_tag}-{context_digest(REFRESH_DOCKERFILE, REFRESH_CONTEXT)}"
    assert spec["image"].startswith(f"/rdp_{stack}_retail/ml_registry/retail_images/refresh:{tag}@sha256:")
    assert spec["command"] == ["python", "-m", "scripts.serving", "refresh", "--stack", stack, "--in-service"]
    assert spec["env"]["PG_USER"] == f"rdp_{stack}_loader"
    assert [x["snowflakeSecret"]["objectName"] for x in spec["secrets"]] == [
        f"RDP_{s}_RETAIL.BRONZE.PG_LOADER_PASSWORD",
        f"RDP_{s}_RETAIL.BRONZE.PG_ROOT_CA",
    ]
    assert f"RDP_{other}" not in text.upper()
    integration = one(plans[stack], "serving-refresh-external-access")["inputs"]
    assert integration["allowedAuthenticationSecrets"] == {
        "secrets": [f'"RDP_{s}_RETAIL"."BRONZE"."PG_LOADER_PASSWORD"', f'"RDP_{s}_RETAIL"."BRONZE"."PG_ROOT_CA"']
    }
    assert "PG_ADMIN_PASSWORD" not in str(integration) and "PG_APP_PASSWORD" not in str(integration)


@pytest.mark.parametrize("stack", STACKS)
def test_the_task_waits_for_everything_its_job_names(plans, stack):
    plan = plans[stack]
    deps = set(task(plan)["dependencies"])
    named = ("api-pool", "api-images", "serving-refresh-image", "serving-refresh-external-access")
    named += (
        "serving-refresh-loader-secret",
        "postgres-ca-secret",
        "postgres-egress-rule",
        "recommendations-model-stage",
    )
    assert {n for n in named if urn(plan, n) not in deps} == set()
    image = one(plan, "serving-refresh-image")
    assert urn(plan, "api-images-push") in image["dependencies"]  # pushed once the registry user may push


def test_a_review_stack_may_not_enable_the_refresh():
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    cfg = {k.split(":", 1)[1]: v for k, v in doc.items() if k.startswith("retail-data-platform:")}
    cfg.update(stack="pr-12", environment="review", snowflake={**cfg["snowflake"], "deployUser": "RDP_REVIEW_DEPLOYER"})
    assert StackConfig.model_validate(cfg).serving_refresh.enabled is False
    with pytest.raises(ValidationError, match=r"servingRefresh\.enabled must be false in a review stack"):
        StackConfig.model_validate({**cfg, "servingRefresh": {**cfg["servingRefresh"], "enabled": True}})


def test_a_review_stack_declares_no_refresh(review_stack_plan):
    plan = review_stack_plan
    assert [r["name"] for r in plan if "serving-refresh" in r["name"] or "REFRESH_SERVING" in str(r["inputs"])] == []
    assert [r["name"] for r in plan if "EXECUTE JOB SERVICE" in str(r["inputs"])] == []


def test_the_image_carries_the_steps_and_the_stack_files_but_no_tests():
    copied = {path for path, _ in context_files(REFRESH_DOCKERFILE, REFRESH_CONTEXT)}
    assert {"scripts/serving/refresh.py", "scripts/recommendations/loads.py", "sql/serving/refresh_job.sql"} <= copied
    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml", "requirements.txt", "services/features/pair.py"} <= copied
    assert not [p for p in copied if p.startswith(("tests/", ".venv/"))]


def test_the_statement_keeps_the_documented_parameter_order():
    text = job_statement(spec="spec: {}", pool="P", warehouse="W", integration="I")
    order = [
        m.start() for m in re.finditer(r"IN COMPUTE POOL|FROM SPECIFICATION|QUERY_WAREHOUSE|COMMENT|EXTERNAL_ACC", text)
    ]
    assert len(order) == 5 and order == sorted(order)
    assert "--" not in text and "ASYNC" not in text  # synchronous: the task's run lasts as long as the job
