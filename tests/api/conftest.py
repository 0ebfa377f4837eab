"""The API tests' stand-in data: the post-deploy loads run once for the package, in a schema and
database of their own, shared by the modules that query the API."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from fastapi.testclient import TestClient

from infra.recommendations.config import ScaleConfig
from scripts.api import serve
from scripts.recommendations import loads
from scripts.recommendations.target import local_target
from scripts.serving import loads as serving
from services.api.orchestrator.orchestrator.app import create_app
from services.api.orchestrator.orchestrator.backends import Settings
from services.features.pair import ZIP_REGIONS

SCHEMA = "t_api"
SCALE = ScaleConfig(products=240, stores=20, customers=400, seed=5, as_of=date(2026, 11, 1))


def settings_for(env: dict[str, str], **over) -> Settings:
    s = Settings.from_env(env)
    for k, v in over.items():
        setattr(s, k, v)
    return s


@pytest.fixture(scope="package")
def target(stand_ins, monkeypatch_package):
    monkeypatch_package.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch_package.setenv("AWS_SECRET_ACCESS_KEY", "local")
    t = local_target("dev", SCALE, database="T_API_RETAIL", pg_schema=SCHEMA, dynamodb_table="t-api-recs")
    loads.run_all(t)
    serving.sync(t)
    serving.export(t)
    return t


@pytest.fixture(scope="package")
def monkeypatch_package():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="package")
def env(target):
    return serve.api_env(target)


@pytest.fixture(scope="module")
def live_api(env):
    """The orchestrator as a server on 127.0.0.1, as `make local` runs it."""
    api = serve.start("orchestrator", env)
    yield api
    api.stop()


@pytest.fixture(scope="package")
def client(env):
    with TestClient(create_app(settings_for(env)), raise_server_exceptions=False) as c:
        yield c


def customers(target, n: int = 5) -> list[tuple[int, str]]:
    with psycopg.connect(target.pg_dsn) as conn:
        rows = conn.execute(f"SELECT customer_id FROM {SCHEMA}.customer_features ORDER BY customer_id LIMIT {n}")
        return [(r[0], "10001") for r in rows]


# A ZIP code per region (the first digit decides it): a customer asking from home.
HOME_ZIP = {region: f"{digit}0001" for digit, region in reversed(ZIP_REGIONS.items())}


def home_customers(target, n: int | None = None) -> list[tuple[int, str]]:
    """(customer id, a ZIP code of their home region), as the sync's precomputed rankings are for."""
    with psycopg.connect(target.pg_dsn) as conn:
        rows = conn.execute(
            f"SELECT customer_id, home_region FROM {SCHEMA}.customer_features ORDER BY customer_id"
            + (f" LIMIT {int(n)}" if n else "")
        ).fetchall()
    return [(c, HOME_ZIP[r]) for c, r in rows]


@pytest.fixture(scope="module")
def ranked(target):
    """The package's precomputed rankings made current (a module before may have synced without them)."""
    from scripts.serving import rankings

    with psycopg.connect(target.pg_dsn) as conn:
        return rankings.precompute(target, conn)
