"""node-wot (``@node-wot/core`` + ``@node-wot/binding-http`` 0.9.2, pinned in
``nodewot/package-lock.json``) consumes the test lab's Thing Descriptions, observes a property
and subscribes to an event over Server-Sent Events, choosing the forms itself (it also writes
the property and invokes the action that emits the event, through the TD's forms). Against a
server that requires a token, node-wot reads properties with the token filed under the TD's
``id`` (``servient.addCredentials``), as WoT consumers do, and is refused otherwise.

``tests/interop/run`` installs node-wot with ``npm ci`` and names its folder in
``NODEWOT_DIR``; without it the test fails, saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import run_node

HERE = Path(__file__).parent


def consume(plan: dict) -> dict:
    return run_node("NODEWOT_DIR", "core", HERE / "nodewot" / "consume.mjs", plan)


def test_nodewot_observes_a_property_over_sse(base_url):
    seen = consume(
        {"td": f"{base_url}/counter/", "observe": {"property": "count", "writes": [101, 102, 103]}}
    )
    assert seen["values"] == [101, 102, 103]


def test_nodewot_observes_a_polled_getter_through_the_td(base_url):
    """The demo thermometer's temperature is a getter the server polls while observed
    (`observe_every`): its TD says `observable`, and node-wot's observeProperty, choosing the
    SSE form itself, hears readings that change by themselves."""
    seen = consume(
        {
            "td": f"{base_url}/thermometer/",
            "observe": {"property": "temperature", "writes": [], "expect": 3},
            "timeoutMs": 20000,
        }
    )
    values = seen["values"]
    assert len(values) >= 3 and all(isinstance(v, (int, float)) for v in values), values
    assert len(set(values)) >= 2, f"readings change: {values}"


def test_nodewot_subscribes_to_an_event_over_sse(base_url):
    seen = consume(
        {
            "td": f"{base_url}/stage/",
            "observe": {"property": "speed", "writes": [5000]},
            "event": {
                "name": "arrived",
                "count": 1,
                "trigger": {"action": "move_relative", "input": {"displacement": [7, 0, 0]}},
            },
        }
    )
    assert seen["values"] == [5000]
    [arrived] = seen["events"]
    assert isinstance(arrived, list) and len(arrived) == 3


def test_nodewot_invoke_action_returns_the_output(base_url, http):
    """The TD's first invokeaction form answers the output itself (`?sync=true`), so node-wot's
    `invokeAction` gives the action's output, not the invocation; a `serde_json::Value` output
    has a schema node-wot can read (it refuses one without `type`/`oneOf`/`enum`/`const`)."""
    before = http.get("/counter/count").json()
    seen = consume({"td": f"{base_url}/counter/", "invoke": [{"action": "increment"}]})
    assert seen["outputs"] == [{"value": before + 1}]
    seen = consume({"td": f"{base_url}/camera/", "invoke": [{"action": "capture_metadata"}]})
    [output] = seen["outputs"]
    assert set(output.get("value", {})) == {"exposure_ms", "frames"}, output
    seen = consume(
        {"td": f"{base_url}/lab/", "invoke": [{"action": "echo", "input": {"text": "hi", "times": 3}}]}
    )
    assert seen["outputs"] == [{"value": "hihihi"}]


# A second test-lab that requires a token (the fixture of test_secured.py, started once for
# this module).
from test_secured import secured_lab  # noqa: E402,F401  (a pytest fixture)


def test_nodewot_reads_a_secured_thing_with_credentials_keyed_by_the_td_id(secured_lab):
    base_url, token = secured_lab
    plan = {"td": f"{base_url}/counter/", "tdToken": token, "read": ["count", "serial"]}
    seen = consume({**plan, "credentials": {"$id": {"token": token}}})
    assert seen["id"].startswith("urn:uuid:")
    assert seen.get("error") is None, seen
    assert isinstance(seen["read"]["count"], int)
    assert seen["read"]["serial"] == "LTRS-0001"

    # The same token filed under anything but the TD's id is not used: node-wot finds no
    # credentials for the Thing and sends nothing.
    elsewhere = consume({**plan, "credentials": {f"{base_url}/counter/": {"token": token}}})
    assert "read" not in elsewhere and elsewhere["error"], elsewhere
    # A wrong token under the right id reaches the server, which refuses it.
    refused = consume({**plan, "credentials": {"$id": {"token": "not-the-token"}}})
    assert "read" not in refused and "Unauthorized" in refused["error"], refused

