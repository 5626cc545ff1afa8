"""The MQTT binding seen by standard consumers: each test starts its own Mosquitto (on a free
loopback port, written config, stopped at the end) and a ``test-lab --mqtt`` beside it.

* The TD with its MQTT forms still validates against the W3C TD 1.1 schema the reference
  ships and parses with the reference's own TD model, with and without broker credentials.
* node-wot's MQTT binding (``@node-wot/binding-mqtt`` + ``@node-wot/core`` 0.8.16, pinned in
  ``nodewot-mqtt/package-lock.json``, installed by ``tests/interop/run`` into
  ``$NODEWOT_MQTT_DIR``), given TDs stripped to their MQTT forms, reads a retained property,
  observes it, writes it, invokes actions and subscribes to an event: through the broker alone.
"""

from __future__ import annotations

import json
import os
import socket
import shutil
import subprocess
import tempfile
import threading
from importlib.resources import files
from pathlib import Path

import httpx
import jsonschema.validators
import pytest

from labthings_fastapi import thing_description
from support import run_node, start_lab, stop

HERE = Path(__file__).parent
MOSQUITTO = "/usr/sbin/mosquitto"
CONFIG = {"things": {"counter": "Counter", "stage": "MockStage"}}
ACCOUNT = {"username": "lab", "password": "s3cret-for-tests"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path, account: dict | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Started as root, Mosquitto drops to its own user: it must be able to read the folder.
    folder.chmod(0o755)
    config = f"listener {port} 127.0.0.1\npersistence false\nlog_dest stderr\n"
    if account:
        passwords = folder / "passwords"
        subprocess.run(
            ["mosquitto_passwd", "-c", "-b", str(passwords), account["username"], account["password"]],
            check=True,
        )
        passwords.chmod(0o644)
        config += f"allow_anonymous false\npassword_file {passwords}\n"
    else:
        config += "allow_anonymous true\n"
    (folder / "mosquitto.conf").write_text(config)
    broker = subprocess.Popen(
        [MOSQUITTO, "-c", str(folder / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # It says so on stderr once it listens.
    for line in broker.stderr:
        if "running" in line:
            break
        assert "Error" not in line, line
    # Keep reading its log, so that it never blocks on a full pipe.
    threading.Thread(target=broker.stderr.read, daemon=True).start()
    return broker, f"mqtt://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["anonymous", "password"])
def mqtt_lab(request):
    """``(base_url, credentials or None)`` of a test-lab serving through its own broker."""
    # Not pytest's tmp_path: its parent is private to root, and Mosquitto runs as its own user.
    folder = Path(tempfile.mkdtemp(prefix=f"lt-mqtt-{request.param}-"))
    account = ACCOUNT if request.param == "password" else None
    broker, url = start_broker(folder, account)
    config = dict(CONFIG)
    config["mqtt"] = {"url": url, "prefix": "interop/lab"}
    if account:
        (folder / "password").write_text(account["password"] + "\n")
        config["mqtt"] |= {"username": account["username"], "password_file": str(folder / "password")}
    try:
        server, base_url = start_lab(["-j", json.dumps(config), "--port", "0"], folder)
        try:
            yield base_url, account
        finally:
            stop(server)
    finally:
        stop(broker)
        shutil.rmtree(folder, ignore_errors=True)


def tds(base_url: str) -> dict:
    return {name: httpx.get(f"{base_url}/{name}/").json() for name in CONFIG["things"]}


def mqtt_forms(td: dict) -> list[dict]:
    return [
        form
        for kind in ("properties", "actions", "events")
        for affordance in td.get(kind, {}).values()
        for form in affordance["forms"]
        if form["href"].startswith("mqtt://")
    ]


def test_the_td_with_mqtt_forms_validates(mqtt_lab):
    base_url, account = mqtt_lab
    schema = json.loads(
        files(thing_description).joinpath("td-json-schema-validation.json").read_text("utf-8")
    )
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    from labthings_fastapi.thing_description._model import ThingDescription

    for name, td in tds(base_url).items():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(td)]
        assert errors == [], f"{name}: {errors}"
        ThingDescription.model_validate(td)
        forms = mqtt_forms(td)
        assert forms, f"{name} has no MQTT forms"
        assert {"mqv": "https://www.w3.org/2019/wot/mqtt#"} in td["@context"]
        for form in forms:
            topic = form.get("mqv:topic") or form.get("mqv:filter")
            assert form["href"].endswith("/" + topic), form
            assert form["mqv:qos"] == "1"
            assert ("security" in form) == bool(account), form
        if account:
            assert td["securityDefinitions"]["mqtt_basic"]["scheme"] == "basic"


def consume(plan: dict) -> dict:
    return run_node("NODEWOT_MQTT_DIR", "binding-mqtt", HERE / "nodewot-mqtt" / "consume.mjs", plan)


def only_mqtt(td: dict) -> dict:
    """The TD with its HTTP (and WebSocket) forms removed: node-wot can use MQTT alone."""
    for kind in ("properties", "actions", "events"):
        for affordance in td.get(kind, {}).values():
            affordance["forms"] = [f for f in affordance["forms"] if f["href"].startswith("mqtt://")]
    td.pop("forms", None)
    return td


def test_nodewot_drives_a_thing_over_mqtt_alone(mqtt_lab):
    base_url, account = mqtt_lab
    httpx.put(f"{base_url}/counter/count", json=3).raise_for_status()
    described = {name: only_mqtt(td) for name, td in tds(base_url).items()}
    plan = {**described, "writes": [5, 6], "displacement": [1, 0, 0]}
    if account:
        plan["credentials"] = account
    seen = consume(plan)
    assert seen["read"] == 3, "the retained value, read through a subscription"
    assert seen["values"] == [3, 5, 6, 7], seen
    assert seen["events"] == [[1, 0, 0]]
    # What node-wot did went through the HTTP paths: the server's state says so.
    assert httpx.get(f"{base_url}/counter/count").json() == 7
    assert httpx.get(f"{base_url}/stage/position").json() == [1, 0, 0]
    invocations = httpx.get(f"{base_url}/action_invocations").json()
    started = {i["action"].rsplit("/", 1)[-1] for i in invocations}
    assert started >= {"increment", "move_relative"}, invocations
