"""Names, column specs and SQL of the recommendations data plane.

Shared by the Pulumi component (infra/recommendations/component.py) and the post-deploy loads
(scripts/recommendations), so the tables the program declares are the tables the loads fill.
"""

from __future__ import annotations

from pathlib import Path

from infra.naming import Catalog, quote
from infra.sqlfiles import SQL_DIR, named_queries, render_sql

GENERATORS_FILE: Path = SQL_DIR / "recommendations" / "udtf" / "generate.py"
PROPENSITY_UDF_FILE: Path = SQL_DIR / "recommendations" / "udf" / "predict_propensity.py"

Cols = list[tuple[str, str]]

STORES: Cols = [
    ("STORE_ID", "NUMBER(38,0)"),
    ("STORE_CODE", "VARCHAR"),
    ("STORE_TYPE", "VARCHAR"),
    ("CITY", "VARCHAR"),
    ("STATE", "VARCHAR"),
    ("REGION", "VARCHAR"),
    ("LOCATION_TYPE", "VARCHAR"),
    ("SQUARE_FEET", "NUMBER(38,0)"),
]
PRODUCT_CATEGORIES: Cols = [
    ("CATEGORY_ID", "VARCHAR"),
    ("DEPARTMENT", "VARCHAR"),
    ("CATEGORY_NAME", "VARCHAR"),
    ("MIN_PRICE", "NUMBER(10,2)"),
    ("MAX_PRICE", "NUMBER(10,2)"),
]
LOYALTY_TIERS: Cols = [
    ("TIER_ID", "VARCHAR"),
    ("TIER_NAME", "VARCHAR"),
    ("MIN_ANNUAL_SPEND", "NUMBER(38,0)"),
    ("MAX_ANNUAL_SPEND", "NUMBER(38,0)"),
    ("POINTS_MULTIPLIER", "FLOAT"),
    ("DISCOUNT_PCT", "NUMBER(38,0)"),
]
PRODUCT_CATALOG: Cols = [
    ("PRODUCT_ID", "NUMBER(38,0)"),
    ("PRODUCT_NAME", "VARCHAR"),
    ("CATEGORY_ID", "VARCHAR"),
    ("DEPARTMENT", "VARCHAR"),
    ("CATEGORY_NAME", "VARCHAR"),
    ("BRAND", "VARCHAR"),
    ("PRICE", "FLOAT"),
    ("WEIGHT_LBS", "FLOAT"),
    ("IS_PERISHABLE", "BOOLEAN"),
    ("PRODUCT_TYPE", "VARCHAR"),
]
STOCK: Cols = [  # what the inventory generator yields per (product, region)
    ("PRODUCT_ID", "NUMBER(38,0)"),
    ("REGION", "VARCHAR"),
    ("WAREHOUSE_NAME", "VARCHAR"),
    ("QTY_ON_HAND", "NUMBER(38,0)"),
    ("EST_DELIVERY_DAYS", "NUMBER(38,0)"),
]
# LAST_UPDATED: when the stock level was taken; the generate step stamps its AS_OF (deterministic reruns).
INVENTORY: Cols = [*STOCK, ("LAST_UPDATED", "TIMESTAMP_NTZ")]
CUSTOMERS: Cols = [
    ("CUSTOMER_ID", "NUMBER(38,0)"),
    ("EMAIL", "VARCHAR"),
    ("PHONE", "VARCHAR"),
    ("FIRST_NAME", "VARCHAR"),
    ("LAST_NAME", "VARCHAR"),
    ("DATE_OF_BIRTH", "DATE"),
    ("GENDER", "VARCHAR"),
    ("STREET_ADDRESS", "VARCHAR"),
    ("CITY", "VARCHAR"),
    ("STATE", "VARCHAR"),
    ("ZIP_CODE", "VARCHAR"),
    ("CUSTOMER_SINCE_DATE", "DATE"),
    ("LOYALTY_TIER", "VARCHAR"),
    ("HAS_APP", "BOOLEAN"),
    ("EMAIL_SUBSCRIBER", "BOOLEAN"),
    ("SMS_SUBSCRIBER", "BOOLEAN"),
]
EVENT_STREAM: Cols = [
    ("EVENT_ID", "VARCHAR"),
    ("CUSTOMER_ID", "NUMBER(38,0)"),
    ("EVENT_TYPE", "VARCHAR"),
    ("EVENT_TIMESTAMP", "TIMESTAMP_NTZ"),
    ("CHANNEL", "VARCHAR"),
    ("SESSION_ID", "VARCHAR"),
    ("DEVICE_TYPE", "VARCHAR"),
    ("PRODUCT_ID", "NUMBER(38,0)"),
    ("PRODUCT_CATEGORY", "VARCHAR"),
    ("PRODUCT_PRICE", "FLOAT"),
    ("QUANTITY", "NUMBER(38,0)"),
    ("CART_VALUE", "FLOAT"),
    ("ORDER_ID", "VARCHAR"),
    ("ORDER_TOTAL", "FLOAT"),
    ("STORE_ID", "NUMBER(38,0)"),
    ("PROMO_CODE", "VARCHAR"),
    ("POINTS_EARNED", "NUMBER(38,0)"),
    ("POINTS_REDEEMED", "NUMBER(38,0)"),
]
USER_PRODUCT_RECOMMENDATIONS: Cols = [
    ("USER_ID", "NUMBER(38,0)"),
    ("RANK", "NUMBER(38,0)"),
    ("PRODUCT_ID", "NUMBER(38,0)"),
    ("CATEGORY_ID", "VARCHAR"),
    ("PURCHASE_COUNT", "NUMBER(38,0)"),
    ("SOURCE", "VARCHAR"),
]
CUSTOMER_PROPENSITY: Cols = [
    ("CUSTOMER_ID", "NUMBER(38,0)"),
    ("CATEGORY_ID", "VARCHAR"),
    ("PROPENSITY_SCORE", "FLOAT"),
    ("SCORED_AT", "TIMESTAMP_NTZ"),
]

