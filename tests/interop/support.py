"""Helpers of the interop suite: polling and invoking over raw HTTP, starting and stopping
processes (a test-lab of our own, node-wot scripts)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
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


HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def lab_binary() -> str:
    """``$LABTHINGS_TEST_LAB``, else ``<target>/debug/test-lab`` (``tests/interop/run`` builds it)."""
    given = os.environ.get("LABTHINGS_TEST_LAB")
    if given:
        return given
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "test-lab")


def start_lab(args: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    """A test-lab of our own (``args`` after the binary); the process and its base URL."""
    process = subprocess.Popen(
        [lab_binary(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
    )
    line = process.stdout.readline()
    if "http://" not in line:
        stop(process)
        pytest.fail(f"test-lab did not announce its address: {line!r}")
    return process, line.strip().rsplit(" ", 1)[-1].rstrip("/")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_node(folder_variable: str, package: str, script: Path, plan: dict) -> dict:
    """Run a node-wot ``script`` (copied into the npm folder named by ``$folder_variable``,
    which must hold ``node_modules/@node-wot/<package>``) with ``plan``; its last JSON line."""
    folder = os.environ.get(folder_variable)
    if not folder or not (Path(folder) / "node_modules" / "@node-wot" / package).is_dir():
        pytest.fail(f"node-wot is not installed: run tests/interop/run (it sets {folder_variable})")
    copy = Path(folder) / script.name
    copy.write_text(script.read_text())
    done = subprocess.run(
        ["node", str(copy), json.dumps(plan)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, (
        f"node-wot exited {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr[-3000:]}"
    )
    return json.loads(lines[-1])
