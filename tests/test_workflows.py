"""The GitHub workflows lint clean with actionlint and hold the deployment rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

WF = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def test_actionlint_is_clean():
    exe = shutil.which("actionlint") or str(Path(__import__("sys").executable).with_name("actionlint"))
    files = sorted(str(p) for p in WF.glob("*.yml"))
    assert files
    out = subprocess.run(
        [exe, "-shellcheck=", "-pyflakes=", "-config-file", str(WF.parent / "actionlint.yaml"), *files],
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


def _load(name: str) -> dict:
    doc = yaml.safe_load((WF / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def test_deploy_rules():
    pr = _load("preview.yml")
    assert "pull_request" in pr["on"]
    steps = str(pr["jobs"])
    assert "pulumi/actions" in steps and "policyPacks" in steps and "comment-on-pr" in steps
    deploy = _load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["jobs"]["prod"]["environment"]["name"] == "prod"
    assert "dev" in deploy["jobs"]["prod"]["needs"]
    review = _load("review-stack.yml")
    assert set(review["on"]["pull_request"]["types"]) >= {"opened", "synchronize", "closed"}
    text = (WF / "review-stack.yml").read_text()
    assert "pulumi stack rm" in text and "destroy" in text
    for f in WF.glob("*.yml"):
        wf, text = _load(f.name), f.read_text()
        if "aws-actions/" in text or "pulumi/auth-actions" in text:
            assert "id-token" in str(wf.get("permissions", {})), f"{f.name} must use OIDC"
        assert "AWS_SECRET_ACCESS_KEY" not in text
        assert "pull_request_target" not in wf["on"], f"{f.name}: never run pull-request code with base-branch rights"


def test_the_plan_diff_reaches_every_pull_request_without_credentials():
    pr = _load("preview.yml")
    job = pr["jobs"]["plan-diff"]
    assert job["permissions"] == {"contents": "read"} and "secrets." not in str(job)
    assert "--diff" in str(job["steps"]) and "if" not in job  # forks too
    assert "policyPacks" in str(pr["jobs"]["preview"]) and "base/infra/policy" in str(pr["jobs"]["preview"])
    comment = _load("plan-diff-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == ["preview"]
    assert "actions/checkout" not in (WF / "plan-diff-comment.yml").read_text()  # never the PR's code


SECRET = __import__("re").compile(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}")


def _jobs_with_secrets():
    for f in WF.glob("*.yml"):
        wf = _load(f.name)
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
    pr = _load("preview.yml")["jobs"]["preview"]
    assert pr["environment"]["name"] == "preview-${{ matrix.stack }}"
    assert pr["env"]["RDP_IDENTITY"] == "preview" and "SNOWFLAKE_PREVIEW_KEY" in pr["env"]["SNOWFLAKE_PRIVATE_KEY"]
    text = str(pr)
    assert "AWS_PREVIEW_ROLE_ARN" in text and "DEPLOY" not in text and "organization" not in text.split("token-type")[1]
    assert "'refresh': False" in text  # the preview identity reads no object
    review = _load("review-stack.yml")
    for name, job in review["jobs"].items():
        assert job["environment"]["name"] == "review", name
        assert "head.repo.full_name == github.repository" in job["if"], name  # never a fork's code
        assert "AWS_REVIEW_ROLE_ARN" in str(job) and "DEPLOY_ROLE" not in str(job)
        assert "SNOWFLAKE_REVIEW_KEY" in job["env"]["SNOWFLAKE_PRIVATE_KEY"], name
    assert "base/infra/policy" in str(review["jobs"]["up"])  # the PR cannot loosen its own rules
    deploy = _load("deploy.yml")
    assert {j["environment"]["name"] for j in deploy["jobs"].values()} == {"dev", "prod"}


def _environments() -> set[str]:
    """Every GitHub environment a job of the workflows runs in (matrix expanded)."""
    names = set()
    for f in WF.glob("*.yml"):
        for job in _load(f.name)["jobs"].values():
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
