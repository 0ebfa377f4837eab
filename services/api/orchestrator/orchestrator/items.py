"""What a recommendation says about each item: the product, its score and stock, and why it ranks
where it does (the features that moved its score most, from the model's own contributions)."""

from __future__ import annotations

from typing import Any

import numpy as np

TOP_REASONS = 3


def reasons(names: list[str], contribs: np.ndarray, x: np.ndarray, top: int = TOP_REASONS) -> list[list[dict]]:
    """Per row, the `top` features by absolute contribution: name, the feature's value (None when
    missing) and its contribution to the score's margin, largest first."""
    contribs = np.asarray(contribs, dtype=np.float64)
    order = np.argsort(-np.abs(contribs), axis=1, kind="stable")[:, :top].tolist()  # all rows in one call
    return [
        [
            {
                "feature": names[j],
                "value": None if values[j] != values[j] else round(values[j], 4),  # NaN: missing
                "contribution": round(row[j], 4),
            }
            for j in cols
        ]
        for cols, row, values in zip(order, contribs.tolist(), np.asarray(x).tolist(), strict=True)
    ]


def item(
    rank: int,
    product_id: int,
    product: tuple | None,
    score: float,
    qty: float | None,
    days: float | None,
    why: list[dict],
) -> dict[str, Any]:
    """One entry of `recommendations`; `product` is the cached catalogue row (None if unknown)."""
    return {
        "rank": rank,
        "product_id": product_id,
        "product_name": product[1] if product else f"product {product_id}",
        "category_id": product[2] if product else "",
        "category": product[4] if product else None,
        "department": product[3] if product else None,
        "price": float(product[5]) if product and product[5] is not None else None,
        "score": round(float(score), 6),
        "in_stock_qty": None if qty is None else int(qty),
        "est_delivery_days": None if days is None else int(days),
        "why": why,
    }