# name -> (schema, columns); the tables the program declares and the loads fill.
TABLES: dict[str, tuple[str, Cols]] = {
    "STORES": ("BRONZE", STORES),
    "PRODUCT_CATEGORIES": ("BRONZE", PRODUCT_CATEGORIES),
    "LOYALTY_TIERS": ("BRONZE", LOYALTY_TIERS),
    "PRODUCT_CATALOG": ("BRONZE", PRODUCT_CATALOG),
    "INVENTORY": ("BRONZE", INVENTORY),
    "CUSTOMERS": ("BRONZE", CUSTOMERS),
    "EVENT_STREAM": ("BRONZE", EVENT_STREAM),
    "USER_PRODUCT_RECOMMENDATIONS": ("GOLD", USER_PRODUCT_RECOMMENDATIONS),
    "CUSTOMER_PROPENSITY": ("GOLD", CUSTOMER_PROPENSITY),
}
# Each table's business context, as its Snowflake comment.
COMMENTS = {
    "STORES": "stores with their type, city, state and region (reference data the loads generate)",
    "PRODUCT_CATEGORIES": "product categories by department with their price range (reference data)",
    "LOYALTY_TIERS": "loyalty tiers: annual spend bands, points multiplier and discount (reference data)",
    "PRODUCT_CATALOG": "products with category, brand and price: the catalogue recommendations draw from",
    "INVENTORY": "stock per product and store, with when it was last updated",
    "CUSTOMERS": "customers with contact details, address and loyalty tier (generated)",
    "EVENT_STREAM": "customer events (views, carts, purchases) the features and the models learn from",
    "USER_PRODUCT_RECOMMENDATIONS": "each customer's top products (batch recommendations exported to DynamoDB)",
    "CUSTOMER_PROPENSITY": "each customer's purchase propensity per category (the propensity model's scores)",
}
# What each duty's steps write, granted on each table (so it holds from the moment the table exists; a
# schema's future grant made beside the table may come after it): `generate` replaces the BRONZE inputs
# as LOADER; `build` and `train` INSERT OVERWRITE the GOLD outputs as TRANSFORMER.
WRITES: dict[str, dict[str, list[str]]] = {
    "LOADER": {k: ["INSERT", "DELETE"] for k, (schema, _) in TABLES.items() if schema == "BRONZE"},
    "TRANSFORMER": {"USER_PRODUCT_RECOMMENDATIONS": ["INSERT"], "CUSTOMER_PROPENSITY": ["INSERT"]},
}
# FEATURE_STORE views of what the ranking model reads about products and customers' histories.
PAIR_SIGNALS = ("PRODUCT_POPULARITY", "CUSTOMER_PRODUCT_INTERACTIONS")
# The feature store's own tags, declared so the role that trains opens it without creating them
# (snowflake-ml's FeatureStore in FAIL_IF_NOT_EXIST mode checks they exist; they tag its feature views).
FEATURE_STORE_TAGS = ("SNOWML_FEATURE_STORE_OBJECT", "SNOWML_FEATURE_VIEW_METADATA")
REGISTRY_HANDLER_FILE: Path = SQL_DIR / "recommendations" / "ml_registry.py"
# Every object of the capability; the key is the object's name.
CATALOG = Catalog(
    {
        k: (schema, k)
        for k, schema in {
            **{k: v[0] for k, v in TABLES.items()},
            "CUSTOMER_360": "GOLD",
            "CUSTOMER_CATEGORY_FEATURES": "FEATURE_STORE",
            **dict.fromkeys(PAIR_SIGNALS, "FEATURE_STORE"),
            "CUSTOMER_CANDIDATES": "FEATURE_STORE",
            "MODEL_STAGE": "ML_REGISTRY",
            "PREDICT_PROPENSITY": "ML_REGISTRY",
            "REGISTRY_OPS": "ML_REGISTRY",
            **dict.fromkeys(FEATURE_STORE_TAGS, "FEATURE_STORE"),
            "GENERATE_STORE": "BRONZE",
            "GENERATE_PRODUCT": "BRONZE",
            "GENERATE_INVENTORY": "BRONZE",
            "GENERATE_RETAIL_CUSTOMER": "BRONZE",
            "GENERATE_RETAIL_EVENTS": "BRONZE",
            "REFRESH_RECOMMENDATIONS_TASK": "STREAMS_TASKS",
            "REFRESH_PROPENSITY_TASK": "STREAMS_TASKS",
        }.items()
    }
)

