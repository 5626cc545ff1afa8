"""Helpers of the browser tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def api(base_url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A plain HTTP request from Python, as another client would make it: (status, JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None
