//! Mock instruments for the demo lab, the interop suite and the benchmarks: a [`Counter`]
//! (the same affordances as the reference's `PeerCounter`), a [`MockStage`] and a
//! [`MockCamera`], and a [`MockThermometer`] whose reading drifts by itself (a live reading:
//! a getter the server polls while observed). Their behaviour is simulated, but honestly:
//! values change only as the actions (or, for the thermometer, time) say they do, and every
//! action is cancellable where a real one would be.
//!
//! And one real driver: [`ScpiPowerSupply`], a SCPI bench supply over TCP or serial, which
//! the demo lab points at a simulator it starts in-process (`"simulator": true`).

mod camera;
mod counter;
mod psu;
mod stage;
pub mod test_pattern;
mod thermometer;

pub use camera::{AutofocusError, CameraConfig, CaptureError, FrameMetadata, MockCamera};
pub use counter::Counter;
pub use psu::{ConnectError, PsuConfig, ScpiPowerSupply, SessionError, SweepError, SweepResult};
pub use stage::MockStage;
pub use thermometer::MockThermometer;

/// The typed clients `#[thing]` generates for these Things (with the `client` feature): the
/// demo lab driven from another process with the types it is served with.
#[cfg(feature = "client")]
pub use {
    camera::MockCameraClient, counter::CounterClient, psu::ScpiPowerSupplyClient,
    stage::MockStageClient, thermometer::MockThermometerClient,
};

use labthings_server::config::{NoConfig, ThingRegistry};

/// The demo lab's built-in config: what `demo-lab` serves when given no `-c`/`-j`.
pub const DEMO_CONFIG: &str = r#"{
    "things": {
        "counter": "Counter",
        "stage": "MockStage",
        "camera": {"class": "MockCamera", "kwargs": {"width": 640, "height": 480}, "thing_slots": {"stage": "stage"}},
        "psu": {"class": "ScpiPowerSupply", "kwargs": {"simulator": true, "timeout_ms": 2000}},
        "thermometer": "MockThermometer"
    },
    "settings_folder": "./settings"
}"#;

/// Every Thing type of this crate, by the name a config uses.
pub fn registry() -> ThingRegistry {
    ThingRegistry::new()
        .register("Counter", |_: NoConfig, _| Counter::new())
        .register("MockStage", |_: NoConfig, _| MockStage::new())
        .register("MockCamera", |config: CameraConfig, _| {
            MockCamera::from_config(config)
        })
        .register("ScpiPowerSupply", |config: PsuConfig, _| {
            ScpiPowerSupply::new(config)
        })
        .register("MockThermometer", |_: NoConfig, _| MockThermometer::new())
}
