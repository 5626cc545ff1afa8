//! Things whose crate knows `labthings-core` only as `lt`, or through a facade module that
//! re-exports it: `#[thing(crate = …)]` tells the generated code where to find it, and a custom
//! property type derives serde and schemars through `lt`'s re-exports. This crate has no other
//! dependency, so it compiles only if nothing generated names `::labthings_core`, `::serde` or
//! `::schemars`.

use lt::prelude::*;

/// A facade, as a crate re-exporting `labthings-core` under its own name would offer.
pub mod facade {
    pub use lt as core;
}

/// A reading with its own schema, derived through the re-exports.
#[derive(
    Clone, Debug, PartialEq, lt::serde::Serialize, lt::serde::Deserialize, lt::schemars::JsonSchema,
)]
#[serde(crate = "lt::serde")]
#[schemars(crate = "lt::schemars")]
pub struct Reading {
    /// Kelvin.
    pub kelvin: f64,
    /// Where.
    pub channel: String,
}

/// A thermometer, through the renamed dependency.
#[thing(crate = lt)]
pub struct Thermometer {
    /// The last reading.
    #[property]
    pub last: Property<Reading>,
    /// A new reading arrived.
    #[event]
    pub read: Event<Reading>,
}

#[thing(crate = lt)]
impl Thermometer {
    /// Take a reading.
    #[action]
    fn measure(
        &self,
        /// The channel.
        channel: String,
        log: Logger,
    ) -> Reading {
        log.info("measuring");
        let reading = Reading {
            kelvin: 293.0,
            channel,
        };
        self.last.set(reading.clone()).ok();
        self.read.emit(reading.clone());
        reading
    }

    /// Kelvin as Celsius.
    #[property]
    fn celsius(&self) -> f64 {
        self.last.get().kelvin - 273.15
    }
}

/// A counter, through a path in a string, as serde spells it, into the facade.
#[thing(crate = "crate::facade::core")]
pub struct Counter {
    /// The count.
    #[property]
    pub count: Property<i64>,
}

#[thing(crate = "crate::facade::core")]
impl Counter {
    /// Add one.
    #[action]
    fn increment(&self) -> i64 {
        self.count.update(|c| *c += 1).ok();
        self.count.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lt::serde_json::json;
    use std::sync::Arc;

    #[test]
    fn things_of_a_renamed_dependency_work() {
        let thermometer = Arc::new(Thermometer {
            last: Property::new(Reading {
                kelvin: 0.0,
                channel: "a".into(),
            }),
            read: Event::new(),
        });
        let meta = thermometer.metadata();
        assert_eq!(meta.action("measure").unwrap().title, "Take a reading.");
        let call = thermometer
            .clone()
            .prepare_action("measure", Some(json!({"channel": "b"})))
            .unwrap();
        let ctx = InvocationContext::new(InvocationId::new());
        let outcome = call.body.run_blocking(&ctx).ok().unwrap();
        assert_eq!(
            outcome,
            Outcome::Completed(json!({"kelvin": 293.0, "channel": "b"}))
        );
        assert_eq!(
            thermometer.read_property("last").unwrap(),
            json!({"kelvin": 293.0, "channel": "b"})
        );
        // The derived schema, through the re-exported schemars.
        let last = meta.property("last").unwrap();
        assert_eq!(
            last.schema["properties"]["kelvin"]["type"], "number",
            "{}",
            last.schema
        );

        let counter = Arc::new(Counter {
            count: Property::new(1),
        });
        let call = counter.clone().prepare_action("increment", None).unwrap();
        let outcome = call.body.run_blocking(&ctx).ok().unwrap();
        assert_eq!(outcome, Outcome::Completed(json!(2)));
    }

    /// The typed clients exist too (the `client` feature): only their types are checked here.
    #[test]
    fn typed_clients_are_generated() {
        fn is_client<T: Clone + std::fmt::Debug>() {}
        is_client::<ThermometerClient>();
        is_client::<CounterClient>();
    }
}
