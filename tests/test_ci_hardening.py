"""CI that pull-request code cannot subvert: each rule reads the workflows as YAML, and each is shown to
catch a planted fault."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WF = ROOT / ".github" / "workflows"
DEPLOY_ENVIRONMENTS = {"dev", "prod", "review"}  # identities that may change a stack
SUITE = re.compile(r"\.ci/run|make test|pytest")
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SDK = re.search(r"^pulumi==([\d.]+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)


def load(text: str) -> dict:
    doc = yaml.safe_load(text)
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def workflows() -> dict[str, tuple[dict, str]]:
    return {p.name: (load(p.read_text()), p.read_text()) for p in sorted(WF.glob("*.yml"))}


def env_name(job: dict) -> str | None:
    env = job.get("environment")
    return env["name"] if isinstance(env, dict) else env


def steps(job: dict) -> list[dict]:
    return job.get("steps") or []


def permission_findings(name: str, wf: dict) -> list[str]:
    """`permissions: {}` at the top; each job asks for its own; OIDC only where an environment guards it."""
    found = [] if wf.get("permissions") == {} else [f"{name}: top-level permissions must be {{}}"]
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions")
        if perms is None:
            found.append(f"{name}:{job_id} declares no permissions of its own")
        elif (perms or {}).get("id-token") == "write" and not env_name(job):
            found.append(f"{name}:{job_id} may mint OIDC tokens outside a GitHub environment")
    return found


def trigger_findings(name: str, wf: dict) -> list[str]:
    """A workflow with a deploy identity runs from main's pushes or pull requests (whose jobs need an
    approved environment), never from a dispatch that may name any ref."""
    envs = {env_name(j) for j in wf["jobs"].values()} & DEPLOY_ENVIRONMENTS
    if not envs:
        return []
    on = (
        wf["on"]
        if isinstance(wf["on"], dict)
        else {k: None for k in ([wf["on"]] if isinstance(wf["on"], str) else wf["on"])}
    )
    found = [
        f"{name}: {t} runs any ref with {sorted(envs)}" for t in ("workflow_dispatch", "repository_dispatch") if t in on
    ]
    push = on.get("push")
    if push is not None and (push or {}).get("branches") != ["main"]:
        found.append(f"{name}: push deploys from branches other than main")
    return found


def secret_findings(name: str, wf: dict) -> list[str]:
    """Secrets reach one step each: never the workflow's or a job's environment, never a suite job."""
    found = [f"{name}: workflow-level env holds a secret" for _ in [1] if "secrets." in str(wf.get("env", {}))]
    for job_id, job in wf["jobs"].items():
        if "secrets." in str(job.get("env", {})):
            found.append(f"{name}:{job_id} puts a secret in the job's environment")
        runs_suite = any(SUITE.search(str(s.get("run", ""))) for s in steps(job))
        if runs_suite and ("secrets." in str(job) or env_name(job) or "id-token" in str(job.get("permissions"))):
            found.append(f"{name}:{job_id} runs the test suite with a secret or an identity")
    return found


def checkout_findings(name: str, wf: dict) -> list[str]:
    return [
        f"{name}:{job_id} checks out with persisted credentials"
        for job_id, job in wf["jobs"].items()
        for s in steps(job)
        if str(s.get("uses", "")).startswith("actions/checkout")
        and (s.get("with") or {}).get("persist-credentials") is not False
    ]


def runner_findings(name: str, wf: dict) -> list[str]:
    """Deploy identities run on the deploy runner group only; pull-request code never runs there."""
    found = []
    for job_id, job in wf["jobs"].items():
        labels = job.get("runs-on")
        labels = [labels] if isinstance(labels, str) else labels or []
        env = env_name(job)
        if env in ("dev", "prod") and "rdp-deploy" not in labels:
            found.append(f"{name}:{job_id} deploys {env} outside the rdp-deploy runners")
        if "rdp-deploy" in labels and (env not in ("dev", "prod") or "pull_request" in wf["on"]):
            found.append(f"{name}:{job_id} runs on the deploy runners without deploying from main")
        if "self-hosted" in labels and not {"rdp-deploy", "rdp-pr"} & set(labels):
            found.append(f"{name}:{job_id} runs on a self-hosted runner of no declared group")
    return found


def policy_pack_findings(name: str, wf: dict) -> list[str]:
    """The base branch's policy pack runs in a venv built from the base branch's own lock file."""
    found = []
    for job_id, job in wf["jobs"].items():
        text = str(job)
        if "base/infra/policy" not in text:
            continue
        runs = " ".join(str(s.get("run", "")) for s in steps(job))
        if "ln -s" in runs or "--require-hashes -r base/requirements.txt" not in runs:
            found.append(f"{name}:{job_id} runs the base policy pack in an environment the PR built")
    return found


def pin_findings(name: str, wf: dict, text: str) -> list[str]:
    """Every action by commit SHA with its tag in a comment; the Pulumi CLI at the SDK's version."""
    found = []
    for job_id, job in wf["jobs"].items():
        for s in steps(job):
            uses = s.get("uses")
            if not uses or uses.startswith("./"):
                continue
            if not SHA_PIN.match(uses):
                found.append(f"{name}:{job_id} uses {uses}, not pinned to a commit SHA")
            elif not re.search(re.escape(uses) + r"\s+#\s*v\d", text):
                found.append(f"{name}:{job_id} pins {uses} without its tag in a comment")
            if uses.startswith(("pulumi/actions@", "pulumi/setup-pulumi@")):
                version = str((s.get("with") or {}).get("pulumi-version", ""))
                if version != SDK:
                    found.append(f"{name}:{job_id} runs Pulumi CLI {version or 'unpinned'}, the SDK is {SDK}")
    return found


