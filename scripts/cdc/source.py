"""A simulated order system whose changes the generator ships: seeded, so the same seed gives the same
changes. New orders get ids from a growing sequence and start PENDING; an update moves an open order's
status one step forward (pending → processing → shipped → delivered) or cancels it before it ships, and
while it is pending may change its quantity and amount; a delete removes an order for good. Amounts are
never negative and keep their cents.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from infra.cdc.catalog import BLOCK, NEXT_STATUSES, RECORD_SOURCE
from infra.cdc.config import CdcGenerator

CUSTOMERS, PRODUCTS = 50_000, 2_000
SCHEMA = pa.schema(
    [
        ("ORDER_ID", pa.int64()),
        ("CUSTOMER_ID", pa.int64()),
        ("PRODUCT_ID", pa.int64()),
        ("ORDER_DATE", pa.timestamp("us")),
        ("STATUS", pa.string()),
        ("AMOUNT", pa.decimal128(12, 2)),
        ("QUANTITY", pa.int64()),
        ("CHANGE_TYPE", pa.string()),
        ("CHANGE_SEQ", pa.int64()),
        ("CHANGED_AT", pa.timestamp("us")),
        ("RECORD_SOURCE", pa.string()),
    ]
)


class IdBlocks:
    """Values of a block sequence: `reserve()` returns the first value of a fresh block of BLOCK values."""

    def __init__(self, reserve: Callable[[], int]) -> None:
        self._reserve, self._next, self._end = reserve, 0, 0

    def take(self) -> int:
        if self._next >= self._end:
            start = int(self._reserve())
            self._next, self._end = start, start + BLOCK
        value = self._next
        self._next += 1
        return value


def counter() -> Callable[[], int]:
    """An in-memory block sequence (1, 1 + BLOCK, ...), for tests and dry runs."""
    state = {"next": 1}

    def reserve() -> int:
        value = state["next"]
        state["next"] += BLOCK
        return value

    return reserve


@dataclass
class _Order:
    customer: int
    product: int
    order_date: datetime
    status: str
    amount_cents: int
    quantity: int


class _Pool:
    """A set with O(1) add, remove and uniform random pick (swap-remove list + positions)."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.pos: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: int) -> None:
        self.pos[item] = len(self.items)
        self.items.append(item)

    def discard(self, item: int) -> None:
        i = self.pos.pop(item, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def pick(self, rng: random.Random) -> int:
        return self.items[int(rng.random() * len(self.items))]


class OrderSource:
    """The order system and its change stream. `window` bounds the orders it remembers: beyond it, a
    closed order (or, if none, a random one) is forgotten and receives no more changes. An update or a
    delete drawn while no order can take it becomes an insert; the mix produced is in `emitted`."""

    def __init__(self, cfg: CdcGenerator, order_ids: IdBlocks, seqs: IdBlocks, window: int = 200_000) -> None:
        self.cfg, self.order_ids, self.seqs, self.window = cfg, order_ids, seqs, window
        self.rng = random.Random(cfg.seed)
        self.orders: dict[int, _Order] = {}
        self.open, self.live, self.closed = _Pool(), _Pool(), _Pool()
        self.emitted = {"INSERT": 0, "UPDATE": 0, "DELETE": 0}
        self._insert_below = cfg.mix.insert
        self._update_below = cfg.mix.insert + cfg.mix.update

    def batch(self, n: int, now: datetime) -> pa.Table:
        """The next `n` changes, all stamped CHANGED_AT = `now` (the clock when the batch is cut)."""
        cols: dict[str, list] = {f.name: [] for f in SCHEMA}
        for _ in range(n):
            draw = self.rng.random()
            if draw >= self._update_below and len(self.live):
                kind, (order_id, o) = "DELETE", self._delete()
            elif draw >= self._insert_below and draw < self._update_below and len(self.open):
                kind, (order_id, o) = "UPDATE", self._update()
            else:
                kind, (order_id, o) = "INSERT", self._insert(now)
            self.emitted[kind] += 1
            for name, value in (
                ("ORDER_ID", order_id),
                ("CUSTOMER_ID", o.customer),
                ("PRODUCT_ID", o.product),
                ("ORDER_DATE", o.order_date),
                ("STATUS", o.status),
                ("AMOUNT", Decimal(o.amount_cents).scaleb(-2)),
                ("QUANTITY", o.quantity),
                ("CHANGE_TYPE", kind),
                ("CHANGE_SEQ", self.seqs.take()),
                ("CHANGED_AT", now),
                ("RECORD_SOURCE", RECORD_SOURCE),
            ):
                cols[name].append(value)
        return pa.Table.from_pydict(cols, schema=SCHEMA)

    def _insert(self, now: datetime) -> tuple[int, _Order]:
        rng = self.rng
        if len(self.live) >= self.window:  # forget a delivered or cancelled order first, an open one last
            self._forget((self.closed if len(self.closed) else self.live).pick(rng))
        order_id = self.order_ids.take()
        back = timedelta(seconds=rng.random() * self.cfg.history_days * 86_400) if self.cfg.history_days else None
        quantity = 1 + int(rng.random() * 5)
        self.orders[order_id] = _Order(
            customer=1 + int(rng.random() * CUSTOMERS),
            product=1 + int(rng.random() * PRODUCTS),
            order_date=(now - back) if back else now,
            status="PENDING",
            amount_cents=self._amount_cents(quantity),
            quantity=quantity,
        )
        self.open.add(order_id)
        self.live.add(order_id)
        return order_id, self.orders[order_id]

    def _update(self) -> tuple[int, _Order]:
        rng = self.rng
        order_id = self.open.pick(rng)
        o = self.orders[order_id]
        moves = NEXT_STATUSES[o.status]
        if o.status == "PENDING" and rng.random() < 0.3:  # the customer edits the order before it moves on
            o.quantity = 1 + int(rng.random() * 5)
            o.amount_cents = self._amount_cents(o.quantity)
        elif "CANCELLED" in moves and rng.random() < self.cfg.cancel_share:
            o.status = "CANCELLED"
        else:
            o.status = moves[0]
        if o.status not in NEXT_STATUSES:
            self.open.discard(order_id)
            self.closed.add(order_id)
        return order_id, o

    def _delete(self) -> tuple[int, _Order]:
        """The order's last image goes with its DELETE."""
        order_id = self.live.pick(self.rng)
        last = self.orders[order_id]
        self._forget(order_id)
        return order_id, last

    def _forget(self, order_id: int) -> None:
        self.orders.pop(order_id, None)
        self.open.discard(order_id)
        self.live.discard(order_id)
        self.closed.discard(order_id)

    def _amount_cents(self, quantity: int) -> int:
        unit = self.rng.lognormvariate(3.9, 0.6)  # a unit price around 50, a long tail above
        return max(0, round(unit * quantity * 100))
