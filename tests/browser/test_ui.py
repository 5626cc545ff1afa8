"""The web UI in a real browser: `/ui/` and `/ui/<thing>` of the demo lab, driven by headless
Chromium. Values pushed by the server appear, inputs show the server's 422 messages, actions
stream their logs and cancel, running actions are found again after a reload, the camera's
MJPEG stream opens and closes, and no page fetches anything from anywhere but the lab.
"""

from __future__ import annotations

import random
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from support import api

THINGS = ["counter", "stage", "camera", "psu"]
# How long the first value may take to appear on a Thing page (issue #12).
FIRST_VALUE_BUDGET_MS = 500


def value_of(page: Page, prop: str):
    return page.locator(f'[data-property="{prop}"] output.value')


def open_thing(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/ui/{name}")
    # Loaded: the title is the TD's, and a first value is shown.
    expect(page.locator("#title")).not_to_have_text("Loading…")
    expect(page.locator("output.value").first).not_to_have_text("…")


def test_a_browser_at_the_root_lands_on_the_list_of_things(page: Page, base_url: str, artifacts):
    page.goto(base_url + "/")
    assert page.url == base_url + "/ui/"
    status, directory = api(base_url, "GET", "/things/")
    assert status == 200
    cards = page.locator("li.card")
    expect(cards).to_have_count(len(directory))
    for name in directory:
        card = page.locator(f'li.card[data-thing="{name}"]')
        _, td = api(base_url, "GET", f"/{name}/")
        expect(card.locator("h2")).to_have_text(td["title"])
        expect(card.locator("h2 a")).to_have_attribute("href", re.compile(f"/ui/{name}$"))
    page.screenshot(path=str(artifacts / "ui-index.png"), full_page=True)
    # The link opens the Thing's page.
    page.locator('li.card[data-thing="counter"] h2 a').click()
    expect(page).to_have_url(f"{base_url}/ui/counter")
    expect(page.locator("#title")).to_have_text(api(base_url, "GET", "/counter/")[1]["title"])


# Records, in the page, when a first value is on show (in ms from the start of navigation).
FIRST_VALUE_PROBE = """
new MutationObserver((_, observer) => {
  const main = document.getElementById("main");
  const shown = main && !main.hidden && [...main.querySelectorAll("output.value")].find((o) => o.textContent !== "…");
  if (shown && window.firstValueMs === undefined) {
    window.firstValueMs = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""


@pytest.mark.parametrize("name", THINGS)
def test_each_thing_page_shows_a_first_value_within_500_ms(browser: Browser, base_url: str, name: str):
    # Three navigations, each in a fresh browser context (nothing cached). The best counts: other
    # processes on a shared machine can only add to it; all three are printed.
    times = []
    for _ in range(3):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.add_init_script(FIRST_VALUE_PROBE)
            open_thing(page, base_url, name)
            expect(page.locator("#main")).to_be_visible()
            times.append(page.evaluate("window.firstValueMs"))
        finally:
            context.close()
    print(f"\nfirst live value on /ui/{name}: " + ", ".join(f"{t:.0f}" for t in times) + " ms after navigation")
    assert min(times) <= FIRST_VALUE_BUDGET_MS


@pytest.mark.parametrize("name", THINGS)
def test_each_thing_page_shows_its_affordances(page: Page, base_url: str, artifacts, name: str):
    open_thing(page, base_url, name)
    _, td = api(base_url, "GET", f"/{name}/")
    expect(page.locator("[data-property]")).to_have_count(len(td["properties"]))
    expect(page.locator("section.action")).to_have_count(len(td["actions"]))
    expect(page.locator("#events")).to_be_visible() if td.get("events") else expect(page.locator("#events")).to_be_hidden()
    # Read-only properties are text, writable ones have an input.
    for prop, schema in td["properties"].items():
        row = page.locator(f'[data-property="{prop}"]')
        # (A boolean's checkbox has no `.control` class: look for the input itself.)
        if schema["readOnly"]:
            expect(row.locator(".control, input[type=checkbox]")).to_have_count(0)
        else:
            expect(row.locator(".control, input[type=checkbox]").first).to_be_visible()
    # Every control has a name a screen reader can say.
    unnamed = page.evaluate(
        """[...document.querySelectorAll("input, select, textarea, button")]
             .filter((el) => !el.labels?.length && !el.getAttribute("aria-label") && !el.textContent.trim())
             .map((el) => el.outerHTML)"""
    )
    assert unnamed == []
    page.screenshot(path=str(artifacts / f"ui-{name}.png"), full_page=True)


def test_a_value_written_by_another_client_appears_within_a_second(page: Page, base_url: str):
    open_thing(page, base_url, "counter")
    count = value_of(page, "count")
    for _ in range(3):
        value = random.randint(10_000, 99_999)
        written = time.monotonic()
        assert api(base_url, "PUT", "/counter/count", value)[0] == 201
        expect(count).to_have_text(str(value), timeout=1_000)
        print(f"\nwrite by another client shown after {(time.monotonic() - written) * 1000:.0f} ms")
        # The editor follows too, while nobody is typing in it.
        expect(page.locator("#prop-count")).to_have_value(str(value))


def test_a_number_input_refuses_an_out_of_range_value_with_the_servers_message(page: Page, base_url: str):
    open_thing(page, base_url, "counter")
    _, before = api(base_url, "GET", "/counter/limit")
    limit = page.locator("#prop-limit")
    expect(limit).to_have_attribute("min", "0")
    expect(limit).to_have_attribute("max", "1000")
    limit.fill("5000")
    limit.press("Enter")
    status, refusal = api(base_url, "PUT", "/counter/limit", 5000)
    assert status == 422
    error = page.locator('[data-property="limit"] .field-error')
    expect(error).to_have_text(refusal["detail"][0]["msg"])
    expect(limit).to_have_attribute("aria-invalid", "true")
    assert api(base_url, "GET", "/counter/limit")[1] == before
    # A good value is written, the message goes, and the shown value follows.
    good = 1000 if before != 1000 else 999
    limit.fill(str(good))
    page.locator('[data-property="limit"]').get_by_role("button", name="Set", exact=True).click()
    expect(error).to_have_text("")
    expect(value_of(page, "limit")).to_have_text(str(good))
    assert api(base_url, "GET", "/counter/limit")[1] == good
    api(base_url, "PUT", "/counter/limit", before)


def test_an_action_streams_its_log_and_can_be_cancelled(page: Page, base_url: str):
    open_thing(page, base_url, "counter")
    slow = page.locator('section.action[data-action="slow"]')
    slow.locator("#action-slow-duration").fill("30")
    slow.locator("#action-slow-step").fill("0.1")
    slow.locator("button.run").click()
    card = slow.locator("article.invocation").first
    expect(card).to_have_attribute("data-status", "running")
    invocation = card.get_attribute("data-id")
    # Log lines arrive while it runs.
    lines = card.locator(".log li")
    expect(lines).not_to_have_count(0)
    seen = lines.count()
    expect(lines).not_to_have_count(seen, timeout=3_000)
    assert card.get_attribute("data-status") == "running"
    elapsed = float(card.locator(".elapsed").inner_text().split()[0])
    assert elapsed > 0
    card.locator("button", has_text="Cancel").click()
    expect(card).to_have_attribute("data-status", "cancelled", timeout=5_000)
    expect(card.locator(".badge")).to_have_text("cancelled")
    expect(card.locator("button", has_text="Cancel")).to_be_hidden()
    # A cancel is a normal end: said plainly, not as a (red) error.
    expect(card.locator(".result .meta")).to_contain_text("The action was cancelled.")
    expect(card.locator(".result .error")).to_have_count(0)
    assert api(base_url, "GET", f"/action_invocations/{invocation}")[1]["status"] == "cancelled"


def test_an_action_with_an_output_shows_it(page: Page, base_url: str):
    open_thing(page, base_url, "counter")
    before = api(base_url, "GET", "/counter/count")[1]
    page.locator('section.action[data-action="increment"] button.run').click()
    card = page.locator('section.action[data-action="increment"] article.invocation').first
    expect(card).to_have_attribute("data-status", "completed")
    expect(card.locator("pre.output")).to_have_text(str(before + 1))


def test_a_captured_image_is_shown_inline(page: Page, base_url: str):
    open_thing(page, base_url, "camera")
    page.locator('section.action[data-action="capture"] button.run').click()
    card = page.locator('section.action[data-action="capture"] article.invocation').first
    expect(card).to_have_attribute("data-status", "completed")
    image = card.locator("img.output")
    expect(image).to_have_attribute("src", re.compile(r"/blob/"))
    # (Not `wait_for_function`: the page's CSP refuses the `eval` it polls with.)
    expect(image).to_have_js_property("naturalWidth", 640)
    expect(image).to_have_js_property("naturalHeight", 480)
    expect(card.locator("a[download]")).to_contain_text("image/jpeg")
    # A blob-only output is the image and its link, with no stray JSON ("null") beside them.
    expect(card.locator(".result")).not_to_contain_text("null")
    expect(card.locator("pre.output")).to_have_count(0)


def test_a_reload_reattaches_to_a_running_action(page: Page, base_url: str):
    status, invocation = api(base_url, "POST", "/counter/slow", {"duration": 30, "step": 0.1})
    assert status == 201
    try:
        open_thing(page, base_url, "counter")
        card = page.locator(f'article.invocation[data-id="{invocation["id"]}"]')
        expect(card).to_have_attribute("data-status", "running")
        expect(card.locator(".log li")).not_to_have_count(0)
        page.reload()
        card = page.locator(f'article.invocation[data-id="{invocation["id"]}"]')
        expect(card).to_have_attribute("data-status", "running")
        expect(card.locator(".log li")).not_to_have_count(0)
        card.locator("button", has_text="Cancel").click()
        expect(card).to_have_attribute("data-status", "cancelled", timeout=5_000)
    finally:
        api(base_url, "DELETE", f"/action_invocations/{invocation['id']}")


def open_connections(base_url: str) -> int:
    """The server's established TCP connections (Linux's /proc/net/tcp, 127.0.0.1 only)."""
    port = urlsplit(base_url).port
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == "01")


def test_the_camera_stream_opens_when_shown_and_closes_when_hidden(page: Page, base_url: str, artifacts):
    open_thing(page, base_url, "camera")
    stream = page.locator('[data-stream="preview"]')
    toggle = stream.locator("button")
    image = stream.locator("img")
    expect(image).to_be_hidden()
    assert image.get_attribute("src") is None
    with page.expect_request(lambda request: urlsplit(request.url).path == "/camera/preview"):
        toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(image).to_be_visible()
    # Frames arrive: the image has the camera's size. (Not `wait_for_function`: the page's CSP
    # refuses the `eval` it polls with.)
    expect(image).to_have_js_property("naturalWidth", 640)
    page.screenshot(path=str(artifacts / "ui-camera-streaming.png"), full_page=False)
    connected = open_connections(base_url)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(image).to_be_hidden()
    assert image.get_attribute("src") is None
    # The browser drops the stream's connection (an HTTP/1.1 response cut short can't be reused).
    deadline = time.monotonic() + 5
    while open_connections(base_url) >= connected and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert open_connections(base_url) < connected, "the stream's connection stayed open"


def test_events_appear_live(page: Page, base_url: str):
    open_thing(page, base_url, "stage")
    _, position = api(base_url, "GET", "/stage/position")
    status, _ = api(base_url, "POST", "/stage/move_absolute", {"position": [position[0] + 5, position[1], position[2]]})
    assert status == 201
    arrived = page.locator('#event-list li[data-event="arrived"]').first
    expect(arrived).to_contain_text(f"[{position[0] + 5},{position[1]},{position[2]}]")
    # The stage's position is pushed as it moves.
    expect(value_of(page, "position")).to_have_text(f"[{position[0] + 5},{position[1]},{position[2]}]")


@pytest.mark.parametrize("path", ["/ui/"] + [f"/ui/{name}" for name in THINGS])
def test_pages_fit_a_phone_screen(browser: Browser, base_url: str, artifacts, path: str):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(base_url + path)
        expect(page.locator("#status")).to_be_empty()
        if path != "/ui/":
            expect(page.locator("#main")).to_be_visible()
        # Nothing wider than the screen: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        name = path.strip("/").replace("/", "-") or "ui"
        page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=False)
    finally:
        context.close()


def test_the_history_view_lists_invocations_a_records_detail_and_past_values(page: Page, base_url: str):
    api(base_url, "PUT", "/counter/count", 3)
    api(base_url, "PUT", "/counter/count", 7)
    api(base_url, "POST", "/counter/increment")
    open_thing(page, base_url, "counter")
    section = page.locator("#history")
    expect(section).to_be_visible()
    page.locator("#history-filters select[name=action]").select_option("increment")
    page.locator("#history-filters button[type=submit]").click()
    row = section.locator("table.history tbody tr").first
    expect(row).to_contain_text("increment")
    expect(row).to_contain_text("completed")
    row.locator("button").click()
    detail = page.locator("#history-detail")
    expect(detail.locator("h3")).to_contain_text("increment · completed")
    expect(detail).to_contain_text("State at start")
    page.locator("#history-property").select_option("count")
    page.locator("#history-property-form button[type=submit]").click()
    values = page.locator("#history-series table.history tbody")
    expect(values).to_contain_text("7")
    expect(values).to_contain_text("http")
    # The numbers are plotted against time too, with a text alternative.
    plot = page.locator("#history-series figure.history-plot svg")
    expect(plot).to_be_visible()
    expect(plot).to_have_attribute("role", "img")
    expect(plot.locator("path, polyline").first).to_be_attached()
