"""Synthetic retail data: the handlers of the GENERATE_* Python UDTFs.

This file is the UDTFs' body in Snowflake (one FunctionPython per handler class) and is imported
as-is by the local generator (scripts/recommendations/generate.py), so both produce the same rows
for the same seed.

Fixes against the reference generators:
- every value is a function of the seed and an explicit AS_OF date, never of `datetime.now()`, so a
  re-run yields the same data;
- a product's category follows from its id (id % 12), and events pick products of the event's
  category from the real catalog (the seed's `cat_idx * 200 + randint(0, 160)` pointed at products of
  other categories and past the end of a 2,000-product catalog);
- an event's price is its product's catalogue price instead of a flat 10-300.

Behaviour with structure, so a ranking model has something to learn beyond the category:
- product appeal with a long tail (log-normal) that drifts over the year (a trend per product);
- a favourite brand per department for most customers;
- a price level per customer (where in a category's price range they usually buy) and a sensitivity
  to prices away from it;
- a preference for fast delivery to the customer's region (ZIP code's first digit);
- no purchase of a product out of stock in the customer's region, fewer when stock runs low;
- repeat purchases of the same product in consumable categories.
The weights are computed with numpy per customer; the random draws come from the customer's own
`random.Random`, so the rows depend only on the seed, AS_OF and the arguments.
"""

import bisect
import random
import uuid
from datetime import date, datetime, time, timedelta

import numpy as np

CATEGORIES = [
    ("CAT-001", "Apparel", "Womens Clothing", 25.0, 250.0),
    ("CAT-002", "Apparel", "Mens Clothing", 30.0, 200.0),
    ("CAT-003", "Apparel", "Kids Clothing", 15.0, 80.0),
    ("CAT-004", "Footwear", "Athletic Shoes", 60.0, 200.0),
    ("CAT-005", "Footwear", "Casual Shoes", 40.0, 150.0),
    ("CAT-006", "Accessories", "Bags & Wallets", 30.0, 400.0),
    ("CAT-007", "Accessories", "Jewelry", 20.0, 500.0),
    ("CAT-008", "Home", "Bedding", 50.0, 300.0),
    ("CAT-009", "Home", "Kitchen", 15.0, 200.0),
    ("CAT-010", "Beauty", "Skincare", 15.0, 150.0),
    ("CAT-011", "Beauty", "Makeup", 10.0, 80.0),
    ("CAT-012", "Electronics", "Audio", 30.0, 400.0),
]
CATEGORY_IDS = [c[0] for c in CATEGORIES]
LOYALTY_TIERS = [
    ("TIER-001", "Bronze", 0, 499, 1.0, 0),
    ("TIER-002", "Silver", 500, 1499, 1.25, 5),
    ("TIER-003", "Gold", 1500, 4999, 1.5, 10),
    ("TIER-004", "Platinum", 5000, 99999, 2.0, 15),
]
# Fulfilment regions, their warehouse and delivery-day band.
REGIONS = [
    ("Northeast", "WH-NE-01", 1, 3),
    ("Southeast", "WH-SE-01", 1, 4),
    ("Midwest", "WH-MW-01", 2, 4),
    ("South", "WH-SO-01", 2, 5),
    ("West", "WH-WE-01", 2, 5),
]
# First digit of a ZIP code -> fulfilment region (the API maps request ZIP codes the same way).
ZIP_REGIONS = {
    "0": "Northeast",
    "1": "Northeast",
    "2": "Southeast",
    "3": "Southeast",
    "4": "Midwest",
    "5": "Midwest",
    "6": "Midwest",
    "7": "South",
    "8": "West",
    "9": "West",
}
CONSUMABLE_CATEGORIES = ("CAT-010", "CAT-011")  # skincare and makeup are bought again
STORE_CITIES = [
    ("New York", "NY", "Northeast"),
    ("Los Angeles", "CA", "West"),
    ("Chicago", "IL", "Midwest"),
    ("Houston", "TX", "South"),
    ("Phoenix", "AZ", "West"),
    ("Dallas", "TX", "South"),
    ("Seattle", "WA", "West"),
    ("Miami", "FL", "Southeast"),
    ("Atlanta", "GA", "Southeast"),
    ("Denver", "CO", "West"),
]


def _as_datetime(as_of) -> datetime:
    if isinstance(as_of, datetime):
        return as_of
    if isinstance(as_of, date):
        return datetime.combine(as_of, time())
    return datetime.fromisoformat(str(as_of))


class StoreGenerator:
    TYPES = ["Flagship", "Standard", "Outlet", "Express"]
    LOCATIONS = ["Mall", "Strip Center", "Standalone", "Downtown", "Suburban"]

    def process(self, seed):
        rng = random.Random(f"store-{seed}")
        city, state, region = rng.choice(STORE_CITIES)
        yield (
            seed,
            f"Store_{seed:04d}",
            rng.choice(self.TYPES),
            city,
            state,
            region,
            rng.choice(self.LOCATIONS),
            rng.randint(5000, 34999),
        )


