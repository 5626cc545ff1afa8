"""The real Python client, ``labthings_fastapi.ThingClient`` 0.3.0, against our server.

What the client does (``labthings_fastapi/client/__init__.py`` of the 0.3.0 wheel):

* ``ThingClient.from_url(url)`` GETs the TD and makes a subclass with one descriptor per entry
  of ``properties`` and one method per entry of ``actions``. A property whose TD entry has
  ``readOnly: true`` gets a ``__set__`` that raises ``ClientPropertyError("This property may not
  be set.")`` without any request.
* ``get_property``/``set_property`` GET/PUT ``<thing>/<name>``; on an HTTP error they raise
  ``ClientPropertyError`` carrying ``detail`` when it is a string, else ``detail[0].msg``.
* ``invoke_action`` POSTs the keyword arguments as a JSON object. An HTTP error raises
  ``FailedToInvokeActionError("Error when invoking action <name>: '<loc[1]>' - <msg>")``.
  Otherwise it polls ``links[rel=self].href`` while ``status`` is idle/pending/running, then
  returns ``output`` when ``completed``, or raises what ``_invocation_error`` builds: the
  ``error`` ProblemDetails' ``type`` equal to the docs URL of ``InvocationCancelledError`` (or
  ``GlobalLockBusyError``) raises that exception, anything else ``ServerActionError`` with
  ``[<title>]: <detail>``.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

import labthings_fastapi as lt
from labthings_fastapi.exceptions import (
    ClientPropertyError,
    FailedToInvokeActionError,
    InvocationCancelledError,
    ServerActionError,
)

from support import invoke, wait_finished

CANCELLED_TYPE = (
    "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/"
    "exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError"
)


# --- Construction ---------------------------------------------------------------------------


def test_from_url_for_every_listed_thing(http):
    """Every Thing of ``/things/`` gives a client with its properties and actions."""
    things = http.get("/things/").json()
    assert {"counter", "stage", "camera"} <= set(things)
    for name, url in things.items():
        client = lt.ThingClient.from_url(url)
        td = client.thing_description
        assert td["title"]
        for prop in td["properties"]:
            assert hasattr(type(client), prop), (name, prop)
        for action in td["actions"]:
            assert callable(getattr(client, action)), (name, action)


def test_client_attributes_of_the_demo(thing_client):
    """At least the affordances the demo is documented to have (it may grow)."""
    counter = thing_client("counter")
    assert set(counter.thing_description["properties"]) >= {
        "count",
        "serial",
        "limit",
        "gain",
        "uptime",
    }
    assert set(counter.thing_description["actions"]) >= {"increment", "slow", "fail"}
    assert set(thing_client("stage").thing_description["properties"]) >= {"position", "speed"}
    assert set(thing_client("stage").thing_description["actions"]) >= {
        "move_relative",
        "move_absolute",
    }
    assert set(thing_client("camera").thing_description["properties"]) >= {
        "exposure_ms",
        "analogue_gain",
        "frames_captured",
        "sensor_temperature",
    }
    assert set(thing_client("camera").thing_description["actions"]) >= {
        "capture",
        "capture_metadata",
    }


# --- Properties -----------------------------------------------------------------------------


def test_read_properties(thing_client):
    counter = thing_client("counter")
    assert isinstance(counter.count, int)
    assert counter.serial == "LTRS-0001"
    assert isinstance(counter.limit, int) and 0 <= counter.limit <= 1000
    assert isinstance(counter.gain, float)
    first = counter.uptime
    assert isinstance(first, float) and first >= 0
    time.sleep(0.01)
    assert counter.uptime > first

    stage = thing_client("stage")
    position = stage.position
    assert isinstance(position, list) and len(position) == 3
    assert all(isinstance(x, int) for x in position)
    assert 1 <= stage.speed <= 100_000

    camera = thing_client("camera")
    assert camera.exposure_ms > 0
    assert 1 <= camera.analogue_gain <= 16
    assert isinstance(camera.frames_captured, int)
    assert isinstance(camera.sensor_temperature, float)


def test_write_properties(thing_client):
    counter = thing_client("counter")
    counter.count = 42
    assert counter.count == 42
    counter.count = -7
    assert counter.count == -7

    old_limit = counter.limit
    counter.limit = 1000
    assert counter.limit == 1000
    counter.limit = 0
    assert counter.limit == 0
    counter.limit = old_limit

    old_gain = counter.gain
    counter.gain = 2.5
    assert counter.gain == 2.5
    counter.gain = old_gain

    stage = thing_client("stage")
    old_speed = stage.speed
    stage.speed = 20_000
    assert stage.speed == 20_000
    stage.speed = old_speed

    camera = thing_client("camera")
    old_exposure = camera.exposure_ms
    camera.exposure_ms = 5.0
    assert camera.exposure_ms == 5.0
    camera.exposure_ms = old_exposure
    old_gain = camera.analogue_gain
    camera.analogue_gain = 4.0
    assert camera.analogue_gain == 4.0
    camera.analogue_gain = old_gain


@pytest.mark.parametrize(
    "thing, prop",
    [
        ("counter", "serial"),
        ("counter", "uptime"),
        ("stage", "position"),
        ("camera", "frames_captured"),
        ("camera", "sensor_temperature"),
    ],
)
def test_read_only_property_refused(thing_client, thing, prop):
    """The TD's ``readOnly`` makes the client refuse; the server refuses too (405)."""
    client = thing_client(thing)
    before = getattr(client, prop)
    # The client's descriptor, built from readOnly: true in the TD, refuses locally.
    with pytest.raises(ClientPropertyError, match="may not be set"):
        setattr(client, prop, before)
    # Going round the descriptor, the server refuses with 405 Method Not Allowed.
    with pytest.raises(ClientPropertyError) as info:
        client.set_property(prop, before)
    assert str(info.value) == f"Failed to set property {prop}: Method Not Allowed"
    if prop in ("serial", "position", "frames_captured"):
        assert getattr(client, prop) == before


