//! Settings files: every `Setting<T>` of a Thing saved to
//! `<settings_folder>/<thing name>/Settings-<TypeName>.json` whenever it changes, and loaded
//! before the server starts serving.
//!
//! - `store`: the background writer and the observer that marks Things dirty;
//! - `file`: one Thing's file — snapshot, save, load, move a corrupt file aside;
//! - `atomic`: the write itself — temp file in the same folder, fsync, rename, fsync the
//!   folder — so a crash leaves the old file or the new one, never a torn one.

pub mod atomic;
pub mod file;
pub mod store;