class ProductGenerator:
    BRANDS = {
        "Apparel": ["NorthStyle", "UrbanThread", "ClassicCo", "TrendLine", "EverWear"],
        "Footwear": ["StridePro", "WalkEasy", "RunFast", "ComfortStep", "TrailBlaze"],
        "Accessories": ["LuxCarry", "DailyGem", "TrendSet", "FineCraft", "StyleVault"],
        "Home": ["HomeNest", "CozyLife", "ModernLiv", "PureLinen", "CraftHome"],
        "Beauty": ["GlowUp", "PureSkin", "FreshFace", "NaturalGlow", "LuxBeauty"],
        "Electronics": ["SoundMax", "AudioPeak", "BeatWave", "ClearTone", "BassDrop"],
    }
    ADJECTIVES = ["Premium", "Classic", "Modern", "Essential", "Deluxe", "Ultra", "Pro", "Signature", "Everyday"]
    NOUNS = {
        "Womens Clothing": ["Blouse", "Dress", "Jacket", "Skirt", "Cardigan"],
        "Mens Clothing": ["Shirt", "Polo", "Chinos", "Blazer", "Sweater"],
        "Kids Clothing": ["Tee", "Hoodie", "Shorts", "Romper", "Jacket"],
        "Athletic Shoes": ["Runner", "Trainer", "Court Shoe", "Cleats", "Trail Shoe"],
        "Casual Shoes": ["Loafer", "Sneaker", "Sandal", "Boot", "Slip-On"],
        "Bags & Wallets": ["Tote", "Crossbody", "Wallet", "Backpack", "Clutch"],
        "Jewelry": ["Necklace", "Bracelet", "Ring", "Earrings", "Watch"],
        "Bedding": ["Sheet Set", "Comforter", "Pillow", "Duvet", "Blanket"],
        "Kitchen": ["Mug Set", "Cutting Board", "Knife Set", "Pan", "Mixer"],
        "Skincare": ["Moisturizer", "Serum", "Cleanser", "Sunscreen", "Mask"],
        "Makeup": ["Foundation", "Lipstick", "Mascara", "Palette", "Blush"],
        "Audio": ["Headphones", "Earbuds", "Speaker", "Soundbar", "Turntable"],
    }

    def process(self, seed):
        rng = random.Random(f"product-{seed}")
        cat_id, dept, cat_name, min_p, max_p = CATEGORIES[seed % len(CATEGORIES)]
        brand = rng.choice(self.BRANDS[dept])
        name = f"{brand} {rng.choice(self.ADJECTIVES)} {rng.choice(self.NOUNS[cat_name])}"
        price = round(rng.uniform(min_p, max_p), 2)
        weight = round(rng.uniform(0.2, 15.0), 1)
        is_perishable = dept == "Beauty" and rng.random() < 0.3
        ptype = "daily_staple" if price < 50 else ("mid_range" if price < 150 else "premium")
        yield (seed, name, cat_id, dept, cat_name, brand, price, weight, is_perishable, ptype)


class InventoryGenerator:
    """One row per region for a product; 85% of (product, region) pairs are in stock."""

    def process(self, product_id, seed):
        rng = random.Random(f"inventory-{seed}-{product_id}")
        for region, warehouse, lo, hi in REGIONS:
            qty = rng.randint(5, 500) if rng.random() < 0.85 else 0
            yield (product_id, region, warehouse, qty, rng.randint(lo, hi))


class CustomerGenerator:
    TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
    TIER_WEIGHTS = [0.40, 0.30, 0.20, 0.10]
    DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "aol.com"]

    def __init__(self):
        from faker import Faker

        self.fake = Faker("en_US")

    def process(self, seed, as_of):
        fake = self.fake
        fake.seed_instance(seed)
        rng = random.Random(f"customer-{seed}")
        today = _as_datetime(as_of).date()
        gender = rng.choices(["Female", "Male", "Non-binary"], weights=[55, 40, 5])[0]
        if gender == "Female":
            first = fake.first_name_female()
        elif gender == "Male":
            first = fake.first_name_male()
        else:
            first = fake.first_name()
        last = fake.last_name()
        email = f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@{rng.choice(self.DOMAINS)}"
        dob = today - timedelta(days=rng.randint(18 * 365, 75 * 365))
        since = today - timedelta(days=rng.randint(0, 10 * 365))
        yield (
            seed + 1000000,
            email,
            fake.numerify("###-###-####"),
            first,
            last,
            dob,
            gender,
            fake.street_address(),
            fake.city(),
            fake.state_abbr(),
            fake.zipcode(),
            since,
            rng.choices(self.TIERS, weights=self.TIER_WEIGHTS)[0],
            rng.random() < 0.45,
            rng.random() < 0.70,
            rng.random() < 0.35,
        )


