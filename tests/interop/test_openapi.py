"""`/openapi.json` against the OpenAPI 3.1 specification (``openapi-spec-validator``, the
validator FastAPI users run in CI), and against the Thing Descriptions the same server serves:
every form's route and method is an operation, and every action can be invoked as documented.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.versions import OPENAPIV31
from openapi_spec_validator.versions.shortcuts import get_spec_version

METHODS = {"get", "put", "post", "delete", "patch"}

# The TD operation → the HTTP method that performs it (the WoT HTTP binding's defaults, as our
# forms use them; observing and subscribing are GETs of a stream).
OP_METHOD = {
    "readproperty": "get",
    "writeproperty": "put",
    "observeproperty": "get",
    "invokeaction": "post",
    "subscribeevent": "get",
    "observeallproperties": "get",
    "subscribeallevents": "get",
}


@pytest.fixture(scope="module")
def document(http) -> dict:
    r = http.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    return r.json()


@pytest.fixture(scope="module")
def operations(document) -> dict[tuple[str, str], dict]:
    return {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def path_of(href: str, base: str) -> str:
    """A TD href as a path, resolved against the TD's base (a `ws://` href is absolute)."""
    return urllib.parse.urlsplit(urllib.parse.urljoin(base, href)).path


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert get_spec_version(document) == OPENAPIV31
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert errors == []
    # The shortcut FastAPI's docs show, for good measure: raises on an invalid document.
    validate(document)


def test_a_broken_document_is_refused(document):
    """The validator does look inside: a schema that isn't 2020-12 fails it."""
    broken = {**document, "paths": dict(document["paths"])}
    broken["paths"]["/broken"] = {
        "get": {
            "responses": {
                "200": {
                    "description": "x",
                    "content": {"application/json": {"schema": {"items": [{"type": "string"}]}}},
                }
            }
        }
    }
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


def test_info_is_real(document, all_tds):
    info = document["info"]
    assert info["title"] != "FastAPI"
    for td in all_tds.values():
        assert td["title"] in info["title"]
    # The server crate's version (SemVer), not a placeholder.
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", info["version"]), info["version"]
    assert document["servers"][0]["url"].startswith("http://127.0.0.1:")


@pytest.fixture(scope="module")
def all_tds(http) -> dict:
    return http.get("/thing_descriptions/").json()


def test_every_td_form_is_an_operation(all_tds, operations):
    checked = 0
    for name, td in all_tds.items():
        forms = list(td.get("forms", []))
        for kind in ("properties", "actions", "events"):
            for affordance in td.get(kind, {}).values():
                forms.extend(affordance["forms"])
        for form in forms:
            path = path_of(form["href"], td["base"])
            for op in form["op"]:
                if op.startswith("un"):
                    continue  # closing a stream or subscription: no request of its own
                method = OP_METHOD[op]
                assert (path, method) in operations, f"{name}: {op} → {method.upper()} {path}"
                assert name in operations[(path, method)]["tags"]
                checked += 1
        for link in td.get("links", []):
            if link.get("type") == "multipart/x-mixed-replace":
                assert (path_of(link["href"], td["base"]), "get") in operations
                checked += 1
        assert (path_of(f"/{name}/", td["base"]), "get") in operations
    assert checked > 50


def test_every_action_is_invocable_as_documented(all_tds, operations):
    for name, td in all_tds.items():
        for action, affordance in td["actions"].items():
            # The asynchronous form (the synchronous one, `?sync=true`, is the same operation).
            (form,) = [f for f in affordance["forms"]
                       if "invokeaction" in f["op"] and "?" not in f["href"]]
            post = operations[(path_of(form["href"], td["base"]), "post")]
            assert post["operationId"] == f"{name}.{action}.invoke"
            assert "201" in post["responses"] and "422" in post["responses"]
            assert "Location" in post["responses"]["201"]["headers"]
            body = post["requestBody"]["content"]["application/json"]["schema"]
            # The TD's input, converted only where 2020-12 spells tuples differently.
            assert body.get("title") == affordance["input"].get("title")
            assert body.get("properties", {}).keys() == affordance["input"].get("properties", {}).keys()


def test_operation_ids_are_unique(operations):
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids))


def test_the_websocket_is_described_in_text(all_tds, operations):
    for name, td in all_tds.items():
        ws = operations[(f"/{name}/ws", "get")]
        assert "101" in ws["responses"]
        assert "addPropertyObservation" in ws["description"]
