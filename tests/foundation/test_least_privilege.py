"""Who may do what: the API's containers run as a role that sees only what they serve, passwords
leave the stack only through Secrets Manager, Postgres clients verify the server, one deploy user per
environment."""

from __future__ import annotations

import json
import re
import sys

import boto3
import pytest
from moto import mock_aws

from infra.api.owner import SERVED_TABLES
from infra.config.reader import ConfigError, parse_config
from scripts.core.errors import LoadError
from scripts.core.target import secret_dsn
from tests import background
from tests.conftest import ROOT, by_type, one
from tests.foundation.test_config import _with, raw


def _provider(plan: list[dict], provider_ref: str) -> dict:
    """The provider resource a resource's provider reference (the provider's URN in the plan) names."""
    return next(r for r in plan if r["urn"] == provider_ref)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_api_services_are_owned_by_a_dedicated_role(plans, stack):
    plan = plans[stack]
    services = by_type(plan, "/service:Service")
    assert len(services) == 2
    for svc in services:
        provider = _provider(plan, svc["provider"])
        assert provider["inputs"]["role"] == f"RDP_{stack.upper()}_API_OWNER", svc["name"]
        assert provider["inputs"]["user"] == f"RDP_{stack.upper()}_DEPLOYER"
    # only the owner may grant its service role: the endpoint grant runs as the owner too
    grant = one(plan, "api-endpoint-usage")
    assert _provider(plan, grant["provider"])["inputs"]["role"] == f"RDP_{stack.upper()}_API_OWNER"


