"""`python -m orchestrator.precompute --out rows.jsonl`: every customer's answer for their home
region, computed by the API's own full path (app.Recommender.rank) from the live serving tables, for
the sync to put live as customer_rankings (scripts/serving/rankings.py). A request then reads one row
instead of scoring some 700 candidates; the API serves it only while the tables and the model are
the ones it was computed from, so it always says what the full path would say.

Configured from the environment as the server is, with the in-process model. Writes one JSON line per
customer to the --out file, [customer_id, region, answered by (fingerprint.answered_by: the model's and
the code's digests), versions, [item JSON, ...]], then a summary on stderr. Exit 3: no model to rank
with; exit 4: a sync swapped a table meanwhile (the file is not to be used).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import orjson

from .app import Recommender
from .backends import (
    PRECOMPUTED_TOP_N,
    RANKED_FROM,
    BackendUnavailableError,
    OverloadedError,
    Settings,
    UnknownCustomerError,
)
from .fingerprint import answered_by

FAILED, NO_MODEL, TABLES_CHANGED = 1, 3, 4
AT_ONCE = 8  # customers ranked concurrently: their round trips overlap the ranking of others
SHARED_AT = [RANKED_FROM.index(t) for t in ("inventory", "products", "product_popularity", "customer_candidates")]


class NoModelError(LookupError):
    """No ranking model loaded from the configured path: nothing to precompute."""


class TablesChangedError(RuntimeError):
    """A sync swapped a serving table while the rankings were computed: they would mix two syncs."""


async def precompute(settings: Settings, write: Callable[[bytes], object]) -> dict[str, int]:
    """Rank every customer with a known home region (PRECOMPUTED_TOP_N items each: a request for fewer
    reads a prefix); `write` gets each row as a JSON line. Raises NoModelError without a model,
    TablesChangedError when a table was swapped meanwhile."""
    top_n = PRECOMPUTED_TOP_N
    # the model loaded now scores every customer: a file published meanwhile is not looked at
    settings = dataclasses.replace(settings, ranker_mode="inprocess", ranker_model_check_seconds=math.inf)
    rec = Recommender(settings)
    if rec.ranker.booster is None:
        raise NoModelError(f"no ranking model at {settings.ranker_model_path!r}: nothing to precompute")
    model = answered_by(rec.ranker.model.sha256)
    try:
        await rec.pg.open()
        await rec.shelves.reload()
        stamp = await rec.pg.stamp()
        homes = await rec.pg.homes()
        counts = {"customers": len(homes), "ranked": 0, "not ranked by the model": 0}
        for start in range(0, len(homes), AT_ONCE):
            chunk = homes[start : start + AT_ONCE]
            try:
                answers = await asyncio.gather(*(rec.rank(c, region, top_n, {}) for c, region in chunk))
            except UnknownCustomerError as e:  # listed at the start, gone now: customer_features swapped
                raise TablesChangedError(f"serving tables swapped while ranking ({e})") from None
            for (customer, region), (items, backend, versions) in zip(chunk, answers, strict=True):
                if list(versions) != [stamp[i] for i in SHARED_AT]:
                    raise TablesChangedError(f"serving tables swapped while ranking customer {customer}")
                if backend != "postgres":  # the model could not score: the full path will, later
                    counts["not ranked by the model"] += 1
                    continue
                line = [customer, region, model, stamp, [orjson.dumps(i).decode() for i in items]]
                write(orjson.dumps(line) + b"\n")
                counts["ranked"] += 1
        if await rec.pg.stamp() != stamp:
            raise TablesChangedError("serving tables swapped while ranking")
    finally:
        await rec.pg.close()
    return counts


def run(settings: Settings, out: Path, err: TextIO) -> int:
    """The command's body; its exit code."""
    started = time.perf_counter()
    loop = asyncio.new_event_loop()
    try:
        with out.open("wb") as f:
            counts = loop.run_until_complete(precompute(settings, f.write))
    except NoModelError as e:
        print(f"precompute: {e}", file=err)
        return NO_MODEL
    except TablesChangedError as e:
        print(f"precompute: {e}; run the sync again", file=err)
        return TABLES_CHANGED
    except (BackendUnavailableError, OverloadedError) as e:
        print(f"precompute: {e}", file=err)
        return FAILED
    finally:
        loop.close()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    print(orjson.dumps(counts).decode(), file=err)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the JSON lines file to write")
    sys.exit(run(Settings.from_env(), parser.parse_args().out, sys.stderr))


if __name__ == "__main__":
    main()
