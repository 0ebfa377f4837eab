"""The serving tables every request shares, kept in memory: the product catalogue and each region's
in-stock inventory with its popularity and taste terms, and each category's best sellers (the propensity
source of the retrieval, services/features/candidates.py).

They change only when the sync swaps tables, and a swap gives each live table a new OID; so a request
reads the OIDs of the three tables (and of customer_candidates, which the API reads only once a sync
created it) in the same round trip as the customer's own rows, and the shelf is reloaded, before
the request goes on, only when one of them changed (or the shelf is older than `max_age`, which
catches a write made in place, outside the sync). The next request after a sync therefore always sees
the new stock, with no polling and no notification from the sync.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.features import candidates as retrieval
from services.features.pair import Catalog, History, top_categories
from services.features.taste import Shelf as TasteShelf
from services.features.taste import whole_shelf

Versions = tuple[int | None, ...]  # OIDs of inventory, products, product_popularity, customer_candidates
UNKNOWN: Versions = (None, None, None, None)


@dataclass(frozen=True)
class RegionStock:
    """A region's in-stock products that the catalogue knows, sorted by product id (what
    candidates.select expects), with each category's best sellers precomputed as the propensity
    source's picks; plus every in-stock product, known or not, for the fallbacks' stock filter."""

    ids: np.ndarray
    pos: np.ndarray  # catalogue positions
    qty: np.ndarray
    days: np.ndarray
    popularity: np.ndarray  # (n, 3): purchases over 30, 90, 365 days
    taste: TasteShelf | None  # the whole shelf, which the taste features weigh each candidate against
    best: tuple[np.ndarray, ...]  # per catalogue category code: its propensity picks (indexes here)
    stocked: dict[int, float]

    @classmethod
    def build(cls, catalog: Catalog, row: Sequence) -> RegionStock:
        """From one region's arrays: product ids, qty, delivery days, purchases 30/90/365 days, views by
        everyone over 365 days, the category's repeat rate."""
        ids = np.asarray(row[0], dtype=np.int64)
        qty = np.asarray(row[1], dtype=np.float32)
        stocked = dict(zip(ids.tolist(), qty.tolist(), strict=True))
        pos, known = catalog.positions(ids)
        order = np.argsort(ids, kind="stable")
        order = order[known[order]]
        popularity = np.asarray(row[3:6], dtype=np.float64).reshape(3, -1).T[order]
        days = np.asarray(row[2], dtype=np.float32)
        ids, pos = ids[order], pos[order]
        code = catalog.category_code[pos]
        n_cats = int(catalog.category_code.max()) + 1 if len(catalog.category_code) else 0
        best = tuple(
            retrieval.propensity_picks(code, popularity, ids, (c,), retrieval.PER_PROPENSITY_CATEGORY)
            for c in range(n_cats)
        )
        views, repeat = (np.asarray(row[k], dtype=np.float64)[order] for k in (6, 7))
        taste = None  # a signal not known yet (backends._taste_signal): the taste features are missing
        if np.isfinite(views).all() and np.isfinite(repeat).all():
            taste = TasteShelf.build(catalog, pos, qty[order], days[order], *popularity[:, 1:].T, views, repeat)
        return cls(ids, pos, qty[order], days[order], popularity, taste, best, stocked)

    def candidates(self, retrieved: Sequence[int], codes: Iterable[int], tasted: np.ndarray | None) -> np.ndarray:
        """Sorted indexes of a customer's candidates here: the retrieved products still in stock, the
        best sellers of the categories `codes` (catalogue codes of their top propensity categories) and
        the customer's most likely purchases on this shelf by the taste estimate (`tasted`:
        taste.whole_shelf of this shelf)."""
        picks = [self.best[c] for c in codes if 0 <= c < len(self.best)]
        picks.append(retrieval.taste_picks(tasted))
        return retrieval.select(self.ids, retrieved, np.concatenate(picks))


EMPTY_STOCK = RegionStock.build(Catalog.build([]), ([],) * 8)