# UDTF name -> (handler class, arguments, output columns, packages); every UDTF's body is the whole
# handler file, which imports numpy.
UDTFS: dict[str, tuple[str, list[tuple[str, str]], Cols, list[str]]] = {
    "GENERATE_STORE": ("StoreGenerator", [("SEED", "NUMBER")], STORES, ["numpy"]),
    "GENERATE_PRODUCT": ("ProductGenerator", [("SEED", "NUMBER")], PRODUCT_CATALOG, ["numpy"]),
    "GENERATE_INVENTORY": (
        "InventoryGenerator",
        [("PRODUCT_ID", "NUMBER"), ("SEED", "NUMBER")],
        STOCK,
        ["numpy"],
    ),
    "GENERATE_RETAIL_CUSTOMER": (
        "CustomerGenerator",
        [("SEED", "NUMBER"), ("AS_OF", "DATE")],
        CUSTOMERS,
        ["faker", "numpy"],
    ),
    "GENERATE_RETAIL_EVENTS": (
        "EventGenerator",
        [
            ("CUSTOMER_ID", "NUMBER"),
            ("HAS_APP", "BOOLEAN"),
            ("ZIP_CODE", "VARCHAR"),
            ("LOYALTY_TIER", "VARCHAR"),
            ("N_PRODUCTS", "NUMBER"),
            ("SEED", "NUMBER"),
            ("AS_OF", "DATE"),
        ],
        EVENT_STREAM,
        ["numpy"],
    ),
}


def udtf_return_type(cols: Cols) -> str:
    return "TABLE (" + ", ".join(f"{c} {t}" for c, t in cols) + ")"


def q(database: str, obj: str) -> str:
    """Fully qualified, quoted name of a recommendations object."""
    return CATALOG.fq(database, obj)


def create_table_sql(database: str, name: str) -> str:
    _, cols = TABLES[name]
    return create_table_if_missing(q(database, name), cols)


def create_table_if_missing(table: str, cols: Cols) -> str:
    """What a declared table is on the local path, from the same column specs."""
    return f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{quote(c)} {t}" for c, t in cols) + ")"


