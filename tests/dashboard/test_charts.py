"""What the charts plot, read from the figures the page receives (AppTest's plotly specs), against figures
computed in Python from the generator's own rows; and what a reader sees around them: a title, axis and
legend titles and table headers in words, never a query's column name, and tab labels with Material icons."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import app_session, reference_items
from tests.dashboard.test_app import run

DEFAULTS = {"value", "variable", "index", "x", "y", "color"}  # plotly express's names when none is given


@pytest.fixture(scope="module")
def page(stand_ins, shop_db) -> Iterator[AppTest]:
    """One run of the app on the rehearsal's data (the default range: 30 days up to the last day)."""
    with pytest.MonkeyPatch.context() as mp, app_session(stand_ins, mp):
        yield run(mp, shop_db)


def _array(v):
    """plotly's JSON: a plain list, or a typed array {"dtype", "bdata"}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def figures(at: AppTest) -> dict[str, dict]:
    """Every chart on the page by its key (the element id ends with the key)."""
    found = {}
    for tab in at.tabs:
        for chart in tab.get("plotly_chart"):
            found[chart.proto.id.split("-", 2)[2]] = json.loads(chart.proto.spec)
    return found


def series(fig: dict, x: str = "x", y: str = "y") -> dict[str, dict]:
    """Each trace's points: trace name → {x: y}."""
    return {t.get("name", ""): dict(zip(_array(t[x]), _array(t[y]), strict=True)) for t in fig["data"]}


def raw(text: str | None) -> bool:
    """A column's name shown as is: SALES_DATE, REVENUE, plotly's `value`; an empty title counts too."""
    return not text or bool(re.fullmatch(r"[A-Z0-9_ ]+", text)) or text in DEFAULTS


def raw_names(fig: dict) -> list[str]:
    """The titles and hover labels of a figure that are not words for a reader."""
    layout, bad = fig["layout"], []
    texts = {"title": (layout.get("title") or {}).get("text")}
    for axis in ("xaxis", "yaxis"):
        if axis in layout:
            texts[axis] = (layout[axis].get("title") or {}).get("text")
    if any(t.get("showlegend", True) and t.get("legendgroup") for t in fig["data"]):
        texts["legend"] = ((layout.get("legend") or {}).get("title") or {}).get("text")
    if "coloraxis" in layout:
        texts["colorbar"] = ((layout["coloraxis"].get("colorbar") or {}).get("title") or {}).get("text")
    bad += [f"{where}: {text!r}" for where, text in texts.items() if raw(text)]
    for t in fig["data"]:
        for part in (t.get("hovertemplate") or "").replace("<extra></extra>", "").split("<br>"):
            name = part.split("=", 1)[0]
            if "=" in part and raw(name):
                bad.append(f"hover: {name!r}")
    return bad


def test_a_chart_drawn_from_raw_columns_is_caught():
    """The planted fault: a chart made without labels shows SALES_DATE and REVENUE."""
    df = pd.DataFrame({"SALES_DATE": [date(2026, 1, 1)], "REVENUE": [1.0], "SEGMENT": ["A"]})
    fig = json.loads(px.bar(df, x="SALES_DATE", y="REVENUE", color="SEGMENT").to_json())
    assert set(raw_names(fig)) == {
        "title: None",
        "xaxis: 'SALES_DATE'",
        "yaxis: 'REVENUE'",
        "legend: 'SEGMENT'",
        "hover: 'SEGMENT'",
        "hover: 'SALES_DATE'",
        "hover: 'REVENUE'",
    }
    named = px.bar(df, x="SALES_DATE", y="REVENUE", title="t", labels={"SALES_DATE": "Date", "REVENUE": "Revenue ($)"})
    assert raw_names(json.loads(named.to_json())) == []


def test_every_chart_table_metric_and_tab_reads_in_words(page):
    figs = figures(page)
    assert len(figs) == 18, sorted(figs)
    assert {k: raw_names(f) for k, f in figs.items() if raw_names(f)} == {}
    for tab in page.tabs:
        for df in tab.dataframe:
            config = json.loads(df.proto.columns)
            shown = {c: config.get(c, {}).get("label") for c in df.value.columns}
            assert not [c for c, text in shown.items() if raw(text)], (tab.label, shown)
        assert not [m.label for m in tab.metric if raw(m.label.split(" ")[0])], tab.label
    # a Material icon, then the name: no emoji, which headless Chromium has no font for
    for tab in page.tabs:
        assert re.fullmatch(r":material/[a-z0-9_]+: [A-Z][A-Za-z ]+", tab.label), tab.label