RULES = (
    permission_findings,
    trigger_findings,
    secret_findings,
    checkout_findings,
    runner_findings,
    policy_pack_findings,
)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_every_workflow_keeps_the_rule(rule):
    assert [f for name, (wf, _) in workflows().items() for f in rule(name, wf)] == []


def test_every_action_and_the_pulumi_cli_are_pinned():
    assert [f for name, (wf, text) in workflows().items() for f in pin_findings(name, wf, text)] == []


def _deploy() -> dict:
    return copy.deepcopy(workflows()["deploy.yml"][0])


def _plant(edit) -> dict:
    wf = _deploy()
    edit(wf)
    return wf


PLANTED = [
    (permission_findings, lambda wf: wf.update(permissions={"contents": "read", "id-token": "write"}), "top-level"),
    (permission_findings, lambda wf: wf["jobs"]["test"].update(permissions={"id-token": "write"}), "outside a GitHub"),
    (trigger_findings, lambda wf: wf["on"].update(workflow_dispatch=None), "workflow_dispatch runs any ref"),
    (trigger_findings, lambda wf: wf["on"]["push"].update(branches=["main", "release/*"]), "other than main"),
    (secret_findings, lambda wf: wf["jobs"]["dev"].update(env={"K": "${{ secrets.SNOWFLAKE_DEPLOY_KEY }}"}), "job's"),
    (secret_findings, lambda wf: wf["jobs"]["dev"]["steps"].append({"run": "bash .ci/run"}), "test suite"),
    (checkout_findings, lambda wf: wf["jobs"]["dev"]["steps"][0].pop("with"), "persisted"),
    (runner_findings, lambda wf: wf["jobs"]["prod"].update({"runs-on": ["self-hosted", "rdp-pr"]}), "outside"),
    (runner_findings, lambda wf: wf["jobs"]["test"].update({"runs-on": ["self-hosted", "rdp-ci"]}), "no declared"),
]


@pytest.mark.parametrize(("rule", "edit", "why"), PLANTED, ids=[f"{r.__name__}-{w}" for r, _, w in PLANTED])
def test_a_planted_fault_is_caught(rule, edit, why):
    found = rule("deploy.yml", _plant(edit))
    assert found and why in found[0], found


