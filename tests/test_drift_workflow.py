"""The drift workflow: the scheduled preview tells a drift from an error, and the drift issue is opened,
or commented on, only when the preview proposed changes (its shell steps run against stubbed tools)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_workflows import load_workflow, runs_pulumi


def _drift_steps() -> tuple[dict, dict, int, int]:
    steps = load_workflow("drift.yml")["jobs"]["drift"]["steps"]
    [pi] = [i for i, s in enumerate(steps) if runs_pulumi(s) and "--expect-no-changes" in s.get("run", "")]
    [ii] = [i for i, s in enumerate(steps) if "gh issue" in str(s.get("run", ""))]
    return steps[pi], steps[ii], pi, ii


def test_the_drift_issue_is_opened_only_when_the_preview_proposed_changes():
    preview, issue, pi, ii = _drift_steps()
    assert pi < ii and "--refresh" in preview["run"] and "continue-on-error" not in preview
    sid = preview["id"]
    # runs only after the preview step succeeded (the default `success()`) and said it drifted, exit non-zero
    assert issue["if"] == f"steps.{sid}.outputs.drifted == 'true' && steps.{sid}.outputs.exit != '0'"
    assert "gh issue list --state open --search" in issue["run"] and "gh issue comment" in issue["run"]
    assert "gh issue create" in issue["run"] and issue["env"]["TITLE"] == "Drift in ${{ matrix.stack }}"


STACK_EXPR = "${{ matrix.stack }}"


def _run(script: str, tmp_path: Path, stubs: dict[str, str], env: dict[str, str]) -> tuple[int, dict, str]:
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    for name, body in stubs.items():
        (bin_ / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_ / name).chmod(0o755)
    out_file = tmp_path / "out"
    out_file.write_text("")
    full = {"PATH": f"{bin_}:/usr/bin:/bin", "GITHUB_OUTPUT": str(out_file), "LOG": str(tmp_path / "log"), **env}
    out = subprocess.run(["/bin/bash", "-e", "-c", script], cwd=tmp_path, env=full, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    return out.returncode, outputs, out.stdout + out.stderr


@pytest.mark.parametrize(
    ("pulumi", "rc", "drifted"),
    [
        ("echo 'Resources: 353 unchanged'; exit 0", 0, "false"),
        (
            "echo '~ update bucket'; echo 'error: no changes were expected but changes were proposed' >&2; exit 255",
            0,
            "true",
        ),
        ("echo 'error: 403 AccessDenied reading bucket' >&2; exit 255", 255, "false"),  # an error is no drift
    ],
)
def test_the_preview_step_tells_a_drift_from_an_error(tmp_path, pulumi, rc, drifted):
    preview, _, _, _ = _drift_steps()
    got, outputs, _ = _run(preview["run"], tmp_path, {"pulumi": pulumi}, {"STACK": "org/dev"})
    assert got == rc and outputs["drifted"] == drifted
    assert (outputs["exit"] == "0") == (pulumi.endswith("exit 0"))


@pytest.mark.parametrize(("listed", "action"), [("", "create --title Drift in dev"), ("7", "comment 7")])
def test_the_issue_step_updates_the_open_issue_or_creates_one(tmp_path, listed, action):
    _, issue, _, _ = _drift_steps()
    (tmp_path / "preview.log").write_text("~ update bucket\n")
    gh = f'echo "gh $*" >> "$LOG"; [ "$2" = list ] && echo "{listed}"; exit 0'
    env = {"TITLE": "Drift in dev", "RUN_URL": "https://example.invalid/run/1"}
    got, _, out = _run(issue["run"].replace(STACK_EXPR, "dev"), tmp_path, {"gh": gh}, env)
    log = (tmp_path / "log").read_text()
    assert got == 0, out
    assert f"gh issue {action}" in log and "--body-file body.md" in log
    assert "~ update bucket" in (tmp_path / "body.md").read_text()
