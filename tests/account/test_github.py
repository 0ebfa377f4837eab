"""The repository's GitHub environments are declared by the account stack with the rules the README
promises, and every environment, secret and variable a workflow names is one of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infra.account.catalog import REPOSITORY_VARIABLES, github_environments, github_environments_table
from tests.conftest import by_type

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / ".github" / "workflows"
STACKS = ["dev", "prod"]
ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
MARK = "<!-- github-environments -->"


def job_environments(job: dict) -> list[str]:
    """The environment names a job may run in, its `matrix.stack` expanded."""
    env = job.get("environment")
    if env is None:
        return []
    name = env["name"] if isinstance(env, dict) else env
    stacks = ((job.get("strategy") or {}).get("matrix") or {}).get("stack") or []
    if "${{ matrix.stack }}" in name:
        return [name.replace("${{ matrix.stack }}", s) for s in stacks]
    return [name]


def workflow_jobs() -> list[tuple[str, str, dict]]:
    return [
        (wf.name, name, job)
        for wf in sorted(WF.glob("*.yml"))
        for name, job in (yaml.safe_load(wf.read_text())["jobs"] or {}).items()
    ]


def references(job: dict, kind: str) -> set[str]:
    """The `secrets.X` / `vars.X` a job's YAML names (GITHUB_TOKEN is GitHub's own)."""
    return set(re.findall(rf"\b{kind}\.([A-Z0-9_]+)", yaml.safe_dump(job))) - {"GITHUB_TOKEN"}


def misuses(jobs: list[tuple[str, str, dict]], declared: dict) -> list[str]:
    """Every environment a job names that is not declared, and every secret or variable a job reads
    that its environment does not hold (a job without an environment may read no secret)."""
    found = []
    for wf, name, job in jobs:
        envs = job_environments(job)
        secrets, variables = references(job, "secrets"), references(job, "vars")
        if not envs and secrets:
            found.append(f"{wf}:{name} reads {sorted(secrets)} outside any environment")
        for env in envs:
            if env not in declared:
                found.append(f"{wf}:{name} runs in environment {env}, which the account stack does not declare")
                continue
            extra = secrets - set(declared[env].secrets)
            extra |= variables - set(declared[env].variables) - set(REPOSITORY_VARIABLES)
            if extra:
                found.append(f"{wf}:{name} reads {sorted(extra)}, which environment {env} does not hold")
    return found


def test_every_environment_secret_and_variable_a_workflow_names_is_declared():
    assert misuses(workflow_jobs(), github_environments(STACKS)) == []


@pytest.mark.parametrize(
    ("env", "reads", "why"),
    [
        ("staging", "", "does not declare"),
        ("preview-prod", "${{ secrets.SNOWFLAKE_DEPLOY_KEY }}", "does not hold"),
        (None, "${{ secrets.SNOWFLAKE_PREVIEW_KEY }}", "outside any environment"),
    ],
)
def test_a_planted_misuse_is_reported(env, reads, why):
    job = {"runs-on": "x", "steps": [{"run": "true", "env": {"K": reads}}]} | ({"environment": env} if env else {})
    found = misuses([("planted.yml", "job", job)], github_environments(STACKS))
    assert len(found) == 1 and why in found[0]


def declared_rules(plan: list[dict]) -> dict[str, dict]:
    """What the account stack's plan declares per environment: reviewers, branch rules, admin bypass."""
    mains = {r["inputs"]["environment"] for r in by_type(plan, POLICY) if r["inputs"]["branchPattern"] == "main"}
    return {
        r["inputs"]["environment"]: {
            "reviewers": bool(r["inputs"].get("reviewers")),
            "main_only": bool((r["inputs"].get("deploymentBranchPolicy") or {}).get("customBranchPolicies"))
            and r["inputs"]["environment"] in mains,
            "bypass": r["inputs"].get("canAdminsBypass", True),
            "self_review": not r["inputs"].get("preventSelfReview", False),
        }
        for r in by_type(plan, ENV)
    }


def rule_gaps(declared: dict[str, dict], wanted: dict) -> list[str]:
    found = [f"{e} is not declared" for e in wanted if e not in declared]
    for env, rules in wanted.items():
        got = declared.get(env)
        if got is None:
            continue
        if got["reviewers"] != rules.reviewers or (rules.reviewers and got["self_review"]):
            found.append(f"{env}: required reviewers {got['reviewers']}, want {rules.reviewers} (no self-review)")
        if got["main_only"] != rules.main_only:
            found.append(f"{env}: main only {got['main_only']}, want {rules.main_only}")
        if got["bypass"]:
            found.append(f"{env}: administrators may bypass its rules")
    return found


def test_the_account_stack_declares_each_environment_with_its_rules(account_plan):
    assert rule_gaps(declared_rules(account_plan), github_environments(STACKS)) == []
    reviewed = [r for r in by_type(account_plan, ENV) if r["inputs"].get("reviewers")]
    assert {r["inputs"]["environment"] for r in reviewed} == {"prod", "preview-prod", "review"}
    assert all(r["inputs"]["reviewers"][0]["teams"] for r in reviewed)  # data-platform-leads, by its id


def test_a_weakened_environment_is_reported(account_plan):
    declared = declared_rules(account_plan)
    declared["prod"] = {**declared["prod"], "reviewers": False}
    declared["dev"] = {**declared["dev"], "main_only": False, "bypass": True}
    del declared["review"]
    gaps = rule_gaps(declared, github_environments(STACKS))
    assert any(g.startswith("prod: required reviewers") for g in gaps)
    assert any(g.startswith("dev: main only") for g in gaps) and "dev: administrators may bypass its rules" in gaps
    assert "review is not declared" in gaps


def test_the_readme_states_the_rules_the_account_stack_declares():
    readme = (ROOT / "README.md").read_text()
    assert readme.count(MARK) == 2, f"README.md needs the block between two {MARK} lines"
    block = readme.split(MARK)[1].strip()
    assert block == github_environments_table(STACKS), "regenerate it: infra.account.catalog.github_environments_table"
