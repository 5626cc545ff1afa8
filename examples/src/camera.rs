use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use labthings_core::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::MockStage;
use crate::test_pattern::Picture;

/// JPEG quality of the live preview, and of captured frames.
const PREVIEW_QUALITY: u8 = 75;
const CAPTURE_QUALITY: u8 = 90;

/// A mock camera: exposure settings, a frame counter, a capture action that takes as long as
/// the exposure does and returns a real JPEG, a live MJPEG preview of a moving test pattern
/// with the stage position drawn in (made only while someone watches), and a plain-HTTP
/// snapshot (`GET camera/snapshot.jpg`) for `<img>` tags and scripts.
#[thing]
pub struct MockCamera {
    /// Exposure time in milliseconds.
    #[setting(exclusive_minimum = 0, maximum = 10_000)]
    exposure_ms: Setting<f64>,
    /// Analogue gain.
    #[setting(minimum = 1, maximum = 16)]
    analogue_gain: Setting<f64>,
    /// Preview frame rate, in frames per second.
    ///
    /// Shared with the preview thread, which reads it before each frame.
    #[setting(minimum = 1, maximum = 60)]
    frame_rate: Arc<Setting<f64>>,
    /// Number of frames captured so far.
    #[property(read_only)]
    frames_captured: Property<u64>,
    /// A frame was captured.
    ///
    /// Sent by `capture` with the metadata of each frame it takes.
    #[event]
    frame_captured: Event<FrameMetadata>,
    /// Live preview.
    ///
    /// A moving test pattern with a cross-hair that follows the stage's x and y and a caption
    /// with the frame number and stage position, at `frame_rate`, encoded only while someone
    /// watches.
    #[stream]
    preview: MjpegStream,
    /// The stage that focuses the sample, if the lab has one.
    #[slot]
    stage: OptionalSlot<MockStage>,
    width: u16,
    height: u16,
    preview_started: AtomicBool,
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

/// Default preview frame rate.
const DEFAULT_FRAME_RATE: f64 = 15.0;

impl MockCamera {
    /// A camera making `width` × `height` frames (each clamped to 1–65535, a JPEG's limits).
    pub fn new(width: u32, height: u32) -> Self {
        let side = |n: u32| u16::try_from(n.max(1)).unwrap_or(u16::MAX);
        Self {
            exposure_ms: Setting::new(10.0),
            analogue_gain: Setting::new(1.0),
            frames_captured: Property::new(0),
            frame_captured: Event::new(),
            preview: MjpegStream::new(),
            stage: OptionalSlot::new(),
            width: side(width),
            height: side(height),
            frame_rate: Arc::new(Setting::new(DEFAULT_FRAME_RATE)),
            preview_started: AtomicBool::new(false),
        }
    }