def test_a_linked_policy_pack_venv_is_caught():
    wf = copy.deepcopy(workflows()["preview.yml"][0])
    for s in wf["jobs"]["preview"]["steps"]:
        if "base/.venv" in str(s.get("run", "")):
            s["run"] = 'ln -s "$PWD/.venv" base/.venv'
    assert policy_pack_findings("preview.yml", wf)


@pytest.mark.parametrize(
    ("uses", "comment", "why"),
    [
        ("actions/checkout@v4", "", "not pinned to a commit SHA"),
        ("actions/checkout@" + "a" * 40, "", "without its tag"),
    ],
)
def test_an_unpinned_action_is_caught(uses, comment, why):
    wf = {"jobs": {"j": {"steps": [{"uses": uses}]}}}
    assert why in pin_findings("x.yml", wf, f"uses: {uses}{comment}\n")[0]


def test_an_unpinned_pulumi_cli_is_caught():
    uses = "pulumi/actions@" + "b" * 40
    wf = {"jobs": {"j": {"steps": [{"uses": uses, "with": {"command": "up"}}]}}}
    assert "unpinned" in pin_findings("x.yml", wf, f"uses: {uses} # v6.5.0\n")[0]


# The comment workflow's script, run with a stub `gh` that answers like the API.
def _comment_script() -> str:
    job = workflows()["plan-diff-comment.yml"][0]["jobs"]["comment"]
    return next(s["run"] for s in steps(job) if "pr-number.txt" in str(s.get("run", "")))


def _run_comment(tmp_path: Path, claimed: str, open_prs: list[dict]) -> tuple[int, str, list[str]]:
    import json

    (tmp_path / "pr-number.txt").write_text(claimed + "\n")
    (tmp_path / "plan-diff.md").write_text("<!-- offline-plan-diff -->\n## Plan diff\n")
    calls = tmp_path / "calls.log"
    (tmp_path / "pulls.json").write_text(json.dumps(open_prs))
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text('#!/bin/bash\necho "$*" >> "$CALLS"\ncase "$*" in *"/pulls?"*) cat "$PULLS";; *"--jq"*) ;; esac\n')
    gh.chmod(0o755)
    env = {
        "PATH": f"{gh.parent}:/usr/bin:/bin",
        "CALLS": str(calls),
        "PULLS": str(tmp_path / "pulls.json"),
        "REPO": "acme/retail-data-platform",
        "HEAD_SHA": "c0ffee" * 6 + "abcd",
        "HEAD_REPO": "someone/retail-data-platform",
    }
    out = subprocess.run(["bash", "-e", "-c", _comment_script()], cwd=tmp_path, env=env, capture_output=True, text=True)
    return out.returncode, out.stderr, calls.read_text().splitlines() if calls.exists() else []


def _pr(number: int, sha: str, repo: str) -> dict:
    return {"number": number, "head": {"sha": sha, "repo": {"full_name": repo}}}


SHA, FORK = "c0ffee" * 6 + "abcd", "someone/retail-data-platform"


def test_the_comment_goes_to_the_pr_of_the_previewed_commit(tmp_path):
    code, err, calls = _run_comment(tmp_path, "287", [_pr(12, "f" * 40, FORK), _pr(287, SHA, FORK)])
    assert code == 0, err
    assert any(c.startswith("api --method POST repos/acme/retail-data-platform/issues/287/comments") for c in calls)
    assert (
        SHA in (tmp_path / "body.md").read_text() and "code of this pull request" in (tmp_path / "body.md").read_text()
    )


@pytest.mark.parametrize(
    ("claimed", "prs"),
    [
        ("287", [_pr(287, "f" * 40, FORK), _pr(12, SHA, FORK)]),  # the artifact names another PR
        ("287", [_pr(287, SHA, "acme/retail-data-platform")]),  # same commit, another head repository
        ("287", []),  # no open PR of that commit
    ],
)
def test_a_pr_number_the_artifact_made_up_posts_nothing(tmp_path, claimed, prs):
    code, err, calls = _run_comment(tmp_path, claimed, prs)
    assert code != 0 and "nothing posted" in err
    assert not any("--method" in c for c in calls)
