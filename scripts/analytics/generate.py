"""The e-commerce sources, generated deterministically by seed and AS_OF, and one day of changes.

History: customers, products, orders over `history_days` before AS_OF (every order has at least one
item, ids start at 1), inventory movements. The day of changes (AS_OF itself): new orders and items,
status changes, customer and product attribute changes, inventory movements. Vectorised with NumPy, so
millions of order items take seconds; the same seed always gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from infra.analytics.catalog import TABLES
from infra.analytics.config import AnalyticsScale

FIRST = np.array(["Ava", "Liam", "Mia", "Noah", "Emma", "Lucas", "Sofia", "Mateo", "Yuki", "Arjun", "Chloe", "Omar"])
LAST = np.array(["Smith", "Garcia", "Müller", "Rossi", "Tanaka", "Patel", "Dubois", "Silva", "Kim", "Nowak"])
# country → cities; ISO-3166 alpha-3 codes, which choropleth maps understand
COUNTRIES = {
    "USA": ["New York", "Austin", "Seattle"],
    "GBR": ["London", "Manchester"],
    "DEU": ["Berlin", "Munich"],
    "FRA": ["Paris", "Lyon"],
    "ESP": ["Madrid", "Barcelona"],
    "ITA": ["Milan", "Rome"],
    "JPN": ["Tokyo", "Osaka"],
    "IND": ["Mumbai", "Bengaluru"],
    "BRA": ["São Paulo", "Rio de Janeiro"],
    "CAN": ["Toronto", "Vancouver"],
}
SEGMENTS, SEGMENT_WEIGHTS = np.array(["PREMIUM", "STANDARD", "BASIC"]), [0.3, 0.55, 0.15]
# category → (price band, brands)
CATEGORIES = {
    "Electronics": ((20.0, 900.0), ["Voltix", "Nimbus", "Arcline"]),
    "Home": ((8.0, 300.0), ["Casa", "Nordhaus", "Loom"]),
    "Apparel": ((10.0, 180.0), ["Thread&Co", "Urbane", "Kite"]),
    "Sports": ((12.0, 400.0), ["Stride", "Peak", "Volt"]),
    "Books": ((5.0, 60.0), ["Folio", "Quarto", "Inkwell"]),
}
STATUSES = np.array(["PENDING", "PROCESSING", "SHIPPED", "DELIVERED", "CANCELLED"])
PAYMENTS = np.array(["CREDIT_CARD", "DEBIT_CARD", "PAYPAL", "APPLE_PAY", "BANK_TRANSFER"])
MOVEMENT_TYPES = np.array(["SALE", "RESTOCK", "RETURN", "ADJUSTMENT"])


@dataclass
class Batch:
    """Rows per source table (columns in the catalog's order), plus the updates of a day of changes."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    status_changes: list[tuple] = field(default_factory=list)  # (status, updated_at, order_id)
    customer_changes: list[tuple] = field(default_factory=list)  # (segment, updated_at, customer_id)
    price_changes: list[tuple] = field(default_factory=list)  # (unit_price, unit_cost, updated_at, product_id)

    def rows(self, key: str) -> int:
        return self.tables[key].num_rows if key in self.tables else 0


def _table(key: str, data: dict[str, object]) -> pa.Table:
    """An Arrow table with the catalog's columns, in order, typed like the Snowflake table."""
    arrays = []
    for col, typ in TABLES[key][2]:
        values = data[col]
        if typ.startswith("NUMBER(38,0)"):
            arrays.append(pa.array(values, type=pa.int64()))
        elif typ.startswith("NUMBER"):
            arrays.append(pa.array(np.round(np.asarray(values, dtype=float), 2), type=pa.float64()))
        elif typ == "DATE":
            arrays.append(pa.array(values, type=pa.date32()))
        elif typ == "TIMESTAMP_NTZ":
            arrays.append(pa.array(values, type=pa.timestamp("us")))
        else:
            arrays.append(pa.array(values, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[c for c, _ in TABLES[key][2]])


def _ts(start: datetime, seconds: np.ndarray) -> np.ndarray:
    return np.datetime64(start, "us") + seconds.astype("timedelta64[s]")


def customers(rng: np.random.Generator, ids: np.ndarray, start: datetime, span_s: int) -> pa.Table:
    n = len(ids)
    first, last = rng.choice(FIRST, n), rng.choice(LAST, n)
    country = rng.choice(np.array(list(COUNTRIES)), n)
    city = np.array([COUNTRIES[c][i % len(COUNTRIES[c])] for c, i in zip(country, rng.integers(0, 3, n), strict=True)])
    signup = _ts(start, rng.integers(0, span_s, n))
    emails = np.char.add(
        np.char.add(np.char.lower(first.astype(str)), np.char.add(".", ids.astype(str))), "@example.com"
    )
    return _table(
        "customers",
        {
            "CUSTOMER_ID": ids,
            "FIRST_NAME": first,
            "LAST_NAME": last,
            "EMAIL": emails,
            "COUNTRY": country,
            "CITY": city,
            "SEGMENT": rng.choice(SEGMENTS, n, p=SEGMENT_WEIGHTS),
            "SIGNUP_DATE": signup.astype("datetime64[D]"),
            "UPDATED_AT": signup,
        },
    )


def products(rng: np.random.Generator, n: int, start: datetime) -> pa.Table:
    ids = np.arange(1, n + 1)
    cats = np.array(list(CATEGORIES))[(ids - 1) % len(CATEGORIES)]
    lo = np.array([CATEGORIES[c][0][0] for c in cats])
    hi = np.array([CATEGORIES[c][0][1] for c in cats])
    price = np.round(lo + (hi - lo) * rng.random(n) ** 2, 2)
    brands = np.array([CATEGORIES[c][1][i % 3] for c, i in zip(cats, ids, strict=True)])
    return _table(
        "products",
        {
            "PRODUCT_ID": ids,
            "PRODUCT_NAME": np.char.add(np.char.add(brands, " "), np.char.add(cats, ids.astype(str))),
            "CATEGORY": cats,
            "BRAND": brands,
            "UNIT_PRICE": price,
            "UNIT_COST": np.round(price * rng.uniform(0.45, 0.85, n), 2),
            "REORDER_LEVEL": rng.integers(10, 60, n),
            "UPDATED_AT": np.full(n, np.datetime64(start, "us")),
        },
    )


def orders_and_items(
    rng: np.random.Generator,
    order_ids: np.ndarray,
    n_items: int,
    first_item: int,
    customer_ids: np.ndarray,
    prices: np.ndarray,
    start: datetime,
    span_s: int,
    statuses_p: list[float],
) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Orders with at least one item each; returns (orders, items, each item's order index)."""
    n = len(order_ids)
    ts = _ts(start, np.sort(rng.integers(0, span_s, n)))
    country = rng.choice(np.array(list(COUNTRIES)), n)
    orders = _table(
        "orders",
        {
            "ORDER_ID": order_ids,
            "CUSTOMER_ID": rng.choice(customer_ids, n),
            "ORDER_TS": ts,
            "ORDER_STATUS": rng.choice(STATUSES, n, p=statuses_p),
            "PAYMENT_METHOD": rng.choice(PAYMENTS, n),
            "SHIPPING_COUNTRY": country,
            "UPDATED_AT": ts,
        },
    )
    owner = np.concatenate([np.arange(n), rng.integers(0, n, max(n_items - n, 0))])
    owner.sort()
    product = rng.integers(1, len(prices) + 1, len(owner))
    discount = rng.choice(np.array([0.0, 5.0, 10.0, 15.0, 20.0]), len(owner), p=[0.7, 0.1, 0.1, 0.05, 0.05])
    items = _table(
        "order_items",
        {
            "ORDER_ITEM_ID": np.arange(first_item, first_item + len(owner)),
            "ORDER_ID": order_ids[owner],
            "PRODUCT_ID": product,
            "QUANTITY": rng.choice(np.array([1, 1, 1, 2, 2, 3, 4]), len(owner)),
            "UNIT_PRICE": prices[product - 1],
            "DISCOUNT_PCT": discount,
            "CREATED_AT": ts[owner],
        },
    )
    return orders, items, owner


def movements(
    rng: np.random.Generator, first_id: int, n: int, n_products: int, start: datetime, span_s: int, initial: bool = True
) -> pa.Table:
    """Sales, restocks, returns and adjustments; with `initial`, first a restock of every product."""
    first = min(n, n_products) if initial else 0
    rest = n - first
    kinds = np.concatenate([np.full(first, "RESTOCK"), rng.choice(MOVEMENT_TYPES, rest, p=[0.7, 0.15, 0.1, 0.05])])
    product = np.concatenate([np.arange(1, first + 1), rng.integers(1, n_products + 1, rest)])
    qty = np.select(
        [kinds == "SALE", kinds == "RESTOCK", kinds == "RETURN"],
        [-rng.integers(1, 5, len(kinds)), rng.integers(100, 400, len(kinds)), rng.integers(1, 3, len(kinds))],
        rng.integers(-3, 4, len(kinds)),
    )
    seconds = np.concatenate([np.zeros(first, dtype=np.int64), np.sort(rng.integers(1, span_s, rest))])
    return _table(
        "movements",
        {
            "MOVEMENT_ID": np.arange(first_id, first_id + len(kinds)),
            "PRODUCT_ID": product,
            "MOVEMENT_TYPE": kinds,
            "QUANTITY": qty,
            "MOVED_AT": _ts(start, seconds),
        },
    )


def history(scale: AnalyticsScale) -> Batch:
    """Everything up to AS_OF (exclusive)."""
    rng = np.random.default_rng(scale.seed)
    as_of = datetime.combine(scale.as_of, datetime.min.time())
    start = as_of - timedelta(days=scale.history_days)
    span = scale.history_days * 86400
    b = Batch()
    b.tables["customers"] = customers(rng, np.arange(1, scale.customers + 1), start, span)
    b.tables["products"] = products(rng, scale.products, start)
    prices = b.tables["products"].column("UNIT_PRICE").to_numpy()
    b.tables["orders"], b.tables["order_items"], _ = orders_and_items(
        rng,
        np.arange(1, scale.orders + 1),
        scale.items,
        1,
        np.arange(1, scale.customers + 1),
        prices,
        start,
        span,
        [0.02, 0.03, 0.05, 0.8, 0.1],
    )
    b.tables["movements"] = movements(rng, 1, scale.movements, scale.products, start, span)
    return b


def day_of_changes(scale: AnalyticsScale, day: date | None = None) -> Batch:
    """One business day after the history: new customers, orders and items, status changes, segment and
    city changes, price changes, stock movements; deterministic by seed and day."""
    day = day or scale.as_of
    rng = np.random.default_rng([scale.seed, day.toordinal()])
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=8)
    span = 12 * 3600
    new_customers = max(1, scale.customers // 50)
    orders_per_day = max(10, scale.orders // scale.history_days)
    items_per_order = max(1.0, scale.items / scale.orders)
    b = Batch()
    first_customer = scale.customers + 1 + (day - scale.as_of).days * new_customers
    b.tables["customers"] = customers(rng, np.arange(first_customer, first_customer + new_customers), start, span)
    prices = products(np.random.default_rng(scale.seed), scale.products, start).column("UNIT_PRICE").to_numpy()
    first_order = scale.orders + 1 + (day - scale.as_of).days * orders_per_day
    n_items = round(orders_per_day * items_per_order)
    first_item = scale.items + 1 + (day - scale.as_of).days * n_items
    all_customers = np.arange(1, first_customer + new_customers)
    b.tables["orders"], b.tables["order_items"], _ = orders_and_items(
        rng,
        np.arange(first_order, first_order + orders_per_day),
        n_items,
        first_item,
        all_customers,
        prices,
        start,
        span,
        [0.6, 0.3, 0.05, 0.0, 0.05],
    )
    first_movement = scale.movements + 1 + (day - scale.as_of).days * n_items * 2
    b.tables["movements"] = movements(rng, first_movement, n_items, scale.products, start, span, initial=False)
    when = lambda: (start + timedelta(seconds=int(rng.integers(0, span)))).replace(microsecond=0)  # noqa: E731
    recent = rng.choice(np.arange(max(1, scale.orders - orders_per_day * 7), scale.orders + 1), orders_per_day)
    b.status_changes = [(str(rng.choice(STATUSES[2:])), when(), int(o)) for o in np.unique(recent)]
    b.customer_changes = [
        (str(rng.choice(SEGMENTS)), when(), int(c))
        for c in np.unique(rng.integers(1, scale.customers + 1, max(1, scale.customers // 20)))
    ]
    b.price_changes = [
        (round(float(prices[p - 1]) * 1.1, 2), round(float(prices[p - 1]) * 0.6, 2), when(), int(p))
        for p in np.unique(rng.integers(1, scale.products + 1, max(1, scale.products // 20)))
    ]
    return b
