"""Every Thing Description we serve, against the W3C TD 1.1 JSON Schema and the reference.

The schema is the one the labthings-fastapi 0.3.0 wheel ships
(``labthings_fastapi/thing_description/td-json-schema-validation.json``, W3C TD 1.1,
``$schema`` draft-07); it is located with ``importlib.resources`` and its validator class is
chosen from its ``$schema``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import jsonschema.validators
import pytest

from labthings_fastapi import thing_description

THINGS = ["counter", "stage", "camera"]
REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def td_schema() -> dict:
    path = files(thing_description).joinpath("td-json-schema-validation.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def td_validator(td_schema):
    cls = jsonschema.validators.validator_for(td_schema)
    # The shipped schema declares draft-07; validator_for must not fall back to the default.
    assert td_schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert cls is jsonschema.Draft7Validator
    cls.check_schema(td_schema)
    return cls(td_schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def all_tds(http) -> dict:
    r = http.get("/thing_descriptions/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    return r.json()


def schema_errors(validator, td: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(td), key=lambda e: list(map(str, e.path)))
    ]


def test_thing_descriptions_lists_every_thing(all_tds, http):
    assert set(THINGS) <= set(all_tds)
    assert set(http.get("/things/").json()) == set(all_tds)


def test_every_listed_td_validates(all_tds, td_validator, http):
    """All Things the server lists, including any beyond the demo's three."""
    errors = {name: schema_errors(td_validator, td) for name, td in all_tds.items()}
    assert {name: e for name, e in errors.items() if e} == {}
    for name, td in all_tds.items():
        assert http.get(f"/{name}/").json() == td


@pytest.mark.parametrize("name", THINGS)
def test_td_from_thing_descriptions_validates(all_tds, td_validator, name):
    assert schema_errors(td_validator, all_tds[name]) == []


@pytest.mark.parametrize("name", THINGS)
def test_td_from_thing_url_validates(http, td_validator, all_tds, name):
    r = http.get(f"/{name}/")
    assert r.status_code == 200
    td = r.json()
    assert schema_errors(td_validator, td) == []
    assert td == all_tds[name]


def test_validator_does_reject_a_broken_td(all_tds, td_validator):
    """The validator is live: a TD without ``security`` or with a bad form must fail."""
    td = json.loads(json.dumps(all_tds["counter"]))
    del td["security"]
    assert schema_errors(td_validator, td)
    td = json.loads(json.dumps(all_tds["counter"]))
    td["properties"]["count"]["forms"] = [{"op": ["readproperty"]}]  # no href
    assert schema_errors(td_validator, td)


