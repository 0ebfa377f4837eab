"""The GitHub workflows lint clean with actionlint and hold the deployment rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

WF = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def test_actionlint_is_clean():
    exe = shutil.which("actionlint") or str(Path(__import__("sys").executable).with_name("actionlint"))
    files = sorted(str(p) for p in WF.glob("*.yml"))
    assert files
    out = subprocess.run(
        [exe, "-pyflakes=", "-config-file", str(WF.parent / "actionlint.yaml"), *files],  # shellcheck on
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    exe = shutil.which("actionlint") or str(Path(__import__("sys").executable).with_name("actionlint"))
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    out = subprocess.run([exe, "-shellcheck=", "-pyflakes=", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0


SHELLCHECKED = {p.name for p in WF.glob("*.yml")}  # every workflow: actionlint passes its `run:` scripts to shellcheck


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed (scripts/system-deps.sh)")
def test_the_drift_scripts_pass_shellcheck(tmp_path):
    exe = shutil.which("actionlint") or str(Path(__import__("sys").executable).with_name("actionlint"))
    args = [exe, "-pyflakes=", "-config-file", str(WF.parent / "actionlint.yaml")]
    for name in sorted(SHELLCHECKED):
        out = subprocess.run([*args, str(WF / name)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
    bad = tmp_path / "drift.yml"  # an unquoted expansion in the drift workflow is caught
    bad.write_text((WF / "drift.yml").read_text().replace("cat preview.log", "cat $GITHUB_WORKSPACE/preview.log", 1))
    out = subprocess.run([*args, str(bad)], capture_output=True, text=True)
    assert out.returncode != 0 and "SC2086" in out.stdout


def load_workflow(name: str) -> dict:
    doc = yaml.safe_load((WF / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def test_deploy_rules():
    pr = load_workflow("preview.yml")
    assert "pull_request" in pr["on"]
    steps = str(pr["jobs"])
    assert "pulumi/actions" in steps and "policyPacks" in steps and "comment-on-pr" in steps
    deploy = load_workflow("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["jobs"]["prod"]["environment"]["name"] == "prod"
    assert "dev" in deploy["jobs"]["prod"]["needs"]
    review = load_workflow("review-stack.yml")
    assert set(review["on"]["pull_request"]["types"]) >= {"opened", "synchronize", "closed"}
    text = (WF / "review-stack.yml").read_text()
    assert "pulumi stack rm" in text and "destroy" in text
    for f in WF.glob("*.yml"):
        wf, text = load_workflow(f.name), f.read_text()
        if "aws-actions/" in text or "pulumi/auth-actions" in text:
            jobs = [str(j.get("permissions", {})) for j in wf["jobs"].values()]
            assert any("id-token" in p for p in jobs), f"{f.name} must use OIDC"
        assert "AWS_SECRET_ACCESS_KEY" not in text
        assert "pull_request_target" not in wf["on"], f"{f.name}: never run pull-request code with base-branch rights"


def test_the_plan_diff_reaches_every_pull_request_without_credentials():
    pr = load_workflow("preview.yml")
    job = pr["jobs"]["plan-diff"]
    assert job["permissions"] == {"contents": "read"} and "secrets." not in str(job)
    assert "--diff" in str(job["steps"]) and "if" not in job  # forks too
    assert "policyPacks" in str(pr["jobs"]["preview"]) and "base/infra/policy" in str(pr["jobs"]["preview"])
    comment = load_workflow("plan-diff-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == ["preview"]
    assert "actions/checkout" not in (WF / "plan-diff-comment.yml").read_text()  # never the PR's code


SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}")


def _jobs_with_secrets():
    for f in WF.glob("*.yml"):
        wf = load_workflow(f.name)
        top = set(SECRET.findall(str(wf.get("env", {}))))
        for name, job in wf["jobs"].items():
            used = top | set(SECRET.findall(str(job)))
            yield f.name, name, job, used - {"GITHUB_TOKEN"}


def test_every_credential_comes_from_a_github_environment():
    """A repository-wide secret reaches every workflow and every approval is moot; an environment's
    secret reaches only jobs of that environment (and its protection rules)."""
    for wf, name, job, used in _jobs_with_secrets():
        if used:
            assert "environment" in job, f"{wf}:{name} reads {sorted(used)} outside a GitHub environment"


def test_pull_requests_never_get_a_deploy_identity():
    pr = load_workflow("preview.yml")["jobs"]["preview"]
    assert pr["environment"]["name"] == "preview-${{ matrix.stack }}"
    keys = [st["env"]["SNOWFLAKE_PRIVATE_KEY"] for st in pr["steps"] if "SNOWFLAKE_PRIVATE_KEY" in st.get("env", {})]
    assert pr["env"]["RDP_IDENTITY"] == "preview" and keys == ["${{ secrets.SNOWFLAKE_PREVIEW_KEY }}"]
    text = str(pr)
    assert "AWS_PREVIEW_ROLE_ARN" in text and "DEPLOY" not in text and "organization" not in text.split("token-type")[1]
    assert "'refresh': False" in text  # the preview identity reads no object
    review = load_workflow("review-stack.yml")
    for name, job in review["jobs"].items():
        assert job["environment"]["name"] == "review", name
        assert "head.repo.full_name == github.repository" in job["if"], name  # never a fork's code
        assert "AWS_REVIEW_ROLE_ARN" in str(job) and "DEPLOY_ROLE" not in str(job)
        assert "SNOWFLAKE_REVIEW_KEY" in str(job) and "env" not in job, name  # the key is given per step
    assert "base/infra/policy" in str(review["jobs"]["up"])  # the PR cannot loosen its own rules
    deploy = load_workflow("deploy.yml")
    assert {j["environment"]["name"] for j in deploy["jobs"].values() if "environment" in j} == {"dev", "prod"}


def _environments() -> set[str]:
    """Every GitHub environment a job of the workflows runs in (matrix expanded)."""
    names = set()
    for f in WF.glob("*.yml"):
        for job in load_workflow(f.name)["jobs"].values():
            env = job.get("environment")
            if not env:
                continue
            name = env["name"] if isinstance(env, dict) else env
            for key, values in (job.get("strategy", {}).get("matrix", {}) or {}).items():
                if "${{ matrix." + key + " }}" in name:
                    names |= {name.replace("${{ matrix." + key + " }}", str(v)) for v in values}
                    break
            else:
                names.add(name)
    return names


def test_the_environment_names_match_the_roles_trust(all_plans):
    """The AWS roles trust exactly the environments the workflows run in (the review identity's role is
    the account stack's)."""
    import json

    subjects = set()
    for stack in ("dev", "prod", "account"):
        for r in all_plans[stack]:
            if r["type"] == "aws:iam/role:Role" and r["inputs"].get("path") == "/ci/":
                st = json.loads(r["inputs"]["assumeRolePolicy"])["Statement"][0]
                subjects.add(st["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"].split(":")[-1])
    assert subjects == _environments() == {"dev", "prod", "preview-dev", "preview-prod", "review"}


ROOT = WF.parent.parent
STUBS = {
    "id": 'echo "$FAKE_UID"',
    "sudo": '[ "$1" = -n ] && shift; [ "$SUDO_OK" = 1 ] || exit 1; [ "$1" = true ] && exit 0\n'
    'echo "sudo" >> "$LOG"; exec "$@"',
    "apt-get": 'echo "apt-get $*" >> "$LOG"; for p in $APT_FAIL; do [[ " $* " == *" $p "* ]] && exit 100; done\n'
    '[[ " $* " == *" postgresql "* ]] && /bin/mkdir -p "$RDP_PG_LIB/17/bin" && : > "$RDP_PG_LIB/17/bin/initdb"; exit 0',
}


def _system_deps(tmp_path: Path, uid: int, sudo: bool, present: tuple[str, ...], pg: bool, fail: str = ""):
    """scripts/system-deps.sh with `id`, `sudo` and `apt-get` stubbed and only `present` commands on PATH."""
    bin_, lib, log = tmp_path / "bin", tmp_path / "pglib", tmp_path / "log"
    bin_.mkdir(parents=True)
    log.write_text("")
    for name, body in {**STUBS, **dict.fromkeys(present, "exit 0")}.items():
        (bin_ / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_ / name).chmod(0o755)
    if pg:
        (lib / "16" / "bin").mkdir(parents=True)
        (lib / "16" / "bin" / "initdb").write_text("")
    env = {"PATH": str(bin_), "FAKE_UID": str(uid), "SUDO_OK": str(int(sudo)), "LOG": str(log), "APT_FAIL": fail}
    env["RDP_PG_LIB"] = str(lib)
    out = subprocess.run(
        ["/bin/bash", str(ROOT / "scripts/system-deps.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    return out, log.read_text().splitlines()


def test_setup_installs_with_sudo_when_not_root_and_wrk_is_never_required(tmp_path):
    # a hosted runner: not root, password-less sudo, PostgreSQL there, wrk and Chromium not installable
    out, log = _system_deps(tmp_path / "a", 1001, sudo=True, present=("dot",), pg=True, fail="wrk chromium")
    assert out.returncode == 0, out.stderr
    assert "sudo" in log and any(line.startswith("apt-get install") and " wrk" in line for line in log)
    assert "could not install wrk (optional)" in out.stderr
    # root installs with apt-get itself, never through sudo
    out, log = _system_deps(tmp_path / "b", 0, sudo=False, present=(), pg=False)
    assert out.returncode == 0 and "sudo" not in log and "apt-get install -y -qq postgresql" in log
    # not root and no sudo: only a missing PostgreSQL (the stand-ins) fails, naming it
    out, log = _system_deps(tmp_path / "c", 1001, sudo=False, present=(), pg=True)
    assert out.returncode == 0 and not log and "wrk" in out.stderr
    out, log = _system_deps(tmp_path / "d", 1001, sudo=False, present=("dot", "wrk"), pg=False)
    assert out.returncode == 1 and "postgresql" in out.stderr and not log


def test_setup_is_the_script_and_no_test_needs_wrk():
    assert "bash scripts/system-deps.sh" in (ROOT / "Makefile").read_text()
    assert "make test" in (ROOT / ".ci/run").read_text()
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text()
        for i, line in enumerate(text.splitlines()):
            if "wrk(" in line and "def wrk" not in line:  # a test driving wrk is skipped without it
                assert 'skipif(not shutil.which("wrk")' in text, f"{path}:{i + 1} needs wrk"


WRITE_CA = "python -m scripts.serving write-ca --stack"


def _refresh_or_destroy(step: dict) -> int | None:
    """Where in the step the engine configures providers from the state without running the program
    (refresh, `up --refresh`, destroy): the index in its `run` text, 0 for an action; None if it never does."""
    if "pulumi/actions" in str(step.get("uses", "")):
        inputs = step.get("with", {})
        runs = inputs.get("command") in ("refresh", "destroy") or str(inputs.get("refresh")).lower() == "true"
        return 0 if runs else None
    run = str(step.get("run", ""))
    found = [i for i in (run.find("pulumi destroy"), run.find("pulumi refresh"), run.find("--refresh")) if i >= 0]
    return min(found) if found else None


def _installs_the_cli(step: dict) -> bool:
    """setup-pulumi, or pulumi/actions with no command (install-only)."""
    uses = str(step.get("uses", ""))
    return "pulumi/setup-pulumi" in uses or (
        uses.startswith("pulumi/actions") and not (step.get("with") or {}).get("command")
    )


def _ca_steps_missing(doc: dict) -> list[str]:
    """The steps of a workflow that refresh or destroy with no `write-ca` before them in their job (an
    earlier step after the Pulumi login and CLI, or earlier in the same script)."""
    missing = []
    for job_name, job in doc["jobs"].items():
        steps = job.get("steps", [])
        for i, step in enumerate(steps):
            at = _refresh_or_destroy(step)
            if at is None or WRITE_CA in str(step.get("run", ""))[:at]:
                continue
            before = [str(s) for s in steps[:i]]
            ca = [k for k, s in enumerate(before) if WRITE_CA in s]
            login = [k for k, s in enumerate(before) if "pulumi/auth-actions" in s]
            cli = [k for k, s in enumerate(steps[:i]) if _installs_the_cli(s)]
            if not (ca and login and cli and ca[-1] > max(login[-1], cli[-1])):
                missing.append(f"{job_name} step {i + 1} ({step.get('name') or step.get('uses')})")
    return missing


WORKFLOWS = {"review-stack.yml", "preview.yml", "plan-diff-comment.yml", "deploy.yml", "drift.yml"}


@pytest.mark.parametrize(
    "name",
    sorted(WORKFLOWS),
)
def test_every_refresh_and_destroy_is_preceded_by_the_postgres_ca(name):
    assert {f.name for f in WF.glob("*.yml")} == WORKFLOWS  # a new workflow joins the list
    assert not _ca_steps_missing(load_workflow(name))


def test_the_ca_check_sees_a_destroy_or_refresh_without_it():
    doc = load_workflow("review-stack.yml")
    assert not _ca_steps_missing(doc)
    for step in doc["jobs"]["destroy"]["steps"]:
        if WRITE_CA in str(step.get("run", "")):
            step["run"] = step["run"].replace(WRITE_CA, "echo")
    assert _ca_steps_missing(doc) == ["destroy step 7 (Destroy the review stack and remove it)"]
    deploy = load_workflow("deploy.yml")
    assert not _ca_steps_missing(deploy)
    for job in deploy["jobs"].values():
        job["steps"] = [st for st in job["steps"] if WRITE_CA not in str(st.get("run", ""))]
    up = next(st["uses"] for st in deploy["jobs"]["dev"]["steps"] if (st.get("with") or {}).get("command") == "up")
    assert _ca_steps_missing(deploy) == [f"dev step 9 ({up})", f"prod step 9 ({up})"]
    # the steps to add to each deploy job, after the Pulumi login and before `up --refresh`, make it pass
    for job in deploy["jobs"].values():
        job["steps"][-1:-1] = [{"uses": "pulumi/setup-pulumi@v2"}, {"run": f".venv/bin/{WRITE_CA} x/dev"}]
    assert not _ca_steps_missing(deploy)


# Identities a scheduled or manually dispatched run may use: the read-only preview identities (and a
# loader identity's environment, if one is ever declared). Nobody reviews such a run, so it never gets
# the identity that may change a stack.
READ_ONLY_ENVIRONMENTS = ("preview-",)
LOADER_ENVIRONMENTS: set[str] = set()
DEPLOY_CREDENTIALS = ("SNOWFLAKE_DEPLOY_KEY", "AWS_DEPLOY_ROLE_ARN", "PULUMI_DEPLOY_TEAM", "SNOWFLAKE_REGISTRY_KEY")


def _unattended(doc: dict) -> bool:
    """Triggered by `schedule`, or by `workflow_dispatch` only."""
    on = doc["on"]
    triggers = set(on) if isinstance(on, dict) else set(on if isinstance(on, list) else [on])
    return "schedule" in triggers or triggers == {"workflow_dispatch"}


PULUMI_COMMAND = re.compile(r"(^|[\s;&|(])pulumi (preview|up|refresh|destroy|import|stack)\b", re.MULTILINE)


def runs_pulumi(step: dict) -> bool:
    """The step runs the engine: the Pulumi action, or the CLI as a command (not quoted in a message)."""
    if _installs_the_cli(step):
        return False
    return "pulumi/actions" in str(step.get("uses", "")) or bool(PULUMI_COMMAND.search(str(step.get("run", ""))))


def _deploy_identity_faults(doc: dict) -> list[str]:
    """Where an unattended workflow could act as a deploy identity: a job in an environment that is not a
    preview (or loader) one, a deploy credential named anywhere, a Pulumi step without RDP_IDENTITY=preview."""
    if not _unattended(doc):
        return []
    faults = [f"workflow names {c}" for c in DEPLOY_CREDENTIALS if c in str(doc.get("env", {}))]
    for name, job in doc["jobs"].items():
        env = job.get("environment")
        env_name = (env["name"] if isinstance(env, dict) else env) if env else None
        if env_name is not None and not (
            env_name.startswith(READ_ONLY_ENVIRONMENTS) or env_name in LOADER_ENVIRONMENTS
        ):
            faults.append(f"{name}: environment {env_name}")
        faults += [f"{name}: names {c}" for c in DEPLOY_CREDENTIALS if c in str(job)]
        for i, step in enumerate(job.get("steps", [])):
            identity = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}.get("RDP_IDENTITY")
            if runs_pulumi(step) and identity != "preview":
                faults.append(f"{name} step {i + 1}: pulumi without RDP_IDENTITY=preview")
    return faults


def test_unattended_workflows_never_get_a_deploy_identity():
    unattended = [f.name for f in WF.glob("*.yml") if _unattended(load_workflow(f.name))]
    assert "drift.yml" in unattended and "deploy.yml" not in unattended  # deploy also runs on push to main
    for name in unattended:
        assert not _deploy_identity_faults(load_workflow(name)), name
    drift = load_workflow("drift.yml")["jobs"]["drift"]
    assert drift["environment"]["name"] == "preview-${{ matrix.stack }}" and drift["runs-on"] == [
        "self-hosted",
        "rdp-pr",
    ]
    keys = [s["env"]["SNOWFLAKE_PRIVATE_KEY"] for s in drift["steps"] if "SNOWFLAKE_PRIVATE_KEY" in s.get("env", {})]
    assert keys == ["${{ secrets.SNOWFLAKE_PREVIEW_KEY }}"] and "AWS_PREVIEW_ROLE_ARN" in str(drift)
    assert drift["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}


def test_the_identity_check_sees_a_deploy_identity_in_a_scheduled_job():
    doc = load_workflow("drift.yml")
    doc["jobs"]["drift"]["environment"] = {"name": "dev"}
    assert _deploy_identity_faults(doc) == ["drift: environment dev"]
    doc = load_workflow("drift.yml")
    doc["jobs"]["drift"]["env"]["SNOWFLAKE_PRIVATE_KEY"] = "${{ secrets.SNOWFLAKE_DEPLOY_KEY }}"
    assert _deploy_identity_faults(doc) == ["drift: names SNOWFLAKE_DEPLOY_KEY"]
    doc = load_workflow("drift.yml")
    del doc["jobs"]["drift"]["env"]["RDP_IDENTITY"]
    preview_step = next(i for i, s in enumerate(doc["jobs"]["drift"]["steps"]) if "--expect-no" in s.get("run", ""))
    assert _deploy_identity_faults(doc) == [f"drift step {preview_step + 1}: pulumi without RDP_IDENTITY=preview"]
    # a manually dispatched deploy of its own is unattended too; deploy.yml (push to main) is not
    deploy = load_workflow("deploy.yml")
    assert not _deploy_identity_faults(deploy)
    deploy["on"] = {"workflow_dispatch": None}
    assert "dev: environment dev" in _deploy_identity_faults(deploy)
    assert "prod: names SNOWFLAKE_DEPLOY_KEY" in _deploy_identity_faults(deploy)
