//! Mock instruments for the demo lab, the interop suite and the benchmarks: a [`Counter`]
//! (the same affordances as the reference's `PeerCounter`), a [`MockStage`] and a
//! [`MockCamera`]. Their behaviour is simulated, but honestly: values change only as the
//! actions say they do, and every action is cancellable where a real one would be.

mod camera;
mod counter;
mod stage;
pub mod test_pattern;

pub use camera::{AutofocusError, CameraConfig, CaptureError, FrameMetadata, MockCamera};
pub use counter::Counter;
pub use stage::MockStage;

/// The typed clients `#[thing]` generates for these Things (with the `client` feature): the
/// demo lab driven from another process with the types it is served with.
#[cfg(feature = "client")]
pub use {camera::MockCameraClient, counter::CounterClient, stage::MockStageClient};

use labthings_server::config::{NoConfig, ThingRegistry};

/// The demo lab's built-in config: what `demo-lab` serves when given no `-c`/`-j`.
pub const DEMO_CONFIG: &str = r#"{
    "things": {
        "counter": "Counter",
        "stage": "MockStage",
        "camera": {"class": "MockCamera", "kwargs": {"width": 640, "height": 480}, "thing_slots": {"stage": "stage"}}
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
}
