use std::time::Duration;

use labthings_core::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

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
    width: u32,
    height: u32,
}

impl MockCamera {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            exposure_ms: Setting::new(10.0),
            analogue_gain: Setting::new(1.0),
            frames_captured: Property::new(0),
            width,
            height,
        }
    }
}

impl Default for MockCamera {
    fn default() -> Self {
        Self::new(640, 480)
    }
}

/// What `capture` reports about the frame it took.
#[derive(Debug, Clone, Serialize, JsonSchema)]
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
    /// Exposes for `exposure_ms` (cancellable) and returns the frame's metadata.
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
        Ok(FrameMetadata {
            frame,
            exposure_ms,
            analogue_gain: self.analogue_gain.get(),
            width: self.width,
            height: self.height,
        })
    }

    /// Return metadata about the sensor.
    #[action]
    fn capture_metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "exposure_ms": self.exposure_ms.get(),
            "frames": self.frames_captured.get(),
        })
    }

    /// Sensor temperature in °C (simulated: warms with each frame).
    #[property]
    fn sensor_temperature(&self) -> f64 {
        25.0 + (self.frames_captured.get() as f64 * 0.01).min(10.0)
    }
}