def _money(v) -> float:
    return round(float(v), 2)


def _range(at: AppTest) -> tuple[date, date]:
    return tuple(at.sidebar.date_input[0].value)


# Each check compares one chart, as the page received it, with Python's computation from the generator's
# rows (`items`: reference_items) over the selected range; each is run once on the page and once on a
# copy of its figures with a planted fault (test_each_check_catches_its_planted_fault).
def check_revenue_and_orders(figs: dict[str, dict], items: pd.DataFrame, start: date, end: date) -> None:
    """Revenue per day with its 7-day average (the six days before the range count), and orders per day;
    a day without sales is a point at zero."""
    days = [start + timedelta(days=n) for n in range(-6, (end - start).days + 1)]
    revenue = {d: items.loc[items["DAY"] == d, "REVENUE"].sum() for d in days}
    orders = {d: items.loc[items["DAY"] == d, "ORDER_ID"].nunique() for d in days}
    shown = days[6:]
    expected_avg = {d.isoformat(): _money(sum(revenue[d - timedelta(days=k)] for k in range(7)) / 7) for d in shown}
    line = series(figs["trends_revenue"])
    expected_revenue = {d.isoformat(): _money(revenue[d]) for d in shown}
    assert {d: _money(v) for d, v in line["Daily revenue"].items()} == expected_revenue
    assert {d: _money(v) for d, v in line["7-day average"].items()} == expected_avg
    bars = series(figs["trends_orders"])
    assert {d: int(v) for d, v in bars[""].items()} == {d.isoformat(): orders[d] for d in shown}


def check_categories(figs: dict[str, dict], items: pd.DataFrame, start: date, end: date) -> None:
    """Revenue per category per day (every day of the range), and per category and month (the heatmap)."""
    items = items[(items["DAY"] >= start) & (items["DAY"] <= end)]
    expected = {}
    for cat in sorted(items["CATEGORY"].unique()):
        mine = items[items["CATEGORY"] == cat].groupby("DAY")["REVENUE"].sum()
        expected[cat] = {
            (start + timedelta(days=n)).isoformat(): _money(mine.get(start + timedelta(days=n), Decimal(0)))
            for n in range((end - start).days + 1)
        }
    shown = {cat: {d: _money(v) for d, v in pts.items()} for cat, pts in series(figs["trends_categories"]).items()}
    assert shown == expected
    heat = figs["trends_heatmap"]["data"][0]
    months = items.assign(MONTH=items["DAY"].map(lambda d: f"{d:%Y-%m}")).groupby(["CATEGORY", "MONTH"])["REVENUE"]
    want = {k: _money(v) for k, v in months.sum().items()}
    got = {
        (cat, month): _money(v)
        for cat, row in zip(_array(heat["y"]), heat["z"], strict=True)
        for month, v in zip(_array(heat["x"]), _array(row), strict=True)
        if v
    }
    assert got == want


