"""PREDICT_PROPENSITY: the propensity model's scoring code, shared by Snowflake and the local path.

In Snowflake this file is the body of a Python UDF that imports the model artifact from the
ML_REGISTRY model stage (the `train` step uploads it); locally scripts/recommendations/propensity.py
imports it and scores the same feature rows with `score_rows`.
"""

# The model's inputs, in order: the columns of FEATURE_STORE.CUSTOMER_CATEGORY_FEATURES it reads.
FEATURES = [
    "CATEGORY_IDX",
    "AGE",
    "TENURE_MONTHS",
    "LOYALTY_TIER_NUM",
    "HAS_APP",
    "TOTAL_EVENTS",
    "TOTAL_ORDERS",
    "LIFETIME_SPEND",
    "DAYS_SINCE_PURCHASE",
    "CAT_EVENTS",
    "CAT_VIEWS",
    "CAT_CART_ADDS",
    "CAT_PURCHASES",
    "CAT_SPEND",
    "CAT_EVENT_SHARE",
    "DAYS_SINCE_CAT_EVENT",
]
MODEL_FILE = "propensity_model.json"
_booster = None


def load_booster(path=None):
    """The XGBoost booster, from `path` or from the UDF's import directory."""
    import xgboost as xgb

    booster = xgb.Booster()
    if path is not None:
        booster.load_model(path)
        return booster
    # In Snowflake: MODEL_LOCATION (prepended to this file by infra/recommendations/component.py) names the
    # staged artifact, read at first call so the UDF exists before the first model is trained.
    from snowflake.snowpark.files import SnowflakeFile

    with SnowflakeFile.open(globals()["MODEL_LOCATION"], "rb", require_scoped_url=False) as f:
        booster.load_model(bytearray(f.read()))
    return booster


def score_rows(booster, rows):
    """Probabilities for a sequence of feature rows (FEATURES order); NULLs become NaN (missing)."""
    import numpy as np
    import xgboost as xgb

    matrix = np.array([[np.nan if v is None else float(v) for v in row] for row in rows], dtype=np.float32)
    if matrix.size == 0:
        return []
    return booster.predict(xgb.DMatrix(matrix, feature_names=FEATURES)).tolist()


def predict(*features):
    """Scalar UDF handler: one (customer, category) row in, one probability out."""
    global _booster
    if _booster is None:
        _booster = load_booster()
    return float(score_rows(_booster, [features])[0])
