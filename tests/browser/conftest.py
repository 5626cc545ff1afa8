"""Shared fixtures of the browser suite.

``base_url`` (str) names the demo lab under test (``tests/browser/run`` starts one on a free
port and sets ``LABTHINGS_BASE_URL``); ``browser`` is a Playwright sync ``Browser``: Debian's
Chromium, headless, launched once per session. Both are session-scoped; other test files
(e.g. the API docs page's) use exactly these two.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def base_url() -> str:
    """The demo lab's base URL, without a trailing slash."""
    url = os.environ.get("LABTHINGS_BASE_URL")
    if not url:
        pytest.exit(
            "LABTHINGS_BASE_URL is not set: run tests/browser/run, or point it at a running demo lab",
            returncode=4,
        )
    return url.rstrip("/")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian (never a browser Playwright downloaded)."""
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"no Chromium at {executable}: apt-get install chromium (the suite is not skipped)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (``tests/browser/run`` sets it inside the target folder)."""
    folder = Path(os.environ.get("BROWSER_ARTIFACTS", "target/browser-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh page (own context: no shared storage) that records every request it makes and,
    at the end of the test, fails it if one went anywhere but the lab on 127.0.0.1, or if the
    page reported a JavaScript error or a Content-Security-Policy violation."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}")
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    lab = urllib.parse.urlsplit(base_url)
    elsewhere = [
        url
        for url in requests
        if urllib.parse.urlsplit(url).scheme not in ("data", "blob", "about")
        and urllib.parse.urlsplit(url).hostname != lab.hostname
    ]
    assert lab.hostname == "127.0.0.1"
    assert not elsewhere, f"requests left 127.0.0.1: {elsewhere}"
    assert not problems, problems


SECURED_TOKEN = "browser-suite-token"


@pytest.fixture(scope="session")
def secured_url(tmp_path_factory) -> Iterator[str]:
    """A second demo lab, with bearer tokens on (``SECURED_TOKEN``), on a free port."""
    binary = os.environ.get("DEMO_LAB")
    if not binary:
        pytest.fail("DEMO_LAB is not set: run tests/browser/run (it names the demo-lab binary)")
    folder = tmp_path_factory.mktemp("secured-lab")
    environment = {**os.environ, "LABTHINGS_TOKEN": SECURED_TOKEN}
    server = subprocess.Popen(
        [binary, "--port", "0"], cwd=folder, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        first_line = server.stdout.readline() if server.stdout else ""
        match = re.search(r"listening on (http://\S+)", first_line)
        if not match:
            pytest.fail(f"the secured demo lab did not start: {first_line!r}")
        yield match.group(1).rstrip("/")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
