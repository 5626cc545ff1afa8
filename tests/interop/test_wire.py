"""Raw HTTP (httpx): status codes, headers and JSON shapes that the client does not exercise.

Expected bodies are copied from the reference captures of labthings-fastapi 0.3.0
(``shared/reference/labthings-fastapi-0.3.0/NN_*.txt``; the number is cited at each check) and
from PROTOCOL.md where it lists a deliberate difference.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from support import invoke, wait_finished, wait_status

INVOCATION_KEYS = [
    "status",
    "id",
    "action",
    "href",
    "timeStarted",
    "timeRequested",
    "timeCompleted",
    "links",
    "input",
    "output",
    "log",
    "error",
    "progress",  # ours (issue #10), after the reference's twelve
]
SUMMARY_KEYS = INVOCATION_KEYS[:8]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NOT_FOUND = '{"detail":"Not Found"}'
METHOD_NOT_ALLOWED = '{"detail":"Method Not Allowed"}'
NO_RESULT = {"detail": "No result is available for this invocation"}


def allow(r) -> set[str]:
    return {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}


def check_json(r, status: int):
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    return r.json()


def check_time(value: str) -> datetime:
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value)


def check_invocation(inv: dict, base_url: str, action: str, keys=INVOCATION_KEYS) -> None:
    """Field order, links and times of a full invocation (or a summary with SUMMARY_KEYS)."""
    assert list(inv) == keys
    if "progress" in inv:
        assert inv["progress"] is None or 0 <= inv["progress"] <= 1
    assert inv["status"] in ("pending", "running", "completed", "cancelled", "error")
    assert UUID.match(inv["id"]), inv["id"]
    assert inv["action"] == action
    href = f"{base_url}/action_invocations/{inv['id']}"
    assert inv["href"] == href
    assert inv["links"] == [
        {"href": href, "type": None, "rel": "self", "anchor": None},
        {"href": f"{href}/output", "type": None, "rel": "output", "anchor": None},
    ]
    requested = check_time(inv["timeRequested"])
    if inv["status"] == "pending":
        assert inv["timeStarted"] is None
    if inv["timeStarted"] is not None:
        assert check_time(inv["timeStarted"]) >= requested
    if inv["status"] in ("pending", "running"):
        assert inv["timeCompleted"] is None
    else:
        completed = check_time(inv["timeCompleted"])
        assert completed >= requested
        if inv["timeStarted"] is not None:
            assert completed >= check_time(inv["timeStarted"])
    if keys == INVOCATION_KEYS:
        for entry in inv["log"]:
            check_time(entry["created"])


@pytest.fixture
def running_slow(http):
    """A counter.slow(duration=20, step=0.1) invocation, seen running; cancelled afterwards."""
    r = invoke(http, "counter", "slow", {"duration": 20, "step": 0.1})
    assert r.status_code == 201
    href = r.json()["href"]
    inv = wait_status(http, href, "running")
    yield inv
    http.delete(href)
    wait_finished(http, href)


# --- Routing: 404, 405, 307 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nope"),
        ("GET", "/nope/"),
        ("GET", "/counter/nope"),  # 31
        ("POST", "/counter/nope"),  # 70
        ("GET", "/stage/position/extra"),
    ],
)
def test_unknown_path_404(http, method, path):
    kw = {"json": {}} if method == "POST" else {}
    r = http.request(method, path, **kw)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.text == NOT_FOUND


@pytest.mark.parametrize(
    "method, path, body, reference_allow",
    [
        ("POST", "/counter/count", 1, {"PUT"}),  # 32
        ("DELETE", "/counter/count", None, {"PUT"}),  # 33
        ("PUT", "/counter/serial", "x", {"GET"}),  # 22
        ("PUT", "/counter/uptime", 1.0, {"GET"}),
        ("PUT", "/counter/increment", {}, {"POST"}),  # 80
        ("PUT", "/stage/position", [0, 0, 0], {"GET"}),
    ],
)
def test_wrong_method_405_with_allow(http, method, path, body, reference_allow):
    kw = {} if body is None else {"json": body}
    r = http.request(method, path, **kw)
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/json"
    assert r.text == METHOD_NOT_ALLOWED
    # Starlette's Allow names only the methods of the first route matched; ours lists every
    # method the path has. The reference's must be among them, the refused one must not.
    assert "allow" in r.headers
    assert reference_allow <= allow(r), r.headers["allow"]
    assert method not in allow(r)


def test_read_only_property_allow_is_get_only(http):
    r = http.put("/counter/serial", json="x")  # 22
    assert r.status_code == 405 and allow(r) == {"GET"}


@pytest.mark.parametrize(
    "path, target",
    [
        ("/counter", "/counter/"),  # 06
        ("/stage", "/stage/"),
        ("/camera", "/camera/"),
        ("/action_invocations/", "/action_invocations"),  # 86
    ],
)
def test_trailing_slash_redirects_307(http, base_url, path, target):
    r = http.get(path)
    assert r.status_code == 307
    assert r.headers["location"] == base_url + target
    assert r.content == b""


def test_things_list_gives_absolute_td_urls(http, base_url):  # 01
    body = check_json(http.get("/things/"), 200)
    assert {"counter", "stage", "camera"} <= set(body)
    assert body == {name: f"{base_url}/{name}/" for name in body}


def test_absolute_urls_follow_the_host_header(http):
    """URLs are built from the request's Host, as the reference does behind a proxy (the lab
    answers `lab.example`: `allowed_hosts` in tests/interop/run's config)."""
    host = {"Host": "lab.example:8080"}
    other = http.get("/counter/", headers={"Host": "elsewhere.example"})
    assert other.status_code == 421 and "--allowed-host" in other.json()["detail"]
    assert http.get("/things/", headers=host).json()["counter"] == "http://lab.example:8080/counter/"
    assert http.get("/counter/", headers=host).json()["base"] == "http://lab.example:8080/"
    assert http.get("/counter", headers=host).headers["location"] == (
        "http://lab.example:8080/counter/"
    )
    r = http.post("/counter/increment", headers=host)
    inv = check_json(r, 201)
    assert inv["href"] == f"http://lab.example:8080/action_invocations/{inv['id']}"
    assert r.headers["location"] == inv["href"]
    wait_finished(http, f"/action_invocations/{inv['id']}")