def test_constraint_violation_carries_the_servers_message(thing_client):
    counter = thing_client("counter")
    before = counter.limit
    with pytest.raises(ClientPropertyError) as info:
        counter.limit = 5000
    assert str(info.value) == (
        "Failed to set property limit: Input should be less than or equal to 1000"
    )
    with pytest.raises(ClientPropertyError) as info:
        counter.limit = -1
    assert str(info.value) == (
        "Failed to set property limit: Input should be greater than or equal to 0"
    )
    assert counter.limit == before


def test_wrong_type_carries_the_servers_message(thing_client):
    counter = thing_client("counter")
    before = counter.count
    with pytest.raises(ClientPropertyError) as info:
        counter.count = 1.5
    assert str(info.value) == (
        "Failed to set property count: Input should be a valid integer, "
        "got a number with a fractional part"
    )
    assert counter.count == before


def test_exclusive_minimum_and_setting_range(thing_client):
    camera = thing_client("camera")
    with pytest.raises(ClientPropertyError, match="Input should be greater than 0$"):
        camera.exposure_ms = 0
    with pytest.raises(
        ClientPropertyError, match="Input should be less than or equal to 16$"
    ):
        camera.analogue_gain = 17.0
    stage = thing_client("stage")
    with pytest.raises(
        ClientPropertyError, match="Input should be greater than or equal to 1$"
    ):
        stage.speed = 0


def test_unknown_property_through_the_client(thing_client):
    counter = thing_client("counter")
    with pytest.raises(ClientPropertyError) as info:
        counter.get_property("nope")
    assert str(info.value) == "Failed to get property nope: Not Found"


# --- Actions --------------------------------------------------------------------------------


def test_increment_returns_the_new_count(thing_client):
    counter = thing_client("counter")
    counter.count = 10
    assert counter.increment() == 11
    assert counter.increment() == 12
    assert counter.count == 12


