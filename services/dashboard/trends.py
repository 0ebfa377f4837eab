"""Sales Trends, the seed's time-series analysis: revenue per day with its 7-day average, orders per day,
revenue per category per day and the category × month heatmap; and the Customers tab's segmentation
chart (each segment's share of customers against its share of revenue, and revenue per customer).

Days without sales are drawn at zero (the queries return only days with sales), so a quiet day is a
dip in the line, never a straight line drawn across it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st
from style import MONEY, plot

Fetch = Callable[..., "pd.DataFrame | None"]
WINDOW = 7  # days in the moving average


def calendar(df: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """One row per day from first to last: the frame's sums, zeros on days it has no row for."""
    days = pd.DataFrame({"SALES_DATE": [first + timedelta(days=n) for n in range((last - first).days + 1)]})
    df = df.assign(SALES_DATE=pd.to_datetime(df["SALES_DATE"]).dt.date)
    return days.merge(df, on="SALES_DATE", how="left").fillna(0)


def _daily(daily: pd.DataFrame, start: date, end: date) -> None:
    days = calendar(daily, start - timedelta(days=WINDOW - 1), end)
    days["AVG_7_DAYS"] = days["REVENUE"].rolling(WINDOW).mean()  # the six days before start are fetched too
    days = days[days["SALES_DATE"] >= start]
    long = days.rename(columns={"REVENUE": "Daily revenue", "AVG_7_DAYS": "7-day average"}).melt(
        id_vars="SALES_DATE", value_vars=["Daily revenue", "7-day average"], var_name="MEASURE", value_name="AMOUNT"
    )
    plot(
        px.line,
        long,
        "trends_revenue",
        title="Revenue per day and its 7-day average",
        words={"AMOUNT": MONEY},
        x="SALES_DATE",
        y="AMOUNT",
        color="MEASURE",
        markers=True,
    )
    plot(px.bar, days, "trends_orders", title="Orders per day", x="SALES_DATE", y="ORDERS")


def _categories(cats: pd.DataFrame, start: date, end: date) -> None:
    grid = cats.pivot_table(index="SALES_DATE", columns="CATEGORY", values="REVENUE", aggfunc="sum", fill_value=0)
    grid = calendar(grid.reset_index(), start, end)
    long = grid.melt(id_vars="SALES_DATE", var_name="CATEGORY", value_name="REVENUE")
    title = "Revenue per day by category (stacked)"
    plot(px.area, long, "trends_categories", title=title, x="SALES_DATE", y="REVENUE", color="CATEGORY")


def _heatmap(months: pd.DataFrame) -> None:
    months["MONTH"] = pd.to_datetime(months["MONTH"]).dt.strftime("%Y-%m")
    grid = months.pivot_table(index="CATEGORY", columns="MONTH", values="REVENUE", aggfunc="sum", fill_value=0)
    words = {"x": "Month", "y": "Category", "color": MONEY}  # the grid's axes, not a frame's columns
    title = "Revenue by category and month"
    plot(px.imshow, grid, "trends_heatmap", title=title, words=words, aspect="auto", color_continuous_scale="Blues")


def sales_trends(fetch: Fetch, start: date, end: date) -> None:
    daily = fetch("trend_daily", start, end)
    if daily is not None:
        _daily(daily, start, end)
    cats = fetch("category_daily", start, end)
    if cats is not None:
        _categories(cats, start, end)
    months = fetch("category_month", start, end)
    if months is not None:
        _heatmap(months)


def segmentation(segments: pd.DataFrame) -> None:
    """Each segment's share of the customers who ordered and of the revenue (the seed's "31% of the base
    drive 54% of revenue"), and what a customer of each segment spent."""
    shares = pd.DataFrame(
        {
            "SEGMENT": segments["SEGMENT"],
            "Customers": segments["CUSTOMERS"] / segments["CUSTOMERS"].sum(),
            "Revenue": segments["REVENUE"] / segments["REVENUE"].sum(),
        }
    ).melt(id_vars="SEGMENT", var_name="MEASURE", value_name="SHARE")
    left, right = st.columns(2)
    plot(
        px.bar,
        shares,
        "customers_segment_share",
        title="Share of customers vs share of revenue by segment",
        where=left,
        words={"SHARE": "Share of the total"},
        yaxes={"tickformat": ".0%"},
        x="SEGMENT",
        y="SHARE",
        color="MEASURE",
        barmode="group",
    )
    title = "Revenue per customer by segment"
    plot(
        px.bar,
        segments,
        "customers_segment_value",
        title=title,
        where=right,
        x="SEGMENT",
        y="REVENUE_PER_CUSTOMER",
        color="SEGMENT",
    )
