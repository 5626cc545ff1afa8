//! # The LabThings guide
//!
//! How to write Things and serve them, one chapter per topic. Every example in these chapters
//! is compiled (and, where it does not serve, run) by `cargo test --doc`, so what you read here
//! works with this version of the crates.
//!
//! This module exists only in the documentation (`#[cfg(any(doc, doctest))]`): it costs your
//! build nothing.

pub mod mqtt {
    #![doc = include_str!("mqtt.md")]
}

pub mod live_readings {
    #![doc = include_str!("live_readings.md")]
}

pub mod history {
    #![doc = include_str!("history.md")]
}