# Behaviour weights, in log-odds units.
APPEAL_SIGMA = 1.1  # spread of product appeal: a long tail of best sellers
TREND_SIGMA = 0.9  # how far a product's log appeal moves over the year
BRAND_BONUS = 2.0  # a customer's favourite brand of a department
FAVOURITE_BRAND_SHARE = 0.7  # chance a customer has one in a department
PRICE_SENSITIVITY = (1.0, 5.0)  # per customer, per unit of price-rank distance from their level
DELIVERY_WEIGHT = (0.0, 0.6)  # per customer, per delivery day beyond the first
LOW_STOCK_QTY, LOW_STOCK_PENALTY = 40, 0.7  # few units left: fewer sizes and colours to buy
REPEAT_SHARE = 0.55  # consumables: chance to buy a product bought before again
_WORLDS: dict = {}


class _World:
    """The catalogue as the event generator sees it, products ordered by category: appeal, trend,
    brand, price rank within the category, and per region the stock and delivery days."""

    def __init__(self, n_products, seed):
        pg, ig = ProductGenerator(), InventoryGenerator()
        order = sorted(range(n_products), key=lambda i: (i % len(CATEGORIES), i))
        products = [next(pg.process(i)) for i in order]
        self.ids = [p[0] for p in products]
        self.price = [p[6] for p in products]
        self.cat = [i % len(CATEGORIES) for i in order]
        self.start = [bisect.bisect_left(self.cat, k) for k in range(len(CATEGORIES) + 1)]
        brands = sorted({b for bs in ProductGenerator.BRANDS.values() for b in bs})
        self.brand = np.array([brands.index(p[5]) for p in products])
        self.n_brands = len(brands)
        self.dept_brands = [[brands.index(b) for b in bs] for bs in ProductGenerator.BRANDS.values()]
        self.price_rank = np.zeros(n_products)
        for lo, hi in zip(self.start, self.start[1:], strict=False):
            ranks = np.argsort(np.argsort(self.price[lo:hi], kind="stable"), kind="stable")
            self.price_rank[lo:hi] = ranks / max(hi - lo - 1, 1)
        draws = [random.Random(f"appeal-{pid}") for pid in self.ids]
        self.appeal = np.array([r.gauss(0, APPEAL_SIGMA) for r in draws])
        self.trend = np.array([r.gauss(0, TREND_SIGMA) for r in draws])
        stock = [list(ig.process(pid, seed)) for pid in self.ids]
        self.region = {
            region: (np.array([s[j][3] for s in stock], dtype=float), np.array([s[j][4] for s in stock], dtype=float))
            for j, (region, *_) in enumerate(REGIONS)
        }


def build_world(n_products, seed):
    key = (n_products, seed)
    if key not in _WORLDS:
        _WORLDS[key] = _World(n_products, seed)
    return _WORLDS[key]


class Taste:
    """One customer's product choice: browsing follows appeal and brand; buying also price, delivery
    days and stock in the customer's region, the product's trend by month, and repeats."""

    def __init__(self, rng, world, region):
        self.world = world
        qty, days = world.region[region]
        bonus = np.zeros(world.n_brands)
        for brands in world.dept_brands:
            if rng.random() < FAVOURITE_BRAND_SHARE:
                bonus[rng.choice(brands)] = BRAND_BONUS
        level, sensitivity = rng.uniform(0.1, 0.9), rng.uniform(*PRICE_SENSITIVITY)
        hurry = rng.uniform(*DELIVERY_WEIGHT)
        look = world.appeal + bonus[world.brand]
        self.browse_cum = np.cumsum(np.exp(0.6 * look))
        self.buy_base = (
            look
            - sensitivity * np.abs(world.price_rank - level)
            - hurry * (days - 1)
            - LOW_STOCK_PENALTY * (qty < LOW_STOCK_QTY)
        )
        self.in_stock = qty > 0
        self.months: dict = {}
        self.bought: dict = {}

    def _pick(self, cum, k, rng):
        lo, hi = self.world.start[k], self.world.start[k + 1]
        floor = cum[lo - 1] if lo else 0.0
        total = cum[hi - 1] - floor
        if hi <= lo or total <= 0:
            return None
        j = int(np.searchsorted(cum, floor + rng.random() * total, side="right"))
        return min(max(j, lo), hi - 1)

    def browse(self, k, rng):
        return self._pick(self.browse_cum, k, rng)

    def buy(self, k, month, rng):
        before = [j for j in self.bought.get(k, ()) if self.in_stock[j]]
        if before and CATEGORY_IDS[k] in CONSUMABLE_CATEGORIES and rng.random() < REPEAT_SHARE:
            return rng.choice(before)
        cum = self.months.get(month)
        if cum is None:
            weights = np.exp(self.buy_base + self.world.trend * (month - 5.5) / 12) * self.in_stock
            cum = self.months[month] = np.cumsum(weights)
        j = self._pick(cum, k, rng)
        return self.browse(k, rng) if j is None else j

    def after(self, k, month, rng):
        """A post-purchase event names a product bought before, when there is one."""
        before = [j for js in self.bought.values() for j in js]
        return rng.choice(before) if before else self.buy(k, month, rng)


