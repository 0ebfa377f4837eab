"""The recommendation API under load on loopback against the stand-ins, driven by wrk.

wrk is compiled and runs one client thread, so the client takes a small share of the two cores the
server is measured on (a Python client took about as much CPU as the server). Each run cycles through
real customer ids with keep-alive connections and reports req/s and the client's latency percentiles.
The Postgres path and the fallback path (Postgres pointed at a closed port → DynamoDB on moto) are
measured in the same run, with one worker and with one worker per CPU; and, at concurrency 1, uvicorn's
own multi-worker socket against server.py's, compute threads pinned and not: why server.py exists and
why the specs pin OMP_NUM_THREADS.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psycopg

from infra.recommendations import catalog as recommendations
from scripts import standins
from scripts.api import overload, serve
from scripts.core.rehearsal import run_cli
from scripts.core.target import Target, local_target
from scripts.standins.apps import ROOT, Running, start_http

CONCURRENCY = (1, 8, 32, 64)
# wrk's Lua: each request asks for the next customer (`lua_customers`: id and home ZIP code); every
# answer is checked for the backend the run measures (`other` counts the rest, read from the thread in
# `done`); `done` prints one machine-readable line (latencies in microseconds).
WRK_LUA = """
local ids = {%s}
local expected = '"backend":"%s"'
local i = 0
local threads = {}
other = 0
setup = function(thread)
  table.insert(threads, thread)
end
request = function()
  i = i + 1
  return wrk.format("GET", "/recommend?customer_id=" .. ids[i %% #ids + 1])
end
response = function(status, headers, body)
  if status == 200 and not string.find(body, expected, 1, true) then
    other = other + 1
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local others = 0
  for _, t in ipairs(threads) do
    others = others + t:get("other")
  end
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout, others))
end
"""


# The same, offered at a steady rate: each connection waits a random (exponential) pause before each
# request, so `connections` connections together offer about RATE requests a second (an open load, as
# a website's visitors are), and the latency measured is what a visitor at that load sees.
HELD_LUA = (
    WRK_LUA
    + """
local mean_ms = %s
delay = function()
  return -math.log(1 - math.random()) * mean_ms
