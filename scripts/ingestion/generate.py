"""Each feed's CSV files as the source systems would send them (customers, sales lines, stock counts):
realistic, deterministic by seed, with a configurable share of malformed rows (a column missing or too
many, a broken quote, garbage)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from infra.ingestion.catalog import INVENTORY, RAW_COLUMNS, SALES

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


def _check(rows: int, bad_share: float) -> None:
    if rows < 0 or not 0 <= bad_share <= 1:
        raise ValueError(f"rows must be >= 0 (got {rows}) and bad_share within 0..1 (got {bad_share})")


def generate_customers(rows: int, seed: int, bad_share: float = 0.0, id_offset: int = 0) -> bytes:
    """A customer CSV with a header; `bad_share` of the rows are malformed in varied ways."""
    _check(rows, bad_share)
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


STORES = ["S001", "s002", "S003 ", "S004", "S005"]


def generate_sales(rows: int, seed: int, bad_share: float = 0.0, id_offset: int = 0) -> bytes:
    """A sales CSV (one line per sale, SALE_IDs from `id_offset` + 1; about 3% returns, of negative
    quantity); `bad_share` of the rows are malformed."""
    _check(rows, bad_share)
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.lower() for c in SALES.raw_columns])
    for i in range(rows):
        sold = datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(0, 500_000))
        quantity = rng.randrange(1, 6) * (-1 if rng.random() < 0.03 else 1)
        row = [
            str(id_offset + i + 1),
            "" if rng.random() < 0.1 else str(rng.randrange(1, 5001)),  # anonymous sale
            str(rng.randrange(1, 501)),
            rng.choice(STORES),
            str(quantity),
            f"{rng.randrange(99, 50000) / 100:.2f}",
            sold.strftime("%Y-%m-%d %H:%M:%S"),
            (sold + timedelta(minutes=rng.randrange(0, 120))).strftime("%Y-%m-%d %H:%M:%S"),
        ]
        _write(out, w, rng, row, bad_share)
    return out.getvalue().encode()


def generate_inventory(rows: int, seed: int, bad_share: float = 0.0, id_offset: int = 0) -> bytes:
    """A stock-count CSV: `rows` counts of (product, store) pairs from product `id_offset` + 1 on, each
    pair once per file (a later file counts the same pairs again); `bad_share` of the rows malformed."""
    _check(rows, bad_share)
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.lower() for c in INVENTORY.raw_columns])
    counted = datetime(2024, 6, 1) + timedelta(days=seed % 30)
    for i in range(rows):
        product, store = id_offset + i // len(STORES) + 1, STORES[i % len(STORES)]
        row = [
            str(product),
            store,
            str(rng.randrange(0, 400)),
            str(rng.choice([10, 20, 50])),
            (counted + timedelta(minutes=rng.randrange(0, 600))).strftime("%Y-%m-%d %H:%M:%S"),
        ]
        _write(out, w, rng, row, bad_share)
    return out.getvalue().encode()


def _write(out: io.StringIO, w, rng: random.Random, row: list[str], bad_share: float) -> None:
    if rng.random() < bad_share:
        out.write(_malformed(rng, row) + "\n")
    else:
        w.writerow(row)


# feed → its generator (rows, seed, bad_share, id_offset)
GENERATORS: dict[str, Callable[..., bytes]] = {
    "customer": generate_customers,
    "sales": generate_sales,
    "inventory": generate_inventory,
}
