"""The steps around `pulumi up` that make the API deploy for real: the registry token minted in the job
(its user created first on a stack's first deploy), and the smoke test of the deployed endpoint."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scripts.api import call, registry
from scripts.api.__main__ import app
from scripts.core.errors import LoadError, StackOutputError
from tests.api.conftest import customers
from tests.conftest import ROOT, one

REG = registry.Registry("dev", "org/dev", "RETAILORG-RETAIL_DATA", "RDP_DEV_SVC_REGISTRY")


def test_the_registry_user_is_named_as_the_stack_declares_it(plans):
    reg = registry.registry_for("dev", "org/dev")
    assert reg.user == one(plans["dev"], "access-service-user-registry")["inputs"]["name"] == REG.user
    assert (reg.account, reg.pulumi_stack) == (REG.account, "org/dev")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_first_deploy_creates_only_the_registry_user_and_what_it_needs_before_the_token(plans, stack):
    plan = plans[stack]
    targets = registry.bootstrap_targets(plan)
    made = {r["name"]: r for r in plan if r["urn"] in registry.dependency_closure(plan, targets)}
    assert {"access-service-user-registry", "access-svc-registry", "access-image-pusher"} <= set(made)
    assert "access-svc-registry-policy" in made  # the user's network policy comes along
    # nothing of the API: no image, no service, no step that runs code (the user's network rule lives in
    # the database, so the database comes first, as in the full `up`)
    assert not [n for n in made if n.startswith("api")]
    assert not [r["type"] for r in made.values() if r["type"].startswith(("docker:", "command:"))]
    assert not [n for n in made if n.startswith(("recommendations", "serving", "postgres", "dashboard"))]


class FakeRun:
    """Records each command; answers `snow` with a token (or a failure) and everything else with 0."""

    def __init__(self, snow_ok: bool = True) -> None:
        self.calls: list[tuple[list[str], dict]] = []
        self.snow_ok = snow_ok
        self.key_files: list[Path] = []

    def __call__(self, cmd, **kw):
        self.calls.append((cmd, kw))
        if cmd[0] == "snow":
            key = Path(cmd[cmd.index("--private-key-file") + 1])
            assert key.read_text() == "PEM" and oct(key.stat().st_mode & 0o777) == "0o600"
            self.key_files.append(key)
            out = json.dumps({"token": "tok-123", "expires_in": 3600}) if self.snow_ok else ""
            return subprocess.CompletedProcess(cmd, 0 if self.snow_ok else 1, out, "User does not exist")
        return subprocess.CompletedProcess(cmd, 0, "", "")


def _missing(_stack):
    raise StackOutputError("no stack")


def test_first_deploy_runs_the_targeted_up_then_mints_and_sets_the_token(plans):
    run = FakeRun()
    done = registry.prepare(REG, "PEM", lambda: plans["dev"], _missing, run)
    (up, _), (snow, _), (config, kw) = run.calls
    assert up[:5] == ["pulumi", "up", "--yes", "--stack", "org/dev"] and "--target-dependencies" in up
    assert [up[i + 1] for i, a in enumerate(up) if a == "--target"] == registry.bootstrap_targets(plans["dev"])
    assert snow[:4] == ["snow", "spcs", "image-registry", "token"]
    assert snow[snow.index("--user") + 1] == "RDP_DEV_SVC_REGISTRY"
    assert config == ["pulumi", "config", "set", "--secret", "registryToken", "--stack", "org/dev"]
    assert kw["input"] == "tok-123" and "tok-123" not in " ".join(config)  # stdin, never argv
    assert not any(p.exists() for p in run.key_files)  # the key file is gone
    assert len(done) == 2 and "first deploy" in done[0]


def test_a_later_deploy_only_mints_the_token():
    run = FakeRun()
    registry.prepare(
        REG, "PEM", lambda: pytest.fail("no plan needed"), lambda s: {"serviceUsers": {"registry": "U"}}, run
    )
    assert [c[0][0:2] for c in run.calls] == [["snow", "spcs"], ["pulumi", "config"]]


def test_a_token_that_cannot_be_minted_stops_before_pulumi_up():
    run = FakeRun(snow_ok=False)
    with pytest.raises(LoadError, match="no registry token for RDP_DEV_SVC_REGISTRY: User does not exist"):
        registry.prepare(REG, "PEM", list, lambda s: {"serviceUsers": {"registry": "U"}}, run)
    assert not any(c[0][:2] == ["pulumi", "config"] for c in run.calls)


def _steps(job: dict) -> list[str]:
    return [s.get("name") or s.get("uses") or s.get("run", "") for s in job["steps"]]


def test_the_deploy_workflow_mints_the_token_in_the_job_before_up():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    for stack in ("dev", "prod"):
        job = wf["jobs"][stack]
        steps = job["steps"]
        token = next(i for i, s in enumerate(steps) if s.get("name") == "registry token")
        up = next(i for i, s in enumerate(steps) if s.get("with", {}).get("command") == "up")
        assert token < up, stack
        env = steps[token]["env"]
        assert env["SNOWFLAKE_REGISTRY_KEY"] == "${{ secrets.SNOWFLAKE_REGISTRY_KEY }}"
        # the deploy key too: on a stack's first deploy the step creates the registry user (a targeted up)
        assert env["SNOWFLAKE_PRIVATE_KEY"] == "${{ secrets.SNOWFLAKE_DEPLOY_KEY }}"
        assert env["STACK"] == "${{ github.job }}" and '--stack "$STACK"' in steps[token]["run"]
        assert "registry-token" in steps[token]["run"]
        assert "registryToken" not in str(steps[up])  # config, set by the step, not an input here
        assert job["environment"]["name"] == stack  # the key is the environment's secret


# ---- the smoke test, against the local API ----


def test_call_sends_health_and_recommend_and_prints_status_and_latency(live_api, target, monkeypatch):
    (cid, _), *_ = customers(target, 1)
    monkeypatch.setattr("scripts.core.connections.stack_outputs", lambda s, r=(): {"apiEndpoint": live_api.url})
    monkeypatch.delenv(call.TOKEN_VARIABLE, raising=False)
    out = CliRunner().invoke(app, ["call", "--stack", "dev", "--customer-id", str(cid)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"{live_api.url} (no token)"
    health, recommend = lines[1].split(), lines[2].split()
    assert health[0] == "200" and health[2] == "ms" and health[4] == "/health" and float(health[1]) > 0
    assert recommend[0] == "200" and recommend[4].startswith(f"/recommend?customer_id={cid}")
    assert "backend=postgres" in lines[2]


def test_call_fails_on_an_error_answer_and_sends_the_token(live_api, monkeypatch):
    monkeypatch.setenv(call.TOKEN_VARIABLE, "t0k")
    out = CliRunner().invoke(app, ["call", "--stack", "dev", "--url", live_api.url, "--customer-id", "999999999"])
    assert out.exit_code == 1 and "token from RDP_API_TOKEN" in out.output
    assert out.output.splitlines()[2].split()[0] == "404"  # an unknown customer
    assert call.headers("t0k") == {"Authorization": 'Snowflake Token="t0k"'} and call.headers(None) == {}


def test_call_without_an_endpoint_says_what_to_do(monkeypatch):
    monkeypatch.setattr("scripts.core.connections.stack_outputs", lambda s, r=(): {"apiEndpoint": ""})
    out = CliRunner().invoke(app, ["call", "--stack", "dev", "--customer-id", "1"])
    assert out.exit_code == 1 and "pulumi refresh --stack dev" in out.output