def _walk(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


@pytest.mark.parametrize("name", THINGS)
def test_td_shape(all_tds, base_url, name):
    """The shape PROTOCOL.md asks for, beyond what the W3C schema checks."""
    td = all_tds[name]
    # The reference's keys in its order, with ours (id, events, links) in between.
    expected = ["title", "id", "properties", "actions"]
    expected += ["events"] if "events" in td else []
    expected += ["description", "base", "links"]
    expected += ["securityDefinitions", "security", "@context"]
    assert list(td) == expected
    assert td["id"].startswith("urn:uuid:") and len(td["id"]) == len("urn:uuid:") + 36
    assert td["base"] == base_url + "/"
    # MJPEG streams are linked, not affordances: an alternate representation per stream.
    for link in td.get("links", []):
        if link["type"] == "multipart/x-mixed-replace":
            assert link == {"rel": "alternate", "type": "multipart/x-mixed-replace",
                            "href": link["href"]}
            assert link["href"].startswith(f"/{name}/")
    # TD 1.1 context after the 1.0 one, so node-wot's TD 1.0 validator accepts it too.
    assert td["@context"] == ["https://www.w3.org/2019/wot/td/v1", "https://www.w3.org/2022/wot/td/v1.1"]
    ws = base_url.replace("http://", "ws://", 1) + f"/{name}/ws"
    # The streams of all properties and all events are links: the reference's TD model allows
    # no observeallproperties/subscribeallevents form at the root.
    streams = [link["href"] for link in td["links"] if link["type"] == "text/event-stream"]
    assert streams == [f"/{name}/properties"] + ([f"/{name}/events"] if "events" in td else [])
    assert td["security"] == "no_security"
    assert td["securityDefinitions"] == {
        "no_security": {"description": "No security", "scheme": "nosec"}
    }
    assert not [k for k, _ in _walk(td) if k in ("$ref", "$defs", "definitions")]
    for pname, prop in td["properties"].items():
        assert prop["writeOnly"] is False
        ops = ["readproperty"] if prop["readOnly"] else ["readproperty", "writeproperty"]
        href = f"/{name}/{pname}"
        forms = [{"href": href, "op": ops}]
        if prop.get("observable"):
            # HTTP first, SSE on the same href next, ws:// last: node-wot takes the first match.
            observe = ["observeproperty", "unobserveproperty"]
            forms.append({"href": href, "op": observe, "subprotocol": "sse"})
            forms.append({"href": ws, "op": observe})
        assert prop["forms"] == forms
        assert prop["title"] and prop["description"].startswith(prop["title"])
    for aname, action in td["actions"].items():
        # The synchronous form first (node-wot takes the first), then the reference's.
        assert action["forms"] == [
            {"href": f"/{name}/{aname}?sync=true", "op": ["invokeaction"]},
            {"href": f"/{name}/{aname}", "op": ["invokeaction"]},
        ]
        assert action["input"]["title"] == f"{aname}_input"
        assert action["output"]["title"] == f"{aname}_output"
        if "oneOf" not in action["input"]:
            assert action["input"]["type"] == "object"
            assert action["input"]["additionalProperties"] is False


@pytest.mark.parametrize("name", THINGS)
def test_td_forms_resolve(http, all_tds, name):
    """Every readproperty form can be read; every invokeaction form lists invocations."""
    td = all_tds[name]
    for prop in td["properties"].values():
        r = http.get(prop["forms"][0]["href"])
        assert r.status_code == 200, (prop["forms"][0]["href"], r.text)
    for action in td["actions"].values():
        r = http.get(action["forms"][-1]["href"])
        assert r.status_code == 200, (action["forms"][-1]["href"], r.text)
        assert isinstance(r.json(), list)


# Keys of a property affordance or schema that must match the reference where it has them.
# (title/description come from docstrings, which differ.)
_COMPARED = {
    "type",
    "readOnly",
    "writeOnly",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "forms",
    "additionalProperties",
    "oneOf",
    "required",
}


def _compare(ours: dict, ref: dict, where: str) -> list[str]:
    diffs = []
    for key in sorted(_COMPARED & set(ref)):
        mine = ours.get(key)
        if key == "forms" and isinstance(mine, list):
            mine = mine[: len(ref[key])]  # ours adds observe forms after the reference's
        if key not in ours:
            diffs.append(f"{where}: missing {key!r} (reference: {ref[key]!r})")
        elif mine != ref[key] or type(mine) is not type(ref[key]):
            diffs.append(f"{where}.{key}: {mine!r} != reference {ref[key]!r}")
    return diffs


def test_counter_td_matches_reference(all_tds):
    """Our counter is the wire peer of the reference's PeerCounter (capture 03)."""
    ours = all_tds["counter"]
    ref = json.loads((REFERENCE / "td_counter.json").read_text())
    assert set(ours["properties"]) == set(ref["properties"])
    assert set(ours["actions"]) == set(ref["actions"])
    diffs = []
    for name, prop in ref["properties"].items():
        if name == "serial":
            prop = dict(prop, default="LTRS-0001")  # our serial number
        diffs += _compare(ours["properties"][name], prop, f"properties.{name}")
    for name, action in ref["actions"].items():
        for part in ("input", "output"):
            diffs += _compare(ours["actions"][name][part], action[part], f"{name}.{part}")
            for pname, pschema in action[part].get("properties", {}).items():
                diffs += _compare(
                    ours["actions"][name][part]["properties"][pname],
                    pschema,
                    f"{name}.{part}.{pname}",
                )
    assert diffs == []


def test_camera_td_matches_reference_where_comparable(all_tds):
    """exposure_ms, frames_captured and capture_metadata's input (capture 04).

    Both captures return a JPEG Blob; the blob output schemas are compared in test_blob.py,
    so here only the inputs are.
    """
    ours = all_tds["camera"]
    ref = json.loads((REFERENCE / "td_camera.json").read_text())
    diffs = []
    for name in ("exposure_ms", "frames_captured"):
        diffs += _compare(ours["properties"][name], ref["properties"][name], name)
    for name in ("capture", "capture_metadata"):
        diffs += _compare(ours["actions"][name]["input"], ref["actions"][name]["input"], name)
    assert diffs == []


@pytest.fixture(scope="module")
def reference_model():
    """The reference's own TD model: what its ``/thing_descriptions/`` answer is built with."""
    from labthings_fastapi.thing_description._model import ThingDescription

    return ThingDescription


def test_every_td_parses_with_the_reference_model(all_tds, reference_model):
    """Every Thing served (the demo's and the test lab's) parses with the reference's model."""
    assert set(THINGS) | {"lab"} <= set(all_tds)
    errors = {}
    for name, td in all_tds.items():
        try:
            reference_model.model_validate(td)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            errors[name] = str(error)
    assert errors == {}


def test_the_reference_model_is_live(all_tds, reference_model):
    """The model refuses what it must: a WebSocket form with a subprotocol outside its enum."""
    td = json.loads(json.dumps(all_tds["counter"]))
    td["properties"]["count"]["forms"][-1]["subprotocol"] = "labthings"
    with pytest.raises(ValueError, match="subprotocol"):
        reference_model.model_validate(td)
