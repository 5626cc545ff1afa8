//! Each Thing's `id` (`urn:uuid:…`), stable across restarts: WoT consumers key what they know
//! of a Thing by it — node-wot looks up the credentials for a Thing by its TD's `id`, so an
//! id that changed on every restart would lose them.
//!
//! - With a settings folder, the id is made once (a random UUID) and kept next to the Thing's
//!   settings, in `<settings_folder>/<thing name>/thing-id`; a restart reads it back.
//! - Without one, it is derived from what identifies the Thing on the network: this machine's
//!   host name, the address the server listens on, and the Thing's name (a UUID of version 8,
//!   the first 16 bytes of their SHA-256). The same lab on the same port keeps its ids; a
//!   server on port 0 gets new ones each time it starts.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use labthings_core::Thing;
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

use crate::app::error::ServerError;
use crate::discovery::mdns::host_name;
use crate::settings::atomic::write_atomically;

/// The file holding a Thing's id, in its settings folder.
pub const ID_FILE: &str = "thing-id";

/// Where Thing `name`'s id is kept under `settings_folder`.
pub fn id_path(settings_folder: &Path, name: &str) -> PathBuf {
    settings_folder.join(name).join(ID_FILE)
}

/// The id kept at `path`, made and saved first if there is none. A file that doesn't hold an
/// id (edited by hand, say) is replaced with a new one, with a warning.
pub fn load_or_create(path: &Path) -> io::Result<String> {
    match fs::read_to_string(path) {
        Ok(text) => match parse(&text) {
            Some(id) => return Ok(id),
            None => {
                tracing::warn!(path = %path.display(), "the file does not hold a Thing id (urn:uuid:…); making a new one");
            }
        },
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let id = urn(Uuid::new_v4());
    write_atomically(path, format!("{id}\n").as_bytes())?;
    Ok(id)
}

/// The id of Thing `name` served at `addr` on host `host`, when there is nowhere to keep one.
pub fn derived(host: &str, addr: SocketAddr, name: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"labthings-rs thing id\0")
        .chain_update(host.as_bytes())
        .chain_update(b"\0")
        .chain_update(addr.to_string().as_bytes())
        .chain_update(b"\0")
        .chain_update(name.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    urn(Builder::from_custom_bytes(bytes).into_uuid())
}

fn urn(uuid: Uuid) -> String {
    format!("urn:uuid:{}", uuid.hyphenated())
}

/// `urn:uuid:<uuid>` (surrounding whitespace ignored), normalised to lower case.
fn parse(text: &str) -> Option<String> {
    let uuid = text.trim().strip_prefix("urn:uuid:")?;
    Uuid::try_parse(uuid).ok().map(urn)
}

/// Each Thing's TD `id`: kept in the settings folder when there is one, else derived from
/// this host, the address and the name (see `thing_id`).
pub fn ids(
    things: &[(String, Arc<dyn Thing>)],
    settings_folder: Option<&Path>,
    addr: SocketAddr,
) -> Result<Vec<String>, ServerError> {
    let host = host_name();
    things
        .iter()
        .map(|(name, _)| match settings_folder {
            Some(folder) => {
                let path = id_path(folder, name);
                load_or_create(&path).map_err(|source| ServerError::ThingId { path, source })
            }
            None => Ok(derived(&host, addr, name)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_made_once_and_read_back() {
        let folder = std::env::temp_dir().join(format!("lt-thing-id-{}", Uuid::new_v4()));
        let path = id_path(&folder, "counter");
        let first = load_or_create(&path).expect("made");
        assert!(first.starts_with("urn:uuid:"), "{first}");
        assert_eq!(load_or_create(&path).expect("read"), first);
        assert_eq!(
            fs::read_to_string(&path).expect("file"),
            format!("{first}\n")
        );
        // Another Thing in the same folder gets its own.
        let other = load_or_create(&id_path(&folder, "stage")).expect("made");
        assert_ne!(other, first);
        // A file that holds no id is replaced.
        fs::write(&path, "not an id").expect("write");
        let replaced = load_or_create(&path).expect("replaced");
        assert_ne!(replaced, first);
        assert!(parse(&replaced).is_some());
        fs::remove_dir_all(&folder).expect("clean up");
    }

    #[test]
    fn derived_ids_are_stable_and_differ_by_host_address_and_name() {
        let addr: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let other_port: SocketAddr = "127.0.0.1:5001".parse().expect("addr");
        let id = derived("bench", addr, "counter");
        assert_eq!(id, derived("bench", addr, "counter"));
        assert_ne!(id, derived("bench", addr, "stage"));
        assert_ne!(id, derived("bench", other_port, "counter"));
        assert_ne!(id, derived("scope", addr, "counter"));
        let uuid = Uuid::try_parse(id.strip_prefix("urn:uuid:").expect("urn")).expect("uuid");
        assert_eq!(uuid.get_version_num(), 8);
    }

    #[test]
    fn ids_are_parsed_whatever_the_case_and_whitespace() {
        assert_eq!(
            parse("  urn:uuid:67E55044-10B1-426F-9247-BB680E5FE0C8\n").as_deref(),
            Some("urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8")
        );
        assert_eq!(parse("67e55044-10b1-426f-9247-bb680e5fe0c8"), None);
        assert_eq!(parse("urn:uuid:nope"), None);
    }
}