end
"""
)
HELD_RATES, HELD_CONNECTIONS, ANSWER_MS = (400, 800), 32, 3


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run: req/s, client latency p50/p95/p99 in ms, non-2xx answers and socket errors."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if out.returncode or not line:
        raise RuntimeError(f"wrk failed ({out.returncode}): {(out.stderr or out.stdout).strip()[-300:]}")
    requests, duration_us, p50, p95, p99, status, socket_errors, other = (int(x) for x in line.split()[1:])
    return {
        "req/s": requests / (duration_us / 1e6),
        "p50 ms": p50 / 1000,
        "p95 ms": p95 / 1000,
        "p99 ms": p99 / 1000,
        "non-2xx": status,
        "socket errors": socket_errors,
        "other backend": other,  # 200s answered by another backend than the path measured
    }


def load_levels(api: Running, script: Path, seconds: float, levels: tuple[int, ...] = CONCURRENCY) -> list[dict]:
    """Warm up, then one wrk run per concurrency level; rows for a table."""
    wrk(api.url, script, 8, 2)
    return [{"concurrency": c, **wrk(api.url, script, c, seconds)} for c in levels]


def load_data(customers: int) -> Target:
    """The data the API serves, loaded as an operator does (the recommendations' loads, then the
    serving stores'), on the stand-ins with the dev stack's names."""
    standins.start()
    run_cli("recommendations", "all", "--local", "--customers", str(customers))
    run_cli("serving", "all", "--local")
    return local_target("dev")


def bench() -> dict[str, object]:
    """The API's tied top-5 answers and its figures under load, on 2,000 customers."""
    t = load_data(2000)
    return {**api_ties(t), **bench_api(t)}


def bench_api(t: Target, seconds: float = 5.0) -> dict[str, object]:
    """The orchestrator on loopback against the stand-ins. Goals on 2 cores: sequential p50 <= 3 ms, and
    400 req/s over 32 connections at p99 <= 50 ms (the reference: 77.7 ms, one sample)."""
    if not shutil.which("wrk"):
        return {"API under load": {"skipped": "wrk is not installed: `make setup` installs it (Debian package wrk)"}}
    ids = home_customers(t)
    closed_port = str(standins.free_port())
    paths = {
        "Postgres path": ("postgres", serve.api_env(t)),
        "fallback path (Postgres down → DynamoDB)": ("dynamodb", {**serve.api_env(t), "PG_PORT": closed_port}),
    }
    out: dict[str, object] = {
        "API in process, Postgres path, per request (no HTTP; each customer asks from home)": in_process_both(
            paths["Postgres path"][1], ids
        )
    }
    ceiling_rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rdp-wrk-") as tmp:
        scripts = {backend: Path(tmp) / f"recommend-{backend}.lua" for backend, _ in paths.values()}
        for backend, script in scripts.items():
            script.write_text(WRK_LUA % (lua_customers(ids), backend))
        for label, (backend, env) in paths.items():
            for workers in (1, None):
                api = serve.start("orchestrator", env, workers=workers)
                try:
                    _check_backend(api, ids[0], backend)
                    title = f"API under wrk, {label}, {_workers(workers)}"
                    out[title] = load_levels(api, scripts[backend], seconds)
                    if backend == "postgres":
                        extras = _postgres_extras(out, api, ids, Path(tmp), scripts[backend], workers, seconds)
                        ceiling_rows.append(extras)
                finally:
                    api.stop()
        out[
            f"API against its framework's ceiling at concurrency {CEILING_CONCURRENCY} (a bare FastAPI app answering "
            "the same URL with a fixed JSON body, same server, same wrk; goal: >= 1,500 req/s with a worker per CPU)"
        ] = ceiling_rows
        out["API, Postgres path, concurrency 1: the server's socket and compute threads"] = _sequential(
            paths["Postgres path"][1], scripts["postgres"], seconds
        )
    return out


CEILING_CONCURRENCY, OVERLOAD_FACTOR, OVERLOAD_SECONDS = 32, 2.0, 30.0


def _postgres_extras(
    out: dict, api: Running, ids: list[tuple[int, str]], tmp: Path, script: Path, workers: int | None, seconds: float
) -> dict[str, object]:
    """Beside the Postgres path's load levels: the framework's ceiling (its row is returned); with a worker
    per CPU, the steady rates and the overload run (their tables added to `out`)."""
    label = "Postgres path"
    answer = tmp / "answer.json"
    answer.write_bytes(_answer(api, ids[0]))
    levels = out[f"API under wrk, {label}, {_workers(workers)}"]
    at_32 = next(r for r in levels if r["concurrency"] == CEILING_CONCURRENCY)
    row = {"server": _workers(workers), **_vs_ceiling(at_32, answer, script, workers, seconds)}
    if workers is None:
        steady = f"API held at steady rates over {HELD_CONNECTIONS} connections, {label}, {_workers(workers)}"
        out[f"{steady} (goal: 400 req/s at p99 <= 50 ms)"] = _held(api, ids, tmp, seconds * 2)
        title = (
            f"API overloaded: {OVERLOAD_FACTOR:g}x the {at_32['req/s']:.0f} req/s sustained at concurrency "
            f"{CEILING_CONCURRENCY}, offered for {OVERLOAD_SECONDS:g} s open loop (scripts/api/overload.py), "
            f"{label}, {_workers(workers)} (goal: 200s at bounded latency, the rest 503, no other 5xx, no timeouts)"
        )
        out[title] = overload.open_loop(api.url, _paths(ids), OVERLOAD_FACTOR * at_32["req/s"], OVERLOAD_SECONDS)
    return row


def _answer(api: Running, customer: tuple[int, str]) -> bytes:
    """One real answer's bytes: the ceiling app's fixed body (the same size to serialize and send)."""
    return httpx.get(f"{api.url}/recommend", params={"customer_id": customer[0], "zip_code": customer[1]}).content


def _paths(ids: list[tuple[int, str]]) -> list[str]:
    return [f"/recommend?customer_id={i}&zip_code={z}" for i, z in ids]


def home_customers(t: Target) -> list[tuple[int, str]]:
    """Every customer with their own ZIP code: a website's visitor mostly asks from home."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        q = recommendations.q(t.database, "CUSTOMER_360")
        cur.execute(f"SELECT CUSTOMER_ID, ZIP_CODE FROM {q} ORDER BY CUSTOMER_ID")
        return [(int(c), str(z)) for c, z in cur.fetchall()]


def lua_customers(ids: list[tuple[int, str]]) -> str:
    """The customers as the Lua table's entries: what follows `customer_id=` in the URL."""
    return ", ".join(f'"{i}&zip_code={z}"' for i, z in ids)


def in_process_both(env: dict[str, str], ids: list[tuple[int, str]], n: int = 2000) -> list[dict[str, object]]:
    """The request's cost with every answer ranked per request (PRECOMPUTED_TOP_N=0) and with the sync's
    precomputed rankings, alternated twice in one run; the ratio of the CPU per request of the two."""
    rows: dict[str, list[dict[str, float]]] = {"ranked per request": [], "precomputed at the sync": []}
    for _ in range(2):
        rows["ranked per request"].append(in_process({**env, "PRECOMPUTED_TOP_N": "0"}, ids, n))
        rows["precomputed at the sync"].append(in_process(env, ids, n))
    table = [
        {"answers": label, **{k: round(min(r[k] for r in runs), 3) for k in runs[0]}} for label, runs in rows.items()
    ]
    table.append(
        {
            "answers": "CPU ratio (precomputed / per request)",
            "CPU ms a request": round(table[1]["CPU ms a request"] / table[0]["CPU ms a request"], 3),
        }
    )
    return table


def _vs_ceiling(api: dict, body: Path, script: Path, workers: int | None, seconds: float) -> dict[str, object]:
    """The bare app under the same server and wrk, beside the API's figures at the same concurrency."""
    cmd = [sys.executable, str(serve.SERVER_PY), "--factory", "scripts.api.ceiling:create_app", "--app-dir", str(ROOT)]
    cmd += ["--host", "127.0.0.1", "--port", "{port}", *(["--workers", str(workers)] if workers else [])]
    cmd += ["--no-access-log", "--log-level", "warning"]
    env = {**serve.THREAD_ENV, "CEILING_BODY_FILE": str(body)}
    bare = start_http("ceiling", cmd, env, None, "/health", "the bare FastAPI app did not start: read its log")
    try:
        ceiling = load_levels(bare, script, seconds, (CEILING_CONCURRENCY,))[0]
    finally:
        bare.stop()
    return {
        "API req/s": round(api["req/s"]),
        "API p50/p99 ms": f"{api['p50 ms']:.1f} / {api['p99 ms']:.1f}",
        "ceiling req/s": round(ceiling["req/s"]),
        "ceiling p50/p99 ms": f"{ceiling['p50 ms']:.1f} / {ceiling['p99 ms']:.1f}",
        "API / ceiling": f"{api['req/s'] / ceiling['req/s']:.0%}",
    }


def in_process(env: dict[str, str], ids: list[tuple[int, str]] | list[int], n: int = 2000) -> dict[str, float]:
    """The request's own cost, without HTTP: the orchestrator's `orchestrator.cost` in its own process,
    configured as the server is (CPU time a request, and each stage's mean timing)."""
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator.cost", "--requests", str(n)],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT / "services" / "api" / "orchestrator",
        env={**os.environ, **serve.THREAD_ENV, **env, "PYTHONPATH": str(ROOT)},
    )
    if out.returncode:
        raise RuntimeError(f"orchestrator.cost failed ({out.returncode}): {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _held(api: Running, ids: list[tuple[int, str]], tmp: Path, seconds: float) -> list[dict]:
    """One wrk run per offered rate (HELD_RATES) over HELD_CONNECTIONS connections."""
    rows = []
    for rate in HELD_RATES:
        script = tmp / f"held-{rate}.lua"
        # a connection's cycle is its pause plus the answer's own time (a few ms below saturation): the
        # pause is shortened by ANSWER_MS so the offered rate is `rate` (the table shows the rate reached)
        pause_ms = HELD_CONNECTIONS / rate * 1000 - ANSWER_MS
        script.write_text(HELD_LUA % (lua_customers(ids), "postgres", f"{pause_ms:.1f}"))
        rows.append({"offered req/s": rate, **wrk(api.url, script, HELD_CONNECTIONS, seconds)})
    return rows


def _sequential(env: dict[str, str], script: Path, seconds: float) -> list[dict]:
    """Sequential requests (concurrency 1) by server and compute threads. uvicorn binds the shared socket
    of several workers without its protocol, so asyncio leaves Nagle's algorithm on and each response
    waits for the client's delayed ACK (40 ms); and OpenMP's threads (XGBoost starts one per core) spin
    after each parallel region, taking the CPU a request needs, unless OMP_NUM_THREADS=1."""
    rows = []
    for server, runner, workers in (
        ("uvicorn, 1 worker", serve.UVICORN, 1),
        ("uvicorn --workers 2", serve.UVICORN, 2),
        ("server.py --workers 2", (str(serve.SERVER_PY),), 2),
    ):
        for pinned in (False, True):
            cmd = serve.command("orchestrator", workers, runner)
            api = start_http("orchestrator", cmd, {**(serve.THREAD_ENV if pinned else {}), **env}, None, "/health", "")
            try:
                figures = load_levels(api, script, seconds, (1,))[0]
            finally:
                api.stop()
            threads = "1 per worker" if pinned else "libraries' default"
            rows.append({"server": server, "compute threads": threads, **{k: figures[k] for k in FIGURES}})
    return rows


FIGURES = ("req/s", "p50 ms", "p95 ms", "p99 ms")


def _check_backend(api: Running, customer: tuple[int, str], backend: str) -> None:
    body = httpx.get(f"{api.url}/recommend", params={"customer_id": customer[0], "zip_code": customer[1]}).json()
    if body.get("backend") != backend:
        raise RuntimeError(f"expected the {backend} backend, the API answered {body.get('backend')!r}")


def _workers(workers: int | None) -> str:
    return "1 worker" if workers == 1 else "1 worker per CPU (server.py)"


def api_ties(t: Target, requests: int = 200) -> dict[str, dict]:
    """How many of `requests` top-5 answers have five equal scores: random customers at their home ZIP
    code through the orchestrator on loopback. Goal: ties <= 1% (the seed's API: 37%)."""
    with psycopg.connect(t.pg_dsn) as conn:
        people = conn.execute(f"SELECT customer_id, zip_code FROM {t.pg_schema}.customer_profiles").fetchall()
    sample = random.Random(1).sample(sorted(people), min(requests, len(people)))
    api = serve.start("orchestrator", serve.api_env(t))
    try:
        with httpx.Client(base_url=api.url, timeout=30) as c:
            answers = [c.get("/recommend", params={"customer_id": p, "zip_code": z}).json() for p, z in sample]
    finally:
        api.stop()
    scores = [[i["score"] for i in a["recommendations"]] for a in answers]
    tied = sum(len(s) == 5 and len(set(s)) == 1 for s in scores)
    return {
        "API ties": {
            f"answers with 5 equal top-5 scores, of {len(answers)} (goal <= 1%)": f"{tied} ({tied / len(answers):.1%})",
            "distinct scores per top 5 (mean)": sum(len(set(s)) for s in scores) / len(answers),
            "backends": ", ".join(sorted({a["backend"] for a in answers})),
        }
    }