def customer_360_sql(database: str, as_of: str = "CURRENT_TIMESTAMP()") -> str:
    """The CUSTOMER_360 query; `as_of` is the clock (a literal in tests and local loads)."""
    return render_sql(
        "recommendations/customer_360.sql",
        customers=q(database, "CUSTOMERS"),
        events=q(database, "EVENT_STREAM"),
        as_of=as_of,
    )


def recommendations_sql(database: str, top_n: int = 5) -> str:
    return render_sql(
        "recommendations/user_product_recommendations.sql",
        events=q(database, "EVENT_STREAM"),
        customer_360=q(database, "CUSTOMER_360"),
        inventory=q(database, "INVENTORY"),
        top_n=str(int(top_n)),
    )


def pair_signals_sql(database: str, feature_end: str) -> dict[str, str]:
    """PAIR_SIGNALS view name -> its query over events before `feature_end` (the views' clock is
    CURRENT_TIMESTAMP(); training and evaluation use past cut-offs)."""
    queries = named_queries(
        "recommendations/pair_signals.sql",
        events=q(database, "EVENT_STREAM"),
        products=q(database, "PRODUCT_CATALOG"),
        feature_end=feature_end,
    )
    return {name.upper(): body for name, body in queries.items()}


def category_features_sql(database: str, feature_end: str, label_days: int = 30) -> str:
    """Per (customer, category) features from events before `feature_end`, and the label: a purchase
    in that category within `label_days` after it (always 0 when scoring today)."""
    return render_sql(
        "recommendations/customer_category_features.sql",
        customers=q(database, "CUSTOMERS"),
        events=q(database, "EVENT_STREAM"),
        categories=q(database, "PRODUCT_CATEGORIES"),
        feature_end=feature_end,
        label_days=str(int(label_days)),
    )


def refresh_recommendations_sql(database: str) -> str:
    return render_sql(
        "recommendations/refresh_recommendations.sql",
        target=q(database, "USER_PRODUCT_RECOMMENDATIONS"),
        select=recommendations_sql(database),
    )


def refresh_propensity_sql(database: str, feature_columns: list[str]) -> str:
    return render_sql(
        "recommendations/refresh_propensity.sql",
        target=q(database, "CUSTOMER_PROPENSITY"),
        features=q(database, "CUSTOMER_CATEGORY_FEATURES"),
        udf=q(database, "PREDICT_PROPENSITY"),
        args=", ".join(quote(c) for c in feature_columns),
    )


# Per-source bounds of the retrieval's warehouse sources (sql/recommendations/candidates.sql): some 350
# products a customer at `make local`'s scale; with the taste and propensity picks, some 690 are ranked.
RETRIEVAL_LIMITS = {
    "neighbours": 20,
    "per_source": 60,
    "categories": 12,
    "per_category": 25,
    "brands": 3,
    "per_brand": 20,
}


# First digit of a customer's ZIP code -> their home fulfilment region, as the API maps a request's ZIP
# (services/features/pair.py's ZIP_REGIONS; tests/recommendations/test_plan.py holds them equal).
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


def home_region_sql(zip_column: str = "ZIP_CODE") -> str:
    """ZIP_REGIONS as a SQL CASE expression over a ZIP code column."""
    whens = " ".join(f"WHEN SUBSTR({zip_column}, 1, 1) = '{d}' THEN '{r}'" for d, r in ZIP_REGIONS.items())
    return f"CASE {whens} END"


def candidates_sql(database: str, feature_end: str, **limits: int) -> str:
    """Each customer's retrieved candidates (customer, product, source, score) as of `feature_end`, in
    stock in their home region. The CUSTOMER_CANDIDATES view is this as of now, which the sync hands
    to the API; training and evaluation run it at past cut-offs."""
    bounds = {**RETRIEVAL_LIMITS, **limits}
    return named_queries(
        "recommendations/candidates.sql",
        events=q(database, "EVENT_STREAM"),
        products=q(database, "PRODUCT_CATALOG"),
        customers=q(database, "CUSTOMERS"),
        inventory=q(database, "INVENTORY"),
        feature_end=feature_end,
        home_region=home_region_sql(),
        **{k: str(int(v)) for k, v in bounds.items()},
    )["customer_candidates"]
