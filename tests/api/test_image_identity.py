"""An image's identity is the digest of everything its Dockerfile copies, so a change to service code
alone shows in the offline plan diff as the image rebuilt and the service it redeploys."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from infra import images
from infra.api import build
from tests import background
from tests.conftest import ROOT


def test_copy_sources_are_read_from_the_dockerfile():
    text = "FROM x AS b\nCOPY --chown=1:1 a.txt b/ ./dst/\nCOPY --from=b /x /y\nRUN echo COPY no\nADD \\\n  c.tar /c/\n"
    assert build.copy_sources(text) == ["a.txt", "b/", "c.tar"]


def _services_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "services", root / "services", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize(
    ("edited", "changes"),
    [
        ("services/api/ranker/ranker/app.py", {"ranker"}),
        ("services/api/orchestrator/orchestrator/shelf.py", {"orchestrator"}),
        ("services/features/pair.py", {"orchestrator"}),  # shared with training, copied into the orchestrator
        ("services/features/candidates.py", {"orchestrator"}),  # the retrieval's selection, shared too
        ("services/features/health.py", set()),  # the monitor's and the dashboard's judgement, not copied
        ("services/api/orchestrator/requirements.txt", {"orchestrator"}),
        ("services/api/ranker/Dockerfile", {"ranker"}),
        ("services/dashboard/streamlit_app.py", set()),  # in the orchestrator's context, never copied
    ],
)
def test_a_planted_change_changes_exactly_the_images_that_copy_it(tmp_path, edited, changes):
    root = _services_copy(tmp_path)
    before = {s: build.context_digest(s, root) for s in ("orchestrator", "ranker")}
    with (root / edited).open("a") as f:
        f.write("\n# planted change\n")
    after = {s: build.context_digest(s, root) for s in ("orchestrator", "ranker")}
    assert {s for s in before if before[s] != after[s]} == changes


def test_bytecode_and_caches_do_not_count(tmp_path):
    root = _services_copy(tmp_path)
    before = build.context_digest("orchestrator", root)
    cache = root / "services" / "api" / "orchestrator" / "orchestrator" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "app.cpython-311.pyc").write_bytes(b"\0")
    assert build.context_digest("orchestrator", root) == before


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@x"
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _ranker_change(repo: Path) -> Path:
    """This program at HEAD in a temporary repository, then a commit that edits the ranker's code only."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repo, filter="data")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    with (repo / "services" / "api" / "ranker" / "ranker" / "app.py").open("a") as f:
        f.write("\n# a change to the ranker's code only\n")
    _git(repo, "commit", "-q", "-am", "ranker code")
    return repo


def test_the_plan_diff_shows_a_service_code_change_as_the_service_it_redeploys():
    out = background.result(RANKER_DIFF)  # started ahead of the test (tests/background.py)
    assert out.returncode == 0, out.stderr
    changes = {c["name"]: c for c in json.loads(out.stdout)["stacks"]["dev"]["changes"]}
    assert set(changes) == {"api-ranker-image", "api-ranker"}
    image = changes["api-ranker-image"]
    assert image["action"] == "update" and image["keys"] == ["imageName"]
    old, new = image["diff"]["imageName"]["old"], image["diff"]["imageName"]["new"]
    assert old.rsplit("-", 1)[0] == new.rsplit("-", 1)[0] and old != new  # 1.0.0-<digest>: the digest moved
    assert changes["api-ranker"]["action"] == "update" and changes["api-ranker"]["keys"] == ["fromSpecification"]


RANKER_DIFF = background.command(
    "plan-diff-ranker-code",
    [sys.executable, "-m", "infra.plan", "--diff", "HEAD~1", "--stack", "dev", "--format", "json"],
    test_the_plan_diff_shows_a_service_code_change_as_the_service_it_redeploys,
    prepare=lambda: _ranker_change(background.tmpdir() / "repo"),
    timeout=600,
)


def image_layout(dockerfile: Path, context: Path, app: Path) -> None:
    """Lay out under `app` (the image's WORKDIR) what the Dockerfile's COPY lines take from `context`,
    as Docker does: a directory's contents into the destination, a file into a destination ending in /."""
    for sources, dest in images.copy_instructions(dockerfile.read_text()):
        into = dest.endswith("/") or dest == "."  # a directory
        for src in sources:
            source = context / src
            target = app / dest / source.name if into and source.is_file() else app / dest
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)


def test_the_orchestrator_imports_from_what_its_image_copies(tmp_path):
    """The tests run the app from the repository, where every module is at hand; the image has only what
    its Dockerfile copies, so a module the app imports and the Dockerfile forgets fails only in SPCS."""
    app = tmp_path / "app"
    image_layout(build.dockerfile("orchestrator"), ROOT / "services", app)
    out = subprocess.run(
        [sys.executable, "-c", "import orchestrator.app, orchestrator.cost, server"],
        cwd=app,
        env={**os.environ, "PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-1500:]
