//! Units of measure: the short symbols `unit = "…"` accepts, and the TD 1.1 `unit` term each
//! stands for.
//!
//! TD 1.1 reads `unit` as a term or IRI (its context maps it to `schema:unitCode` with
//! `@type: @vocab`), so a TD says `"unit": "om:degreeCelsius"` and declares the `om` prefix in
//! its `@context` ([`context_entry`]); people read the symbol (`°C`). The terms are from the
//! Ontology of units of Measure 2.0 (time units carry OM's `-Time` suffix). A prefixed term
//! or full IRI given instead of a symbol passes through unchanged.

/// The OM 2.0 namespace, declared in `@context` as `om` when a TD uses an `om:` term.
pub const OM_NAMESPACE: &str = "http://www.ontology-of-units-of-measure.org/resource/om-2/";

/// The prefix of [`OM_NAMESPACE`].
pub const OM_PREFIX: &str = "om";

/// (symbol, OM 2.0 term) for the units of a lab; the symbols as people write them (`µm` and
/// `um` both).
pub const UNITS: &[(&str, &str)] = &[
    ("°C", "om:degreeCelsius"),
    ("K", "om:kelvin"),
    ("m", "om:metre"),
    ("cm", "om:centimetre"),
    ("mm", "om:millimetre"),
    ("µm", "om:micrometre"),
    ("um", "om:micrometre"),
    ("nm", "om:nanometre"),
    ("s", "om:second-Time"),
    ("ms", "om:millisecond-Time"),
    ("µs", "om:microsecond-Time"),
    ("us", "om:microsecond-Time"),
    ("ns", "om:nanosecond-Time"),
    ("min", "om:minute-Time"),
    ("h", "om:hour"),
    ("Hz", "om:hertz"),
    ("kHz", "om:kilohertz"),
    ("MHz", "om:megahertz"),
    ("V", "om:volt"),
    ("mV", "om:millivolt"),
    ("µV", "om:microvolt"),
    ("A", "om:ampere"),
    ("mA", "om:milliampere"),
    ("µA", "om:microampere"),
    ("W", "om:watt"),
    ("mW", "om:milliwatt"),
    ("Ω", "om:ohm"),
    ("ohm", "om:ohm"),
    ("%", "om:percent"),
    ("Pa", "om:pascal"),
    ("kPa", "om:kilopascal"),
    ("mbar", "om:millibar"),
    ("°", "om:degree"),
    ("deg", "om:degree"),
    ("rad", "om:radian"),
    ("g", "om:gram"),
    ("mg", "om:milligram"),
    ("kg", "om:kilogram"),
    ("L", "om:litre"),
    ("mL", "om:millilitre"),
    ("µL", "om:microlitre"),
    ("mol", "om:mole"),
    ("lx", "om:lux"),
    ("cd", "om:candela"),
];

/// The TD `unit` term for what `unit = "…"` says: a symbol from [`UNITS`], or a prefixed term
/// or IRI (anything with a `:`) as given; `None` for an unknown symbol.
pub fn term(unit: &str) -> Option<&str> {
    if unit.contains(':') {
        return Some(unit);
    }
    UNITS
        .iter()
        .find(|(symbol, _)| *symbol == unit)
        .map(|(_, term)| *term)
}

/// The symbol people read for a `unit` term: the first symbol of [`UNITS`] with that term,
/// else the term itself.
pub fn symbol(term: &str) -> &str {
    UNITS
        .iter()
        .find(|(_, t)| *t == term)
        .map_or(term, |(symbol, _)| *symbol)
}

/// The symbols of [`UNITS`], for an error message.
pub fn symbols() -> String {
    UNITS
        .iter()
        .map(|(symbol, _)| *symbol)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `@context` entry a TD needs for `term`, as `(prefix, namespace)`: `om` for OM terms,
/// nothing for full IRIs. Never a prefix named `unit`, which would shadow the TD's own term.
pub fn context_entry(term: &str) -> Option<(&'static str, &'static str)> {
    term.strip_prefix(OM_PREFIX)
        .is_some_and(|rest| rest.starts_with(':'))
        .then_some((OM_PREFIX, OM_NAMESPACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_map_to_om_terms_and_back_and_terms_pass_through() {
        assert_eq!(term("°C"), Some("om:degreeCelsius"));
        assert_eq!(term("um"), term("µm"));
        assert_eq!(symbol("om:micrometre"), "µm");
        assert_eq!(term("qudt-unit:DEG_C"), Some("qudt-unit:DEG_C"));
        assert_eq!(term("furlong"), None);
        assert_eq!(context_entry("om:volt"), Some((OM_PREFIX, OM_NAMESPACE)));
        assert_eq!(context_entry("http://qudt.org/vocab/unit/DEG_C"), None);
        assert_eq!(context_entry("omega:x"), None);
        let mut seen = std::collections::HashSet::new();
        assert!(
            UNITS.iter().all(|(symbol, _)| seen.insert(*symbol)),
            "a symbol twice"
        );
    }
}