def _segments(items: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    items = items[(items["DAY"] >= start) & (items["DAY"] <= end)]
    return items.groupby("SEGMENT").agg(CUSTOMERS=("CUSTOMER_ID", "nunique"), REVENUE=("REVENUE", "sum"))


def check_donut(figs: dict[str, dict], items: pd.DataFrame, start: date, end: date) -> None:
    """The Overview's donut: how many customers ordered in each segment (not its revenue)."""
    donut = figs["overview_segments"]["data"][0]
    want = _segments(items, start, end)["CUSTOMERS"].to_dict()
    assert dict(zip(_array(donut["labels"]), _array(donut["values"]), strict=True)) == want


def check_segmentation(figs: dict[str, dict], items: pd.DataFrame, start: date, end: date) -> None:
    """Each segment's share of customers and of revenue, and its revenue per customer (to the cent)."""
    seg = _segments(items, start, end)
    share = series(figs["customers_segment_share"])
    customers = (seg["CUSTOMERS"] / seg["CUSTOMERS"].sum()).round(6).to_dict()
    revenue = {k: round(float(v / seg["REVENUE"].sum()), 6) for k, v in seg["REVENUE"].items()}
    assert {m: {s: round(v, 6) for s, v in pts.items()} for m, pts in share.items()} == {
        "Customers": customers,
        "Revenue": revenue,
    }
    spend = {s: v for pts in series(figs["customers_segment_value"]).values() for s, v in pts.items()}
    cents = Decimal("0.01")
    rows = seg[["REVENUE", "CUSTOMERS"]].itertuples()
    per_customer = {k: float((r / n).quantize(cents, ROUND_HALF_UP)) for k, r, n in rows}
    assert spend == per_customer


CHECKS = [check_revenue_and_orders, check_categories, check_donut, check_segmentation]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_each_chart_equals_python(page, check):
    check(figures(page), reference_items(), *_range(page))


def _set(trace: dict, key: str, values: list) -> None:
    trace[key] = values  # a plain list: what plotly sends for an untyped array


def _drop_quiet_day(figs: dict, *_: object) -> None:
    """The query's days only: the range's quietest day has no point (the line is drawn across it)."""
    for trace in figs["trends_revenue"]["data"]:
        xs, ys = _array(trace["x"]), _array(trace["y"])
        i = ys.index(min(ys))
        _set(trace, "x", xs[:i] + xs[i + 1 :])
        _set(trace, "y", ys[:i] + ys[i + 1 :])


def _average_of_the_range_only(figs: dict, *_: object) -> None:
    """The 7-day average started on the range's first day: its first six points are missing."""
    trace = next(t for t in figs["trends_revenue"]["data"] if t["name"] == "7-day average")
    _set(trace, "x", _array(trace["x"])[6:])
    _set(trace, "y", _array(trace["y"])[6:])


def _items_for_orders(figs: dict, *_: object) -> None:
    """Orders counted as items: a day with a two-item order counts one more."""
    trace = figs["trends_orders"]["data"][0]
    _set(trace, "y", [v + 1 if i == 3 else v for i, v in enumerate(_array(trace["y"]))])


def _category_days_with_sales_only(figs: dict, *_: object) -> None:
    """A category's days without sales left out instead of drawn at zero."""
    trace = figs["trends_categories"]["data"][0]
    _set(trace, "x", _array(trace["x"])[1:])
    _set(trace, "y", _array(trace["y"])[1:])


def _heatmap_with_cancelled_orders(figs: dict, *_: object) -> None:
    """A category's months counted with its cancelled orders: more than its sales."""
    heat = figs["trends_heatmap"]["data"][0]
    heat["z"] = [[v * 1.1 for v in _array(row)] if i == 0 else row for i, row in enumerate(heat["z"])]


def _donut_of_revenue(figs: dict, items: pd.DataFrame, start: date, end: date) -> None:
    """The donut the seed did not ask for: revenue per segment."""
    revenue = _segments(items, start, end)["REVENUE"]
    donut = figs["overview_segments"]["data"][0]
    _set(donut, "values", [float(revenue[s]) for s in _array(donut["labels"])])


def _shares_of_orders(figs: dict, *_: object) -> None:
    """The customers' share computed over a different total (all customers, not those who ordered)."""
    trace = next(t for t in figs["customers_segment_share"]["data"] if t["name"] == "Customers")
    _set(trace, "y", [v * 0.9 for v in _array(trace["y"])])


def _spend_per_order(figs: dict, *_: object) -> None:
    """Revenue per order shown as revenue per customer: less than what a customer spent."""
    trace = figs["customers_segment_value"]["data"][0]
    _set(trace, "y", [v / 2 for v in _array(trace["y"])])


FAULTS = {  # fault → (what it does to the page's figures, the check that must fail)
    "quiet day dropped": (_drop_quiet_day, check_revenue_and_orders),
    "average over the range only": (_average_of_the_range_only, check_revenue_and_orders),
    "items counted as orders": (_items_for_orders, check_revenue_and_orders),
    "category days with sales only": (_category_days_with_sales_only, check_categories),
    "heatmap with cancelled orders": (_heatmap_with_cancelled_orders, check_categories),
    "donut of revenue": (_donut_of_revenue, check_donut),
    "customer share over another total": (_shares_of_orders, check_segmentation),
    "revenue per customer halved": (_spend_per_order, check_segmentation),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_check_catches_its_planted_fault(page, fault):
    plant, check = FAULTS[fault]
    figs, items, (start, end) = figures(page), reference_items(), _range(page)
    plant(figs, items, start, end)
    with pytest.raises(AssertionError):
        check(figs, items, start, end)
    assert {c.__name__ for _, c in FAULTS.values()} == {c.__name__ for c in CHECKS}  # every check has a fault
