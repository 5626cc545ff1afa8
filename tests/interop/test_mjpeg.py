"""The demo camera's MJPEG preview (issue #11) read with httpx and a strict multipart reader.

httpx undoes the chunked transfer encoding; the parts are then read byte for byte: ``--frame``,
exactly ``Content-Type: image/jpeg`` and ``Content-Length: N``, a blank line, N bytes that are a
whole JPEG (SOI ``FF D8`` … EOI ``FF D9``), CRLF. Also: the TD's link, the viewer page, ``?fps=``.
"""

from __future__ import annotations

import time

import httpx


class Parts:
    """Parts of a ``multipart/x-mixed-replace; boundary=frame`` body, read strictly."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_bytes()
        self._buffer = b""

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._buffer += next(self._chunks)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            assert len(self._buffer) < 256, self._buffer
            self._buffer += next(self._chunks)
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def next_jpeg(self) -> bytes:
        assert self._line() == b"--frame"
        assert self._line() == b"Content-Type: image/jpeg"
        name, _, value = self._line().partition(b": ")
        assert name == b"Content-Length", name
        length = int(value)
        assert self._line() == b""
        jpeg = self._take(length)
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        assert self._take(2) == b"\r\n"
        return jpeg


def test_the_td_links_the_preview(http):
    td = http.get("/camera/").json()
    assert {"rel": "alternate", "type": "multipart/x-mixed-replace", "href": "/camera/preview"} in td["links"]


def test_preview_parts_are_whole_jpegs(http):
    with http.stream("GET", "/camera/preview") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
        parts = Parts(response)
        frames = [parts.next_jpeg() for _ in range(3)]
    assert len(set(frames)) == 3  # the pattern moves


def test_fps_caps_the_rate(http):
    with http.stream("GET", "/camera/preview", params={"fps": 2}) as response:
        parts = Parts(response)
        parts.next_jpeg()
        started = time.monotonic()
        parts.next_jpeg()
        parts.next_jpeg()
        assert time.monotonic() - started >= 0.9  # two frames at 2 fps: at least 1 s apart


def test_viewer_page(http):
    page = http.get("/camera/preview/viewer")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<img src="/camera/preview"' in page.text
