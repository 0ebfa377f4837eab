"""Shared fixtures: the offline plans of each stack and the local stand-ins."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import yaml

from infra.recommendations.config import ScaleConfig
from tests.background import BACKGROUND

ROOT = Path(__file__).resolve().parent.parent
# The suite's stand-ins live apart from a developer's `make local` ones.
os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-test-local-"))
STACKS = ("dev", "prod")  # the environment stacks
ACCOUNT = "account"


PLAN_CODE = (  # `python -m infra.plan`, with the stack files read from the directory given first
    "import pathlib, sys; import infra.config.reader as r; r.ROOT = pathlib.Path(sys.argv.pop(1)); "
    "from infra.plan import app; app()"
)


def _plan_process(stack: str, config_dir: Path | None = None) -> subprocess.Popen:
    program = ["-c", PLAN_CODE, str(config_dir)] if config_dir else ["-m", "infra.plan"]
    argv = [sys.executable, *program, "--stack", stack, "--format", "json"]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _plan_result(proc: subprocess.Popen) -> list[dict]:
    out, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    return json.loads(out)


def run_plan_json(stack: str) -> list[dict]:
    """The plan of a stack from a fresh interpreter, as `python -m infra.plan` prints it."""
    return _plan_result(_plan_process(stack))


REVIEW_STACK = "pr-12"


def write_review_config(tmp: Path) -> Path:
    """A review stack's config made as review-stack.yml makes it: dev's, as environment review, deploying as
    the review identity and hosting no review identity itself."""
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    cfg, key = doc["config"], "retail-data-platform:{}".format
    cfg[key("environment")] = "review"
    cfg[key("snowflake")]["deployUser"] = "RDP_REVIEW_DEPLOYER"
    (tmp / f"Pulumi.{REVIEW_STACK}.yaml").write_text(yaml.safe_dump(doc))
    return tmp


def review_plan(tmp: Path) -> list[dict]:
    """A review stack's plan (its config written into `tmp`), from a fresh interpreter."""
    return _plan_result(_plan_process(REVIEW_STACK, write_review_config(tmp)))


class PlanRuns:
    """The session's plans, each a fresh interpreter running `python -m infra.plan`: every plan the
    collected tests use starts at once when collection ends, in parallel with each other and with the
    tests that need none, and each is read once (a plan is seconds of CPU; the suite uses the same four)."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.results: dict[str, list[dict]] = {}
        self.tmp: Path | None = None

    def start(self, stack: str) -> None:
        if stack in self.procs or stack in self.results:
            return
        if stack == REVIEW_STACK:
            self.tmp = Path(tempfile.mkdtemp(prefix="rdp-test-review-"))
            self.procs[stack] = _plan_process(stack, write_review_config(self.tmp))
        else:
            self.procs[stack] = _plan_process(stack)

    def get(self, stack: str) -> list[dict]:
        if stack not in self.results:
            self.start(stack)
            self.results[stack] = _plan_result(self.procs.pop(stack))
        return self.results[stack]

    def close(self) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.communicate()
        self.procs.clear()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


PLAN_RUNS = PlanRuns()
# which session fixture needs which stack's plan
PLAN_FIXTURES = {
    "plans": STACKS,
    "all_plans": (*STACKS, ACCOUNT),
    "account_plan": (ACCOUNT,),
    "review_stack_plan": (REVIEW_STACK,),
}


@pytest.fixture(scope="session")
def plans() -> dict[str, list[dict]]:
    return {s: PLAN_RUNS.get(s) for s in STACKS}


@pytest.fixture(scope="session")
def account_plan() -> list[dict]:
    """The account stack's plan (Pulumi.account.yaml), applied by a human account administrator."""
    return PLAN_RUNS.get(ACCOUNT)


@pytest.fixture(scope="session")
def all_plans(plans, account_plan) -> dict[str, list[dict]]:
    """Every stack's plan: the environments and the account stack."""
    return {**plans, ACCOUNT: account_plan}


@pytest.fixture(scope="session")
def review_stack_plan() -> list[dict]:
    """A review stack's plan (`write_review_config`), shared: the tests that read it only read it."""
    return PLAN_RUNS.get(REVIEW_STACK)


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    wanted = {s for item in session.items for f in getattr(item, "fixturenames", ()) for s in PLAN_FIXTURES.get(f, ())}
    for stack in sorted(wanted):
        PLAN_RUNS.start(stack)
    BACKGROUND.start_for(session.items)


def pytest_unconfigure(config) -> None:
    PLAN_RUNS.close()
    BACKGROUND.close()


@pytest.fixture(scope="session")
def stand_ins():
    from scripts import standins

    ep = standins.start()
    yield ep
    standins.stop()
    if standins.STATE_DIR.name.startswith("rdp-test-local-"):
        # The suite's own PostgreSQL data, which as root lives outside its temporary state dir.
        standins.remove_postgres_data()


HAS_CHROMIUM = bool(shutil.which("chromium") and shutil.which("chromedriver"))


def headless_chromium(width: int = 1200, height: int = 800):
    """Debian's Chromium under selenium, headless, as the page tests use it (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def by_type(plan: list[dict], suffix: str) -> list[dict]:
    return [r for r in plan if r["type"].endswith(suffix)]


def one(plan: list[dict], name: str) -> dict:
    found = [r for r in plan if r["name"] == name]
    assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
    return found[0]


# The loads' fixture: a small, hand-sized scale in schemas of their own.
SCHEMA = "t_loads"
SCALE = ScaleConfig(products=120, stores=20, customers=300, seed=3, as_of="2026-11-01")


@pytest.fixture(scope="session")
def target(stand_ins):
    """The recommendations and serving loads, run once on the stand-ins at a small scale."""
    from scripts.recommendations import loads
    from scripts.recommendations.target import local_target
    from scripts.serving import loads as serving

    t = local_target(
        "dev", SCALE, database="T_LOADS_RETAIL", pg_schema=SCHEMA, dynamodb_table="t-loads-product-recommendations"
    )
    # its own artifacts: the API tests' loads (same stack) must not have published a model before this run's
    t = dataclasses.replace(t, artifacts=Path(tempfile.mkdtemp(prefix="rdp-test-loads-")) / "dev")
    loads.run_all(t)
    serving.sync(t)
    serving.export(t)
    return t


def pg_digest(dsn: str, table: str) -> tuple[int, str]:
    """Row count and an order-independent digest of a serving table's full contents."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {SCHEMA}.{table} t"
        ).fetchone()


def dynamo_items(t) -> dict[int, dict]:
    client = t.dynamodb_client()
    items, kwargs = {}, {"TableName": t.dynamodb_table}
    while True:
        page = client.scan(**kwargs)
        for it in page["Items"]:
            items[int(it["user_id"]["N"])] = it
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def pytest_configure(config) -> None:
    from tests.leaks import LeakGuard

    config.pluginmanager.register(LeakGuard(), "leak-guard")
    if {Path(a).resolve() for a in config.args} <= {ROOT, ROOT / "tests"} and not config.option.collectonly:
        for stack in (*STACKS, ACCOUNT, REVIEW_STACK):  # the whole suite: its plans run while it collects
            PLAN_RUNS.start(stack)
