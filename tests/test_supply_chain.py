"""The supply chain is pinned end to end: every package in both lock files is pinned with its hashes, the
deploy set is the tests' set minus what only tests and stand-ins need, and what a deploy job runs imports
nothing from that remainder."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEPLOY, TESTS = ROOT / "requirements.txt", ROOT / "tests" / "requirements.txt"
# what a deploy, preview or scheduled job runs (its workflows install requirements.txt alone)
DEPLOY_ENTRY_POINTS = (
    "stacks.platform",
    "stacks.account",
    "infra.plan",
    "infra.policy.rules",
    "scripts.api.__main__",
    "scripts.serving.__main__",
    "scripts.recommendations.__main__",
    "scripts.ingestion.__main__",
    "scripts.analytics.__main__",
    "scripts.cdc.__main__",
    "scripts.monitor.__main__",
)


def locked(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock file's packages: name → (pinned version, hashes); anything not pinned with hashes is an error
    naming the line."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    joined = text.replace("\\\n", " ")
    for n, line in enumerate(joined.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split(" --")
        req = Requirement(spec.strip())
        pins = [s for s in req.specifier if s.operator == "=="]
        hashes = frozenset(o.split("=", 1)[1] for o in options if o.startswith("hash="))
        if len(pins) != 1 or len(req.specifier) != 1:
            raise ValueError(f"line {n}: {req.name} is not pinned to one version ({req.specifier or 'no version'})")
        if not hashes:
            raise ValueError(f"line {n}: {req.name}=={pins[0].version} has no --hash")
        found[canonicalize_name(req.name)] = (pins[0].version, hashes)
    return found


def dev_only() -> set[str]:
    """The direct dependencies only the tests and the stand-ins need (pyproject's `dev` extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}


def test_every_package_is_pinned_with_hashes():
    assert locked(DEPLOY.read_text()) and locked(TESTS.read_text())


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("boto3>=1.40 --hash=sha256:00", "not pinned to one version"),
        ("boto3 --hash=sha256:00", "not pinned to one version"),
        ("boto3==1.43.11", "has no --hash"),
    ],
)
def test_an_unpinned_requirement_is_refused(line, why):
    with pytest.raises(ValueError, match=why):
        locked(line + "\n")


def test_the_deploy_set_is_the_tests_set_without_the_dev_extra():
    deploy, tests = locked(DEPLOY.read_text()), locked(TESTS.read_text())
    assert {k: v for k, v in tests.items() if k in deploy} == deploy  # same pins, same hashes
    assert dev_only() & set(tests) == dev_only()
    assert not dev_only() & set(deploy), "a test-only package is in requirements.txt"


def run_blocked(blocked: set[str], modules: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Import `modules` in a fresh interpreter where the `blocked` top-level packages cannot be imported."""
    code = (
        "import importlib, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {sorted(blocked)!r}:\n"
        "            raise ImportError(f'{name} is test-only')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


TEST_ONLY_MODULES = {"fakesnow", "streamlit", "plotly", "pytest", "selenium", "schemathesis", "duckdb"}


def test_a_deploy_job_imports_nothing_only_the_tests_install():
    """Every entry point a deploy job runs imports with the dev extra's packages made unimportable."""
    out = run_blocked(TEST_ONLY_MODULES, list(DEPLOY_ENTRY_POINTS), ROOT)
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_blocker_catches_a_test_only_import(tmp_path):
    (tmp_path / "deploy_step.py").write_text("import fakesnow\n")
    out = run_blocked(TEST_ONLY_MODULES, ["deploy_step"], tmp_path)
    assert out.returncode != 0 and "fakesnow is test-only" in out.stderr


def test_make_installs_hash_checked_and_deploys_without_the_test_set():
    make = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r tests/requirements.txt" in make
    deploy = make.split("setup-deploy:", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r requirements.txt" in deploy and "tests/requirements.txt" not in deploy


FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)", re.M)


def unpinned_images(dockerfile: str) -> list[str]:
    """The base images a Dockerfile names by tag alone (a tag can be re-pushed; a digest cannot)."""
    return [image for image in FROM.findall(dockerfile) if not re.search(r"@sha256:[0-9a-f]{64}$", image)]


def test_every_base_image_is_pinned_by_digest():
    dockerfiles = sorted((ROOT / "services").rglob("Dockerfile"))
    assert dockerfiles
    assert {str(p.relative_to(ROOT)): unpinned_images(p.read_text()) for p in dockerfiles} == {
        str(p.relative_to(ROOT)): [] for p in dockerfiles
    }


def test_a_tag_alone_is_caught():
    assert unpinned_images("FROM --platform=linux/amd64 python:3.11.14-slim-bookworm\n") == [
        "python:3.11.14-slim-bookworm"
    ]


def test_the_snowflake_cli_lock_is_pinned_with_hashes():
    assert "snowflake-cli" in locked((ROOT / ".github" / "requirements" / "snowcli.txt").read_text())


def test_the_dbt_lock_is_pinned_with_hashes_and_installed_by_make_setup():
    """dbt's venv of its own (.venv-dbt): dbt-core and dbt-snowflake at the versions dbt.in pins."""
    lock = locked((ROOT / ".github" / "requirements" / "dbt.txt").read_text())
    wanted = (ROOT / ".github" / "requirements" / "dbt.in").read_text()
    for name in ("dbt-core", "dbt-snowflake"):
        assert f"{name}=={lock[name][0]}" in wanted, name
    assert "--require-hashes -r $(DBT_LOCK)" in (ROOT / "Makefile").read_text()


IMAGE_LOCKS = sorted((ROOT / "services").rglob("requirements.txt"))


def test_every_image_installs_a_hashed_lock_with_the_projects_pins():
    project = locked(TESTS.read_text())
    assert len(IMAGE_LOCKS) >= 2
    for lock in IMAGE_LOCKS:
        image = locked(lock.read_text())
        assert {k: v[0] for k, v in image.items()} == {k: project[k][0] for k in image}, lock
        dockerfile = lock.parent / "Dockerfile"
        assert "--require-hashes -r requirements.txt" in dockerfile.read_text(), dockerfile
