"""`python -m orchestrator.cost [--requests N] [--zip-code Z] < ids.json`: what one request costs in
this process, without HTTP or a load generator: CPU time (the less noisy figure on shared cores) and
the mean of each stage's own timing, over N requests for the customers read from stdin (a JSON list
of ids, or of [id, ZIP code] pairs), after a warm-up; and the share answered from a precomputed row.
Configured from the environment as the server is; prints one JSON object.
`make bench` runs it against the stand-ins; in a container it measures against the real Postgres."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from .app import Recommender
from .backends import Settings
from .inputs import RecommendRequest

STAGES = {
    "fetch_ms": "Postgres round trip",
    "pair_features_ms": "pair features",
    "model_ms": "scoring",
    "rank_ms": "top N and why",
}
WARM_UP = 200


async def measure(settings: Settings, ids: list[tuple[int, str]], n: int) -> dict[str, float]:
    """CPU and wall time per request, and each stage's mean, over n requests cycling through the
    (customer id, ZIP code) pairs."""
    if not ids:
        raise ValueError("no customer ids to ask for")
    asked = [ids[i % len(ids)] for i in range(n)]
    requests = [RecommendRequest(customer_id=c, zip_code=z, top_n=5) for c, z in asked]
    rec = Recommender(settings)
    await rec.start()
    try:
        for req in requests[:WARM_UP]:
            await rec.recommend(req)
        totals = dict.fromkeys(STAGES, 0.0)
        backends, precomputed = set(), 0
        cpu, wall = time.process_time(), time.perf_counter()
        for req in requests:
            answer = await rec.recommend(req)
            backends.add(answer["backend"])
            precomputed += answer["timings"].get("precomputed", False)
            for stage in STAGES:
                totals[stage] += answer["timings"].get(stage, 0.0)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await rec.stop()
    if backends != {"postgres"}:
        raise RuntimeError(f"answers came from {sorted(backends)}, not only from Postgres: not the path measured")
    return {
        "CPU ms a request": cpu * 1000 / n,
        "wall ms a request": wall * 1000 / n,
        "share answered precomputed": precomputed / n,
        **{f"  {label} ms": totals[stage] / n for stage, label in STAGES.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--zip-code", default="10001", help="for ids given without one")
    args = parser.parse_args()
    ids = [(int(i[0]), str(i[1])) if isinstance(i, list) else (int(i), args.zip_code) for i in json.load(sys.stdin)]
    loop = asyncio.new_event_loop()
    try:
        figures = loop.run_until_complete(measure(Settings.from_env(), ids, args.requests))
    finally:
        loop.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
