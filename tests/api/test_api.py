"""The recommendation API against real local PostgreSQL, DynamoDB on moto and the fakesnow
warehouse, loaded by the post-deploy loads; fallbacks, bad input, schemathesis, the test page."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from infra.config import ScaleConfig
from scripts import standins
from scripts.api import serve
from scripts.recommendations import loads
from scripts.recommendations.target import local_target
from scripts.serving import loads as serving
from services.orchestrator.orchestrator.app import create_app
from services.orchestrator.orchestrator.backends import Settings

SCHEMA = "t_api"
SCALE = ScaleConfig(products=240, stores=20, customers=400, seed=5, as_of=date(2026, 11, 1))
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts"


def settings_for(env: dict[str, str], **over) -> Settings:
    s = Settings.from_env(env)
    for k, v in over.items():
        setattr(s, k, v)
    return s


@pytest.fixture(scope="module")
def target(stand_ins, monkeypatch_module):
    monkeypatch_module.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch_module.setenv("AWS_SECRET_ACCESS_KEY", "local")
    t = local_target("dev", SCALE, database="T_API_RETAIL", pg_schema=SCHEMA, dynamodb_table="t-api-recs")
    loads.run_all(t)
    return t


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def env(target):
    return serve.api_env(target)


@pytest.fixture(scope="module")
def client(env):
    with TestClient(create_app(settings_for(env)), raise_server_exceptions=False) as c:
        yield c


def customers(target, n: int = 5) -> list[tuple[int, str]]:
    with psycopg.connect(target.pg_dsn) as conn:
        rows = conn.execute(f"SELECT customer_id FROM {SCHEMA}.customer_features ORDER BY customer_id LIMIT {n}")
        return [(r[0], "10001") for r in rows]


def test_contract_ordering_stock_and_top_categories(client, target):
    with psycopg.connect(target.pg_dsn) as conn:
        for cid, zip_code in customers(target):
            r = client.get("/recommend", params={"customer_id": cid, "zip_code": zip_code, "top_n": 10})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["region"] == "Northeast" and body["backend"] == "postgres"
            items = body["recommendations"]
            assert 1 <= len(items) <= 10
            assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
            assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
            for key in ("product_name", "category", "department", "price", "in_stock_qty", "est_delivery_days"):
                assert all(i[key] is not None for i in items), key
            top3 = [
                c
                for (c,) in conn.execute(
                    f"SELECT category_id FROM {SCHEMA}.customer_propensity WHERE customer_id = %s "
                    "ORDER BY propensity_score DESC, category_id LIMIT 3",
                    (cid,),
                )
            ]
            stock = dict(
                conn.execute(
                    f"SELECT product_id, qty_on_hand FROM {SCHEMA}.inventory WHERE region = 'Northeast'"
                ).fetchall()
            )
            for i in items:
                assert i["category_id"] in top3
                assert stock[i["product_id"]] == i["in_stock_qty"] > 0  # only in-stock products
            t = body["timings"]
            stages = ("features_ms", "propensity_ms", "inventory_ms", "pair_features_ms", "model_ms", "rank_ms")
            assert all(t[s] >= 0 for s in stages) and t["model_ok"] is True
            # true durations, not cumulative: the sequential stages add up to no more than the total
            assert t["fetch_ms"] + t["pair_features_ms"] + t["model_ms"] + t["rank_ms"] <= t["total_ms"] + 0.5


def test_out_of_stock_products_are_never_recommended(client, target):
    cid, _ = customers(target, 1)[0]
    first = client.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 3}).json()
    gone = first["recommendations"][0]["product_id"]
    with psycopg.connect(target.pg_dsn) as conn:
        conn.execute(f"UPDATE {SCHEMA}.inventory SET qty_on_hand = 0 WHERE product_id = %s", (gone,))
    try:
        again = client.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 50}).json()
        assert gone not in [i["product_id"] for i in again["recommendations"]]
    finally:
        serving.sync(target, ("inventory",))


def test_post_json_and_service_function_format(client, target):
    cid, _ = customers(target, 1)[0]
    a = client.post("/recommend", json={"customer_id": cid, "zip_code": "94105", "top_n": 3}).json()
    assert a["region"] == "West" and len(a["recommendations"]) == 3
    b = client.post("/recommend", json={"data": [[0, cid, "94105", 3], [1, 42, "94105", 3], [2, cid, "9410", 3]]})
    rows = b.json()["data"]
    assert [r[0] for r in rows] == [0, 1, 2]
    assert [i["product_id"] for i in rows[0][1]["recommendations"]] == [i["product_id"] for i in a["recommendations"]]
    assert "not found" in rows[1][1]["error"] and "zip_code" in rows[2][1]["error"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zip_code": "10001"}, "customer_id"),
        ({"customer_id": "abc", "zip_code": "10001"}, "customer_id"),
        ({"customer_id": 0, "zip_code": "10001"}, "customer_id"),
        ({"customer_id": 1000000, "zip_code": "1000A"}, "zip_code"),
        ({"customer_id": 1000000}, "zip_code"),
        ({"customer_id": 1000000, "zip_code": "10001", "top_n": 0}, "top_n"),
        ({"customer_id": 1000000, "zip_code": "10001", "top_n": 51}, "top_n"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, params, field):
    r = client.get("/recommend", params=params)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    assert r.json()["field"] == field and field in r.json()["error"]


def test_bad_post_bodies_are_json_422(client):
    assert client.post("/recommend", content=b"{not json").json()["field"] == "body"
    r = client.post("/recommend", json={"customer_id": 5, "zip_code": "123"})
    assert r.status_code == 422 and r.json()["field"] == "zip_code"
    r = client.post("/recommend", json={"data": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "data"


def test_unknown_customer_is_a_json_404(client):
    r = client.get("/recommend", params={"customer_id": 999_999_999, "zip_code": "10001"})
    assert r.status_code == 404 and r.json() == {"error": "customer 999999999 not found", "field": "customer_id"}


def test_health_and_test_page(client):
    h = client.get("/health").json()
    assert h == {
        "status": "ok",
        "backend": "postgres",
        "products_cached": 240,
        "model_loaded": True,
        "ranker_mode": "inprocess",
    }
    page = client.get("/").text
    assert "<form" in page and "http://" not in page and "https://" not in page  # no CDN assets


def test_ranker_down_falls_back_to_propensity(env, target):
    ranker = serve.start("ranker", {"RANKER_MODEL_PATH": env["RANKER_MODEL_PATH"]})
    cid, _ = customers(target, 1)[0]
    try:
        s = settings_for(env, ranker_mode="http", ranker_url=ranker.url)
        with TestClient(create_app(s)) as c:
            up = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()
            assert up["backend"] == "postgres" and up["timings"]["model_ok"] is True
            inproc = TestClient(create_app(settings_for(env)))
            with inproc:
                same = inproc.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()
            assert [i["product_id"] for i in up["recommendations"]] == [
                i["product_id"] for i in same["recommendations"]
            ]
            ranker.stop()
            down = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()
            assert down["backend"] == "postgres+propensity" and down["timings"]["model_ok"] is False
            assert len(down["recommendations"]) == 5
            scores = [i["score"] for i in down["recommendations"]]
            assert scores == sorted(scores, reverse=True)
    finally:
        ranker.stop()


def test_postgres_down_falls_back_to_dynamodb_then_warehouse(env, target):
    cid, _ = customers(target, 1)[0]
    app = create_app(settings_for(env))
    nowhere = create_app(settings_for(env, dynamodb_table="t-api-missing-table"))
    with TestClient(app) as c, TestClient(nowhere) as c2:
        assert c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()["backend"] == "postgres"
        state = standins._load()
        standins.stop_postgres(state["postgres"])
        try:
            r = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 3})
            body = r.json()
            assert r.status_code == 200 and body["backend"] == "dynamodb", body
            assert len(body["recommendations"]) == 3 and "postgres_error" in body["timings"]
            assert c.get("/recommend", params={"customer_id": 999_999_999, "zip_code": "10001"}).status_code == 404
            w = c2.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 3}).json()
            assert w["backend"] == "warehouse" and [i["product_id"] for i in w["recommendations"]] == [
                i["product_id"] for i in body["recommendations"]
            ]
            assert c.get("/health").json()["backend"] == "dynamodb"
        finally:
            # back on the same port: the other tests hold its DSN
            monkey = pytest.MonkeyPatch()
            monkey.setenv("RDP_POSTGRES_PORT", str(state["postgres"]["port"]))
            standins.start()
            monkey.undo()
        # the pool reconnects (with backoff) once Postgres is back
        import time

        deadline, backend = time.time() + 30, None
        while time.time() < deadline and backend != "postgres":
            backend = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()["backend"]
            time.sleep(0.5)
        assert backend == "postgres"


@pytest.fixture(scope="module")
def live_api(env):
    api = serve.start("orchestrator", env)
    yield api
    api.stop()


@pytest.fixture()
def api_schema(live_api):
    return schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_server_errors(case):
    r = case.call()
    assert r.status_code < 500, (case.method, case.path, case.query, r.status_code, r.text[:200])
    ctype = r.headers.get("content-type", "")
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    assert ctype.startswith(("application/json", "text/html")), ctype


@pytest.mark.skipif(not shutil.which("chromium") or not shutil.which("chromedriver"), reason="needs Debian chromium")
def test_page_in_headless_chromium(env, target):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    api = serve.start("orchestrator", env)
    cid, _ = customers(target, 1)[0]
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get(api.url + "/")
        box = driver.find_element(By.ID, "customer_id")
        box.clear()
        box.send_keys(str(cid))
        driver.find_element(By.ID, "go").click()
        WebDriverWait(driver, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.rec")))
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.rec")
        assert len(rows) == 5
        assert "backend postgres" in driver.find_element(By.ID, "meta").text
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / "test-page.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
    finally:
        driver.quit()
        api.stop()
