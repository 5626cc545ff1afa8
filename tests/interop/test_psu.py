"""The SCPI power supply (``psu``, a real driver talking SCPI over TCP to the simulator the
test lab starts in-process) through the reference's ``labthings_fastapi.ThingClient`` 0.3.0.

The simulator is the instrument: 0–30 V, 0–5 A, a 10 Ω load, ``-222,"Data out of range"``
for values beyond its range.
"""

from __future__ import annotations

import httpx
import pytest

from labthings_fastapi.exceptions import ClientPropertyError


@pytest.fixture
def psu(thing_client):
    psu = thing_client("psu")
    psu.output = False
    psu.current_limit = 1.0
    yield psu
    psu.output = False


def test_psu_affordances_through_the_client(psu):
    assert psu.identity.startswith("LabThings,SCPI-SIM-PSU,")
    psu.voltage = 4.0
    assert psu.voltage == 4.0
    assert psu.current_limit == 1.0
    assert psu.output is False
    assert psu.measured_voltage == 0.0
    psu.output = True
    assert psu.output is True
    assert psu.measured_voltage == 4.0
    assert psu.measured_current == pytest.approx(0.4)
    # The limit holds: 0.2 A through 10 Ω is 2 V.
    psu.current_limit = 0.2
    assert psu.measured_voltage == pytest.approx(2.0)


def test_psu_refusal_reaches_the_client_with_the_instruments_message(psu):
    psu.voltage = 3.0
    with pytest.raises(ClientPropertyError, match=r'-222,"Data out of range"'):
        psu.voltage = 31.0
    assert psu.voltage == 3.0
    with pytest.raises(ClientPropertyError, match="greater than or equal to 0"):
        psu.current_limit = -1.0


def test_psu_sweep_returns_the_series_and_a_csv(psu):
    output = psu.sweep(start=0.0, stop=2.0, steps=3, dwell_ms=0)
    assert output["points"] == [[0.0, 0.0], [1.0, 0.1], [2.0, 0.2]]
    assert output["csv"]["media_type"] == "text/csv"
    csv = httpx.get(output["csv"]["href"], timeout=10.0)
    assert csv.status_code == 200
    assert csv.text.splitlines() == [
        "setpoint_v,voltage_v,current_a",
        "0,0,0",
        "1,1,0.1",
        "2,2,0.2",
    ]
    assert psu.output is True
