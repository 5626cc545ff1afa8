//! The typed client of a Thing: the action's input parameters (injected ones left out), its
//! success type, the properties' types (a setter only for writable ones), observation and
//! events, all type-checked against the Thing's own types.

use labthings_core::client::{Error, Invocation, Observation, ThingClient};
use labthings_core::prelude::*;

#[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Frame {
    pub index: u64,
}

type Fallible<T> = std::io::Result<T>;

/// A camera.
#[thing]
pub struct Camera {
    /// Exposure in ms.
    #[setting(minimum = 1)]
    exposure: Setting<f64>,
    /// Frames taken.
    #[property(read_only)]
    frames: Property<u64>,
    /// A frame was taken.
    #[event]
    taken: Event<Frame>,
    /// Bumped.
    #[event]
    bumped: Event<()>,
}

#[thing]
impl Camera {
    /// Take frames.
    #[action]
    fn capture(
        &self,
        count: u32,
        #[param(default = 1.0)] gain: f64,
        label: Option<String>,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<Vec<Frame>, Cancelled> {
        let _ = (count, gain, label, cancel, log);
        Ok(Vec::new())
    }

    /// Reset.
    #[action]
    async fn reset(&self, id: InvocationId) {
        let _ = id;
    }

    /// Fails through an alias of `Result`.
    #[action]
    fn check(&self) -> Fallible<u32> {
        Ok(1)
    }

    /// Temperature.
    #[property]
    fn temperature(&self) -> Result<f64, std::io::Error> {
        Ok(20.0)
    }

    /// Name.
    #[property]
    fn name(&self) -> String {
        String::new()
    }

    #[setter(name)]
    fn set_name(&self, name: String) {
        let _ = name;
    }
}

async fn drive(url: &str) -> Result<(), Error> {
    let camera = CameraClient::connect(url).await?;
    let frames: Vec<Frame> = camera.capture(3, 2.0, None).await?;
    let _: Invocation = camera.start_capture(1, 1.0, Some("a".into())).await?;
    let (): () = camera.reset().await?;
    let exposure: f64 = camera.exposure().await?;
    camera.set_exposure(&(exposure * 2.0)).await?;
    let _: u64 = camera.frames().await?;
    let _: Observation<u64> = camera.observe_frames().await?;
    let _: Observation<Frame> = camera.subscribe_taken().await?;
    let _: Observation<()> = camera.subscribe_bumped().await?;
    let _: f64 = camera.temperature().await?;
    camera.set_name(&"cam".to_owned()).await?;
    let _: String = camera.name().await?;
    let _: &ThingClient = camera.thing_client();
    let other: CameraClient = CameraClient::from(camera.thing_client().clone());
    let _ = (frames, other.clone());
    Ok(())
}

fn main() {
    let _ = drive;
}
