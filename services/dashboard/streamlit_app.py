"""Retail analytics dashboard: the e-commerce star schema and the order CDC pipeline, in eight tabs, and
the platform's operations (the monitor's signals) in a ninth.

Deployed as a Streamlit in Snowflake app (the stack uploads this directory and sql/dashboard/ to the
app's stage); locally `python -m scripts.dashboard serve` runs it against the stand-in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import operations
import pandas as pd
import queries
import streamlit as st
import views

TTL_SECONDS = 600  # cached query results; the refresh button clears them
# .streamlit/config.toml beside this file declares a light and a dark theme; the viewer picks one
THEME_HINT = "Light or dark: the app menu (top right) → Settings → theme. It follows your system until you pick."


@st.cache_resource(show_spinner=False)
def source() -> queries.Source:
    return queries.open_source()


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Querying…")
def load(name: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    return source().frame(name, start, end)


def fetch(name: str, start: date | None = None, end: date | None = None) -> pd.DataFrame | None:
    """A query's rows, or None after telling the reader why there is nothing to show."""
    try:
        df = load(name, start, end)
    except queries.DataError as e:
        st.warning(f"Cannot show this yet: {e}")
        return None
    if df.empty:
        st.info("No data yet for this view in the selected range.")
        return None
    return df.copy()


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the platform's health…")
def signals() -> list:
    return operations.signals(source(), datetime.now(UTC))


def operations_tab() -> None:
    try:
        found = signals()
    except queries.DataError as e:
        st.warning(f"Cannot show the platform's health: {e}")
        return
    views.operations(found)


def date_range(first: date, last: date) -> tuple[date, date]:
    """The sidebar's range, 30 days up to the newest day with sales by default."""
    default = (max(first, last - timedelta(days=29)), last)
    picked = st.sidebar.date_input("Date range", value=default, min_value=first, max_value=last, key="range")
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        return picked[0], picked[1]
    return default  # half-picked range: keep the default until both ends are chosen


def main() -> None:
    st.set_page_config(page_title="Retail analytics", page_icon=":material/monitoring:", layout="wide")
    st.title("Retail analytics")
    refresh = st.sidebar.button(
        "Refresh data", icon=":material/refresh:", help=f"results are cached for {TTL_SECONDS // 60} minutes"
    )
    st.sidebar.caption(THEME_HINT)
    if refresh:
        st.cache_data.clear()
        source.clear()  # a new session too: the old one may have died with its server
    try:
        bounds = load("bounds")
    except queries.DataError as e:
        st.warning(f"No data yet: {e}. Deploy the stack and run the analytics pipeline first.")
        return
    first, last = bounds["FIRST_DAY"].iloc[0], bounds["LAST_DAY"].iloc[0]
    if pd.isna(first) or pd.isna(last):
        st.info("No data yet: the analytics pipeline has not loaded any sales. Run `python -m scripts.analytics run`.")
        return
    start, end = date_range(pd.Timestamp(first).date(), pd.Timestamp(last).date())
    st.sidebar.caption(f"Sales from {first} to {last}; data from {source().where}.")
    *tabs, ops = st.tabs([*views.TABS, views.OPERATIONS])
    for tab, view in zip(tabs, views.TABS.values(), strict=True):
        with tab:
            view(fetch, start, end)
    with ops:
        operations_tab()


main()