@dataclass(frozen=True)
class Shelf:
    """One consistent reading of the shared tables; replaced whole, never changed, so a request that
    holds it is not disturbed by a reload."""

    versions: Versions
    products: dict[int, tuple]
    catalog: Catalog
    codes: dict[str, int]  # category id -> catalogue category code
    regions: dict[str, RegionStock]
    loaded_at: float
    has_rankings: bool = False  # customer_rankings existed at the load (a sync since V006 created it)

    @classmethod
    def build(
        cls,
        versions: Versions,
        products: Iterable[Sequence],
        stock: Iterable[Sequence] = (),
        has_rankings: bool = False,
    ) -> Shelf:
        """`products`: (product_id, name, category_id, department, category_name, price, brand) rows;
        `stock`: (region, ids, qty, days, purchases 30d, 90d, 365d, views 365d, repeat rate) rows of
        arrays."""
        by_id = {int(r[0]): tuple(r) for r in products}
        catalog = Catalog.build((p, r[2], r[6], r[5]) for p, r in by_id.items())
        codes = {str(c): int(k) for c, k in zip(catalog.category, catalog.category_code, strict=True)}
        regions = {str(r[0]): RegionStock.build(catalog, r[1:]) for r in stock}
        return cls(versions, by_id, catalog, codes, regions, time.monotonic(), has_rankings)

    def region(self, name: str) -> RegionStock:
        return self.regions.get(name, EMPTY_STOCK)

    @property
    def has_candidates(self) -> bool:
        """Whether customer_candidates existed at the load (the first sync after a deploy creates it)."""
        return self.versions[3] is not None

    def candidates(
        self, region: str, retrieved: Sequence[int], propensity: Mapping[str, float], history: History
    ) -> tuple[RegionStock, np.ndarray, np.ndarray | None]:
        """The region's stock, indexes into it of the customer's candidates (the retrieval's products
        still in stock here, the best sellers of their top propensity categories and their taste picks)
        and the candidates' taste features (None without the taste signals), computed with the picks."""
        stock = self.region(region)
        top = top_categories(propensity, retrieval.PROPENSITY_CATEGORIES)
        codes = [self.codes[c] for c in top if c in self.codes]
        tasted = whole_shelf(self.catalog, stock.taste, history)
        at = stock.candidates(retrieved, codes, tasted)
        return stock, at, tasted[at] if tasted is not None else None


class Shelves:
    """The current shelf, reloaded when a request's table versions differ from it (one reload at a
    time: concurrent requests wait for it rather than each loading the tables)."""

    def __init__(self, load: Callable[[], Awaitable[Shelf]], max_age: float, fresh: float) -> None:
        self.load, self.max_age, self.fresh = load, max_age, fresh
        self.shelf = Shelf.build(UNKNOWN, [])
        self.confirmed_at = -math.inf  # when Postgres last showed the shelf current
        self.loads = 0
        self.lock = asyncio.Lock()

    def stale(self, versions: Versions) -> bool:
        return self.shelf.versions != versions or time.monotonic() - self.shelf.loaded_at > self.max_age

    async def current(self, versions: Versions) -> Shelf:
        """The shelf as of `versions` or newer, reloaded first if a sync swapped a table since."""
        if self.stale(versions):
            async with self.lock:
                if self.stale(versions):  # not reloaded meanwhile by a concurrent request
                    await self.reload()
        self.confirmed_at = time.monotonic()
        return self.shelf

    async def reload(self) -> Shelf:
        self.shelf = await self.load()
        self.loads += 1
        return self.shelf

    def stock(self, region: str, product_ids: list[int]) -> list[float | None] | None:
        """Current quantity of each product in the region (0 = not in stock), or None when Postgres has
        not confirmed the shelf within `fresh` seconds (a fallback then cannot filter by stock)."""
        if time.monotonic() - self.confirmed_at > self.fresh or self.shelf.versions == UNKNOWN:
            return None
        stocked = self.shelf.region(region).stocked
        return [stocked.get(p, 0.0) for p in product_ids]
