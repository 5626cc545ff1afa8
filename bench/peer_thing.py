"""The Python side of the benchmark: a counter Thing on labthings-fastapi 0.3.0.

It behaves like the reference `PeerCounter` (and like our `examples/src/counter.rs`), so the
same requests exercise the same work on both servers:

* properties: ``count`` (int, read/write, 0), ``serial`` (str, read-only), ``limit``
  (int, 0..=1000, default 100), setting ``gain`` (float, 1.0, persisted), ``uptime``
  (float, read-only functional property);
* actions: ``big_blob(megabytes=100)`` (an ``application/octet-stream`` blob of that many
  MB, made once per size and kept, so downloads measure serving, not making), ``increment()`` (count += 1, returns the new count), ``slow(duration=5.0,
  step=0.5)`` (cancellable sleep in ``step`` chunks, one log line per step, returns the
  number of steps), ``fail()`` (always raises ``RuntimeError``).

``bench/run`` serves it with uvicorn, one worker::

    BENCH_SETTINGS_DIR=/tmp/x uvicorn --app-dir bench peer_thing:app --workers 1
"""

from __future__ import annotations

import os
import tempfile
import time

import labthings_fastapi as lt
from labthings_fastapi.invocation_contexts import get_invocation_id


class OctetBlob(lt.blob.Blob):
    media_type = "application/octet-stream"


_BIG: dict[int, bytes] = {}


class BenchCounter(lt.Thing):
    """A counter Thing: the benchmark's Python peer."""

    def __init__(self, thing_server_interface: lt.ThingServerInterface) -> None:
        super().__init__(thing_server_interface)
        self._created_at = time.monotonic()

    count: int = lt.property(default=0)
    "The current count (read/write)."

    serial: str = lt.property(default="BENCH-0001", readonly=True)
    "A read-only serial number (read-only data property)."

    limit: int = lt.property(default=100, ge=0, le=1000)
    "A constrained integer (0 <= limit <= 1000)."

    gain: float = lt.setting(default=1.0)
    "A float setting, persisted to the settings folder."

    @lt.property
    def uptime(self) -> float:
        """Seconds since the Thing was created (read-only functional property)."""
        return time.monotonic() - self._created_at

    @lt.action
    def increment(self) -> int:
        """Add one to ``count`` and return the new value."""
        self.count = self.count + 1
        return self.count

    @lt.action
    def slow(self, duration: float = 5.0, step: float = 0.5) -> int:
        """Sleep for ``duration`` seconds in ``step``-second chunks.

        Each step is logged to the invocation log. The sleep is cancellable (DELETE on the
        invocation), in which case the invocation ends with status ``cancelled``.

        :param duration: total time to sleep, in seconds.
        :param step: length of each step, in seconds.
        :return: the number of steps completed.
        """
        step = max(float(step), 0.001)
        steps = max(1, int(round(duration / step)))
        self.logger.info(
            f"slow: starting {steps} steps of {step}s (id {get_invocation_id()})"
        )
        done = 0
        while done < steps:
            lt.cancellable_sleep(step)
            done += 1
            self.logger.info(f"slow: step {done}/{steps} done")
        return steps

    @lt.action
    def big_blob(self, megabytes: int = 100) -> OctetBlob:
        """Return ``megabytes`` MB of bytes as a blob (the blob-download benchmark)."""
        if megabytes not in _BIG:
            _BIG[megabytes] = bytes(range(256)) * (megabytes * 1_000_000 // 256)
        return OctetBlob.from_bytes(_BIG[megabytes])

    @lt.action
    def fail(self) -> None:
        """Always fail.

        :raise RuntimeError: every time.
        """
        raise RuntimeError("deliberate failure from fail()")


_settings = os.environ.get("BENCH_SETTINGS_DIR") or tempfile.mkdtemp(prefix="bench-peer-")

server = lt.ThingServer.from_things({"counter": BenchCounter}, settings_folder=_settings)
app = server.app
