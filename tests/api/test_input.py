"""The API's input on the real app: zip codes, strict POST bodies, size limits, the server's URL limit and
property tests that no input, in either format, is ever a server error."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.api import serve
from services.api.orchestrator import server
from services.api.orchestrator.orchestrator import inputs
from tests.api.conftest import customers

OTHER_DIGITS = ["١٢٣٤٥", "１２３４５", "१२३४५", "12345\n", "1234５"]


@pytest.mark.parametrize("zip_code", OTHER_DIGITS, ids=["arabic", "fullwidth", "devanagari", "newline", "mixed"])
def test_a_zip_code_must_be_five_ascii_digits(client, target, zip_code):
    cid, _ = customers(target, 1)[0]
    got = client.get("/recommend", params={"customer_id": cid, "zip_code": zip_code})
    post = client.post("/recommend", json={"customer_id": cid, "zip_code": zip_code})
    for r in (got, post):
        assert r.status_code == 422 and r.json()["field"] == "zip_code", r.text
    batch = client.post("/recommend", json={"data": [[0, cid, "10001", 2], [1, cid, zip_code, 2]]})
    assert batch.status_code == 200, batch.text
    ok, bad = batch.json()["data"]
    assert len(ok[1]["recommendations"]) == 2  # one bad row does not sink the batch
    assert bad[1] == {"error": bad[1]["error"], "field": "zip_code", "status": 422}
    assert bad[1]["error"].startswith("zip_code: ")  # an object, not a string holding JSON


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"customer_id": True, "zip_code": "10001"}, 422, "customer_id"),
        ({"customer_id": 5.0, "zip_code": "10001"}, 422, "customer_id"),
        ({"customer_id": "5", "zip_code": "10001"}, 422, "customer_id"),
        ({"customer_id": 2**63, "zip_code": "10001"}, 422, "customer_id"),
        ({"customer_id": 5, "zip_code": 10001}, 422, "zip_code"),
        ({"customer_id": 5, "zip_code": "10001", "top_n": False}, 422, "top_n"),
        ({"data": [[0, 5, "10001"]]}, 422, "data[0]"),
        ({"data": [[0, 5, "10001", 3, "extra"]]}, 422, "data[0]"),
        ({"data": [[0, 5, "10001", 3], "row"]}, 422, "data[1]"),
        ({"data": [["a", 5, "10001", 3]]}, 422, "data[0][0]"),
        ({"data": [[0, 5, "10001", 3], [0, 6, "10001", 3]]}, 422, "data[1][0]"),
        ({"data": [[i, 5, "10001", 3] for i in range(10_000)]}, 413, "data"),
    ],
)
def test_strict_post_input_is_a_4xx_naming_the_field(client, body, status, field):
    started = time.perf_counter()
    r = client.post("/recommend", json=body)
    assert r.status_code == status and r.json()["field"] == field, r.text
    assert r.json()["error"].startswith(field + ": ")
    assert time.perf_counter() - started < 5  # refused up front, not after running the rows


def test_only_json_bodies_of_bounded_size_are_read(client):
    text = client.post("/recommend", content=b'{"customer_id": 5, "zip_code": "10001"}')
    plain = client.post(
        "/recommend", content=b'{"customer_id": 5, "zip_code": "10001"}', headers={"content-type": "text/plain"}
    )
    for r in (text, plain):
        assert r.status_code == 415 and r.json()["field"] == "content-type", r.text
    json_type = {"content-type": "application/json"}
    big = client.post("/recommend", content=b" " * (inputs.MAX_BODY_BYTES + 1), headers=json_type)
    assert big.status_code == 413 and big.json()["field"] == "body"
    assert client.post("/recommend", json=2**70).status_code == 422  # JSON, but not an object


def test_a_batch_row_index_beyond_64_bits_is_a_422_not_a_500(client):
    """The index is echoed in the answer (a BIGINT in Snowflake); orjson cannot write a wider one."""
    for index in (2**63, -(2**63) - 1, 2**70):
        r = client.post("/recommend", json={"data": [[index, 5, "10001", 1]]})
        assert r.status_code == 422 and r.json()["field"] == "data[0][0]", r.text
    assert client.post("/recommend", json={"data": [[2**63 - 1, 5, "10001", 1]]}).status_code == 200


def test_batch_rows_run_concurrently_and_answer_in_order(client, monkeypatch):
    rec = client.app.state.recommender
    flight = {"now": 0, "max": 0}

    async def slow(req):
        flight["now"] += 1
        flight["max"] = max(flight["max"], flight["now"])
        await asyncio.sleep(0.05)
        flight["now"] -= 1
        return {"customer_id": req.customer_id}

    monkeypatch.setattr(rec, "recommend", slow)
    started = time.perf_counter()
    r = client.post("/recommend", json={"data": [[i, 100 + i, "10001", 1] for i in range(40)]})
    elapsed = time.perf_counter() - started
    assert [row for row in r.json()["data"]] == [[i, {"customer_id": 100 + i}] for i in range(40)]
    assert 1 < flight["max"] <= rec.s.pg_pool_size  # concurrent, within the Postgres pool
    assert elapsed < 40 * 0.05 / 2, elapsed


def test_a_long_url_is_a_json_414_from_the_server(live_api):
    host, port = live_api.url.removeprefix("http://").split(":")
    limit = inputs.SERVER_MAX_REQUEST_LINE
    for size, status, field in ((20_000, 414, "zip_code"), (limit - 2_000, 414, "zip_code"), (200_000, 400, "request")):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", f"/recommend?customer_id=5&zip_code={'1' * size}")
            r = conn.getresponse()
            body = json.loads(r.read())  # beyond what the parser takes, the server's refusal is JSON too
        finally:
            conn.close()
        assert r.status == status and body["field"] == field, (size, body)
    # the server's protocol is the same in the image and in the local runner
    flag = ["--http", server.HTTP_PROTOCOL]
    dockerfile = (serve.ROOT / "services" / "api" / "orchestrator" / "Dockerfile").read_text()
    assert json.dumps(flag)[1:-1] in dockerfile
    assert ", ".join(f'"{f}"' for f in flag) in (serve.ROOT / "scripts" / "api" / "serve.py").read_text()
    assert server.SERVER_MAX_REQUEST_LINE == limit


def test_headers_over_the_limit_are_a_json_400_and_the_server_goes_on(live_api):
    """httptools buffers headers without a limit: the server's protocol refuses a head over
    MAX_HEAD_BYTES (sent here without its blank line, so the server has read all of it)."""
    host, port = live_api.url.removeprefix("http://").split(":")
    head = b"GET /recommend?customer_id=5&zip_code=10001 HTTP/1.1\r\nHost: x\r\n"
    filler = b"x-filler: " + b"a" * 4000 + b"\r\n"
    head += filler * (server.MAX_HEAD_BYTES // len(filler) + 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert status.startswith(b"HTTP/1.1 400") and body["field"] == "request", answer[:300]
    assert f"over {server.MAX_HEAD_BYTES // 1024} KiB" in body["error"]
    conn = http.client.HTTPConnection(host, int(port), timeout=10)  # and the server goes on
    try:
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=8,
)
ZIPS = st.text() | st.from_regex(r"\A[0-9]{5}\Z") | st.sampled_from(OTHER_DIGITS)


def post_bodies(real_ids: list[int]) -> st.SearchStrategy:
    """Both POST formats with arbitrary JSON in every field (and sometimes a valid value), or any JSON."""
    cid = JSON | st.integers(min_value=1, max_value=2**64) | st.sampled_from(real_ids)
    top_n = JSON | st.integers(min_value=-5, max_value=60)
    single = st.fixed_dictionaries({"customer_id": cid, "zip_code": JSON | ZIPS}, optional={"top_n": top_n})
    row = st.tuples(JSON | st.integers(0, 3), cid, JSON | ZIPS, top_n).map(list)
    batch = st.fixed_dictionaries({"data": JSON | st.lists(row | st.lists(JSON, max_size=6) | JSON, max_size=4)})
    return single | batch | JSON


@pytest.fixture(scope="module")
def real_ids(target) -> list[int]:
    return [cid for cid, _ in customers(target, 20)]


def assert_no_server_error(r) -> None:
    assert r.status_code < 500, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    if r.status_code >= 400:
        assert isinstance(body["error"], str) and ("field" in body or r.status_code in (404, 503))
    elif "data" in body:
        assert all(isinstance(answer, dict) for _, answer in body["data"])
    else:
        assert inputs.ZIP.fullmatch(body["zip_code"])


@given(data=st.data(), zip_code=ZIPS)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_property_any_get_input_is_never_a_5xx(client, real_ids, data, zip_code):
    cid = data.draw(st.integers(min_value=-1, max_value=2**64) | st.text(max_size=30) | st.sampled_from(real_ids))
    assert_no_server_error(client.get("/recommend", params={"customer_id": cid, "zip_code": zip_code}))


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_property_any_json_in_either_post_format_is_never_a_5xx(client, real_ids, data):
    payload = json.dumps(data.draw(post_bodies(real_ids)), allow_nan=True).encode()
    assert_no_server_error(client.post("/recommend", content=payload, headers={"content-type": "application/json"}))
