"""The web UI of a lab with bearer tokens on: the page needs a token like every other route,
opens with `?access_token=`, takes the token out of the address bar, and keeps working (files,
live values, the camera stream, reloads) through the cookie the server sets."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import Browser, expect

from conftest import SECURED_TOKEN


def put(base_url: str, path: str, value) -> int:
    request = urllib.request.Request(
        base_url + path, data=json.dumps(value).encode(), method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECURED_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_secured_lab_opens_with_a_token_and_stays_open(browser: Browser, secured_url: str):
    context = browser.new_context()
    try:
        page = context.new_page()
        refused = page.goto(f"{secured_url}/ui/counter")
        assert refused is not None and refused.status == 401
        page.goto(f"{secured_url}/ui/counter?access_token={SECURED_TOKEN}")
        expect(page.locator("#title")).to_have_text("Counter")
        # The token leaves the address bar (no bookmarks or history with it).
        assert page.url == f"{secured_url}/ui/counter"
        count = page.locator('[data-property="count"] output.value')
        expect(count).not_to_have_text("…")
        expect(page.locator("#live")).to_have_text("Live")
        assert put(secured_url, "/counter/count", 4242) == 201
        expect(count).to_have_text("4242", timeout=1_000)
        # A reload needs no token in the address: the cookie carries it.
        page.reload()
        expect(count).to_have_text("4242")
        # A write from the page goes through (it comes from the server's own origin, so the
        # cross-site check on cookie-carried changes lets it pass).
        field = page.locator("#prop-count")
        field.fill("77")
        page.locator('[data-property="count"]').get_by_role("button", name="Set", exact=True).click()
        expect(count).to_have_text("77", timeout=2_000)
        expect(page.locator('[data-property="count"] .field-error')).to_have_text("")
        page.goto(f"{secured_url}/ui/camera")
        stream = page.locator('[data-stream="preview"]')
        stream.locator("button").click()
        expect(stream.locator("img")).to_have_js_property("naturalWidth", 640)
        expect(page.locator("#auth")).to_be_empty()
    finally:
        context.close()