# --- Properties -----------------------------------------------------------------------------


def test_property_get_is_bare_json(http):
    r = http.get("/counter/serial")  # 23
    assert check_json(r, 200) == "LTRS-0001"
    assert r.text == '"LTRS-0001"'
    assert isinstance(check_json(http.get("/counter/uptime"), 200), float)  # 24


def test_property_put_201_null(http):
    r = http.put("/counter/count", json=42)  # 11
    assert check_json(r, 201) is None
    assert r.text == "null"
    assert http.get("/counter/count").text == "42"  # 12


@pytest.mark.parametrize(
    "content, headers, expected",
    [
        (b'"7"', {"content-type": "application/json"}, 7),  # 14: pydantic's lax str->int
        (b"3.0", {"content-type": "application/json"}, 3),  # 16: whole float
        (b"5", {"content-type": "text/plain"}, 5),  # 19: content type ignored
        (b"6", {"content-type": ""}, 6),  # 20: no content type
    ],
)
def test_property_put_accepted_as_the_reference_does(http, content, headers, expected):
    r = http.put("/counter/count", content=content, headers=headers)
    assert check_json(r, 201) is None
    assert http.get("/counter/count").json() == expected


@pytest.mark.parametrize(
    "path, content, detail",
    [
        (  # 13
            "/counter/count",
            b'"abc"',
            {
                "type": "int_parsing",
                "loc": ["body"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            },
        ),
        (  # 15
            "/counter/count",
            b"1.5",
            {
                "type": "int_from_float",
                "loc": ["body"],
                "msg": "Input should be a valid integer, got a number with a fractional part",
                "input": 1.5,
            },
        ),
        (  # 18
            "/counter/count",
            b"",
            {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None},
        ),
        (  # 21
            "/counter/count",
            b'{"value": 5}',
            {
                "type": "int_type",
                "loc": ["body"],
                "msg": "Input should be a valid integer",
                "input": {"value": 5},
            },
        ),
        (  # 25
            "/counter/limit",
            b"5000",
            {
                "type": "less_than_equal",
                "loc": ["body"],
                "msg": "Input should be less than or equal to 1000",
                "input": 5000,
                "ctx": {"le": 1000},
            },
        ),
        (  # 91
            "/camera/exposure_ms",
            b"0",
            {
                "type": "greater_than",
                "loc": ["body"],
                "msg": "Input should be greater than 0",
                "input": 0,
                "ctx": {"gt": 0.0},
            },
        ),
    ],
)
def test_property_put_422(http, path, content, detail):
    before = http.get(path).json()
    r = http.put(path, content=content, headers={"content-type": "application/json"})
    assert check_json(r, 422) == {"detail": [detail]}
    assert http.get(path).json() == before


def test_property_reset(http):
    http.put("/counter/count", json=99)
    r = http.post("/counter/count/reset")  # 29
    assert check_json(r, 200) is None
    assert http.get("/counter/count").json() == 0  # 30
    # A deliberate difference: read-only properties have no reset route.
    assert http.post("/counter/serial/reset").status_code in (404, 405)


# --- Actions: POST, 201, Location -----------------------------------------------------------


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "content, headers, expected_input",
    [
        (None, {}, None),  # 40: no body
        (b"{}", JSON, {}),  # 44
        (b"null", JSON, None),  # 46
    ],
    ids=["40-no-body", "44-empty-object", "46-null"],
)
def test_action_post_201_with_location(http, base_url, content, headers, expected_input):
    r = http.post("/counter/increment", content=content, headers=headers)
    inv = check_json(r, 201)
    check_invocation(inv, base_url, "/counter/increment")
    assert inv["status"] in ("pending", "running", "completed")
    assert r.headers["location"] == inv["href"]
    assert inv["input"] == expected_input
    done = wait_finished(http, inv["href"])
    check_invocation(done, base_url, "/counter/increment")
    assert done["status"] == "completed"  # 41
    assert isinstance(done["output"], int)
    assert done["log"] == [] and done["error"] is None
    out = http.get(f"{inv['href']}/output")  # 43
    assert check_json(out, 200) == done["output"]


