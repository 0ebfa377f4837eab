"""How the dashboard names things for a reader: every query column has a label (axis titles, legends,
hover text and table headers never show SALES_DATE or CHANGE_HOUR), and tab icons are Material
Symbols, whose font ships inside Streamlit itself, so they render where no emoji font is installed
(headless Chromium, a locked-down desktop) and inside Snowflake's content security policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

MONEY = "Revenue ($)"
# query column → what a reader sees; a column missing here is an error, not a raw name on the page
LABELS: dict[str, str] = {
    "SALES_DATE": "Date",
    "ORDERS": "Orders",
    "REVENUE": MONEY,
    "COST": "Cost ($)",
    "PROFIT": "Profit ($)",
    "CANCELLED_ORDERS": "Cancelled orders",
    "CUSTOMERS": "Customers",
    "CATEGORY": "Category",
    "MONTH": "Month",
    "SEGMENT": "Segment",
    "AVG_ORDER_VALUE": "Avg order value ($)",
    "REVENUE_PER_CUSTOMER": "Revenue per customer ($)",
    "ORDER_STATUS": "Order status",
    "CUSTOMER_ID": "Customer ID",
    "CUSTOMER": "Customer",
    "COUNTRY": "Country",
    "PRODUCT_ID": "Product ID",
    "PRODUCT_NAME": "Product",
    "UNIT_PRICE": "List price ($)",
    "UNITS": "Units sold",
    "MARGIN": "Margin",
    "STOCK_ON_HAND": "Stock on hand",
    "REORDER_LEVEL": "Reorder level",
    "AVG_DAILY_SALES": "Avg daily sales (units)",
    "DAYS_OF_COVER": "Days of cover",
    "STOCK_STATUS": "Stock status",
    "ACTION": "Action",
    "PAYMENT_METHOD": "Payment method",
    "CHANGE_HOUR": "Hour",
    "CHANGE_TYPE": "Change type",
    "CHANGES": "Changes",
    "AVG_7_DAYS": "7-day average ($)",
    "SHARE": "Share",
    "MEASURE": "Measure",
    "AMOUNT": "Amount ($)",
    "OBJECT": "Object",
    "READING": "Reading",
    "STATUS": "Status",
}
PERCENT = {"MARGIN", "SHARE"}

# tab label → Material Symbols icon (Streamlit renders `:material/name:` with its bundled font)
ICONS = {
    "Overview": "dashboard",
    "Customers": "group",
    "Products": "shopping_bag",
    "Sales Trends": "trending_up",
    "Inventory": "inventory_2",
    "Payments": "credit_card",
    "Geography": "public",
    "CDC": "sync_alt",
    "Operations": "monitor_heart",
}


def tab(name: str) -> str:
    """A tab's label: its Material icon, then its name."""
    return f":material/{ICONS[name]}: {name}"


def label(column: str) -> str:
    if column not in LABELS:
        raise KeyError(f"no reader's label for column {column!r}: add it to LABELS in style.py")
    return LABELS[column]


def labels(*columns: str, **extra: str) -> dict[str, str]:
    """plotly's `labels=` for these columns (axis titles, legend title, hover text), plus any extra."""
    return {c: label(c) for c in columns} | extra


def _column(name: str) -> Any:
    if name in PERCENT:
        return st.column_config.NumberColumn(label(name), format="percent")
    if label(name).endswith("($)"):
        return st.column_config.NumberColumn(label(name), format="dollar")
    return st.column_config.Column(label(name))


def table(df: pd.DataFrame | Styler, **kwargs: Any) -> None:
    """A table with a reader's header on every column; the frame itself keeps the query's names."""
    columns = df.data.columns if isinstance(df, Styler) else df.columns
    st.dataframe(df, hide_index=True, column_config={c: _column(c) for c in columns}, **kwargs)


# plotly express's arguments that name a column of the frame: each gets its reader's label
COLUMN_ARGS = ("x", "y", "color", "names", "values", "size", "hover_name", "locations")


def plot(
    make: Callable[..., go.Figure],
    df: Any,
    key: str,
    *,
    title: str,
    where: Any = st,
    words: dict[str, str] | None = None,
    yaxes: dict[str, Any] | None = None,
    layout: dict[str, Any] | None = None,
    **args: Any,
) -> go.Figure:
    """Every chart of the page: a plotly express chart (`make`) with a title and a reader's label on every
    column it draws (`words` for what LABELS has not got, or says otherwise), shown under `key` in `where`
    (the page or one of its columns)."""
    words = words or {}
    used = [v for k, v in args.items() if k in COLUMN_ARGS and isinstance(v, str) and v not in words]
    fig = make(df, title=title, labels=labels(*used) | words, **args)
    if yaxes:
        fig.update_yaxes(**yaxes)
    if layout:
        fig.update_layout(**layout)
    where.plotly_chart(fig, key=key)
    return fig