def test_slow_with_arguments(thing_client):
    counter = thing_client("counter")
    started = time.monotonic()
    assert counter.slow(duration=0.3, step=0.1) == 3
    assert counter.slow(duration=0.2) == 1  # step defaults to 0.5: one step
    assert time.monotonic() - started < 5


def test_stage_move_relative_and_absolute(thing_client):
    stage = thing_client("stage")
    start = stage.position
    displacement = [150, -40, 7]
    expected = [a + b for a, b in zip(start, displacement)]
    assert stage.move_relative(displacement=displacement) == expected
    assert stage.position == expected
    assert stage.move_absolute(position=[1, 2, 3]) == [1, 2, 3]
    assert stage.position == [1, 2, 3]
    assert stage.move_absolute(position=start) == start


def test_an_inline_action_answers_finished_and_the_client_takes_it(thing_client):
    # `set_origin` is `#[action(inline)]`: its POST answers the completed invocation.
    stage = thing_client("stage")
    stage.move_absolute(position=[4, 5, 6])
    assert stage.set_origin() == [4, 5, 6]
    assert stage.position == [0, 0, 0]
    stage.move_absolute(position=[0, 0, 0])


def test_camera_actions(thing_client):
    camera = thing_client("camera")
    exposure = camera.exposure_ms
    frames = camera.frames_captured
    assert camera.capture_metadata() == {"exposure_ms": exposure, "frames": frames}
    # capture returns a JPEG blob, as the reference's camera does: the client downloads it.
    blob = camera.capture()
    assert blob.media_type == "image/jpeg"
    jpeg = blob.content
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert len(jpeg) > 10_000  # a 640x480 test pattern, not a placeholder
    assert camera.frames_captured == frames + 1
    assert camera.capture_metadata() == {"exposure_ms": exposure, "frames": frames + 1}


def test_bad_action_input_raises_failed_to_invoke(thing_client):
    counter = thing_client("counter")
    with pytest.raises(FailedToInvokeActionError) as info:
        counter.slow(duration="abc")
    assert str(info.value) == (
        "Error when invoking action slow: 'duration' - "
        "Input should be a valid number, unable to parse string as a number"
    )
    with pytest.raises(FailedToInvokeActionError) as info:
        counter.increment(x=1)
    assert str(info.value) == (
        "Error when invoking action increment: 'x' - Extra inputs are not permitted"
    )
    with pytest.raises(FailedToInvokeActionError) as info:
        thing_client("stage").move_relative()
    assert str(info.value) == (
        "Error when invoking action move_relative: 'displacement' - Field required"
    )


def test_panicking_async_action_raises_server_action_error(thing_client):
    # An `async fn` action that panics on a later poll ends as `error` with the panic message
    # (the test lab's fixture `lab.boom_async`), not as `completed`.
    lab = thing_client("lab")
    with pytest.raises(ServerActionError) as info:
        lab.boom_async()
    message = str(info.value)
    assert message.startswith("Action boom_async (ID: ")
    assert message.endswith("[Panic]: the async motor controller exploded")


def test_failing_action_raises_server_action_error(thing_client):
    counter = thing_client("counter")
    with pytest.raises(ServerActionError) as info:
        counter.fail()
    message = str(info.value)
    assert message.startswith("Action fail (ID: ")
    assert "failed with error:\n" in message
    assert "deliberate failure from fail()" in message
    # _invocation_error puts the ProblemDetails' title in brackets before the detail.
    assert message.endswith("[RuntimeError]: deliberate failure from fail()")