def test_action_input_defaults_filled_in(http, base_url):
    inv = check_json(invoke(http, "counter", "slow", {"duration": 0.1}), 201)
    assert inv["input"] == {"duration": 0.1, "step": 0.5}
    wait_finished(http, inv["href"])


def test_action_input_echo_is_the_validated_value(http):
    """Capture 50: ``{"duration": 10, "step": 0.5}`` is echoed ``{"duration":10.0,"step":0.5}``.

    ``input`` is the validated input (PROTOCOL.md), so an integer given for a ``number``
    parameter comes back as a float, as pydantic does in the reference.
    """
    r = http.post(
        "/counter/slow",
        content=b'{"duration": 10, "step": 0.5}',
        headers={"content-type": "application/json"},
    )
    try:
        assert r.status_code == 201
        assert '"input":{"duration":10.0,"step":0.5}' in r.text, r.text
    finally:
        if r.status_code == 201:
            http.delete(r.json()["href"])


@pytest.mark.parametrize(
    "path, content, detail",
    [
        (  # 72
            "/counter/slow",
            b'{"duration": "abc"}',
            {
                "type": "float_parsing",
                "loc": ["body", "duration"],
                "msg": "Input should be a valid number, unable to parse string as a number",
                "input": "abc",
            },
        ),
        (  # 74
            "/counter/slow",
            b"[1,2]",
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": [1, 2],
            },
        ),
        (  # 75
            "/counter/slow",
            b'{"duration": 0.1, "bogus": 1}',
            {
                "type": "extra_forbidden",
                "loc": ["body", "bogus"],
                "msg": "Extra inputs are not permitted",
                "input": 1,
            },
        ),
        (  # 45
            "/counter/increment",
            b'{"x": 1}',
            {
                "type": "extra_forbidden",
                "loc": ["body", "x"],
                "msg": "Extra inputs are not permitted",
                "input": 1,
            },
        ),
        (  # 73's shape, for an action with a required input
            "/stage/move_relative",
            b"",
            {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None},
        ),
    ],
)
def test_action_post_422(http, path, content, detail):
    headers = {"content-type": "application/json"} if content else {}
    r = http.post(path, content=content, headers=headers)
    assert check_json(r, 422) == {"detail": [detail]}


