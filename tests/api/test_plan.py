"""The recommendation API under Pulumi's mocks: compute pool, images, services from the templates,
grants, destroy order."""

from __future__ import annotations

import pytest
import yaml

from infra.api import build
from infra.api.catalog import BUILD_CONTEXTS, SERVED_TABLE_KEYS, public_url, spcs_image_path
from infra.api.config import pool_per_worker
from infra.config.reader import stack_config
from infra.serving.access import ROLE_LIMITS
from services.api.orchestrator.server import default_workers
from tests.conftest import ROOT, one


def spec(plan: list[dict], name: str) -> dict:
    return yaml.safe_load(one(plan, name)["inputs"]["fromSpecification"]["text"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pool_per_stack(plans, stack):
    cfg = stack_config(stack).api
    pool = one(plans[stack], "api-pool")
    assert pool["inputs"]["instanceFamily"] == cfg.instance_family
    assert (pool["inputs"]["minNodes"], pool["inputs"]["maxNodes"]) == (cfg.min_nodes, cfg.max_nodes)
    assert pool["inputs"]["autoSuspendSecs"] == cfg.auto_suspend_seconds
    assert pool["provider"].endswith("snowflake-accountadmin")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_images_pushed_to_the_repository_url_from_its_outputs(plans, stack):
    for svc in ("orchestrator", "ranker"):
        img = one(plans[stack], f"api-{svc}-image")["inputs"]
        url = f"retailorg-retail-data.registry.snowflakecomputing.com/rdp_{stack}_retail/ml_registry/retail_images"
        assert img["imageName"] == f"{url}/{svc}:1.0.0-{build.context_digest(svc)}"
        assert img["build"]["platform"] == "linux/amd64"
        assert img["build"]["dockerfile"] == f"services/api/{svc}/Dockerfile"
        assert img["build"]["context"] == BUILD_CONTEXTS[svc]
        # a registry token is a session token: Docker logs in as 0sessiontoken with it
        assert img["registry"]["server"] == url.split("/")[0] and img["registry"]["username"] == "0sessiontoken"
        deps = one(plans[stack], f"api-{svc}-image")["dependencies"]
        assert one(plans[stack], "api-images")["urn"] in deps
        # pushed only once the registry user, its IMAGE_PUSHER grant and the push grant exist
        for before in ("access-service-user-registry", "access-svc-registry", "api-images-push"):
            assert one(plans[stack], before)["urn"] in deps, (svc, before)
    # the orchestrator's image carries the pair features it shares with the ranker's training
    dockerfile = (ROOT / "services" / "api" / "orchestrator" / "Dockerfile").read_text()
    shared = "features/__init__.py features/pair.py features/candidates.py features/taste.py"
    assert f"COPY {shared} ./services/features/" in dockerfile
    assert BUILD_CONTEXTS["orchestrator"] == "services"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_specs_pin_the_image_and_carry_secret_and_integration(plans, stack):
    plan = plans[stack]
    orch = spec(plan, "api-orchestrator")["spec"]
    c = orch["containers"][0]
    assert "@sha256:" in c["image"] and c["image"].startswith(f"/rdp_{stack}_retail/ml_registry/retail_images/")
    digest_dep = one(plan, "api-orchestrator-image")["urn"]
    assert digest_dep in one(plan, "api-orchestrator")["dependencies"]
    assert c["secrets"] == [
        {
            "snowflakeSecret": {"objectName": f"RDP_{stack.upper()}_RETAIL.BRONZE.PG_APP_PASSWORD"},
            "secretKeyRef": "secret_string",
            "envVarName": "PG_PASSWORD",
        },
        {  # the root CA that verifies the instance's certificate, as a file
            "snowflakeSecret": {"objectName": f"RDP_{stack.upper()}_RETAIL.BRONZE.PG_ROOT_CA"},
            "directoryPath": "/secrets/pg-ca",
        },
    ]
    assert "PG_PASSWORD" not in c["env"]
    pg_host = one(plan, "serving-provider")["inputs"]["host"]
    # no DynamoDB path in SPCS: a service has no AWS credentials and may reach only Postgres
    assert c["env"]["PG_HOST"] == pg_host and not {"DYNAMODB_TABLE", "AWS_REGION"} & set(c["env"])
    assert one(plan, "api-orchestrator")["inputs"]["externalAccessIntegrations"] == [
        f"RDP_{stack.upper()}_PG_ACCESS_INTEGRATION"
    ]
    assert orch["endpoints"] == [{"name": "api", "port": 8000, "public": True}]
    ranker = spec(plan, "api-ranker")["spec"]
    assert ranker["endpoints"][0]["public"] is False and "@sha256:" in ranker["containers"][0]["image"]
    sizing = stack_config(stack).api.orchestrator
    assert c["resources"]["limits"]["memory"] == sizing.memory_limit
    svc = one(plan, "api-orchestrator")["inputs"]
    assert (svc["minInstances"], svc["maxInstances"]) == (sizing.min_instances, sizing.max_instances)


def test_new_image_digest_changes_the_spec():
    a = spcs_image_path("reg.example/db/s/r/orchestrator@sha256:aaa")
    b = spcs_image_path("reg.example/db/s/r/orchestrator@sha256:bbb")
    assert a == "/db/s/r/orchestrator@sha256:aaa" and a != b


def test_services_are_destroyed_before_the_pool(plans):
    plan = plans["prod"]
    pool = one(plan, "api-pool")["urn"]
    for name in ("api-orchestrator", "api-ranker"):
        svc = one(plan, name)
        assert pool in svc["dependencies"], name  # depends on the pool, so it is deleted first
    assert one(plan, "api-ranker")["urn"] in one(plan, "api-orchestrator")["dependencies"]


def test_app_role_may_use_the_endpoint(plans):
    g = one(plans["prod"], "api-endpoint-usage")["inputs"]
    assert g["execute"] == (
        'GRANT SERVICE ROLE "RDP_PROD_RETAIL"."ML_REGISTRY"."ORCHESTRATOR_SERVICE"!ALL_ENDPOINTS_USAGE '
        'TO ROLE "RDP_PROD_APP_SERVICE"'
    )
    assert g["revert"].startswith("REVOKE SERVICE ROLE")


def test_dockerfiles_are_slim_pinned_nonroot_amd64_with_healthcheck():
    from infra.api.component import SERVICES_DIR

    for svc in ("orchestrator", "ranker"):
        text = (SERVICES_DIR / svc / "Dockerfile").read_text()
        assert "FROM --platform=linux/amd64 python:3.11.14-slim-bookworm@sha256:" in text
        assert "USER 10001" in text and "HEALTHCHECK" in text
        assert "--require-hashes -r requirements.txt" in text  # tests/test_supply_chain.py checks the lock


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_model_stage_is_mounted_with_stage_mount_v2_and_exists_before_the_services(plans, stack):
    plan, db = plans[stack], f"RDP_{stack.upper()}_RETAIL"
    stage = one(plan, "recommendations-model-stage")
    for svc in ("api-orchestrator", "api-ranker"):
        volumes = spec(plan, svc)["spec"]["volumes"]
        assert volumes == [
            {"name": "models", "source": "stage", "stageConfig": {"name": f"@{db}.ML_REGISTRY.MODEL_STAGE"}}
        ]
        assert stage["urn"] in one(plan, svc)["dependencies"], svc
    # the owner may read the stage before the provider that creates the services logs in as the owner
    assert one(plan, "api-owner-models")["urn"] in one(plan, "api-owner-provider")["dependencies"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_served_table_grant_depends_on_its_table(plans, stack):
    """On `up` the grant waits for the table; on `destroy` it is revoked before the table is dropped."""
    plan = plans[stack]
    for keys in SERVED_TABLE_KEYS.values():
        for key in keys:
            grant = one(plan, f"api-owner-{key.lower().replace('_', '-')}")
            table = one(plan, f"recommendations-{key.lower().replace('_', '-')}")
            assert table["urn"] in grant["dependencies"], key
            assert grant["inputs"]["onSchemaObject"]["objectName"].endswith(f'."{key}"')


def test_the_endpoint_url_is_read_back_from_show_endpoints(plans):
    g = one(plans["prod"], "api-endpoint-usage")["inputs"]
    assert g["query"] == 'SHOW ENDPOINTS IN SERVICE "RDP_PROD_RETAIL"."ML_REGISTRY"."ORCHESTRATOR_SERVICE"'
    rows = [
        {
            "name": "api",
            "port": 8000,
            "is_public": "true",
            "ingress_url": "abc-retailorg-retail-data.snowflakecomputing.app",
        }
    ]
    assert public_url(rows) == "https://abc-retailorg-retail-data.snowflakecomputing.app"
    assert (
        public_url(
            [{"name": "api", "ingress_url": "Endpoints provisioning in progress... check back in a few minutes"}]
        )
        == ""
    )
    assert public_url(None) == public_url([]) == ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_orchestrator_worker_pool_together_fits_the_app_roles_connection_limit(plans, stack):
    """PG_POOL_SIZE in the spec × workers per instance × maxInstances ≤ the app role's connection_limit."""
    orch = one(plans[stack], "api-orchestrator")["inputs"]
    env = spec(plans[stack], "api-orchestrator")["spec"]["containers"][0]["env"]
    workers = default_workers({"CPU_REQUEST": env["CPU_REQUEST"]})  # as the image's server.py starts them
    limit = one(plans[stack], "serving-app-role")["inputs"]["connectionLimit"]
    pool = int(env["PG_POOL_SIZE"])
    assert 1 <= pool and pool * workers * orch["maxInstances"] <= limit, (pool, workers, orch["maxInstances"], limit)
    # the largest such pool: one more connection per worker would exceed the limit
    assert (pool + 1) * workers * orch["maxInstances"] > limit


def test_too_many_orchestrator_workers_for_the_connection_limit_fail_naming_the_keys():
    sizing = stack_config("prod").api.orchestrator
    assert pool_per_worker(sizing, ROLE_LIMITS["app"][0]) >= 1
    planted = sizing.updated(max_instances=30, cpu_request=2, cpu_limit=2)  # 60 workers, 50 connections
    with pytest.raises(
        ValueError,
        match=r"retail-data-platform:api\.orchestrator\.maxInstances \(30\).*api\.orchestrator\.cpuRequest 2",
    ):
        pool_per_worker(planted, ROLE_LIMITS["app"][0])