class EventGenerator:
    EVENT_TYPES = {
        "browse": ["page_view", "product_view", "category_browse", "search", "add_to_wishlist"],
        "cart": ["add_to_cart", "remove_from_cart", "cart_view", "abandoned_cart"],
        "purchase": ["checkout_start", "payment", "order_complete"],
        "post": ["order_shipped", "order_delivered", "return_initiated", "review_submitted"],
        "loyalty": ["points_earned", "points_redeemed", "tier_upgrade"],
        "store": ["store_visit", "pos_purchase"],
    }
    GROUPS = ["browse", "cart", "purchase", "post", "loyalty", "store"]
    PROMOS = ["SPRING20", "SUMMER40", "BTS25", "BLACKFRI", "HOLIDAY15", "NEWYEAR30", "VIPONLY", "FREESHIP"]
    TIER_ACTIVITY = {"Bronze": 40, "Silver": 70, "Gold": 110, "Platinum": 160}
    QTY_EVENTS = ("add_to_cart", "order_complete", "pos_purchase")
    PURCHASES = ("order_complete", "pos_purchase")

    def process(self, customer_id, has_app, zip_code, loyalty_tier, n_products, seed, as_of):
        rng = random.Random(customer_id)
        world = build_world(max(int(n_products), len(CATEGORIES)), int(seed))
        taste = Taste(rng, world, ZIP_REGIONS.get(str(zip_code or "")[:1], REGIONS[0][0]))
        num_events = max(10, self.TIER_ACTIVITY.get(loyalty_tier, 60) + rng.randint(-20, 30))
        base = _as_datetime(as_of) - timedelta(days=365)
        sessions = rng.randint(5, num_events // 3 + 1)
        fav = set(rng.sample(CATEGORY_IDS, k=3))
        cat_weights = [3 if c in fav else 1 for c in CATEGORY_IDS]
        group_weights = [35, 15, 8, 5, 5, 7 if has_app else 12]
        order_counter = 0
        # in time order, so a repeat purchase follows the first one
        for offset in sorted(rng.randint(0, 365 * 86400 - 1) for _ in range(num_events)):
            month = min(offset * 12 // (365 * 86400), 11)
            group = rng.choices(self.GROUPS, weights=group_weights)[0]
            evt = rng.choice(self.EVENT_TYPES[group])
            if has_app:
                channel = rng.choices(["Web", "App", "Store"], weights=[40, 40, 20])[0]
                device = rng.choice(["Mobile", "Desktop", "Tablet"]) if channel != "Store" else "POS"
            else:
                channel = rng.choices(["Web", "Store"], weights=[55, 45])[0]
                device = rng.choice(["Mobile", "Desktop"]) if channel != "Store" else "POS"
            k = rng.choices(range(len(CATEGORY_IDS)), weights=cat_weights)[0]
            if group == "post":
                j = taste.after(k, month, rng)
            elif group in ("cart", "purchase") or evt == "pos_purchase":
                j = taste.buy(k, month, rng)
            else:
                j = taste.browse(k, rng)
            k = world.cat[j]
            if evt in self.PURCHASES:
                taste.bought.setdefault(k, []).append(j)
            price = world.price[j]
            qty = rng.choice([1, 1, 1, 2, 3]) if evt in self.QTY_EVENTS else 0
            order_id = order_total = None
            if evt in self.PURCHASES:
                order_counter += 1
                order_id = f"ORD-{customer_id}-{order_counter}"
                order_total = round(price * max(qty, 1) * rng.uniform(0.85, 1.15), 2)
            yield (
                str(uuid.UUID(int=rng.getrandbits(128))),
                customer_id,
                evt,
                base + timedelta(seconds=offset),
                channel,
                f"S-{customer_id}-{rng.randint(1, sessions)}",
                device,
                world.ids[j],
                CATEGORY_IDS[k],
                price,
                qty,
                round(price * qty, 2) if qty > 0 else None,
                order_id,
                order_total,
                rng.randint(0, 499) if channel == "Store" else None,
                rng.choice(self.PROMOS) if evt == "order_complete" and rng.random() < 0.15 else None,
                rng.randint(10, 200) if evt == "points_earned" else 0,
                rng.randint(50, 500) if evt == "points_redeemed" else 0,
            )
