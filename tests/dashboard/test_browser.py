"""The dashboard served by `streamlit run` on 127.0.0.1, opened in Debian's headless Chromium: each tab
draws its charts and metrics without a Streamlit exception (one screenshot per tab under
tests/artifacts/dashboard/), and the Overview's figures read from the page equal Python's."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from scripts.dashboard import serve
from tests.conftest import HAS_CHROMIUM, headless_chromium
from tests.dashboard.conftest import overview_texts, reference_days

pytestmark = pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
# what each tab must draw before its screenshot: visible plotly charts, visible metrics
WANTED = {"Overview": (4, 4), "Customers": (1, 0), "Products": (2, 0), "Sales Trends": (1, 0), "Inventory": (1, 3),
          "Payments": (2, 0), "Geography": (1, 0), "CDC": (1, 3), "Operations": (0, 0)}  # fmt: skip


@pytest.fixture(scope="module")
def page(shop_db):
    app = serve.start(shop_db)
    driver = headless_chromium(1400, 1000)
    try:
        driver.get(app.url + "/")
        yield driver
    finally:
        driver.quit()
        app.stop()
    assert app.proc.poll() is not None


def _visible(driver, css: str) -> list:
    from selenium.webdriver.common.by import By

    return [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def _wait(driver, what, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what.__doc__ or what}")


def _tab_label(text: str) -> str:
    return re.sub(r"^[^A-Za-z]+", "", text).strip()  # drop the emoji (no emoji font in headless Chromium)


def test_each_tab_draws_without_exception(page):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    tabs = _wait(page, lambda: page.find_elements(By.CSS_SELECTOR, 'button[role="tab"]'))
    assert [_tab_label(t.text) for t in tabs] == list(WANTED)
    for tab in tabs:
        label = _tab_label(tab.text)
        tab.click()
        charts, metrics = WANTED[label]

        def drawn(charts=charts, metrics=metrics) -> bool:
            plots = [p for p in _visible(page, ".js-plotly-plot") if p.find_elements(By.CSS_SELECTOR, ".main-svg")]
            return len(plots) >= charts and len(_visible(page, '[data-testid="stMetric"]')) >= metrics

        _wait(page, drawn)
        assert not page.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), label
        shot = SHOTS / f"{label.lower().replace(' ', '-')}.png"
        page.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000, shot


def test_overview_figures_on_the_page_equal_python(page):
    from selenium.webdriver.common.by import By

    page.find_elements(By.CSS_SELECTOR, 'button[role="tab"]')[0].click()

    def read() -> dict[str, str]:
        shown = {}
        for m in _visible(page, '[data-testid="stMetric"]'):
            label = m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text
            shown[label] = m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text
        return shown if len(shown) >= 4 else {}

    shown = _wait(page, read)
    days = reference_days()
    expected = overview_texts(days, max(days.index))
    assert {k: shown.get(k) for k in expected} == expected
