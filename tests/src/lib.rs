//! Test fixtures: Things that exist only to exercise the server's edges, and the `test-lab`
//! binary serving them beside the demo lab's instruments.
//!
//! The README's code is compiled here too, so it can't drift from the API.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

use std::time::Duration;

use labthings_core::prelude::*;

/// Test fixtures for the server's edge cases.
#[thing]
pub struct Lab {
    /// A label with a pattern.
    #[property(pattern = "^[a-z]+$", max_length = 8)]
    label: Property<String>,
}

impl Lab {
    pub fn new() -> Self {
        Self {
            label: Property::new("lab".into()),
        }
    }
}

#[thing]
impl Lab {
    /// Panic.
    #[action]
    fn boom(&self) -> i64 {
        panic!("the motor controller exploded")
    }

    /// Panic in an `async` action, after an await point (so on a later poll, wherever the
    /// runtime polls it).
    #[action]
    async fn boom_async(&self, cancel: CancelHook) -> Result<i64, Cancelled> {
        cancel.sleep_async(Duration::from_millis(5)).await?;
        panic!("the async motor controller exploded")
    }

    /// Log `lines` INFO records as fast as possible (for memory soaks).
    #[action]
    fn chatter(&self, lines: u32, log: Logger) -> u32 {
        for line in 0..lines {
            log.info(format_args!(
                "chatter line {line} of {lines}, padded to a typical length"
            ));
        }
        lines
    }

    /// Log, then name the thread this ran on: an inline action runs where it was invoked.
    #[action(inline)]
    fn where_inline(&self, log: Logger) -> String {
        log.info("inline");
        tracing::info!("traced inline");
        std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned()
    }

    /// Sleep `ms` milliseconds inline: the misuse the server warns about (once per action).
    #[action(inline)]
    fn dawdle_inline(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// Panic, inline.
    #[action(inline)]
    fn boom_inline(&self) -> i64 {
        panic!("the inline controller exploded")
    }

    /// Return zero, a falsy output.
    #[action]
    fn zero(&self) -> i64 {
        0
    }

    /// Return false.
    #[action]
    fn no(&self) -> bool {
        false
    }

    /// Return at once without the global lock, even while another action holds it.
    #[action(no_lock)]
    fn unlocked(&self) -> &'static str {
        "ran"
    }

    /// Wait without blocking a thread, cancellably.
    #[action]
    async fn wait_async(
        &self,
        seconds: f64,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<f64, Cancelled> {
        log.info("waiting");
        cancel.sleep_async(Duration::from_secs_f64(seconds)).await?;
        tracing::info!("done waiting");
        Ok(seconds)
    }

    /// Set `label` after an await point (so on a later poll, wherever the runtime polls it):
    /// the history records the write as made in this invocation.
    #[action]
    async fn relabel_async(&self, label: String, cancel: CancelHook) -> Result<(), String> {
        cancel
            .sleep_async(Duration::from_millis(2))
            .await
            .map_err(|_| "cancelled".to_owned())?;
        self.label.set(label).map_err(|error| error.to_string())
    }

    /// Echo optional inputs.
    #[action]
    fn echo(&self, text: Option<String>, #[param(default = 2)] times: u32) -> String {
        text.unwrap_or_default().repeat(times as usize)
    }

    /// Return a blob of known bytes (`blob_bytes(1000)`).
    #[action]
    fn blob(&self) -> Blob {
        Blob::new("application/octet-stream", blob_bytes(1000))
    }

    /// Return a blob held in a temporary file (`blob_bytes(size)`), deleted with the blob:
    /// `blob_file_path(invocation id)`.
    #[action]
    fn blob_file(
        &self,
        #[param(default = 150_000)] size: usize,
        id: InvocationId,
    ) -> std::io::Result<Blob> {
        let path = blob_file_path(&id.to_string());
        std::fs::write(&path, blob_bytes(size))?;
        Blob::temporary("image/x-test", path)
    }

    /// A blob inside a larger output: a label and the blob of `blob`.
    #[action]
    fn labelled_blob(&self) -> (String, Blob) {
        ("ten bytes".into(), Blob::new("text/plain", blob_bytes(10)))
    }

    /// The size and media type of a blob sent back as input.
    #[action]
    fn blob_size(&self, blob: Blob) -> std::io::Result<(usize, String)> {
        Ok((blob.content()?.len(), blob.media_type().to_owned()))
    }

    /// A getter that fails.
    #[property]
    fn broken(&self) -> Result<f64, String> {
        Err("sensor unplugged".into())
    }
}

/// The bytes of the `lab` Thing's blobs: `0, 1, …, 250, 0, 1, …`, `len` of them.
pub fn blob_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Where the `lab` Thing's `blob_file` action keeps the file of invocation `id`.
pub fn blob_file_path(id: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("labthings-lab-{id}.bin"))
}

/// A Thing that cannot work without a stage.
#[thing]
pub struct Microscope {
    /// The stage it moves.
    #[slot]
    stage: Slot<labthings_examples::MockStage>,
}

impl Microscope {
    pub fn new() -> Self {
        Self { stage: Slot::new() }
    }
}

impl Default for Microscope {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

#[thing]
impl Microscope {
    /// Where the stage is.
    #[property]
    fn stage_position(&self) -> [i64; 3] {
        self.stage.get().position()
    }
}

/// The demo lab's Thing types plus the fixtures, for configs in tests.
pub fn registry() -> labthings_server::config::ThingRegistry {
    use labthings_server::config::NoConfig;
    labthings_examples::registry()
        .register("Lab", |_: NoConfig, _| Lab::new())
        .register("Microscope", |_: NoConfig, _| Microscope::new())
}
