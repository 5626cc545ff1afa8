//! What a binding does to a served Thing, whichever protocol asked: write a property, start
//! an invocation. The HTTP handlers (`api/`) and the MQTT binding (`mqtt/`) both call these,
//! so a write or an invocation is checked, locked, saved and observed the same way whether it
//! came as a `PUT`/`POST` or as an MQTT message.

pub mod invoke;
pub mod property;
