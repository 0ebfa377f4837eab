"""Synthetic retail data: the handlers of the GENERATE_* Python UDTFs.

This file is the UDTFs' body in Snowflake (one FunctionPython per handler class) and is imported
as-is by the local generator (scripts/recommendations/synthetic.py), so both produce the same rows
for the same seed.

Fixes against the reference generators:
- every value is a function of the seed and an explicit AS_OF date, never of `datetime.now()`, so a
  re-run yields the same data;
- a product's category follows from its id (id % 12), and events pick products of the event's
  category from the real catalog (the seed's `cat_idx * 200 + randint(0, 160)` pointed at products of
  other categories and past the end of a 2,000-product catalog);
- event prices sit in the category's price band instead of a flat 10-300.
"""

import random
import uuid
from datetime import date, datetime, time, timedelta

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

    def process(self, customer_id, has_app, city, state, loyalty_tier, n_products, as_of):
        rng = random.Random(customer_id)
        n_products = max(int(n_products), len(CATEGORIES))
        per_cat = n_products // len(CATEGORIES)
        num_events = max(10, self.TIER_ACTIVITY.get(loyalty_tier, 60) + rng.randint(-20, 30))
        base = _as_datetime(as_of) - timedelta(days=365)
        sessions = rng.randint(5, num_events // 3 + 1)
        fav = set(rng.sample(CATEGORY_IDS, k=3))
        cat_weights = [3 if c in fav else 1 for c in CATEGORY_IDS]
        group_weights = [35, 15, 8, 5, 5, 7 if has_app else 12]
        order_counter = 0
        for _ in range(num_events):
            ts = base + timedelta(seconds=rng.randint(0, 365 * 86400 - 1))
            session_id = f"S-{customer_id}-{rng.randint(1, sessions)}"
            group = rng.choices(self.GROUPS, weights=group_weights)[0]
            evt = rng.choice(self.EVENT_TYPES[group])
            if has_app:
                channel = rng.choices(["Web", "App", "Store"], weights=[40, 40, 20])[0]
                device = rng.choice(["Mobile", "Desktop", "Tablet"]) if channel != "Store" else "POS"
            else:
                channel = rng.choices(["Web", "Store"], weights=[55, 45])[0]
                device = rng.choice(["Mobile", "Desktop"]) if channel != "Store" else "POS"
            cat_idx = rng.choices(range(len(CATEGORY_IDS)), weights=cat_weights)[0]
            _, _, _, min_p, max_p = CATEGORIES[cat_idx]
            prod_id = cat_idx + len(CATEGORIES) * rng.randint(0, per_cat - 1)
            price = round(rng.uniform(min_p, max_p), 2)
            qty = rng.choice([1, 1, 1, 2, 3]) if evt in self.QTY_EVENTS else 0
            cart_val = round(price * qty, 2) if qty > 0 else None
            order_id = None
            order_total = None
            store_id = rng.randint(0, 499) if channel == "Store" else None
            promo = rng.choice(self.PROMOS) if evt == "order_complete" and rng.random() < 0.15 else None
            pts_earned = rng.randint(10, 200) if evt == "points_earned" else 0
            pts_redeemed = rng.randint(50, 500) if evt == "points_redeemed" else 0
            if evt in ("order_complete", "pos_purchase"):
                order_counter += 1
                order_id = f"ORD-{customer_id}-{order_counter}"
                order_total = round(price * max(qty, 1) * rng.uniform(0.85, 1.15), 2)
            yield (
                str(uuid.UUID(int=rng.getrandbits(128))),
                customer_id,
                evt,
                ts,
                channel,
                session_id,
                device,
                prod_id,
                CATEGORY_IDS[cat_idx],
                price,
                qty,
                cart_val,
                order_id,
                order_total,
                store_id,
                promo,
                pts_earned,
                pts_redeemed,
            )
