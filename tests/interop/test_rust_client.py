"""The Rust client (``labthings-client``) against the Python reference server, and ours.

``labthings-client/examples/smoke.rs`` reads and writes properties (a 422 and a 405 among
them), invokes actions (one failing), reads an invocation's log and cancels it, then tries to
observe ``count`` over SSE, printing ``ok: ...`` per check and ``smoke: all ok`` at the end.

* ``test_rust_client_on_the_reference`` starts labthings-fastapi 0.3.0 under uvicorn (from this
  venv) serving ``rust_client_peer.py`` (``bench/peer_thing.py``'s counter and a camera whose
  ``capture()`` returns a JPEG blob) on a free port, and runs the smoke against its counter and
  camera (the blob is downloaded). The reference has no event streams: the SSE check must say
  ``skip:``.
* ``test_rust_client_on_ours`` runs it against ``LABTHINGS_BASE_URL``'s counter, where SSE
  must work.

The binary is ``$LABTHINGS_CLIENT_SMOKE`` when set, else this runs
``cargo build -p labthings-client --example smoke`` and uses ``target/debug/examples/smoke``.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from support import stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke() -> str:
    given = os.environ.get("LABTHINGS_CLIENT_SMOKE")
    if given:
        return given
    built = subprocess.run(
        ["cargo", "build", "-q", "-p", "labthings-client", "--example", "smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "examples" / "smoke")


@pytest.fixture()
def reference(tmp_path: Path):
    """The Python reference serving rust_client_peer.py; yields its base URL."""
    env = dict(os.environ, BENCH_SETTINGS_DIR=str(tmp_path), TZ="UTC")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent), "rust_client_peer:app",
         "--host", "127.0.0.1", "--port", "0", "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in server.stderr], daemon=True
    ).start()
    url = None
    seen = []
    deadline = time.monotonic() + 30
    try:
        while url is None and time.monotonic() < deadline and server.poll() is None:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
        assert url, f"uvicorn did not announce its address: {''.join(seen)}"
        yield url
    finally:
        stop(server)


def run_smoke(smoke: str, *urls: str) -> list[str]:
    done = subprocess.run([smoke, *urls], capture_output=True, text=True, timeout=90)
    out = done.stdout.splitlines()
    assert done.returncode == 0, f"smoke failed:\n{done.stdout}\n{done.stderr}"
    assert out[-1] == "smoke: all ok", done.stdout
    return out


def test_rust_client_on_the_reference(smoke: str, reference: str) -> None:
    # Without the slash: the client follows the reference's 307.
    out = run_smoke(smoke, f"{reference}/counter", f"{reference}/camera/")
    text = "\n".join(out)
    assert "ok: TD of BenchCounter" in text
    assert "ok: write count \"abc\" refused" in text
    assert "Input should be a valid integer, unable to parse string as an integer" in text
    assert "ok: write read-only serial refused: 405" in text
    assert "ok: invoke fail: problem RuntimeError (500): deliberate failure from fail()" in text
    assert "ok: cancel slow: Err(Cancelled)" in text
    assert any(line.startswith("skip: observe count") for line in out), text
    assert re.search(r"ok: capture blob: 332 bytes of image/jpeg .* from http://127\.0\.0\.1:\d+/blob/", text), text


def test_rust_client_on_ours(smoke: str, base_url: str) -> None:
    out = run_smoke(smoke, f"{base_url}/counter/")
    assert "ok: observe count over SSE: 7" in out, "\n".join(out)
