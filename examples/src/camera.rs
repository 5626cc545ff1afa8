use std::time::Duration;

use labthings_core::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::MockStage;

/// A mock camera: exposure settings, a frame counter, and a capture action that takes as long
/// as the exposure does.
#[thing]
pub struct MockCamera {
    /// Exposure time in milliseconds.
    #[setting(exclusive_minimum = 0, maximum = 10_000)]
    exposure_ms: Setting<f64>,
    /// Analogue gain.
    #[setting(minimum = 1, maximum = 16)]
    analogue_gain: Setting<f64>,
    /// Number of frames captured so far.
    #[property(read_only)]
    frames_captured: Property<u64>,
    /// A frame was captured.
    ///
    /// Sent by `capture` with the metadata of each frame it takes.
    #[event]
    frame_captured: Event<FrameMetadata>,
    /// The stage that focuses the sample, if the lab has one.
    #[slot]
    stage: OptionalSlot<MockStage>,
    width: u32,
    height: u32,
}

/// The camera's `kwargs` in a server config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    #[serde(default = "default_width")]
    pub width: u32,
    #[serde(default = "default_height")]
    pub height: u32,
}

fn default_width() -> u32 {
    640
}

fn default_height() -> u32 {
    480
}

impl MockCamera {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            exposure_ms: Setting::new(10.0),
            analogue_gain: Setting::new(1.0),
            frames_captured: Property::new(0),
            frame_captured: Event::new(),
            stage: OptionalSlot::new(),
            width,
            height,
        }
    }

    pub fn from_config(config: CameraConfig) -> Self {
        Self::new(config.width, config.height)
    }

    /// Simulated image sharpness at focus height `z`: best at z = 250.
    fn sharpness(z: i64) -> f64 {
        1.0 / (1.0 + ((z - 250) as f64 / 100.0).powi(2))
    }
}

impl Default for MockCamera {
    fn default() -> Self {
        Self::new(640, 480)
    }
}

/// What `capture` reports about the frame it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameMetadata {
    /// Sequence number of the frame, from 1.
    pub frame: u64,
    pub exposure_ms: f64,
    pub analogue_gain: f64,
    pub width: u32,
    pub height: u32,
}

#[thing]
impl MockCamera {
    /// Capture a frame.
    ///
    /// Exposes for `exposure_ms` (cancellable), announces the frame as `frame_captured`, and
    /// returns its metadata.
    #[action]
    fn capture(&self, cancel: CancelHook) -> Result<FrameMetadata, Cancelled> {
        let exposure_ms = self.exposure_ms.get();
        cancel.sleep(Duration::from_secs_f64(exposure_ms / 1000.0))?;
        let mut frame = 0;
        // `frames_captured` declares no constraints: this update cannot be refused.
        let _ = self.frames_captured.update(|n| {
            *n += 1;
            frame = *n;
        });
        let metadata = FrameMetadata {
            frame,
            exposure_ms,
            analogue_gain: self.analogue_gain.get(),
            width: self.width,
            height: self.height,
        };
        self.frame_captured.emit(metadata.clone());
        Ok(metadata)
    }

    /// Return metadata about the sensor.
    #[action]
    fn capture_metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "exposure_ms": self.exposure_ms.get(),
            "frames": self.frames_captured.get(),
        })
    }

    /// Focus by moving the stage through a range of heights.
    ///
    /// Scans z over `range` steps around the current height in `steps` moves, measures the
    /// image sharpness at each, and finishes at the sharpest height. Needs a stage.
    #[action]
    fn autofocus(
        &self,
        /// Total z range to scan, in steps.
        #[param(default = 1000, minimum = 1)]
        range: i64,
        /// Number of heights to try.
        #[param(default = 11, minimum = 2, maximum = 101)]
        steps: i64,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<i64, AutofocusError> {
        let stage = self.stage.get().ok_or(AutofocusError::NoStage)?;
        let start = stage.position()[2];
        let mut best = (f64::MIN, start);
        for i in 0..steps {
            let z = start - range / 2 + i * range / (steps - 1);
            stage.move_z_to(z, &cancel)?;
            let sharpness = Self::sharpness(z);
            log.debug(format_args!("z = {z}: sharpness {sharpness:.3}"));
            if sharpness > best.0 {
                best = (sharpness, z);
            }
        }
        stage.move_z_to(best.1, &cancel)?;
        log.info(format_args!(
            "focused at z = {} (sharpness {:.3})",
            best.1, best.0
        ));
        Ok(best.1)
    }

    /// Sensor temperature in °C (simulated: warms with each frame).
    #[property]
    fn sensor_temperature(&self) -> f64 {
        25.0 + (self.frames_captured.get() as f64 * 0.01).min(10.0)
    }
}

/// Why autofocus failed.
#[derive(Debug, thiserror::Error)]
pub enum AutofocusError {
    #[error("this camera has no stage to focus with")]
    NoStage,
    #[error("autofocus was cancelled")]
    Cancelled(#[from] Cancelled),
}
