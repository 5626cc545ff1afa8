"""The API docs page (`/docs`, Swagger UI served from inside the binary) in headless Chromium.

What FastAPI's `/docs` gets wrong on an offline lab network is exactly what is checked here:
the page must render every operation of `/openapi.json` and must not make a single request
anywhere but the lab on 127.0.0.1 (no CDN, no validator badge). It must also work under the
page's Content-Security-Policy: a refused script or style shows up as a console error.

Uses only the suite's two session fixtures: ``base_url`` (the demo lab) and ``browser``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

from playwright.sync_api import Browser, ConsoleMessage, Request


def openapi(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:
        return json.load(response)


def operations(document: dict) -> list[tuple[str, str, dict]]:
    """(path, method, operation) for every operation of the document."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]


def test_docs_renders_every_operation_offline(browser: Browser, base_url: str) -> None:
    document = openapi(base_url)
    expected = operations(document)
    assert len(expected) > 20, "the demo lab's document lists its routes"

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    page.on("console", console)
    page.set_default_timeout(15_000)
    try:
        response = page.goto(f"{base_url}/docs")
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # Swagger UI lists every operation (tags expanded) once it has read the document.
        page.wait_for_selector(".opblock", state="attached")
        page.wait_for_function(
            "n => document.querySelectorAll('.opblock').length >= n", arg=len(expected)
        )
        assert page.locator(".opblock").count() == len(expected)
        assert page.locator(".info .title").inner_text().startswith(document["info"]["title"])
        # Every path is shown (Swagger UI renders `/` joins with zero-width spaces).
        shown = {
            text.replace("\u200b", "")
            for text in page.locator(".opblock-summary-path").all_inner_texts()
        }
        assert {path for path, _, _ in expected} <= shown

        # "Try it out" on a property read goes to the server and shows its answer: the CSP
        # allows the fetch, and the request goes where the document says.
        path, _, read = next(
            (path, method, op)
            for path, method, op in expected
            if method == "get" and op["operationId"].endswith(".read")
        )
        # Swagger UI's id of an operation's block: `operations-<tag>-<operationId>` with each
        # `.` of the operationId escaped by a backslash (itself escaped in the CSS string).
        escaped_id = read["operationId"].replace(".", "\\\\.")
        block = page.locator(f"[id='operations-{read['tags'][0]}-{escaped_id}']")
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        with page.expect_response(lambda r: urllib.parse.urlsplit(r.url).path == path) as answer:
            block.locator("button.execute").click()
        assert answer.value.status == 200
        block.locator(".live-responses-table tbody .response-col_status").first.wait_for()
        assert "200" in block.locator(".live-responses-table tbody .response-col_status").first.inner_text()

        # "Try it out" on an action starts it: the page is the server's own origin, so the
        # cross-site rule (a POST from another site's page gets 403) lets it through.
        path, _, invoke = next(
            (path, method, op)
            for path, method, op in expected
            if method == "post" and op["operationId"] == "counter.increment.invoke"
        )
        escaped_id = invoke["operationId"].replace(".", "\\\\.")
        block = page.locator(f"[id='operations-{invoke['tags'][0]}-{escaped_id}']")
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        block.locator("textarea.body-param__text").fill("{}")
        with page.expect_response(
            lambda r: urllib.parse.urlsplit(r.url).path == path and r.request.method == "POST"
        ) as answer:
            block.locator("button.execute").click()
        assert answer.value.status == 201, answer.value.text()
        # A browser's POST carries its page's Origin: the server checked it.
        assert answer.value.request.all_headers().get("origin") == base_url
    finally:
        context.close()

    lab = urllib.parse.urlsplit(base_url)
    assert lab.hostname == "127.0.0.1"
    assert requests, "the page made requests"
    elsewhere = [
        url
        for url in requests
        if urllib.parse.urlsplit(url).scheme not in ("data", "blob", "about")
        and urllib.parse.urlsplit(url).netloc != lab.netloc
    ]
    assert not elsewhere, f"requests left the lab on {lab.netloc}: {elsewhere}"
    loaded = {urllib.parse.urlsplit(url).path for url in requests}
    assert {"/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/openapi.json"} <= loaded
    assert not problems, problems
