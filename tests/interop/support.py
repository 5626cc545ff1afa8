"""Helpers of the interop suite: polling and invoking over raw HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

#: Invocation statuses that are not final.
UNFINISHED = ("pending", "running")


def wait_finished(http: httpx.Client, href: str, timeout: float = 10.0) -> dict:
    """Poll an invocation until its status is final; return its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(href)
        assert r.status_code == 200, (href, r.status_code, r.text)
        inv = r.json()
        if inv["status"] not in UNFINISHED:
            return inv
        if time.monotonic() > deadline:
            pytest.fail(f"invocation {href} still {inv['status']} after {timeout}s")
        time.sleep(0.02)


def wait_status(
    http: httpx.Client, href: str, wanted: str, timeout: float = 10.0
) -> dict:
    """Poll an invocation until it has the status ``wanted``; return its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        inv = http.get(href).json()
        if inv["status"] == wanted:
            return inv
        if time.monotonic() > deadline:
            pytest.fail(f"invocation {href} is {inv['status']}, not {wanted}, after {timeout}s")
        time.sleep(0.02)


def invoke(http: httpx.Client, thing: str, action: str, body: Any = None, **kw) -> httpx.Response:
    """POST an action; ``body`` is sent as JSON unless it is ``None``."""
    if body is None:
        return http.post(f"/{thing}/{action}", **kw)
    return http.post(f"/{thing}/{action}", json=body, **kw)


def invoke_and_wait(http: httpx.Client, thing: str, action: str, body: Any = None) -> dict:
    """POST an action, check the 201, and poll it to the end."""
    r = invoke(http, thing, action, body)
    assert r.status_code == 201, r.text
    return wait_finished(http, r.json()["href"])
