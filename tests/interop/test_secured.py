"""A server that requires a bearer token, seen by the real Python client, and the discovery TD.

``secured_lab`` starts a second ``test-lab`` (``$LABTHINGS_TEST_LAB``, else
``<target>/debug/test-lab``, which ``tests/interop/run`` builds) on a free port with a tokens
file written by the test. The reference ``ThingClient`` accepts a preconfigured HTTP client,
so ``client=httpx.Client(headers={"Authorization": "Bearer …"})`` is all it takes.
"""

from __future__ import annotations

import json
import secrets
from importlib.resources import files

import httpx
import jsonschema
import jsonschema.validators
import pytest

import labthings_fastapi as lt
from labthings_fastapi import thing_description
from support import start_lab, stop

CONFIG = {"things": {"counter": "Counter", "stage": "MockStage", "camera": "MockCamera"}}


@pytest.fixture(scope="module")
def secured_lab(tmp_path_factory):
    """``(base_url, token)`` of a test-lab that requires ``token``."""
    token = secrets.token_urlsafe(32)
    folder = tmp_path_factory.mktemp("secured")
    tokens = folder / "tokens"
    tokens.write_text(f"# written by test_secured.py\n{token}\n", encoding="utf-8")
    process, base_url = start_lab(
        ["-j", json.dumps(CONFIG), "--port", "0", "--tokens-file", str(tokens)], folder
    )
    try:
        yield base_url, token
    finally:
        stop(process)


def authorised(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )


def test_thing_client_with_a_bearer_header(secured_lab):
    base_url, token = secured_lab
    with authorised(base_url, token) as client:
        counter = lt.ThingClient.from_url(f"{base_url}/counter/", client=client)
        counter.gain = 2.5
        assert counter.gain == 2.5
        before = counter.count
        assert counter.increment() == before + 1
        assert counter.count == before + 1


def test_without_or_with_a_wrong_token_the_client_gets_401(secured_lab):
    base_url, token = secured_lab
    with pytest.raises(Exception) as refused:
        lt.ThingClient.from_url(f"{base_url}/counter/")
    assert "401" in str(refused.value)
    with httpx.Client(base_url=base_url, timeout=10.0) as anonymous:
        r = anonymous.get("/counter/")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Bearer realm="labthings"'
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "A valid bearer token is required."
        r = anonymous.get("/counter/", headers={"Authorization": "Bearer nope"})
        assert r.headers["www-authenticate"] == 'Bearer realm="labthings", error="invalid_token"'
        assert anonymous.get(f"/counter/count?access_token={token}").status_code == 200
        assert anonymous.get("/counter/count", headers={"Cookie": f"lt_token={token}"}).status_code == 200
        assert "nope" not in r.text and token not in r.text


@pytest.fixture(scope="module")
def td_validator():
    path = files(thing_description).joinpath("td-json-schema-validation.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors(validator, td: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(td)]


def test_secured_tds_are_valid_and_declare_bearer(secured_lab, td_validator):
    base_url, token = secured_lab
    with authorised(base_url, token) as client:
        for path in ["/counter/", "/stage/", "/camera/", "/.well-known/wot"]:
            td = client.get(path).json()
            assert errors(td_validator, td) == [], path
            assert td["security"] == "bearer"
            assert td["securityDefinitions"]["bearer"]["scheme"] == "bearer"


def test_the_well_known_directory_is_a_valid_td_linking_every_thing(http, td_validator):
    r = http.get("/.well-known/wot")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/td+json"
    td = r.json()
    assert errors(td_validator, td) == []
    assert td["@type"] == "discovery:ThingDirectory"
    listed = http.get("/things/").json()
    items = {link["href"] for link in td["links"] if link["rel"] == "item"}
    assert items == {f"/{name}/" for name in listed}
    assert all(link["type"] == "application/td+json" for link in td["links"])
    things = http.get(td["properties"]["things"]["forms"][0]["href"]).json()
    assert set(things) == set(listed)
    assert td["security"] == "no_security"
