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

from infra.recommendations.config import ScaleConfig

ROOT = Path(__file__).resolve().parent.parent
# The suite's stand-ins live apart from a developer's `make local` ones.
os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-test-local-"))
STACKS = ("dev", "prod")  # the environment stacks
ACCOUNT = "account"


def run_plan_json(stack: str) -> list[dict]:
    """The plan of a stack from a fresh interpreter, as `python -m infra.plan` prints it."""
    out = subprocess.run(
        [sys.executable, "-m", "infra.plan", "--stack", stack, "--format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def plans() -> dict[str, list[dict]]:
    return {s: run_plan_json(s) for s in STACKS}


@pytest.fixture(scope="session")
def account_plan() -> list[dict]:
    """The account stack's plan (Pulumi.account.yaml), applied by a human account administrator."""
    return run_plan_json(ACCOUNT)


@pytest.fixture(scope="session")
def all_plans(plans, account_plan) -> dict[str, list[dict]]:
    """Every stack's plan: the environments and the account stack."""
    return {**plans, ACCOUNT: account_plan}


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