def test_the_owner_role_reads_only_what_the_api_serves(plans):
    plan = plans["prod"]
    owner = "RDP_PROD_API_OWNER"
    grants = [
        g["inputs"]
        for g in by_type(plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if g["inputs"]["accountRoleName"] == owner
    ]
    selects = {g["onSchemaObject"]["objectName"] for g in grants if "SELECT" in g["privileges"]}
    assert selects == {
        f'"RDP_PROD_RETAIL"."{schema}"."{t}"' for schema, tables in SERVED_TABLES.items() for t in tables
    }
    # every table the warehouse fallback queries (read from its source) is granted
    package = ROOT / "services/api/orchestrator/orchestrator"
    source = "".join((package / f).read_text() for f in ("backends.py", "warehouse.py"))
    queried = set(re.findall(r'"\{[^}]+\}"\."([A-Z_0-9]+)"\."([A-Z_0-9]+)"', source))
    assert queried and {f'"RDP_PROD_RETAIL"."{s}"."{t}"' for s, t in queried} <= selects
    for g in grants:  # no schema-wide or future grant, nothing that writes
        assert "all" not in g.get("onSchemaObject", {}) and "future" not in g.get("onSchemaObject", {})
        assert not set(g["privileges"]) & {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "OWNERSHIP", "CREATE TABLE"}
    secrets = sorted(
        g["onSchemaObject"]["objectName"]
        for g in grants
        if g["privileges"] == ["READ"] and g["onSchemaObject"]["objectType"] == "SECRET"
    )
    assert secrets == ['"RDP_PROD_RETAIL"."BRONZE"."PG_APP_PASSWORD"', '"RDP_PROD_RETAIL"."BRONZE"."PG_ROOT_CA"']
    # SYSADMIN no longer needs the pool or the integration: nothing of the API runs as SYSADMIN
    sysadmin = [
        g["inputs"]
        for g in by_type(plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if g["inputs"]["accountRoleName"] == "SYSADMIN"
    ]
    assert not [g for g in sysadmin if g.get("onAccountObject", {}).get("objectType") == "COMPUTE POOL"]


def test_the_registry_user_pushes_images_and_nothing_else(plans):
    plan = plans["prod"]
    pusher = [
        g["inputs"]
        for g in by_type(plan, "/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
        if g["inputs"]["accountRoleName"] == "RDP_PROD_IMAGE_PUSHER"
    ]
    assert len(pusher) == 1 and pusher[0]["privileges"] == ["READ", "WRITE"]
    assert pusher[0]["onSchemaObject"]["objectType"] == "IMAGE REPOSITORY"
    for image in by_type(plan, "docker:index/image:Image"):
        # the password is the registry user's session token (minted as RDP_PROD_SVC_REGISTRY by the deploy
        # workflow), which Docker presents under the fixed user name 0sessiontoken
        assert image["inputs"]["registry"]["username"] == "0sessiontoken"
        assert one(plan, "access-service-user-registry")["urn"] in image["dependencies"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_postgres_clients_verify_the_server(plans, stack):
    plan = plans[stack]
    pg = by_type(plan, "pulumi:providers:postgresql")
    assert [p["inputs"]["sslmode"] for p in pg] == ["verify-full"]
    assert pg[0]["inputs"]["sslrootcert"].endswith(".pem")
    spec = one(plan, "api-orchestrator")["inputs"]["fromSpecification"]["text"]
    assert "PG_SSLMODE: verify-full" in spec and "PGSSLROOTCERT: /secrets/pg-ca/secret_string" in spec
    assert f"objectName: RDP_{stack.upper()}_RETAIL.BRONZE.PG_ROOT_CA" in spec


OUTPUTS_SCRIPT = (
    "import json, pulumi\n"
    "from infra.mocks import PlanMocks\n"
    "from infra.config.reader import read_stack_file\n"
    "values, secret = read_stack_file('prod')\n"
    "pulumi.runtime.set_mocks(PlanMocks(), project='retail-data-platform', stack='prod', preview=False)\n"
    "pulumi.runtime.set_all_config(values, secret)\n"
    "from infra.config.engine import load_stack_config\n"
    "from stacks.platform import build, outputs\n"
    "def run():\n"
    "    cfg = load_stack_config()\n"
    "    out = outputs(cfg, build(cfg))\n"
    "    return pulumi.Output.all(**out).apply(lambda v: print('OUTPUTS=' + json.dumps(v, default=str)))\n"
    "pulumi.runtime.test(run)()\n"
)


def test_no_password_is_a_stack_output():
    """The outputs, resolved under the mocks, hold no key naming a password and no generated secret."""
    done = background.result(OUTPUTS)
    done.check_returncode()
    line = next(x for x in done.stdout.splitlines() if x.startswith("OUTPUTS="))
    values = json.loads(line.removeprefix("OUTPUTS="))
    assert not [k for k in values if "password" in k.lower()]
    assert "mock-" not in line  # the mocks' generated passwords and the admin credential
    assert values["postgresLoaderSecret"].startswith("arn:aws:secretsmanager:")


OUTPUTS = background.command("prod-outputs", [sys.executable, "-c", OUTPUTS_SCRIPT], test_no_password_is_a_stack_output)


@mock_aws
def test_the_loader_reads_its_password_from_secrets_manager(tmp_path):
    from infra.serving.secrets import connection_secret

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    pem = "-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n"
    arn = sm.create_secret(
        Name="rdp-prod-postgres-loader",
        SecretString=json.dumps(connection_secret("rdp_prod_loader", "s3cret", "pg.example", "postgres", pem)),
    )["ARN"]
    dsn = secret_dsn(sm, arn)
    import os

    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    assert parts["user"] == "rdp_prod_loader" and parts["password"] == "s3cret" and parts["host"] == "pg.example"
    assert parts["sslmode"] == "verify-full"
    with open(parts["sslrootcert"]) as fh:
        assert fh.read() == pem
    assert os.stat(parts["sslrootcert"]).st_mode & 0o077 == 0  # only this user reads it
    os.unlink(parts["sslrootcert"])


@mock_aws
def test_a_missing_or_wrong_secret_names_itself():
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    with pytest.raises(LoadError, match=r"rdp-x-postgres-loader.*ResourceNotFoundException"):
        secret_dsn(sm, "rdp-x-postgres-loader")
    sm.create_secret(Name="not-a-connection", SecretString=json.dumps({"password": "p"}))
    with pytest.raises(LoadError, match="not-a-connection is not a connection secret"):
        secret_dsn(sm, "not-a-connection")


@pytest.mark.parametrize(
    ("stack", "user", "message"),
    [
        ("prod", "RDP_DEV_DEPLOYER", "must be this stack's own user (RDP_PROD_DEPLOYER)"),
        ("dev", "PULUMI_DEPLOYER", "must be this stack's own user (RDP_DEV_DEPLOYER)"),
    ],
)
def test_a_deploy_user_shared_between_environments_is_refused(stack, user, message):
    values = _with(stack, "snowflake", {"organization": "RETAILORG", "account": "RETAIL_DATA", "deployUser": user})
    with pytest.raises(ConfigError, match=r"snowflake\.deployUser") as e:
        parse_config(values, stack)
    assert message in str(e.value)


def test_two_duties_with_one_key_are_refused():
    users = json.loads(raw("dev")["serviceUsers"])
    users["app"] = users["loader"]
    with pytest.raises(ConfigError, match=r"app\.publicKey is the same key as loader\.publicKey"):
        parse_config(_with("dev", "serviceUsers", users), "dev")