@pytest.mark.parametrize(
    "method, path, content, loc",
    [
        # 17: Python's json says "Unterminated string starting at" position 1.
        ("PUT", "/counter/count", b'{"oops', 1),
        # 71: "Expecting value" at position 13 (the end of the body).
        ("POST", "/counter/slow", b'{"duration": ', 13),
    ],
    ids=["17-property", "71-action"],
)
def test_malformed_json_422(http, method, path, content, loc):
    """``loc`` is ``["body", <position>]`` with the position Python's json module reports.

    The Python client shows ``loc[1]`` in FailedToInvokeActionError's message. ``ctx.error`` is
    the decoder's own wording (Python's in the reference); only its presence is checked.
    """
    r = http.request(method, path, content=content, headers={"content-type": "application/json"})
    [d] = check_json(r, 422)["detail"]
    assert list(d) == ["type", "loc", "msg", "input", "ctx"]
    assert (d["type"], d["loc"], d["msg"], d["input"]) == (
        "json_invalid",
        ["body", loc],
        "JSON decode error",
        {},
    )
    assert isinstance(d["ctx"]["error"], str) and d["ctx"]["error"]


def test_invocation_id_not_a_uuid_422(http):  # 77
    r = http.get("/action_invocations/not-a-uuid")
    assert check_json(r, 422) == {
        "detail": [
            {
                "type": "uuid_parsing",
                "loc": ["path", "id"],
                "msg": "Input should be a valid UUID, invalid character: found `n` at 0",
                "input": "not-a-uuid",
                "ctx": {"error": "invalid character: found `n` at 0"},
            }
        ]
    }


# --- Invocations: running, output, cancel ---------------------------------------------------


def test_running_invocation(http, base_url, running_slow):  # 51, 52
    inv = check_json(http.get(running_slow["href"]), 200)
    check_invocation(inv, base_url, "/counter/slow")
    assert inv["status"] == "running"
    assert inv["timeStarted"] is not None and inv["timeCompleted"] is None
    assert inv["input"] == {"duration": 20, "step": 0.1}
    assert inv["output"] is None and inv["error"] is None
    r = http.get(f"{running_slow['href']}/output")
    assert check_json(r, 503) == NO_RESULT


def test_cancel_over_http(http, base_url, running_slow):  # 53-56
    href = running_slow["href"]
    r = http.delete(href)
    assert check_json(r, 200) is None
    assert r.text == "null"
    inv = wait_finished(http, href)
    check_invocation(inv, base_url, "/counter/slow")
    assert inv["status"] == "cancelled"
    assert list(inv["error"]) == ["detail", "type", "status", "title", "instance"]
    assert inv["error"]["title"] == "InvocationCancelledError"
    again = http.delete(href)
    body = check_json(again, 503)
    assert isinstance(body["detail"], str) and body["detail"].endswith("may not be cancelled.")
    assert check_json(http.get(f"{href}/output"), 503) == NO_RESULT


