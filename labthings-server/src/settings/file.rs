//! One Thing's settings file: a snapshot of its settings saved as pretty JSON, and applied
//! back at start-up. A file that can't be parsed is moved aside, never overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use labthings_core::Thing;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::settings::atomic::write_atomically;

/// One Thing's settings file.
pub(super) struct SettingsFile {
    pub(super) thing_name: String,
    pub(super) thing: Arc<dyn Thing>,
    pub(super) path: PathBuf,
    pub(super) setting_names: Vec<&'static str>,
}

impl SettingsFile {
    fn snapshot(&self) -> Map<String, Value> {
        self.setting_names
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), self.thing.read_property(name).ok()?)))
            .collect()
    }

    pub(super) fn save(&self) -> io::Result<()> {
        let mut contents = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut contents, formatter);
        self.snapshot()
            .serialize(&mut serializer)
            .map_err(io::Error::other)?;
        contents.push(b'\n');
        write_atomically(&self.path, &contents)
    }

    /// Apply the saved values; returns those applied, as `(setting, value)`. Problems are
    /// warnings: a bad value keeps its default, a corrupt file is moved aside.
    pub(super) fn load(&self) -> Vec<(String, Value)> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "settings file unreadable; keeping defaults");
                self.move_aside();
                return Vec::new();
            }
        };
        let saved: Map<String, Value> = match serde_json::from_slice(&bytes) {
            Ok(Value::Object(saved)) => saved,
            Ok(_) | Err(_) => {
                tracing::warn!(path = %self.path.display(), "settings file is not a JSON object; keeping defaults");
                self.move_aside();
                return Vec::new();
            }
        };
        let mut applied = Vec::new();
        for (key, value) in saved {
            if !self.setting_names.contains(&key.as_str()) {
                tracing::warn!(thing = %self.thing_name, setting = %key, "saved setting is not a setting of this Thing; ignored");
                continue;
            }
            match self.thing.restore_setting(&key, value.clone()) {
                Ok(()) => applied.push((key, value)),
                Err(error) => {
                    tracing::warn!(thing = %self.thing_name, setting = %key, %error, "saved value rejected; keeping the default")
                }
            }
        }
        applied
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
