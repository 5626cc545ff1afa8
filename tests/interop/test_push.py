"""Push (issue #10): the reference's WebSocket exchange replayed against ours with a real
``websockets`` client, and Server-Sent Events read by a real SSE parser (``httpx-sse``).

The WebSocket expectations are copied from ``shared/reference/labthings-fastapi-0.3.0/
99_websocket.txt``; our additive extensions (``id``/``href``/``progress`` in ``actionStatus``,
remove-observation, error replies to malformed frames) are checked beside them.
"""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx
import pytest
from httpx_sse import connect_sse
from websockets.sync.client import connect

from support import invoke, wait_finished

NOT_FOUND_PROPERTY = (
    '{"messageType":"response","operation":"observeproperty","name":"nope","error":'
    '{"status":"404","type":"https://w3c.github.io/web-thing-protocol/errors#not-found",'
    '"title":"Not Found","detail":"No property found with the name \'nope\'."}}'
)
NOT_OBSERVABLE = (
    '{"messageType":"response","operation":"observeproperty","name":"uptime","error":'
    '{"status":"403","type":"https://w3c.github.io/web-thing-protocol/errors#not-observable",'
    '"title":"Not Observable","detail":"Property \'uptime\' is not observable."}}'
)
NOT_FOUND_ACTION = (
    '{"messageType":"response","operation":"observeaction","name":"nope","error":'
    '{"status":"404","type":"https://w3c.github.io/web-thing-protocol/errors#not-found",'
    '"title":"Not Found","detail":"No action found with the name \'nope\'."}}'
)


@pytest.fixture
def ws_url(base_url):
    def url(thing: str) -> str:
        return base_url.replace("http://", "ws://", 1) + f"/{thing}/ws"

    return url


def send(ws, message_type: str, data) -> None:
    ws.send(json.dumps({"messageType": message_type, "data": data}))


def receive(ws, timeout: float = 3.0) -> str:
    return ws.recv(timeout=timeout)


def test_reference_exchange_replayed(http, ws_url):  # 99 §2
    with connect(ws_url("counter")) as ws:
        send(ws, "addPropertyObservation", {"count": True})
        send(ws, "addActionObservation", {"increment": True})
        time.sleep(0.2)  # both requests handled before the writes below
        assert http.put("/counter/count", json=1234).status_code == 201
        assert receive(ws) == '{"messageType":"propertyStatus","data":{"count":1234}}'

        r = invoke(http, "counter", "increment")
        assert r.status_code == 201
        invocation = r.json()
        seen = [json.loads(receive(ws)) for _ in range(4)]
        kinds = [m["messageType"] for m in seen]
        assert kinds == ["actionStatus", "actionStatus", "propertyStatus", "actionStatus"], seen
        statuses = [m["data"]["status"] for m in seen if m["messageType"] == "actionStatus"]
        assert statuses == ["pending", "running", "completed"]
        assert seen[2]["data"] == {"count": 1235}
        for message in (m for m in seen if m["messageType"] == "actionStatus"):
            data = message["data"]
            # The reference's two keys first, then our additions.
            assert list(data)[:2] == ["action name", "status"]
            assert data["action name"] == "increment"
            assert data["id"] == invocation["id"]
            assert data["href"] == invocation["href"]
        assert seen[-1]["data"]["progress"] is None  # increment reports none


def test_error_replies_match_the_capture(ws_url):  # 99 §3
    with connect(ws_url("counter")) as ws:
        send(ws, "addPropertyObservation", {"nope": True})
        assert receive(ws) == NOT_FOUND_PROPERTY
        send(ws, "addPropertyObservation", {"uptime": True})
        assert receive(ws) == NOT_OBSERVABLE
        send(ws, "addActionObservation", {"nope": True})
        assert receive(ws) == NOT_FOUND_ACTION
        # An unknown messageType gets no reply (the next reply is for the next request).
        send(ws, "somethingElse", {})
        send(ws, "addPropertyObservation", {"nope": True})
        assert receive(ws) == NOT_FOUND_PROPERTY


@pytest.mark.parametrize(
    "frame",
    ["this is not json", '{"data": {"count": true}}', '{"messageType": "addPropertyObservation", "data": [1]}'],
)
def test_malformed_frames_get_an_error_and_the_socket_stays_open(http, ws_url, frame):  # 99 §4
    with connect(ws_url("counter")) as ws:
        ws.send(frame)
        reply = json.loads(receive(ws))
        assert reply["messageType"] == "response"
        assert reply["error"]["status"] == "400"
        send(ws, "addPropertyObservation", {"count": True})
        time.sleep(0.1)
        value = http.get("/counter/count").json() + 1
        assert http.put("/counter/count", json=value).status_code == 201
        assert json.loads(receive(ws)) == {"messageType": "propertyStatus", "data": {"count": value}}


def test_removed_observations_stop(http, ws_url):
    with connect(ws_url("counter")) as ws:
        send(ws, "addPropertyObservation", {"count": True, "limit": True})
        send(ws, "removePropertyObservation", {"count": True})
        time.sleep(0.2)
        http.put("/counter/count", json=5)
        http.put("/counter/limit", json=6)
        # `count` is no longer observed: the first message is about `limit`.
        assert json.loads(receive(ws)) == {"messageType": "propertyStatus", "data": {"limit": 6}}


