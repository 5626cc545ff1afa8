"""The reference server test_rust_client.py runs the Rust client against.

labthings-fastapi 0.3.0 serving ``bench/peer_thing.py``'s counter and a camera whose
``capture()`` returns a JPEG blob, as the reference captures' ``peer_thing.py`` does (captures
92-95), so the client's blob download meets the reference's real shapes. Serve it with
``uvicorn --app-dir tests/interop rust_client_peer:app``; settings go to
``$BENCH_SETTINGS_DIR``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import labthings_fastapi as lt

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from peer_thing import BenchCounter  # noqa: E402

# A tiny but valid 1x1 pixel baseline JPEG (the reference captures' peer_thing.py).
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909"
    "080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30"
    "313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403"
    "050504040000017d01020300041105122131410613516107227114328191a1082342b1c115"
    "52d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a53"
    "5455565758595a636465666768696a737475767778797a838485868788898a929394959697"
    "98999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8"
    "d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


class JPEGBlob(lt.blob.Blob):
    """A JPEG image."""

    media_type = "image/jpeg"


class MockCamera(lt.Thing):
    """A camera-like Thing whose capture is a JPEG blob."""

    @lt.action
    def capture(self) -> JPEGBlob:
        """Capture a (fake, 1x1 pixel) JPEG frame."""
        return JPEGBlob.from_bytes(TINY_JPEG)


_settings = os.environ.get("BENCH_SETTINGS_DIR") or tempfile.mkdtemp(prefix="rust-client-peer-")

server = lt.ThingServer.from_things(
    {"counter": BenchCounter, "camera": MockCamera}, settings_folder=_settings
)
app = server.app
