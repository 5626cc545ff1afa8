// The symbols people read for the TD `unit` terms this server writes (labthings-protocol's
// units table; a Rust test checks the two agree). A term not listed shows as written.
"use strict";

(function () {
  const SYMBOLS = {
    "om:degreeCelsius": "°C",
    "om:kelvin": "K",
    "om:metre": "m",
    "om:centimetre": "cm",
    "om:millimetre": "mm",
    "om:micrometre": "µm",
    "om:nanometre": "nm",
    "om:second-Time": "s",
    "om:millisecond-Time": "ms",
    "om:microsecond-Time": "µs",
    "om:nanosecond-Time": "ns",
    "om:minute-Time": "min",
    "om:hour": "h",
    "om:hertz": "Hz",
    "om:kilohertz": "kHz",
    "om:megahertz": "MHz",
    "om:volt": "V",
    "om:millivolt": "mV",
    "om:microvolt": "µV",
    "om:ampere": "A",
    "om:milliampere": "mA",
    "om:microampere": "µA",
    "om:watt": "W",
    "om:milliwatt": "mW",
    "om:ohm": "Ω",
    "om:percent": "%",
    "om:pascal": "Pa",
    "om:kilopascal": "kPa",
    "om:millibar": "mbar",
    "om:degree": "°",
    "om:radian": "rad",
    "om:gram": "g",
    "om:milligram": "mg",
    "om:kilogram": "kg",
    "om:litre": "L",
    "om:millilitre": "mL",
    "om:microlitre": "µL",
    "om:mole": "mol",
    "om:lux": "lx",
    "om:candela": "cd",
  };
  /** The symbol for a TD `unit` term (`om:degreeCelsius` → `°C`); "" for none. */
  LT.unitSymbol = (term) => (typeof term === "string" ? SYMBOLS[term] || term : "");
})();
