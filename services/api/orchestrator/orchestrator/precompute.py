"""`python -m orchestrator.precompute > rows.jsonl`: every customer's answer for their home
region, computed by the API's own full path (app.Recommender.rank) from the live serving tables, for
the sync to put live as customer_rankings (scripts/serving/rankings.py). A request then reads one row
instead of scoring some 350 candidates; the API serves it only while the tables and the model are
the ones it was computed from, so it always says what the full path would say.

Configured from the environment as the server is, with the in-process model. Writes one JSON line per
customer, [customer_id, region, model sha256, versions, [item JSON, ...]], then a summary on stderr.
Exit 3: no model to rank with (nothing written); exit 4: a sync swapped a table meanwhile (the rows
written are not to be used: the sync discards them).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

import orjson

from .app import Recommender
from .backends import PRECOMPUTED_TOP_N, RANKED_FROM, Settings

NO_MODEL, TABLES_CHANGED = 3, 4
AT_ONCE = 8  # customers ranked concurrently: their round trips overlap the ranking of others
SHARED_AT = [RANKED_FROM.index(t) for t in ("inventory", "products", "product_popularity", "customer_candidates")]


class TablesChangedError(RuntimeError):
    """A sync swapped a serving table while the rankings were computed: they would mix two syncs."""


async def precompute(settings: Settings, write: Callable[[bytes], object]) -> dict[str, int]:
    """Rank every customer with a known home region (PRECOMPUTED_TOP_N items each: a request for fewer
    reads a prefix); `write` gets each row as a JSON line. Raises LookupError without a model,
    TablesChangedError when a table was swapped meanwhile."""
    top_n = PRECOMPUTED_TOP_N
    # the model loaded now scores every customer: a file published meanwhile is not looked at
    settings = dataclasses.replace(settings, ranker_mode="inprocess", ranker_model_check_seconds=math.inf)
    rec = Recommender(settings)
    if rec.ranker.booster is None:
        raise LookupError(f"no ranking model at {settings.ranker_model_path!r}: nothing to precompute")
    model = rec.ranker.model.sha256
    await rec.pg.open()
    try:
        await rec.shelves.reload()
        stamp = await rec.pg.stamp()
        homes = await rec.pg.homes()
        counts = {"customers": len(homes), "ranked": 0, "not ranked by the model": 0}
        for start in range(0, len(homes), AT_ONCE):
            chunk = homes[start : start + AT_ONCE]
            answers = await asyncio.gather(*(rec.rank(c, region, top_n, {}) for c, region in chunk))
            for (customer, region), (items, backend, versions) in zip(chunk, answers, strict=True):
                if list(versions) != [stamp[i] for i in SHARED_AT]:
                    raise TablesChangedError(f"serving tables swapped while ranking customer {customer}")
                if backend != "postgres":  # the model could not score: the full path will, later
                    counts["not ranked by the model"] += 1
                    continue
                line = [customer, region, model, stamp, [orjson.dumps(i).decode() for i in items]]
                write(orjson.dumps(line) + b"\n")
                counts["ranked"] += 1
        if await rec.pg.stamp() != stamp or rec.ranker.model.sha256 != model:
            raise TablesChangedError("serving tables swapped while ranking")
    finally:
        await rec.pg.close()
    return counts


def run(settings: Settings, out: TextIO, err: TextIO) -> int:
    """The command's body; its exit code."""
    started = time.perf_counter()
    loop = asyncio.new_event_loop()
    try:
        counts = loop.run_until_complete(precompute(settings, out.buffer.write))
    except LookupError as e:
        print(f"precompute: {e}", file=err)
        return NO_MODEL
    except TablesChangedError as e:
        print(f"precompute: {e}; run the sync again", file=err)
        return TABLES_CHANGED
    finally:
        loop.close()
    out.flush()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    print(orjson.dumps(counts).decode(), file=err)
    return 0


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    sys.exit(run(Settings.from_env(), sys.stdout, sys.stderr))


if __name__ == "__main__":
    main()