def test_completed_invocation_output_and_delete(http, base_url):  # 57-60
    r = invoke(http, "counter", "slow", {"duration": 0.3, "step": 0.1})
    inv = check_json(r, 201)
    done = wait_finished(http, inv["href"])
    check_invocation(done, base_url, "/counter/slow")
    assert done["status"] == "completed" and done["output"] == 3
    out = http.get(f"{inv['href']}/output")
    assert check_json(out, 200) == 3 and out.text == "3"  # 59
    refused = http.delete(inv["href"])  # 60, with the deliberate fix of its wording
    assert check_json(refused, 503) == {
        "detail": "The invocation is completed and may not be cancelled."
    }


def test_failed_invocation(http, base_url):  # 61-63
    r = invoke(http, "counter", "fail")
    inv = check_json(r, 201)
    assert inv["input"] is None
    done = wait_finished(http, inv["href"])
    check_invocation(done, base_url, "/counter/fail")
    assert done["status"] == "error"
    assert list(done["error"]) == ["detail", "type", "status", "title", "instance"]
    assert done["error"]["detail"] == "deliberate failure from fail()"
    assert done["error"]["status"] == 500
    assert done["error"]["instance"] is None
    assert done["output"] is None
    assert check_json(http.get(f"{inv['href']}/output"), 503) == NO_RESULT
    refused = http.delete(inv["href"])
    assert refused.status_code == 503


def test_object_output(http, base_url):  # 96, 97
    inv = check_json(invoke(http, "camera", "capture_metadata"), 201)
    done = wait_finished(http, inv["href"])
    check_invocation(done, base_url, "/camera/capture_metadata")
    out = check_json(http.get(f"{inv['href']}/output"), 200)
    assert out == done["output"]
    assert set(out) == {"exposure_ms", "frames"}


def test_prefer_wait(http):
    """PROTOCOL.md: ``Prefer: wait=N`` answers once the invocation has finished."""
    r = http.post(
        "/counter/slow", json={"duration": 0.2, "step": 0.1}, headers={"Prefer": "wait=5"}
    )
    inv = check_json(r, 201)
    assert inv["status"] == "completed" and inv["output"] == 2
    assert r.headers["location"] == inv["href"]


# --- Invocation lists -----------------------------------------------------------------------


def test_invocation_lists_are_summaries(http, base_url):  # 85, 87
    mine = wait_finished(http, invoke(http, "counter", "increment").json()["href"])
    everything = check_json(http.get("/action_invocations"), 200)
    assert isinstance(everything, list) and everything
    for summary in everything:
        check_invocation(summary, base_url, summary["action"], keys=SUMMARY_KEYS)
    assert any(s["id"] == mine["id"] for s in everything)
    listed = set(check_json(http.get("/things/"), 200))
    assert {s["action"].split("/")[1] for s in everything} <= listed

    per_action = check_json(http.get("/counter/increment"), 200)
    assert per_action and all(s["action"] == "/counter/increment" for s in per_action)
    for summary in per_action:
        check_invocation(summary, base_url, "/counter/increment", keys=SUMMARY_KEYS)
    ours = next(s for s in per_action if s["id"] == mine["id"])
    assert ours == {k: mine[k] for k in SUMMARY_KEYS}


# --- CORS -----------------------------------------------------------------------------------


def test_cors_preflight(http):  # 08
    r = http.options(
        "/counter/count",
        headers={
            "Origin": "http://example.test",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://example.test"
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "content-type" in r.headers["access-control-allow-headers"].lower()


def test_cors_simple_request(http):  # 09
    r = http.get("/counter/count", headers={"Origin": "http://example.test"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://example.test"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in r.headers["vary"]


# --- Times ----------------------------------------------------------------------------------


def test_times_are_utc_with_z(http):
    before = datetime.now().astimezone()
    done = wait_finished(http, invoke(http, "counter", "increment").json()["href"])
    after = datetime.now().astimezone()
    for key in ("timeRequested", "timeStarted", "timeCompleted"):
        t = check_time(done[key])
        assert t.utcoffset().total_seconds() == 0
        # Within a second of the local clock, so it is UTC and not local time labelled Z.
        assert before.timestamp() - 1 <= t.timestamp() <= after.timestamp() + 1, (key, t)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", done["timeRequested"])
