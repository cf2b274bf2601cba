"""The HTML report in a real headless Chromium: no console errors, charts drawn, injected markup inert and visible."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentmortem.report.html import render_html
from hostile_report import HOSTILE_MODEL, PAYLOADS, build_hostile_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1800",
]


def chrome(profile: Path, *, prefs: dict[str, Any] | None = None) -> Any:
    """A headless Chromium with its own profile (and Chrome preferences, e.g. where downloads go)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"headless browser test needs Chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER} not found)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = chrome(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def opened(browser: Any, tmp_path: Path) -> Any:
    """The hostile report, written to disk and opened from a file URL."""
    page = tmp_path / "report.html"
    page.write_text(render_html(build_hostile_report(tmp_path)), encoding="utf-8")
    browser.get(page.as_uri())
    return browser


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_report_opens_without_console_errors(opened: Any) -> None:
    opened.find_element("css selector", "[data-expand=open]").click()
    assert _severe(opened) == []
    assert opened.title.startswith("Failure signatures")


def test_charts_are_drawn(opened: Any) -> None:
    counts = opened.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => s.querySelectorAll('rect').length)"
    )
    # one heatmap, then per group: outcome bars, two histograms, precedence and lift matrices (3 groups)
    assert len(counts) >= 1 + 3 * 3
    assert all(n > 0 for n in counts)
    heatmap = opened.find_element("css selector", "#heatmap + p + div svg")
    assert len(heatmap.find_elements("css selector", "rect")) == 14 * 3


def test_injected_markup_does_not_run(opened: Any) -> None:
    opened.find_element("css selector", "[data-expand=open]").click()
    assert opened.execute_script("return typeof window.__pwned") == "undefined"
    assert "PWNED" not in opened.title
    assert opened.execute_script("return document.querySelectorAll('script').length") == 1
    assert opened.execute_script("return document.querySelectorAll('img, iframe, a[href^=javascript]').length") == 0
    bold = "return Array.from(document.querySelectorAll('b')).filter(b => b.textContent === 'bold').length"
    assert opened.execute_script(bold) == 0
    assert opened.execute_script("return document.querySelectorAll('style').length") == 1
    assert opened.find_element("css selector", "body").is_displayed()


def test_payloads_are_visible_as_text(opened: Any) -> None:
    opened.find_element("css selector", "[data-expand=open]").click()
    text = opened.find_element("css selector", "body").text
    for payload in PAYLOADS:
        assert payload in text, payload
    assert HOSTILE_MODEL in text


def test_evidence_steps_are_highlighted_and_linked(opened: Any) -> None:
    link = opened.find_element("css selector", "details.trace .modes-found a")
    target = link.get_attribute("href").split("#", 1)[1]
    opened.find_element("css selector", "[data-expand=open]").click()
    cited = opened.find_element("id", target)
    assert "ev" in cited.get_attribute("class").split()
    assert cited.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