def test_plain_get_of_the_websocket_route_is_404(http):  # 99 §1
    r = http.get("/counter/ws")
    assert (r.status_code, r.text) == (404, '{"detail":"Not Found"}')


def read_sse(http: httpx.Client, path: str, wanted: int, out: queue.Queue, headers=None) -> None:
    """Read ``wanted`` SSE messages from ``path`` into ``out`` (in a thread)."""
    with connect_sse(http, "GET", path, headers=headers or {}) as source:
        out.put(("response", source.response))
        count = 0
        for event in source.iter_sse():
            # As EventSource does, a block without data (the opening `retry:`) is no message.
            if not event.data:
                continue
            out.put(("event", event))
            count += 1
            if count == wanted:
                return


def sse_messages(http, path, wanted, trigger, headers=None, timeout=5.0):
    out: queue.Queue = queue.Queue()
    reader = threading.Thread(target=read_sse, args=(http, path, wanted, out, headers), daemon=True)
    reader.start()
    kind, response = out.get(timeout=timeout)
    assert kind == "response"
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    trigger()
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < wanted:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(events)} of {wanted} SSE messages arrived: {events}"
        kind, event = out.get(timeout=left)
        events.append(event)
    return events


@pytest.fixture
def sse_http(base_url):
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        yield client


def test_property_stream_is_unnamed_with_ids(http, sse_http):
    def write():
        for value in (11, 12, 13):
            assert http.put("/counter/count", json=value).status_code == 201

    events = sse_messages(sse_http, "/counter/count", 3, write)
    assert [json.loads(e.data) for e in events] == [11, 12, 13]
    assert all(e.event == "message" for e in events), "unnamed, for node-wot"
    ids = [int(e.id) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_thing_level_property_stream_names_each_message(http, sse_http):
    def write():
        http.put("/counter/limit", json=7)
        http.put("/counter/count", json=8)

    events = sse_messages(sse_http, "/counter/properties", 2, write)
    assert [(e.event, json.loads(e.data)) for e in events] == [("limit", 7), ("count", 8)]


def test_last_event_id_replays_what_was_missed(http, sse_http):
    first = sse_messages(sse_http, "/counter/count", 1, lambda: http.put("/counter/count", json=20))
    http.put("/counter/count", json=21)
    http.put("/counter/count", json=22)
    replayed = sse_messages(
        sse_http, "/counter/count", 2, lambda: None, headers={"Last-Event-ID": first[0].id}
    )
    assert [json.loads(e.data) for e in replayed] == [21, 22]


def test_action_stream_carries_status_and_progress(http, sse_http):
    def run():
        r = invoke(http, "stage", "move_relative", {"displacement": [3, 0, 0]})
        assert r.status_code == 201
        wait_finished(http, r.json()["href"])

    events = sse_messages(sse_http, "/stage/move_relative", 3, run)
    data = [json.loads(e.data) for e in events]
    assert data[0]["status"] == "pending"
    assert all(d["action name"] == "move_relative" for d in data)


def test_head_answers_on_get_routes(http):
    for path in ("/counter/", "/counter/count", "/things/", "/action_invocations"):
        get, head = http.get(path), http.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"], path


def test_event_subscription_over_websocket(http, ws_url):
    with connect(ws_url("stage")) as ws:
        send(ws, "addEventSubscription", {"arrived": True})
        send(ws, "addEventSubscription", {"nope": True})
        reply = json.loads(receive(ws))
        assert reply["operation"] == "subscribeevent"
        assert reply["error"]["status"] == "404"
        assert reply["error"]["detail"] == "No event found with the name 'nope'."
        r = invoke(http, "stage", "move_relative", {"displacement": [5, 0, 0]})
        done = wait_finished(http, r.json()["href"])
        message = json.loads(receive(ws))
        assert message["messageType"] == "event"
        event = message["data"]["arrived"]
        assert event["data"] == done["output"]
        assert event["timestamp"].endswith("Z")


def test_event_streams_over_sse(http, sse_http):
    def move():
        r = invoke(http, "stage", "move_relative", {"displacement": [0, 4, 0]})
        wait_finished(http, r.json()["href"])

    unnamed = sse_messages(sse_http, "/stage/arrived", 1, move)
    assert unnamed[0].event == "message"
    position = json.loads(unnamed[0].data)
    assert len(position) == 3
    named = sse_messages(sse_http, "/stage/events", 1, move)
    assert named[0].event == "arrived"
    assert json.loads(named[0].data)[1] == position[1] + 4


def test_td_lists_events_with_schemas_and_forms(http, base_url):
    td = http.get("/stage/").json()
    arrived = td["events"]["arrived"]
    assert arrived["data"]["type"] == "array"
    assert arrived["forms"][0] == {
        "href": "/stage/arrived",
        "op": ["subscribeevent", "unsubscribeevent"],
        "subprotocol": "sse",
    }
    assert arrived["forms"][1]["href"].startswith("ws://")
    assert {"rel": "alternate", "type": "text/event-stream", "href": "/stage/events"} in td["links"]
