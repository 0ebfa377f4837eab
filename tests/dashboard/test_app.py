"""Streamlit's AppTest against the stand-in: every tab's elements, the date filter, the refresh button and
the "no data yet" paths, without a browser."""

from __future__ import annotations

import uuid
from datetime import timedelta

from streamlit.testing.v1 import AppTest

from scripts.analytics import loads as analytics
from scripts.core.connections import connect_local, ensure_foundation
from services.dashboard.style import ICONS  # each tab's Material icon: Streamlit's own font, no emoji
from tests.dashboard.conftest import APP, copy_db, overview_deltas, overview_texts, reference_days

TABS = [f":material/{icon}: {name}" for name, icon in ICONS.items()]  # as Streamlit renders a Material icon
OVERVIEW, CUSTOMERS, PRODUCTS, TRENDS, INVENTORY, PAYMENTS, GEOGRAPHY, CDC, OPERATIONS = TABS
# charts, metrics and tables each tab shows on the rehearsal's data
EXPECTED = {
    OVERVIEW: (4, 4, 0),
    CUSTOMERS: (3, 0, 2),  # top 10, and the segmentation: shares of customers and revenue, revenue per customer
    PRODUCTS: (2, 0, 1),
    TRENDS: (4, 0, 0),  # revenue per day and its 7-day average, orders per day, categories per day, heatmap
    INVENTORY: (1, 3, 1),  # and a success or an alert
    PAYMENTS: (2, 0, 1),
    GEOGRAPHY: (1, 0, 1),
    CDC: (1, 3, 0),
    OPERATIONS: (0, 0, 5),  # one table per capability: analytics, cdc, ingestion, serving, api
}


def run(app_env, db: str) -> AppTest:
    app_env.setenv("RDP_DASHBOARD_DATABASE", db)
    return AppTest.from_file(APP, default_timeout=60).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_every_tab_shows_its_charts_metrics_and_tables(app_env, shop_db):
    at = run(app_env, shop_db)
    assert not at.exception, at.exception
    assert not at.warning and not at.error, [w.value for w in at.warning] + [e.value for e in at.error]
    assert [t.label for t in at.tabs] == TABS
    for tab in at.tabs:
        shown = (len(tab.get("plotly_chart")), len(tab.metric), len(tab.dataframe))
        assert shown == EXPECTED[tab.label], (tab.label, shown)
        assert not tab.info, (tab.label, [i.value for i in tab.info])


def test_overview_today_is_the_last_day_with_sales_and_matches_python(app_env, shop_db):
    days = reference_days()
    at = run(app_env, shop_db)
    start, end = at.sidebar.date_input[0].value
    assert end == max(days.index) and end - start == timedelta(days=29)
    shown = metrics(at)
    assert {k: shown[k] for k in overview_texts(days, end)} == overview_texts(days, end)
    deltas = {m.label: m.delta for m in at.tabs[0].metric}
    assert deltas == overview_deltas(days, end)


def _totals(at: AppTest) -> dict[str, float]:
    """Revenue of the selected range as each tab's table adds it up."""
    tab = {t.label: t for t in at.tabs}
    return {
        "products": tab[PRODUCTS].dataframe[0].value["REVENUE"].sum(),
        "segments": tab[CUSTOMERS].dataframe[1].value["REVENUE"].sum(),
        "payments": tab[PAYMENTS].dataframe[0].value["REVENUE"].sum(),
        "geography": tab[GEOGRAPHY].dataframe[0].value["REVENUE"].sum(),
    }


def test_every_tab_adds_up_to_the_same_revenue_as_python(app_env, shop_db):
    days = reference_days()
    at = run(app_env, shop_db)
    start, end = at.sidebar.date_input[0].value
    expected = float(days.loc[[d for d in days.index if start <= d <= end], "REVENUE"].sum())
    assert {k: round(v, 2) for k, v in _totals(at).items()} == dict.fromkeys(_totals(at), round(expected, 2))


def test_the_date_filter_moves_today(app_env, shop_db):
    days = reference_days()
    at = run(app_env, shop_db)
    earlier = sorted(days.index)[-10]
    at.sidebar.date_input[0].set_value((earlier - timedelta(days=6), earlier)).run()
    assert not at.exception
    shown = metrics(at)
    assert {k: shown[k] for k in overview_texts(days, earlier)} == overview_texts(days, earlier)


def test_cached_until_refresh(app_env, stand_ins, analytics_db):
    db = "T_DASH_" + uuid.uuid4().hex[:8].upper()
    copy_db(stand_ins, analytics_db, db)
    at = run(app_env, db)
    before = metrics(at)["Today's orders"]
    t = analytics.local_target("dev", database=db)
    with t.connect() as conn:  # the pipeline's summary changes behind the page's back
        cur = conn.cursor()
        cur.execute(f'SELECT MAX(SALES_DATE) FROM "{db}".GOLD.DAILY_SALES_SUMMARY')
        cur.execute(
            f'UPDATE "{db}".GOLD.DAILY_SALES_SUMMARY SET ORDERS = ORDERS + 1000 WHERE SALES_DATE = %s',
            (cur.fetchone()[0],),
        )
    at.run()
    assert metrics(at)["Today's orders"] == before  # served from the cache
    at.sidebar.button[0].click().run()
    assert int(metrics(at)["Today's orders"].replace(",", "")) == int(before.replace(",", "")) + 1000