    /// The preview's producer: sleeps on the stream's watcher wait while nobody watches, else
    /// renders and encodes a frame every `1 / frame_rate` s. Ends when the stream is closed.
    fn run_preview(
        preview: MjpegStream,
        frame_rate: Arc<Setting<f64>>,
        stage: Option<Arc<MockStage>>,
        (width, height): (u16, u16),
    ) {
        let mut frame = 0;
        while preview.wait_for_watcher() {
            let started = Instant::now();
            frame += 1;
            let position = stage.as_ref().map(|stage| stage.position());
            let picture = Picture::render(width, height, frame, position, 1.0);
            let added = picture
                .to_jpeg(PREVIEW_QUALITY)
                .map_err(|e| e.to_string())
                .and_then(|jpeg| preview.add_frame(jpeg).map_err(|e| e.to_string()));
            if let Err(error) = added {
                if !preview.is_closed() {
                    tracing::error!("camera preview stopped: {error}");
                }
                return;
            }
            // The setting's constraints keep the rate within 1–60 fps.
            let period = Duration::from_secs_f64(1.0 / frame_rate.get());
            std::thread::sleep(period.saturating_sub(started.elapsed()));
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
    /// Start the preview thread (idle until someone watches the preview).
    #[on_start]
    fn start_preview(&self) {
        if self.preview_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let preview = self.preview.clone();
        let frame_rate = self.frame_rate.clone();
        let stage = self.stage.shared().cloned();
        let size = (self.width, self.height);
        let spawned = std::thread::Builder::new()
            .name("camera-preview".into())
            .spawn(move || Self::run_preview(preview, frame_rate, stage, size));
        if let Err(error) = spawned {
            tracing::error!("no camera preview: can't start its thread: {error}");
        }
    }

    /// End the preview: its clients' streams end and the preview thread returns.
    #[on_stop]
    fn stop_preview(&self) {
        self.preview.close();
    }

    /// A snapshot as a JPEG, for `<img src>` and scripts.
    ///
    /// The newest preview frame while someone watches the preview; otherwise, or with
    /// `?quality=N` (1–100), a fresh frame of the test pattern encoded at that quality.
    /// Answers 422 for a bad `quality`. Not cached (`Cache-Control: no-store`).
    #[endpoint(get, path = "snapshot.jpg", content_type = "image/jpeg", no_lock)]
    fn snapshot(&self, request: EndpointRequest) -> EndpointResponse {
        let quality = match request.query("quality").map(|q| q.parse::<u8>()) {
            None => None,
            Some(Ok(quality @ 1..=100)) => Some(quality),
            Some(_) => {
                return EndpointResponse::error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "`quality` must be a whole number from 1 to 100",
                );
            }
        };
        // A watched preview already has a fresh frame: send it as it is, without encoding.
        let newest = (quality.is_none() && self.preview.watchers() > 0)
            .then(|| self.preview.grab_frame())
            .flatten();
        let jpeg = match newest {
            Some(frame) => frame,
            None => {
                let position = self.stage.get().map(MockStage::position);
                let frame = self.frames_captured.get() + 1;
                let picture = Picture::render(self.width, self.height, frame, position, 1.0);
                match picture.to_jpeg(quality.unwrap_or(PREVIEW_QUALITY)) {
                    Ok(jpeg) => jpeg.into(),
                    Err(error) => {
                        return EndpointResponse::error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("the frame could not be encoded: {error}"),
                        );
                    }
                }
            }
        };
        EndpointResponse::bytes("image/jpeg", jpeg).with_header("cache-control", "no-store")
    }

    /// Capture a frame.
    ///
    /// Exposes for `exposure_ms` (cancellable), announces the frame's metadata as
    /// `frame_captured`, and returns the frame as a full-resolution JPEG.
    #[action]
    fn capture(&self, cancel: CancelHook) -> Result<Blob, CaptureError> {
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
            width: u32::from(self.width),
            height: u32::from(self.height),
        };
        // Brighter with longer exposures and more gain: 10 ms at gain 1 is nominal.
        let brightness = exposure_ms / 10.0 * metadata.analogue_gain;
        let position = self.stage.get().map(MockStage::position);
        let picture = Picture::render(self.width, self.height, frame, position, brightness);
        let jpeg = picture
            .to_jpeg(CAPTURE_QUALITY)
            .map_err(|e| CaptureError::Encoding(e.to_string()))?;
        self.frame_captured.emit(metadata);
        Ok(Blob::jpeg(jpeg))
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

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("capture was cancelled")]
    Cancelled(#[from] Cancelled),
    #[error("the frame could not be encoded: {0}")]
    Encoding(String),
}

/// Why autofocus failed.
#[derive(Debug, thiserror::Error)]
pub enum AutofocusError {
    #[error("this camera has no stage to focus with")]
    NoStage,
    #[error("autofocus was cancelled")]
    Cancelled(#[from] Cancelled),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_preview_is_made_only_while_watched() {
        let camera = MockCamera::new(64, 48);
        camera
            .frame_rate
            .set(60.0)
            .expect("within the setting's range");
        camera.start_preview();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            camera.preview.grab_frame().is_none(),
            "no frames while nobody watches"
        );

        let mut watcher = camera.preview.watch();
        let frame = tokio::time::timeout(Duration::from_secs(5), watcher.next_frame())
            .await
            .expect("a frame once watched")
            .expect("the stream is open");
        assert_eq!(&frame[..2], &[0xFF, 0xD8]);
        drop(watcher);

        // Every frame differs (its number is drawn in): an unchanged newest frame means the
        // producer went back to sleep.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let idle = camera.preview.grab_frame();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            camera.preview.grab_frame(),
            idle,
            "frames made while unwatched"
        );
        camera.stop_preview();
    }
}
