//! A Thing using every kind of affordance the macros support.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use labthings_core::prelude::*;

/// A resource built once per invocation, injected with `#[inject]`.
#[derive(Clone)]
struct RequestTag(String);

impl FromInvocation for RequestTag {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        RequestTag(format!("req-{}", ctx.id()))
    }
}

/// A mock microscope.
#[thing]
pub struct Microscope {
    /// Current position in steps.
    #[property(read_only)]
    position: Property<[i64; 3]>,
    /// The sample's label.
    #[property(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]+$")]
    label: Property<String>,
    /// Top speed in steps per second.
    #[setting(minimum = 1, maximum = 10_000)]
    speed: Setting<u32>,
    /// Exposure time in milliseconds.
    #[setting(exclusive_minimum = 0.0, exclusive_maximum = 1000.0, multiple_of = 0.5)]
    exposure: Setting<f64>,
    /// Not an affordance: ordinary state.
    lamp: Mutex<f64>,
}

#[thing]
impl Microscope {
    /// Lamp brightness, from 0 to 1.
    #[property(minimum = 0, maximum = 1)]
    fn brightness(&self) -> f64 {
        *self.lamp.lock().unwrap()
    }

    #[setter(brightness)]
    fn set_brightness(&self, value: f64) {
        *self.lamp.lock().unwrap() = value;
    }

    /// The lamp's temperature, which may fail to read.
    #[property]
    fn lamp_temperature(&self) -> Result<f64, String> {
        Ok(40.0)
    }

    /// Move by a displacement.
    ///
    /// Cancelling stops the stage where it is.
    #[action]
    fn move_relative(
        &self,
        /// Steps along x, y and z.
        displacement: [i64; 3],
        /// Steps per move.
        #[param(default = 10, minimum = 1)]
        steps: u32,
        /// An optional note for the log.
        note: Option<String>,
        id: InvocationId,
        cancel: CancelHook,
        log: Logger,
        #[inject] tag: RequestTag,
    ) -> Result<[i64; 3], Cancelled> {
        for _ in 0..steps {
            cancel.sleep(Duration::from_millis(1))?;
            self.position
                .update(|p| {
                    for (axis, d) in p.iter_mut().zip(displacement) {
                        *axis += d / i64::from(steps);
                    }
                })
                .expect("position has no constraints");
        }
        log.info(format_args!("{id} {} {:?}", tag.0, note));
        Ok(self.position.get())
    }

    /// Focus on the sample.
    #[action]
    fn autofocus(
        &self,
        /// How far to search, in steps.
        #[param(default = 100.0, exclusive_minimum = 0)]
        range: f64,
    ) -> Result<f64, String> {
        if range > 1e6 {
            Err(format!("range {range} is too large"))
        } else {
            Ok(range / 2.0)
        }
    }

    /// Turn the lamp off.
    #[action]
    fn lamp_off(&self) {
        self.set_brightness(0.0);
    }

    /// Not an affordance: an ordinary method.
    fn helper(&self) -> u32 {
        self.speed.get()
    }
}

fn main() {
    let scope = Arc::new(Microscope {
        position: Property::new([0; 3]),
        label: Property::new("slide_1".to_owned()),
        speed: Setting::new(100),
        exposure: Setting::new(10.0),
        lamp: Mutex::new(0.5),
    });
    assert_eq!(scope.helper(), 100);
    let meta = scope.metadata();
    let names: Vec<&str> = meta.properties.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "position",
            "label",
            "speed",
            "exposure",
            "brightness",
            "lamp_temperature"
        ]
    );
    assert!(!meta.property("brightness").unwrap().read_only);
    assert!(meta.property("lamp_temperature").unwrap().read_only);
    assert_eq!(meta.actions.len(), 3);
    assert_eq!(
        meta.action("move_relative").unwrap().title,
        "Move by a displacement."
    );

    scope
        .write_property("brightness", serde_json::json!(0.75))
        .unwrap();
    assert_eq!(scope.read_property("brightness").unwrap(), 0.75);

    let ctx = InvocationContext::new(InvocationId::new());
    let call = scope
        .clone()
        .prepare_action(
            "move_relative",
            Some(serde_json::json!({"displacement": [10, 0, -10]})),
        )
        .unwrap();
    assert_eq!(call.input["steps"], 10);
    let Ok(outcome) = call.body.run_blocking(&ctx) else {
        panic!("`move_relative` is blocking")
    };
    assert_eq!(outcome, Outcome::Completed(serde_json::json!([10, 0, -10])));

    let ctx = InvocationContext::new(InvocationId::new());
    let call = scope.clone().prepare_action("autofocus", None).unwrap();
    let Ok(outcome) = call.body.run_blocking(&ctx) else {
        panic!("`autofocus` is blocking")
    };
    assert_eq!(outcome, Outcome::Completed(serde_json::json!(50.0)));
}
