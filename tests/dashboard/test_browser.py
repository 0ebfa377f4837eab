"""The dashboard served by `streamlit run` on 127.0.0.1, opened in Debian's headless Chromium: each tab
draws its charts and metrics without a Streamlit exception (one screenshot per tab under
tests/artifacts/dashboard/), the Overview's figures read from the page equal Python's, every tab's icon is
a glyph of the Material Symbols font Streamlit serves (not an empty box, not the icon's name spelled
out), and a browser that prefers dark gets the app's dark theme, charts included."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from scripts.dashboard import serve
from tests.conftest import HAS_CHROMIUM, headless_chromium
from tests.dashboard.conftest import overview_texts, reference_days
from tests.dashboard.test_app import ICONS

pytestmark = pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
# what each tab must draw before its screenshot: visible plotly charts, visible metrics
WANTED = {
    "Overview": (4, 4),
    "Customers": (3, 0),
    "Products": (2, 0),
    "Sales Trends": (4, 0),
    "Inventory": (1, 3),
    "Payments": (2, 0),
    "Geography": (1, 0),
    "CDC": (1, 3),
    "Operations": (0, 0),
}
DARK_BACKGROUND = "rgb(26, 26, 46)"  # [theme.dark] backgroundColor in services/dashboard/.streamlit/config.toml
ICON = 'span[role="img"]'  # how Streamlit renders `:material/name:`: the name as a ligature of its icon font


@pytest.fixture(scope="module")
def app(shop_db):
    running = serve.start(shop_db)
    try:
        yield running
    finally:
        running.stop()
    assert running.proc.poll() is not None


@pytest.fixture(scope="module")
def page(app):
    driver = headless_chromium(1400, 1000)
    try:
        driver.get(app.url + "/")
        yield driver
    finally:
        driver.quit()


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


def _tab_label(tab) -> str:
    """A tab's name: its text without the icon's ligature text."""
    from selenium.webdriver.common.by import By

    icon = tab.find_element(By.CSS_SELECTOR, ICON).text
    return tab.text.removeprefix(icon).strip()


def test_each_tab_draws_without_exception(page):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)

    def all_tabs() -> list:
        """every tab button: a page still streaming its elements has drawn only the first tabs"""
        found = page.find_elements(By.CSS_SELECTOR, 'button[role="tab"]')
        return found if len(found) >= len(WANTED) else []

    try:
        tabs = _wait(page, all_tabs)
    except AssertionError:
        tabs = page.find_elements(By.CSS_SELECTOR, 'button[role="tab"]')
    assert [_tab_label(t) for t in tabs] == list(WANTED)
    for tab in tabs:
        label = _tab_label(tab)
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


MEASURE_ICONS = """
const size = (el) => [el.getBoundingClientRect().width, parseFloat(getComputedStyle(el).fontSize)];
const icons = Array.from(document.querySelectorAll('button[role="tab"] ' + arguments[0]));
const face = Array.from(document.fonts).filter(f => f.family.replace(/"/g, '') === 'Material Symbols Rounded');
// the planted fault: the same name in a font that has no such ligature is the word, spelled out
const probe = document.createElement('span');
probe.style.fontFamily = 'no-such-icon-font';
probe.textContent = icons.length ? icons[0].textContent : 'dashboard';
icons.length && icons[0].parentNode.appendChild(probe);
const spelled = size(probe);
probe.remove();
return {
  icons: icons.map(el => [el.textContent, getComputedStyle(el).fontFamily, ...size(el)]),
  loaded: face.map(f => f.status),
  spelled: spelled,
};
"""


def test_tab_icons_are_glyphs_of_the_material_font(page):
    """Each icon is one square glyph about 1em wide: the font is loaded and its ligature drew the icon.
    An empty box (tofu) or the name spelled out in a fallback font would not be."""
    from selenium.webdriver.common.by import By

    _wait(page, lambda: page.find_elements(By.CSS_SELECTOR, 'button[role="tab"] ' + ICON))

    def measured() -> dict | None:
        """the icons' sizes once the font has loaded"""
        got = page.execute_script(MEASURE_ICONS, ICON)
        return got if "loaded" in got["loaded"] else None

    got = _wait(page, measured)
    assert [name for name, *_ in got["icons"]] == list(ICONS.values())
    for name, family, width, font_size in got["icons"]:
        assert "Material Symbols Rounded" in family, name
        assert 0.8 * font_size <= width <= 1.3 * font_size, (name, width, font_size)
    width, font_size = got["spelled"]
    assert width > 3 * font_size  # the check above would catch a missing font: "dashboard" spelled out


def _background(driver) -> str:
    return driver.execute_script("return getComputedStyle(document.querySelector('.stApp')).backgroundColor")


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


def test_a_browser_that_prefers_dark_gets_the_dark_theme(app, page):
    from selenium.webdriver.common.by import By

    assert _luminance(_wait(page, lambda: _background(page))) > 0.9  # the light theme by default
    driver = headless_chromium(1400, 1000)
    try:
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        )
        driver.get(app.url + "/")
        _wait(driver, lambda: _background(driver) == DARK_BACKGROUND)
        title = _wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .gtitle"))[0]
        assert _luminance(title.value_of_css_property("fill")) > 0.7  # the charts follow: light text on dark
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / "overview-dark.png"))
    finally:
        driver.quit()
