"""Customer CSV files as the source system would send them: realistic, deterministic by seed, with a
configurable share of malformed rows (a column missing or too many, a broken quote, garbage)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta

from infra.ingestion.catalog import RAW_COLUMNS

FIRST = [
    "james",
    "Mary",
    "ROBERT",
    "patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Chris",
    "Karen",
]
LAST = [
    "Smith",
    "johnson",
    "Williams",
    "BROWN",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
]
# city, state, the first three digits of its ZIP codes
CITIES = [
    tuple(line.split(", "))
    for line in """New York, NY, 100
Los Angeles, CA, 900
Chicago, IL, 606
Houston, TX, 770
Phoenix, AZ, 850
Seattle, WA, 981
Miami, FL, 331
Atlanta, GA, 303
Denver, CO, 802
Boston, MA, 021""".splitlines()
]
TIERS = ["Bronze", "Silver", "Gold", "Platinum", "bronze ", " GOLD"]


def generate_customers(rows: int, seed: int, bad_share: float = 0.0, id_offset: int = 0) -> bytes:
    """A customer CSV with a header; `bad_share` of the rows are malformed in varied ways."""
    if rows < 0 or not 0 <= bad_share <= 1:
        raise ValueError(f"rows must be >= 0 (got {rows}) and bad_share within 0..1 (got {bad_share})")
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.lower() for c in RAW_COLUMNS])
    base = date(2019, 1, 1)
    for i in range(rows):
        cid = id_offset + i + 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, zip3 = rng.choice(CITIES)
        signup = base + timedelta(days=rng.randrange(0, 2000))
        updated = datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(0, 500_000))
        row = [
            str(cid),
            f"  {first} " if rng.random() < 0.1 else first,
            last,
            f"{first.lower()}.{last.lower()}{rng.randrange(1000)}@example.com",
            f"({rng.randrange(200, 999)}) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            city.upper() if rng.random() < 0.05 else city,
            state.lower() if rng.random() < 0.05 else state,
            f"{zip3}{rng.randrange(10, 99)}",
            signup.isoformat(),
            rng.choice(TIERS),
            updated.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        if rng.random() < bad_share:
            out.write(_malformed(rng, row) + "\n")
        else:
            w.writerow(row)
    return out.getvalue().encode()


def _malformed(rng: random.Random, row: list[str]) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # a column missing
        return ",".join(row[:-1])
    if kind == 1:  # a column too many
        return ",".join([*row, "extra"])
    if kind == 2:  # an unterminated quote
        return ",".join(row[:3]) + ',"broken' + "," + ",".join(row[4:])
    return ",".join(row[:2]) + "\x00" + ",".join(row[2:])[:5]  # garbage
