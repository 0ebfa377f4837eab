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
    out = subprocess.run([exe, "-shellcheck=", "-pyflakes=", *files], capture_output=True, text=True)
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
    assert deploy["jobs"]["prod"]["environment"]["name"] == "production"
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
