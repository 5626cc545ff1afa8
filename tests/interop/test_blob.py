"""Blobs through the real Python client, ``labthings_fastapi.ThingClient`` 0.3.0.

What the client does (``labthings_fastapi/client/__init__.py`` and ``outputs/blob.py``):

* a completed invocation whose ``output`` is a mapping holding ``href`` and ``media_type``
  becomes ``Blob(RemoteBlobData(media_type, href, client))``;
* ``blob.content`` GETs ``href`` (every time) and returns the body; ``blob.save(path)`` writes it;
* a ``Blob`` passed as an action argument is sent back as its link JSON, which the server must
  resolve to the blob it still keeps.

The ``lab`` fixture Thing's blobs hold ``bytes(i % 251 for i in range(n))``.
"""

from __future__ import annotations

import labthings_fastapi as lt


def known_bytes(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def test_client_downloads_a_blob_output(thing_client):
    lab = thing_client("lab")
    blob = lab.blob()
    assert isinstance(blob, lt.blob.Blob)
    assert blob.media_type == "application/octet-stream"
    assert blob.content == known_bytes(1000)


def test_client_downloads_a_file_blob(thing_client, tmp_path):
    lab = thing_client("lab")
    blob = lab.blob_file(size=100_000)
    assert blob.media_type == "image/x-test"
    assert blob.content == known_bytes(100_000)
    target = tmp_path / "copy.bin"
    blob.save(str(target))
    assert target.read_bytes() == known_bytes(100_000)


def test_client_sends_a_blob_back_as_input(thing_client):
    lab = thing_client("lab")
    blob = lab.blob()
    assert lab.blob_size(blob=blob) == [1000, "application/octet-stream"]


def test_blob_http_shapes(http):
    """The invocation output link, the download and the unknown-blob 404 as captures 93-98."""
    r = http.post("/lab/blob", headers={"Prefer": "wait=10"})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["status"] == "completed"
    output = inv["output"]
    assert set(output) == {"href", "media_type", "rel", "description"}
    assert output["rel"] == "output"
    assert output["href"].startswith(str(http.base_url).rstrip("/") + "/blob/")
    download = http.get(output["href"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-length"] == "1000"
    assert download.content == known_bytes(1000)
    raw = http.get(f"/action_invocations/{inv['id']}/output")
    assert raw.status_code == 200 and raw.content == known_bytes(1000)
    part = http.get(output["href"], headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == known_bytes(10)
    missing = http.get("/blob/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Blob not found"}
