"""Custom endpoints (``#[endpoint]``) from Python: the demo camera's ``GET camera/snapshot.jpg``.

An endpoint is plain HTTP: any client can fetch it (``<img src>``, ``requests``, ``httpx``), and
the reference's ``ThingClient`` doesn't see it, since it is not in the Thing Description.
"""

from __future__ import annotations

import struct

import labthings_fastapi as lt

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
# Start-of-frame markers (baseline, extended, progressive…): all but DHT (C4), JPG (C8), DAC (CC).
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG's start-of-frame segment, walking its marker segments."""
    assert jpeg.startswith(SOI) and jpeg.endswith(EOI), jpeg[:4] + b"..." + jpeg[-4:]
    at = 2
    while at + 4 <= len(jpeg):
        assert jpeg[at] == 0xFF, f"no marker at byte {at}"
        marker = jpeg[at + 1]
        (length,) = struct.unpack(">H", jpeg[at + 2 : at + 4])
        if marker in SOF_MARKERS:
            height, width = struct.unpack(">HH", jpeg[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no start-of-frame segment")


def test_snapshot_is_a_jpeg_of_the_cameras_size(http, thing_client):
    r = http.get("/camera/snapshot.jpg")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-length"] == str(len(r.content))
    # The same sensor as the capture action's full-resolution frame, read through the client.
    camera = thing_client("camera")
    captured = camera.capture()
    assert isinstance(captured, lt.blob.Blob)
    assert jpeg_size(r.content) == jpeg_size(captured.content)


def test_snapshot_quality_comes_from_the_query(http):
    low = http.get("/camera/snapshot.jpg", params={"quality": 5})
    high = http.get("/camera/snapshot.jpg", params={"quality": 100})
    assert low.status_code == high.status_code == 200
    assert jpeg_size(low.content) == jpeg_size(high.content)
    assert len(low.content) * 2 < len(high.content), (len(low.content), len(high.content))
    bad = http.get("/camera/snapshot.jpg", params={"quality": "best"})
    assert bad.status_code == 422
    assert bad.json() == {"detail": "`quality` must be a whole number from 1 to 100"}


def test_snapshot_answers_get_and_head_only(http):
    head = http.head("/camera/snapshot.jpg")
    assert head.status_code == 200
    assert head.headers["content-type"] == "image/jpeg"
    assert int(head.headers["content-length"]) > 0 and head.content == b""
    refused = http.post("/camera/snapshot.jpg")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET"
    assert refused.json() == {"detail": "Method Not Allowed"}


def test_endpoints_are_not_affordances(http, thing_client):
    td = http.get("/camera/").json()
    for kind in ("properties", "actions", "events"):
        assert "snapshot" not in td.get(kind, {}), kind
    assert not hasattr(thing_client("camera"), "snapshot")
