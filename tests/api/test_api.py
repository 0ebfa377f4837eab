"""The recommendation API against real local PostgreSQL, DynamoDB on moto and the fakesnow
warehouse, loaded by the post-deploy loads; fallbacks, bad input, schemathesis, the test page."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from scripts import standins
from scripts.api import serve
from scripts.recommendations import ranking, snapshot
from services.api.orchestrator.orchestrator.app import create_app
from services.features.pair import PAIR_FEATURES, ZIP_REGIONS
from tests.api.conftest import SCHEMA, customers, settings_for
from tests.conftest import HAS_CHROMIUM, headless_chromium

SCREENSHOTS = Path(__file__).resolve().parent / "artifacts"


def test_contract_ordering_stock_and_candidates(client, target):
    with target.connect_snowflake() as sf:  # the candidates training ranks (the same, test_ranking.py)
        cur = sf.cursor()
        world = snapshot.read_world(cur, target)
        snap = snapshot.read_snapshot(cur, target, world, target.scale.as_of, snapshot.stored_propensity(cur, target))
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
            for i in items:  # why it ranks there: the model's largest contributions, largest first
                assert 1 <= len(i["why"]) <= 3 and {w["feature"] for w in i["why"]} <= set(PAIR_FEATURES)
                sizes = [abs(w["contribution"]) for w in i["why"]]
                assert sizes == sorted(sizes, reverse=True)
            stock = dict(
                conn.execute(
                    f"SELECT product_id, qty_on_hand FROM {SCHEMA}.inventory WHERE region = 'Northeast'"
                ).fetchall()
            )
            asked_from = dataclasses.replace(world, region={**world.region, cid: "Northeast"})
            found = ranking.candidates(asked_from, snap, cid)
            candidates = set() if found is None else set(found.ids.tolist())
            for i in items:  # one of the customer's candidates, in stock
                assert i["product_id"] in candidates
                assert stock[i["product_id"]] == i["in_stock_qty"] > 0  # only in-stock products
            t = body["timings"]
            if t.get("precomputed"):  # the sync's ranking (test_precomputed.py): one read
                stages: tuple[str, ...] = ("fetch_ms",)
            else:
                stages = ("fetch_ms", "shelf_ms", "pair_features_ms", "model_ms", "rank_ms")
                assert t["model_ok"] is True
            assert all(t[s] >= 0 for s in stages)
            # true durations, not cumulative: the sequential stages add up to no more than the total
            assert sum(t[s] for s in stages) <= t["total_ms"] + 0.5


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
    r = client.post("/recommend", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = client.post("/recommend", json={"customer_id": 5, "zip_code": "123"})
    assert r.status_code == 422 and r.json()["field"] == "zip_code"
    r = client.post("/recommend", json={"data": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "data"


def test_unknown_customer_is_a_json_404(client):
    r = client.get("/recommend", params={"customer_id": 999_999_999, "zip_code": "10001"})
    assert r.status_code == 404 and r.json() == {"error": "customer 999999999 not found", "field": "customer_id"}


def test_health_and_test_page(client):
    h = client.get("/health")
    assert h.status_code == 200 and h.json() == {
        "status": "ok",
        "backend": "postgres",
        "backends": {"postgres": "up", "dynamodb": "up", "warehouse": "not checked"},
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
            # the ranker service explains with the same model: the same reasons (to float32 rounding)
            assert [[w["feature"] for w in i["why"]] for i in up["recommendations"]] == [
                [w["feature"] for w in i["why"]] for i in same["recommendations"]
            ]
            ranker.stop()
            down = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()
            assert down["backend"] == "postgres+propensity" and down["timings"]["model_ok"] is False
            assert len(down["recommendations"]) == 5
            assert all(i["why"][0]["feature"] == "propensity" for i in down["recommendations"])
            scores = [i["score"] for i in down["recommendations"]]
            assert scores == sorted(scores, reverse=True)
    finally:
        ranker.stop()


def home_zip(target, cid: int) -> str:
    """A ZIP code of the customer's home region (the region their precomputed list is in stock in)."""
    with psycopg.connect(target.pg_dsn) as conn:
        (zip_code,) = conn.execute(
            f"SELECT zip_code FROM {SCHEMA}.customer_profiles WHERE customer_id = %s", (cid,)
        ).fetchone()
    return min(d for d, r in ZIP_REGIONS.items() if r == ZIP_REGIONS[zip_code[0]]) + "0001"


