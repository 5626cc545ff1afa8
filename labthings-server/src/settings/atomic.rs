//! Atomic file replacement: a reader (or a restart after a crash) sees the old contents or the
//! new ones, never a mix.
//!
//! The write has two steps, kept apart so that a crash between them can be tested: [`stage`]
//! writes and fsyncs the new contents to a temporary file beside the target, and
//! [`Staged::commit`] renames it over the target and fsyncs the folder. Until the commit the
//! target is untouched; a temporary file left by a crash is a dot-file that no loader reads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Write `contents` to `path` so that `path` always holds either its old or its new contents,
/// and the new contents survive a power cut once this returns.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    stage(path, contents)?.commit()
}

/// New contents for `target`, on disk in a temporary file, not yet in place. Dropped without
/// [`commit`](Self::commit), it removes its temporary file.
#[derive(Debug)]
pub struct Staged {
    temporary: PathBuf,
    target: PathBuf,
    folder: PathBuf,
}

/// Write `contents` to a fresh temporary file in `path`'s folder (created, durably, if
/// missing) and fsync it; `path` itself is not touched.
pub fn stage(path: &Path, contents: &[u8]) -> io::Result<Staged> {
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
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)?;
    // From here on, an error drops `staged`, which removes the partial temporary file.
    let staged = Staged {
        temporary,
        target: path.to_owned(),
        folder: folder.to_owned(),
    };
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(staged)
}

impl Staged {
    /// Put the new contents in place: rename over the target, then fsync the folder.
    pub fn commit(self) -> io::Result<()> {
        fs::rename(&self.temporary, &self.target)?;
        // Renamed: nothing left for `drop` to remove.
        let folder = self.folder.clone();
        std::mem::forget(self);
        // The rename is durable only once the folder's entry is on disk.
        File::open(folder)?.sync_all()
    }

    /// Where the new contents wait until the commit.
    #[cfg(test)]
    fn temporary_path(&self) -> &Path {
        &self.temporary
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.temporary);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    /// A fresh, empty folder under the system temp folder.
    fn scratch(test: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!(
            "labthings-atomic-{test}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).unwrap();
        folder
    }

    /// Document `i`: valid JSON of a length that differs from its neighbours' by kilobytes, so
    /// a reader of a half-written file would see a prefix that does not parse or a mix.
    fn document(i: usize) -> Vec<u8> {
        let padding = "x".repeat((i * 7919) % 60_000);
        format!("{{\"version\": {i}, \"padding\": \"{padding}\"}}\n").into_bytes()
    }

    #[test]
    fn a_reader_never_sees_a_partial_file_while_it_is_rewritten() {
        const WRITES: usize = 300;
        let deadline = Instant::now() + Duration::from_secs(20);
        let folder = scratch("reader");
        let path = folder.join("Settings-Test.json");
        write_atomically(&path, &document(0)).unwrap();
        let documents: Arc<HashSet<Vec<u8>>> = Arc::new((0..=WRITES).map(document).collect());
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (path, documents, done) = (path.clone(), documents.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0usize;
                while !done.load(Ordering::Acquire) && Instant::now() < deadline {
                    let seen = fs::read(&path).expect("the file always exists");
                    assert!(
                        documents.contains(&seen),
                        "read {reads}: a partial file of {} bytes: {:?}…",
                        seen.len(),
                        String::from_utf8_lossy(&seen[..seen.len().min(40)])
                    );
                    reads += 1;
                }
                reads
            })
        };
        for i in 1..=WRITES {
            if Instant::now() >= deadline {
                break;
            }
            write_atomically(&path, &document(i)).unwrap();
        }
        done.store(true, Ordering::Release);
        let reads = reader.join().expect("the reader saw only whole documents");
        assert!(reads > 0, "the reader never ran");
        let _ = fs::remove_dir_all(&folder);
    }

    #[test]
    fn a_crash_between_write_and_rename_leaves_the_old_file() {
        let folder = scratch("crash");
        let path = folder.join("Settings-Test.json");
        write_atomically(&path, b"{\"old\": true}\n").unwrap();

        // The new contents are written and synced, then the process "dies" before the rename:
        // forgetting the stage leaves its temporary file on disk, as a crash would.
        let staged = stage(&path, b"{\"new\": true}\n").unwrap();
        let stray = staged.temporary_path().to_owned();
        std::mem::forget(staged);
        assert_eq!(fs::read(&path).unwrap(), b"{\"old\": true}\n");
        assert_eq!(fs::read(&stray).unwrap(), b"{\"new\": true}\n");
        let stray_name = stray.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            stray_name.starts_with('.') && !stray_name.ends_with(".json"),
            "a stray temporary file must not look like a settings file: {stray_name}"
        );

        // An abandoned stage (an error before the commit) removes its temporary file.
        let abandoned = stage(&path, b"{\"other\": true}\n").unwrap();
        let abandoned_path = abandoned.temporary_path().to_owned();
        drop(abandoned);
        assert!(!abandoned_path.exists());
        assert_eq!(fs::read(&path).unwrap(), b"{\"old\": true}\n");

        // The next write after the "restart" replaces the old file and ignores the stray one.
        write_atomically(&path, b"{\"newer\": true}\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\"newer\": true}\n");
        let _ = fs::remove_dir_all(&folder);
    }
}
