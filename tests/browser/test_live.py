"""Live readings in the web UI (issue #21): the demo thermometer's polled temperature grows a
trace while the page is open, and the warm-up curve (an action returning [s, °C] pairs) is
plotted with its numbers one click away, at desktop and phone width. Screenshots go to the
artifacts folder.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_trace_grows_and_a_series_is_plotted(browser: Browser, base_url: str, artifacts, size: str):
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{base_url}/ui/thermometer")
        row = page.locator('[data-property="temperature"]')
        # The current value stays text, with its unit beside it.
        expect(row.locator("output.value")).not_to_have_text("…")
        expect(row.locator(".unit")).to_have_text("°C")
        trace = row.locator("figure.trace svg")
        # The trace grows: it has a line, and its text alternative counts more points over time.
        expect(trace.locator("path.line")).to_have_count(1, timeout=10_000)
        page.wait_for_function(
            """() => {
              const svg = document.querySelector('[data-property="temperature"] figure.trace svg');
              const m = svg && /(\\d+) points/.exec(svg.getAttribute("aria-label") || "");
              return m && Number(m[1]) >= 3;
            }""",
            timeout=15_000,
        )
        expect(trace).to_have_attribute("role", "img")
        # Pausable by keyboard.
        pause = row.locator("figure.trace button")
        pause.focus()
        page.keyboard.press("Enter")
        expect(pause).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("Enter")
        expect(pause).to_have_attribute("aria-pressed", "false")
        # Fits the width: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        action = page.locator('[data-action="warm_up_curve"]')
        action.locator("button.run").click()
        card = action.locator("article.invocation").first
        expect(card).to_have_attribute("data-status", "completed", timeout=10_000)
        plot = card.locator("figure.series svg")
        expect(plot.locator("path.line")).to_have_count(1)
        label = plot.get_attribute("aria-label") or ""
        assert "61 points" in label, label
        # The numbers are one click away.
        numbers = card.locator("details")
        numbers.locator("summary").click()
        expect(numbers.locator("pre.output")).to_be_visible()
        page.screenshot(path=str(artifacts / f"ui-live-{size}.png"), full_page=True)
    finally:
        context.close()
