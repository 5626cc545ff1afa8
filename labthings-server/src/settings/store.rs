//! Settings files: every `Setting<T>` of a Thing saved to
//! `<settings_folder>/<thing name>/Settings-<TypeName>.json` whenever it changes, and loaded
//! before the server starts serving.
//!
//! Changes are written by one background thread: a change marks its Thing dirty and the
//! writer saves a fresh snapshot of that Thing's settings, so a burst of changes costs one
//! write while the last value always reaches disk. Each write is atomic — temp file in the
//! same folder, fsync, rename, fsync the folder — so a crash leaves the old file or the new
//! one, never a torn one. A file that can't be parsed is moved aside, never overwritten.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use labthings_core::{PropertyKind, PropertyObserver, Thing};
use serde::Serialize;
use serde_json::{Map, Value};

/// One Thing's settings file.
struct SettingsFile {
    thing_name: String,
    thing: Arc<dyn Thing>,
    path: PathBuf,
    setting_names: Vec<&'static str>,
}

impl SettingsFile {
    fn snapshot(&self) -> Map<String, Value> {
        self.setting_names
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), self.thing.read_property(name).ok()?)))
            .collect()
    }

    fn save(&self) -> io::Result<()> {
        let mut contents = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut contents, formatter);
        self.snapshot()
            .serialize(&mut serializer)
            .map_err(io::Error::other)?;
        contents.push(b'\n');
        write_atomically(&self.path, &contents)
    }

    /// Apply the saved values. Problems are warnings: a bad value keeps its default, a corrupt
    /// file is moved aside.
    fn load(&self) {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return,
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "settings file unreadable; keeping defaults");
                self.move_aside();
                return;
            }
        };
        let saved: Map<String, Value> = match serde_json::from_slice(&bytes) {
            Ok(Value::Object(saved)) => saved,
            Ok(_) | Err(_) => {
                tracing::warn!(path = %self.path.display(), "settings file is not a JSON object; keeping defaults");
                self.move_aside();
                return;
            }
        };
        for (key, value) in saved {
            if !self.setting_names.contains(&key.as_str()) {
                tracing::warn!(thing = %self.thing_name, setting = %key, "saved setting is not a setting of this Thing; ignored");
                continue;
            }
            if let Err(error) = self.thing.restore_setting(&key, value) {
                tracing::warn!(thing = %self.thing_name, setting = %key, %error, "saved value rejected; keeping the default");
            }
        }
    }

    fn move_aside(&self) {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let mut aside = self.path.clone().into_os_string();
        aside.push(format!(".corrupt-{stamp}"));
        match fs::rename(&self.path, &aside) {
            Ok(()) => {
                tracing::warn!(from = %self.path.display(), to = %Path::new(&aside).display(), "kept the bad settings file aside")
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "could not move the bad settings file aside")
            }
        }
    }
}

/// Write `contents` to `path` so that `path` always holds either its old or its new contents,
/// and the new contents survive a power cut once this returns.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dirs_durably(folder)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per call, so concurrent writers never share a temporary file.
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let temporary = folder.join(format!(".{name}.tmp-{}-{unique}", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written?;
    // The rename is durable only once the folder's entry is on disk.
    File::open(folder)?.sync_all()
}

/// `create_dir_all`, fsyncing the parent of each folder it creates so the folders survive a
/// power cut too.
fn create_dirs_durably(folder: &Path) -> io::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs_durably(parent)?;
    }
    match fs::create_dir(folder) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(error) => return Err(error),
    }
    let parent = folder
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(parent)?.sync_all()
}

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

    /// Apply every saved file. Call before the Things are served (and before `start_writer`).
    pub fn load(&self) {
        for file in &self.shared.files {
            file.load();
        }
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
