"""Shared fixtures of the interop suite.

The server under test is named by ``LABTHINGS_BASE_URL`` (``tests/interop/run`` starts
``test-lab``, the demo lab's Things plus the ``lab`` fixture, on a free port and sets it).
The tests never assume a fresh server: they read the state they depend on first, and compare
against that.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import httpx
import pytest

import labthings_fastapi as lt


@pytest.fixture(scope="session")
def base_url() -> str:
    """The server's base URL, without a trailing slash."""
    url = os.environ.get("LABTHINGS_BASE_URL")
    if not url:
        pytest.exit(
            "LABTHINGS_BASE_URL is not set: run tests/interop/run, or point it at a "
            "running LabThings server",
            returncode=4,
        )
    return url.rstrip("/")


@pytest.fixture(scope="session")
def http(base_url: str):
    """A plain httpx client on the server (no redirects followed, no retries)."""
    with httpx.Client(base_url=base_url, timeout=10.0, follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="session")
def thing_client(base_url: str) -> Callable[[str], Any]:
    """``thing_client("counter")``: the real ``ThingClient.from_url`` for that Thing."""
    cache: dict[str, Any] = {}

    def make(name: str) -> Any:
        if name not in cache:
            cache[name] = lt.ThingClient.from_url(f"{base_url}/{name}/")
        return cache[name]

    return make
