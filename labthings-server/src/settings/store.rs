//! Saving settings as they change: a change marks its Thing dirty, and one background thread
//! saves a fresh snapshot of that Thing's settings, so a burst of changes costs one write while
//! the last value always reaches disk.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use labthings_core::{PropertyKind, PropertyObserver, Thing};
use serde_json::Value;

use crate::settings::file::SettingsFile;

#[derive(Default)]
struct WriterState {
    /// Indexes into `files` of Things with unsaved changes.
    dirty: BTreeSet<usize>,
    writing: bool,
    stopping: bool,
}

struct Shared {
    files: Vec<SettingsFile>,
    by_thing: HashMap<String, usize>,
    state: Mutex<WriterState>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The settings of all served Things, and the thread that saves them.
pub struct SettingsStore {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl SettingsStore {
    /// Settings files for `things` under `folder`; Things without settings have none.
    pub fn new(folder: &Path, things: &[(String, Arc<dyn Thing>)]) -> Self {
        let mut files = Vec::new();
        let mut by_thing = HashMap::new();
        for (name, thing) in things {
            let metadata = thing.metadata();
            let setting_names: Vec<&'static str> = metadata
                .properties
                .iter()
                .filter(|p| p.kind == PropertyKind::Setting)
                .map(|p| p.name)
                .collect();
            if setting_names.is_empty() {
                continue;
            }
            by_thing.insert(name.clone(), files.len());
            files.push(SettingsFile {
                thing_name: name.clone(),
                thing: thing.clone(),
                path: folder
                    .join(name)
                    .join(format!("Settings-{}.json", metadata.type_name)),
                setting_names,
            });
        }
        let shared = Arc::new(Shared {
            files,
            by_thing,
            state: Mutex::new(WriterState::default()),
            changed: Condvar::new(),
        });
        Self {
            shared,
            writer: Mutex::new(None),
        }
    }

    /// Apply every Thing's saved settings, before the Things are served (and before
    /// `start_writer`); returns those applied, as `(thing, setting, value)` (the history
    /// records them: observers are not bound yet, see `app/builder.rs`).
    pub fn load(&self) -> Vec<(String, String, serde_json::Value)> {
        let mut applied = Vec::new();
        for file in &self.shared.files {
            for (setting, value) in file.load() {
                applied.push((file.thing_name.clone(), setting, value));
            }
        }
        applied
    }

    /// Start saving changes in the background.
    pub fn start_writer(&self) -> io::Result<()> {
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name("labthings-settings".into())
            .spawn(move || write_loop(&shared))?;
        *self.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(())
    }

    /// The observer that marks Things dirty when a setting changes.
    pub fn observer(&self) -> Arc<dyn PropertyObserver> {
        Arc::new(SettingsObserver(self.shared.clone()))
    }

    /// Wait (at most `timeout`) until every change so far is on disk; false if some is not
    /// (a save keeps failing, e.g. on a full disk).
    pub fn flush(&self, timeout: Duration) -> bool {
        let shared = &self.shared;
        let state = shared.lock();
        let (state, _) = shared
            .changed
            .wait_timeout_while(state, timeout, |s| {
                (!s.dirty.is_empty() || s.writing) && !s.stopping
            })
            .unwrap_or_else(|p| p.into_inner());
        state.dirty.is_empty() && !state.writing
    }

    /// Save what is pending and stop the writer.
    pub fn stop(&self) {
        self.shared.lock().stopping = true;
        self.shared.changed.notify_all();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = writer.join();
        }
    }
}

struct SettingsObserver(Arc<Shared>);

impl PropertyObserver for SettingsObserver {
    fn property_changed(&self, thing: &str, property: &str, _value: &Value) {
        let shared = &self.0;
        let Some(&index) = shared.by_thing.get(thing) else {
            return;
        };
        if !shared.files[index].setting_names.contains(&property) {
            return;
        }
        shared.lock().dirty.insert(index);
        shared.changed.notify_all();
    }
}

/// How long the writer waits before retrying a save that failed (e.g. a full disk).
const RETRY_AFTER: Duration = Duration::from_secs(1);

fn write_loop(shared: &Shared) {
    loop {
        let dirty = {
            let mut state = shared.lock();
            while state.dirty.is_empty() && !state.stopping {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
            if state.dirty.is_empty() && state.stopping {
                return;
            }
            state.writing = true;
            std::mem::take(&mut state.dirty)
        };
        let mut failed = Vec::new();
        for index in dirty {
            let file = &shared.files[index];
            // A panicking getter or serializer must not kill the writer and lose every later
            // change: treat it like an I/O error.
            let saved = catch_unwind(AssertUnwindSafe(|| file.save()))
                .unwrap_or_else(|_| Err(io::Error::other("a setting's getter panicked")));
            if let Err(error) = saved {
                tracing::error!(path = %file.path.display(), %error, "could not save settings; will retry");
                failed.push(index);
            }
        }
        let mut state = shared.lock();
        state.writing = false;
        let stopping = state.stopping;
        // Unsaved changes stay pending; at shutdown there is no later chance.
        if !failed.is_empty() && !stopping {
            state.dirty.extend(failed);
            drop(state);
            shared.changed.notify_all();
            std::thread::sleep(RETRY_AFTER);
            continue;
        }
        drop(state);
        shared.changed.notify_all();
    }
}