def set_stock(target, product: int, region: str, qty: int) -> int:
    """Set a product's stock in a region in the warehouse and in Postgres; return what it was."""
    inventory = target.q("INVENTORY")
    with target.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT QTY_ON_HAND FROM {inventory} WHERE PRODUCT_ID = %s AND REGION = %s", (product, region))
        (was,) = cur.fetchone()
        cur.execute(
            f"UPDATE {inventory} SET QTY_ON_HAND = %s WHERE PRODUCT_ID = %s AND REGION = %s", (qty, product, region)
        )
    with psycopg.connect(target.pg_dsn) as conn:
        conn.execute(
            f"UPDATE {SCHEMA}.inventory SET qty_on_hand = %s WHERE product_id = %s AND region = %s",
            (qty, product, region),
        )
    return int(was)


def test_postgres_down_falls_back_to_dynamodb_then_warehouse_without_what_is_out_of_stock(env, target):
    """The precomputed list is in stock at home; a product sold out since is dropped by both fallbacks
    (the warehouse knows current stock; DynamoDB's list is filtered by the stock Postgres showed last)."""
    cid, _ = customers(target, 1)[0]
    zip_code = home_zip(target, cid)
    region = ZIP_REGIONS[zip_code[0]]
    with target.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(
            f"SELECT PRODUCT_ID FROM {target.q('USER_PRODUCT_RECOMMENDATIONS')} WHERE USER_ID = %s ORDER BY RANK",
            (cid,),
        )
        precomputed = [int(p) for (p,) in cur.fetchall()]
    sold_out = precomputed[0]
    was = set_stock(target, sold_out, region, 0)
    app = create_app(settings_for(env))
    nowhere = create_app(settings_for(env, dynamodb_table="t-api-missing-table"))
    params = {"customer_id": cid, "zip_code": zip_code, "top_n": 3}
    try:
        with TestClient(app) as c, TestClient(nowhere) as c2:
            assert c.get("/recommend", params=params).json()["backend"] == "postgres"  # reads the region's stock
            state = standins._load()
            standins.stop_postgres(state["postgres"])
            try:
                r = c.get("/recommend", params=params)
                body = r.json()
                assert r.status_code == 200 and body["backend"] == "dynamodb", body
                assert len(body["recommendations"]) == 3 and body["timings"]["postgres_ok"] is False
                assert [i["product_id"] for i in body["recommendations"]] == precomputed[1:4]
                assert body["timings"]["dropped_out_of_stock"] == 1
                assert_no_backend_text(r.text)
                assert r.headers["x-request-id"] == body["request_id"]
                assert c.get("/recommend", params={"customer_id": 999_999_999, "zip_code": "10001"}).status_code == 404
                w = c2.get("/recommend", params=params).json()
                assert (
                    w["backend"] == "warehouse" and [i["product_id"] for i in w["recommendations"]] == precomputed[1:4]
                )
                assert all(i["in_stock_qty"] > 0 for i in w["recommendations"])
                health = c.get("/health")
                assert health.status_code == 200 and health.json()["status"] == "degraded"
                assert health.json()["backend"] == "dynamodb" and health.json()["backends"]["postgres"] == "down"
            finally:
                restart_postgres(state["postgres"]["port"])
            assert backend_once_back(c, cid) == "postgres"  # the pool reconnects (with backoff)
    finally:
        set_stock(target, sold_out, region, was)


def restart_postgres(port: int) -> None:
    """Back on the same port: the other tests hold its DSN."""
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RDP_POSTGRES_PORT", str(port))
    standins.start()
    monkey.undo()


def backend_once_back(c: TestClient, cid: int, seconds: float = 30) -> str | None:

    deadline, backend = time.time() + seconds, None
    while time.time() < deadline and backend != "postgres":
        backend = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()["backend"]
        time.sleep(0.2)
    return backend


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


