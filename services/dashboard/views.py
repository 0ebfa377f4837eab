"""One function per tab. Each reads its data through `fetch` (cached queries from sql/dashboard/) and
shows a clear message instead of a chart when a table is empty or a query fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st
import trends
from style import plot, tab, table

Fetch = Callable[..., "pd.DataFrame | None"]
STATUS_COLORS = {"LOW": "#d62728", "MEDIUM": "#ff7f0e", "HEALTHY": "#2ca02c"}
OPERATIONS = tab("Operations")
SIGNAL_STYLES = {
    "red": "background-color: #fde2e2; color: #d62728; font-weight: bold",
    "ok": "color: #2ca02c",
    "n/a": "color: #7f7f7f",
}


def money(v: float) -> str:
    return f"${v:,.2f}"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _day(daily: pd.DataFrame, day: date) -> dict[str, float]:
    """One day's sums (zeros on a day without sales), AOV per order and margin = profit / revenue."""
    row = daily[daily["SALES_DATE"] == day]
    revenue = float(row["REVENUE"].sum()) if len(row) else 0.0
    orders = int(row["ORDERS"].sum()) if len(row) else 0
    profit = float(row["PROFIT"].sum()) if len(row) else 0.0
    return {"revenue": revenue, "orders": orders, "aov": _ratio(revenue, orders), "margin": _ratio(profit, revenue)}


def _delta(now: float | None, before: float | None, fmt: Callable[[float], str]) -> str | None:
    return None if now is None or before is None else fmt(now - before)


def _kpis(daily: pd.DataFrame, end: date) -> None:
    today, before = _day(daily, end), _day(daily, end - timedelta(days=1))
    st.caption(f"Today is the last day of the range: {end:%a %d %b %Y}; deltas are against the day before.")
    cols = st.columns(4)
    pct = (today["revenue"] / before["revenue"] - 1) if before["revenue"] else None
    cols[0].metric("Today's revenue", money(today["revenue"]), None if pct is None else f"{pct:+.1%}")
    cols[1].metric("Today's orders", f"{today['orders']:,}", f"{today['orders'] - before['orders']:+,}")
    cols[2].metric(
        "Avg order value",
        "—" if today["aov"] is None else money(today["aov"]),
        _delta(today["aov"], before["aov"], lambda d: f"{'+' if d >= 0 else '-'}${abs(d):,.2f}"),
    )
    cols[3].metric(
        "Profit margin",
        "—" if today["margin"] is None else f"{today['margin']:.1%}",
        _delta(today["margin"], before["margin"], lambda d: f"{d * 100:+.1f} pp"),
    )
    # every day of the 30, a day without sales at zero (the query returns only days with sales)
    days = pd.DataFrame({"SALES_DATE": [end - timedelta(days=n) for n in range(29, -1, -1)]})
    line = days.merge(daily, on="SALES_DATE", how="left").fillna({"REVENUE": 0.0})
    plot(px.area, line, "overview_trend", title="Revenue, last 30 days", x="SALES_DATE", y="REVENUE", markers=True)


def overview(fetch: Fetch, start: date, end: date) -> None:
    daily = fetch("daily", end=end)
    if daily is not None:
        daily["SALES_DATE"] = pd.to_datetime(daily["SALES_DATE"]).dt.date
        _kpis(daily, end)
    left, right = st.columns(2)
    with left:
        cats = fetch("category_profit", start, end)
        if cats is not None:
            long = cats.rename(columns={"REVENUE": "Revenue", "PROFIT": "Profit"}).melt(
                id_vars="CATEGORY", value_vars=["Revenue", "Profit"], var_name="MEASURE", value_name="AMOUNT"
            )
            title = "Revenue vs profit by category"
            plot(
                px.bar, long, "overview_profit", title=title, x="CATEGORY", y="AMOUNT", color="MEASURE", barmode="group"
            )
        segments = fetch("segments", start, end)
        if segments is not None:
            # the seed's "customer segment distribution": how many customers ordered in each segment
            title = "Customers by segment"
            plot(px.pie, segments, "overview_segments", title=title, names="SEGMENT", values="CUSTOMERS", hole=0.5)
    with right:
        status = fetch("order_status", start, end)
        if status is not None:
            plot(px.bar, status, "overview_status", title="Orders by status", x="ORDER_STATUS", y="ORDERS")


def customers(fetch: Fetch, start: date, end: date) -> None:
    top = fetch("top_customers", end=end)
    if top is not None:
        st.subheader("Top 10 customers, last 30 days")
        plot(
            px.bar,
            top,
            "customers_top",
            title="Revenue per customer, top 10",
            yaxes={"categoryorder": "total ascending"},
            x="REVENUE",
            y="CUSTOMER",
            orientation="h",
            color="SEGMENT",
        )
        table(top)
    segments = fetch("segments", start, end)
    if segments is not None:
        st.subheader("Segments in the selected range")
        trends.segmentation(segments)
        table(segments)