def test_cancel_raises_invocation_cancelled_error(thing_client, base_url):
    """DELETE from a second thread while the client waits on slow(duration=30)."""
    counter = thing_client("counter")
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        known = {s["id"] for s in http.get("/counter/slow").json()}
    result: dict = {}

    def cancel_it() -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=10.0) as http:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and "id" not in result:
                    for summary in http.get("/counter/slow").json():
                        if summary["id"] not in known and summary["status"] == "running":
                            result["id"] = summary["id"]
                            break
                    else:
                        time.sleep(0.05)
                if "id" not in result:
                    return
                time.sleep(0.3)  # let it log a step or so
                r = http.delete(f"/action_invocations/{result['id']}")
                result["delete"] = (r.status_code, r.text)
        except BaseException as e:  # reported by the main thread
            result["error"] = e

    thread = threading.Thread(target=cancel_it, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(InvocationCancelledError) as info:
            counter.slow(duration=30)
    finally:
        thread.join(timeout=15)
    elapsed = time.monotonic() - started
    assert "error" not in result, result.get("error")
    assert "id" in result, "the canceller never saw the invocation running"
    assert result["delete"] == (200, "null")
    assert str(info.value) == "The action was cancelled."
    assert elapsed < 10, f"the client took {elapsed:.1f}s to notice the cancellation"

    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        inv = wait_finished(http, f"/action_invocations/{result['id']}")
    assert inv["status"] == "cancelled"
    assert inv["error"] == {
        "detail": "The action was cancelled.",
        "type": CANCELLED_TYPE,
        "status": 500,
        "title": "InvocationCancelledError",
        "instance": None,
    }
    assert inv["output"] is None


def test_log_lines_visible_in_the_invocation(http):
    r = invoke(http, "counter", "slow", {"duration": 0.3, "step": 0.1})
    assert r.status_code == 201
    inv = wait_finished(http, r.json()["href"])
    assert inv["status"] == "completed"
    assert inv["output"] == 3
    messages = [entry["message"] for entry in inv["log"]]
    assert messages == [
        f"slow: starting 3 steps of 0.1s (id {inv['id']})",
        "slow: step 1/3 done",
        "slow: step 2/3 done",
        "slow: step 3/3 done",
    ]
    for entry in inv["log"]:
        assert list(entry) == [
            "message",
            "levelname",
            "levelno",
            "lineno",
            "filename",
            "created",
            "exception_type",
            "traceback",
        ]
        assert (entry["levelname"], entry["levelno"]) == ("INFO", 20)
        assert isinstance(entry["lineno"], int) and entry["lineno"] > 0
        assert entry["filename"].endswith("counter.rs")
        assert entry["created"].endswith("Z")
        assert entry["exception_type"] is None and entry["traceback"] is None


def test_stage_move_logs(http):
    inv = wait_finished(
        http,
        invoke(http, "stage", "move_relative", {"displacement": [5, 0, 0]}).json()["href"],
    )
    assert inv["status"] == "completed"
    messages = [entry["message"] for entry in inv["log"]]
    assert len(messages) == 2
    assert messages[0].startswith("moving from ")
    assert messages[1].startswith("arrived at ")


def test_failed_invocation_log_carries_the_error(http):
    inv = wait_finished(http, invoke(http, "counter", "fail").json()["href"])
    assert inv["status"] == "error"
    last = inv["log"][-1]
    assert last["message"] == "deliberate failure from fail()"
    assert (last["levelname"], last["levelno"]) == ("ERROR", 40)
    assert last["exception_type"] == "RuntimeError"
    assert inv["error"]["title"] == "RuntimeError"
    assert inv["error"]["detail"] == "deliberate failure from fail()"
    assert inv["error"]["status"] == 500


def test_unknown_invocation_is_404(http):
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in [
        ("GET", f"/action_invocations/{missing}"),
        ("GET", f"/action_invocations/{missing}/output"),
        ("DELETE", f"/action_invocations/{missing}"),
    ]:
        r = http.request(method, path)
        assert r.status_code == 404, (method, path, r.text)
        # A deliberate difference: the reference says "with ID {id}" literally.
        assert r.json() == {"detail": f"No action invocation found with ID {missing}"}