def test_an_empty_database_says_no_data_yet(app_env, stand_ins):
    db = "T_DASH_EMPTY_" + uuid.uuid4().hex[:6].upper()
    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        ensure_foundation(conn.cursor(), db)
    at = run(app_env, db)  # no tables at all: the pipeline was never deployed here
    assert not at.exception
    assert "No data yet" in at.warning[0].value and "DAILY_SALES_SUMMARY" in at.warning[0].value
    analytics.prepare_local(analytics.local_target("dev", database=db))  # tables, but no rows
    at = run(app_env, db)
    assert not at.exception and not at.tabs
    assert at.info[0].value.startswith("No data yet")


def test_a_missing_cdc_pipeline_is_a_message_on_its_tab(app_env, stand_ins, analytics_db):
    db = "T_DASH_NOCDC_" + uuid.uuid4().hex[:6].upper()
    copy_db(stand_ins, analytics_db, db)
    at = run(app_env, db)
    assert not at.exception
    cdc_tab = at.tabs[TABS.index(CDC)]
    assert "CDC_MONITORING" in cdc_tab.warning[0].value and not cdc_tab.get("plotly_chart")
    assert len(at.tabs[0].get("plotly_chart")) == 4  # the other tabs are unaffected


def test_outside_snowflake_without_settings_the_page_says_what_to_set(app_env):
    app_env.delenv("RDP_DASHBOARD_SNOWFLAKE_HOST")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "RDP_DASHBOARD_SNOWFLAKE_HOST" in at.warning[0].value


def test_a_product_below_its_reorder_level_is_an_alert(app_env, stand_ins, analytics_db):
    db = "T_DASH_LOW_" + uuid.uuid4().hex[:6].upper()
    copy_db(stand_ins, analytics_db, db)
    t = analytics.local_target("dev", database=db)
    with t.connect() as conn:  # product 7 sells all but 2 of its stock: 2 is below any reorder level
        cur = conn.cursor()
        cur.execute(f'SELECT STOCK_ON_HAND FROM "{db}".SILVER.CURRENT_INVENTORY WHERE PRODUCT_ID = 7')
        stock = int(cur.fetchone()[0])
        cur.execute(f'SELECT MAX(MOVED_AT), MAX(MOVEMENT_ID) FROM "{db}".BRONZE.SHOP_INVENTORY_MOVEMENTS')
        at, last_id = cur.fetchone()
        cur.execute(
            f'INSERT INTO "{db}".BRONZE.SHOP_INVENTORY_MOVEMENTS VALUES (%s, 7, %s, %s, %s)',
            (last_id + 1, "SALE", 2 - stock, at),
        )
    analytics.run(t)
    at = run(app_env, db)
    tab = at.tabs[TABS.index(INVENTORY)]
    assert not at.exception
    assert tab.error[0].value.startswith("1 product(s) at or below their reorder level")
    assert {m.label: m.value for m in tab.metric}["Low stock"] == "1 product"
    first = tab.dataframe[0].value.iloc[0]
    assert (first["PRODUCT_ID"], first["STOCK_ON_HAND"], first["ACTION"]) == (7, 2, "REORDER NOW")


def test_a_product_deleted_at_the_source_keeps_its_sales(app_env, stand_ins, analytics_db):
    db = "T_DASH_DEL_" + uuid.uuid4().hex[:6].upper()
    copy_db(stand_ins, analytics_db, db)
    at = run(app_env, db)
    products = at.tabs[TABS.index(PRODUCTS)].dataframe[0].value
    gone = int(products.sort_values("REVENUE").iloc[-1]["PRODUCT_ID"])
    t = analytics.local_target("dev", database=db)
    with t.connect() as conn:
        conn.cursor().execute(f'DELETE FROM "{db}".BRONZE.SHOP_PRODUCTS WHERE PRODUCT_ID = %s', (gone,))
    analytics.run(t)  # the product's current version is closed; its facts stay
    at.sidebar.button[0].click().run()
    after = at.tabs[TABS.index(PRODUCTS)].dataframe[0].value
    assert gone in set(after["PRODUCT_ID"]) and len({round(v, 2) for v in _totals(at).values()}) == 1


def test_an_unreachable_stand_in_is_a_message_not_a_traceback(app_env, shop_db):
    from scripts.standins import free_port

    app_env.setenv("RDP_DASHBOARD_SNOWFLAKE_PORT", str(free_port()))
    at = run(app_env, shop_db)
    assert not at.exception
    assert "cannot reach the stand-in" in at.warning[0].value