def products(fetch: Fetch, start: date, end: date) -> None:
    df = fetch("products", start, end)
    if df is None:
        return
    best = df.sort_values("MARGIN", ascending=False).head(20)
    percent = {"tickformat": ".0%"}
    plot(
        px.bar,
        best,
        "products_margin",
        title="Margin per product (top 20)",
        yaxes=percent,
        layout={"barmode": "stack"},  # one bar per product, full width, coloured by category
        x="PRODUCT_NAME",
        y="MARGIN",
        color="CATEGORY",
    )
    plot(
        px.scatter,
        df,
        "products_scatter",
        title="List price vs margin (size: revenue)",
        yaxes=percent,
        x="UNIT_PRICE",
        y="MARGIN",
        size="REVENUE",
        color="CATEGORY",
        hover_name="PRODUCT_NAME",
    )
    table(df)


def inventory(fetch: Fetch, start: date, end: date) -> None:
    df = fetch("inventory")
    if df is None:
        return
    counts = df["STOCK_STATUS"].value_counts()
    cols = st.columns(3)
    for col, status in zip(cols, ("LOW", "MEDIUM", "HEALTHY"), strict=True):
        n = int(counts.get(status, 0))
        col.metric(f"{status.title()} stock", f"{n:,} product{'' if n == 1 else 's'}")
    alerts = df[df["STOCK_STATUS"] == "LOW"]
    if len(alerts):
        st.error(f"{len(alerts)} product(s) at or below their reorder level: reorder now.")
    else:
        st.success("No product is at or below its reorder level.")
    plot(
        px.bar,
        counts.rename_axis("STOCK_STATUS").reset_index(name="PRODUCTS"),
        "inventory_status",
        title="Products by stock status",
        words={"PRODUCTS": "Products"},
        x="STOCK_STATUS",
        y="PRODUCTS",
        color="STOCK_STATUS",
        color_discrete_map=STATUS_COLORS,
    )
    st.subheader("Products to watch: low stock first, then the fewest days of cover")
    table(df.head(20))


def payments(fetch: Fetch, start: date, end: date) -> None:
    df = fetch("payments", start, end)
    if df is None:
        return
    left, right = st.columns(2)
    title = "Orders by payment method"
    plot(px.pie, df, "payments_mix", title=title, where=left, names="PAYMENT_METHOD", values="ORDERS", hole=0.5)
    plot(px.bar, df, "payments", title="Revenue by payment method", where=right, x="PAYMENT_METHOD", y="REVENUE")
    table(df)


def geography(fetch: Fetch, start: date, end: date) -> None:
    df = fetch("geography", start, end)
    if df is None:
        return
    # A choropleth draws country outlines fetched from cdn.plot.ly: offline (or behind a strict content
    # policy) it shows an empty frame, so the figures are a bar chart unless a map is asked for.
    title = "Revenue by shipping country"
    if st.toggle("Show as a map (loads country outlines from cdn.plot.ly)", key="geo_map"):
        plot(px.choropleth, df, "geography", title=title, locations="COUNTRY", locationmode="ISO-3", color="REVENUE")
    else:
        plot(px.bar, df, "geography", title=title, x="COUNTRY", y="REVENUE")
    table(df)


CDC_TABLES = {
    "ORDERS_CURRENT": "Current orders",
    "ORDERS_DERIVED": "Derived orders",
    "ORDERS_AGGREGATED": "Aggregated orders",
}


def cdc(fetch: Fetch, start: date, end: date) -> None:
    df = fetch("cdc")
    if df is None:
        return
    st.caption("The change log's last 48 hours (not filtered by the date range).")
    lags = df.iloc[-1]
    cols = st.columns(3)
    for col, (name, shown) in zip(cols, CDC_TABLES.items(), strict=True):
        lag = lags[f"{name}_LAG_SECONDS"]
        col.metric(f"{shown} lag", "not refreshed yet" if pd.isna(lag) else f"{int(lag):,} s", help=name)
    title = "Changes per hour by type"
    plot(px.bar, df, "cdc_changes", title=title, x="CHANGE_HOUR", y="CHANGES", color="CHANGE_TYPE")


TABS: dict[str, Callable[[Fetch, date, date], None]] = {
    tab("Overview"): overview,
    tab("Customers"): customers,
    tab("Products"): products,
    tab("Sales Trends"): trends.sales_trends,
    tab("Inventory"): inventory,
    tab("Payments"): payments,
    tab("Geography"): geography,
    tab("CDC"): cdc,
}


def operations(found: list) -> None:
    """The monitor's signals, one table per capability; every red one also as an alert on top."""
    red = [s for s in found if s.status == "red"]
    for s in red:
        st.error(f"{s.capability}: {s.name} — {s.detail}")
    if not red:
        st.success("All green: nothing the dashboard can read is failing or behind.")
    st.caption("The same queries and rules as `python -m scripts.monitor`; n/a is what this session cannot read.")
    by_cap: dict[str, list] = {}
    for s in found:
        by_cap.setdefault(s.capability, []).append(s)
    for cap, rows in by_cap.items():
        st.subheader(cap)
        df = pd.DataFrame([{"OBJECT": s.name, "READING": s.detail, "STATUS": s.status} for s in rows])
        table(df.style.map(lambda v: SIGNAL_STYLES.get(v, ""), subset=["STATUS"]))