@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian chromium")
def test_page_in_headless_chromium(env, target):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    api = serve.start("orchestrator", env)
    cid, _ = customers(target, 1)[0]
    driver = headless_chromium()
    try:
        driver.get(api.url + "/")
        box = driver.find_element(By.ID, "customer_id")
        box.clear()
        box.send_keys(str(cid))
        driver.find_element(By.ID, "go").click()
        WebDriverWait(driver, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.rec")))
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.rec")
        assert len(rows) == 5
        why = [r.find_element(By.CSS_SELECTOR, "td.why").text for r in rows]
        assert all(any(f"{f}=" in w for f in PAIR_FEATURES) for w in why), why  # the model's reasons, per item
        assert "backend postgres" in driver.find_element(By.ID, "meta").text
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / "test-page.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
    finally:
        driver.quit()
        api.stop()


def assert_no_backend_text(text: str) -> None:
    """Nothing of a backend's own error (hosts, ports, users, driver messages) reaches a client."""
    for leak in (
        "127.0.0.1",
        "localhost",
        "connection",
        "OperationalError",
        "postgres:",
        "dynamodb:",
        "ResourceNotFound",
    ):
        assert leak not in text, (leak, text[:300])


def test_no_backend_can_serve_is_a_503_with_a_request_id_and_the_cause_only_in_the_log(env, caplog):
    from scripts.standins import free_port

    dead = settings_for(env, pg_port=free_port(), dynamodb_table="t-api-no-such-table", snowflake_database="")
    with TestClient(create_app(dead)) as c, caplog.at_level("WARNING", logger="orchestrator"):
        r = c.get("/recommend", params={"customer_id": 1, "zip_code": "10001"}, headers={"x-request-id": "trace-0001"})
        assert r.status_code == 503, r.text
        body = r.json()
        assert body == {
            "error": "no backend can serve this request now (request id trace-0001)",
            "request_id": "trace-0001",
        }
        assert r.headers["x-request-id"] == "trace-0001"
        assert_no_backend_text(r.text)
        logged = [m for m in caplog.messages if "trace-0001" in m]
        assert any("postgres unavailable" in m and "postgres: " in m for m in logged), logged
        assert any("dynamodb unavailable" in m and "ResourceNotFound" in m for m in logged), logged
        h = c.get("/health")
        assert h.status_code == 503 and h.json()["status"] == "down" and h.json()["backend"] is None
        assert h.json()["backends"] == {"postgres": "down", "dynamodb": "down", "warehouse": "down"}


@pytest.mark.parametrize(("given", "kept"), [("abc-DEF_123.x", True), ("short", False), ("bad id\r\nx: y", False)])
def test_request_ids_are_kept_only_when_well_formed(client, given, kept):
    r = client.get(
        "/recommend", params={"customer_id": 999_999_999, "zip_code": "10001"}, headers={"x-request-id": given}
    )
    rid = r.headers["x-request-id"]
    assert (rid == given) is kept and (kept or len(rid) == 16)


def test_postgres_down_at_start_up_is_used_once_it_is_back(env, target):
    """The pool stays open while Postgres is down at start-up, and the API moves back to it."""
    cid, _ = customers(target, 1)[0]
    state = standins._load()
    standins.stop_postgres(state["postgres"])
    try:
        with TestClient(create_app(settings_for(env))) as c:
            assert c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"}).json()["backend"] == "dynamodb"
            restart_postgres(state["postgres"]["port"])
            assert backend_once_back(c, cid) == "postgres"
    finally:
        if not standins.running(standins._load().get("postgres")):
            restart_postgres(state["postgres"]["port"])


def test_without_a_dynamodb_table_the_fallback_is_the_warehouse(env, target):
    """As in SPCS (no AWS credentials): Postgres down → the warehouse, DynamoDB reported not configured."""
    from scripts.standins import free_port

    cid, _ = customers(target, 1)[0]
    with TestClient(create_app(settings_for(env, pg_port=free_port(), dynamodb_table=""))) as c:
        body = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 3}).json()
        assert body["backend"] == "warehouse" and "dynamodb_ok" not in body["timings"]
        h = c.get("/health").json()
        assert h["backends"]["dynamodb"] == "not configured" and h["status"] == "degraded"
